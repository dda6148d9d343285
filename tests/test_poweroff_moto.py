"""`wm poweroff` on EC2 (moto on loopback): StopInstances with Force=true, EC2's stop that
does not wait for the guest's OS (what AWS says to use for an instance stuck stopping).
moto stops at once either way: the fault proxy in front of it is the witness that the
request it took carried Force=true."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from tests.test_outcomes import act, listed, portal_of
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.models import InstanceState


async def test_poweroff_is_a_forced_stop(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """EC2 had no hard stop in wm: a stop whose guest did not shut down could only be
    asked again. Poweroff sends StopInstances with Force=true, and ends stopped."""
    ec2 = cloud.ec2()
    web = cloud.launch(ec2, "web")
    proxy = fault_proxy(cloud.server.port)
    portal = portal_of(cloud, cloud.account("dev", port=proxy.port), store=tmp_path / "wm.db")
    row = (await listed(portal, "dev"))["web"]
    assert Capability.POWEROFF in portal.capabilities("dev")
    # Forwarded as it is; counted only if it asks for a forced stop.
    proxy.fault = Fault("delay", delay=0, match=b"Force=true")

    updates = await act(portal, Action.POWEROFF, row)

    assert (updates[-1].phase, updates[-1].message) == ("done", "web powered off")
    assert proxy.faulted == 1  # one StopInstances, forced
    reply = ec2.describe_instances(InstanceIds=[web])
    assert reply["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"
    assert (await listed(portal, "dev"))["web"].state is InstanceState.STOPPED
    await portal.close()
    portal.store.close()
