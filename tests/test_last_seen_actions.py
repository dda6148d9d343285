"""An action asked on a row kept as last seen (its account failed its last poll): nobody
saw its state now, so that state refuses nothing. The action is sent and the provider
says; an account that still cannot be reached is said as such. Moto is the witness."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends

from tests.conftest import Cloud
from tests.faultproxy import PASS, Fault, FaultProxy
from tests.test_outcomes import TIMEOUT, act, listed, portal_of
from winged_monkey.actions import Action
from winged_monkey.engine.portal import Portal


async def _failed_poll(portal: Portal, name: str) -> None:
    async for _ in portal.refresh([name], native_events=False):
        pass
    assert portal.status(name).phase == "failed"


async def test_a_stop_on_a_row_last_seen_stopped_is_sent_and_stops_it(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """Listed stopped; started since by another tool; the account's next poll failed. The
    stop was refused 'web is already stopped', a state nobody saw now: web kept running."""
    ec2 = cloud.ec2()
    web = cloud.launch(ec2, "web", state="stopped")
    proxy = fault_proxy(cloud.server.port)
    portal = portal_of(cloud, cloud.account("flaky", port=proxy.port, timeout=TIMEOUT),
                       store=tmp_path / "wm.sqlite3")  # fmt: skip
    instance = (await listed(portal, "flaky"))["web"]
    assert instance.state == "stopped"
    ec2.start_instances(InstanceIds=[web])  # elsewhere, while wm does not see it
    proxy.fault = Fault("status", status=503)
    await _failed_poll(portal, "flaky")
    proxy.fault = PASS
    assert portal.refusal(Action.STOP, instance) is None
    updates = await act(portal, Action.STOP, instance)
    assert updates[-1].phase == "done", updates[-1]
    assert cloud.state_of(ec2, web) == "stopped"
    await portal.close()


async def test_an_action_on_a_row_whose_account_cannot_be_reached_says_so(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """The account still answers nothing: the start fails with its error, not 'web is
    already running' (its state when last listed)."""
    web = cloud.launch(cloud.ec2(), "web")
    proxy = fault_proxy(cloud.server.port)
    portal = portal_of(cloud, cloud.account("flaky", port=proxy.port, timeout=TIMEOUT),
                       store=tmp_path / "wm.sqlite3")  # fmt: skip
    instance = (await listed(portal, "flaky"))["web"]
    proxy.fault = Fault("status", status=503)
    await _failed_poll(portal, "flaky")
    assert portal.refusal(Action.START, instance) is None
    final = (await act(portal, Action.START, instance))[-1]
    assert final.phase == "failed", final
    assert "already running" not in final.message
    assert "503" in final.message, final.message
    assert "flaky failed its last poll too: web's state now is unknown" in final.message
    assert cloud.state_of(cloud.ec2(), web) == "running"
    await portal.close()


async def test_a_backend_s_refusal_by_state_is_not_said_of_a_row_not_seen_now(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """Listed shutting down (EC2's words: 'being terminated'), then its account's poll
    failed: nobody knows it is shutting down now (AWS may have finished, or the listing was
    stale), so the backend's refusal by that state is not said either: the start is sent
    and EC2 says. It said 'going is being terminated' of a state nobody saw now."""
    ec2 = cloud.ec2()
    ident = cloud.launch(ec2, "going")
    held = ec2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_instance(ident)
    held._state.name, held._state.code = "shutting-down", 32  # as AWS lists it for a while
    proxy = fault_proxy(cloud.server.port)
    portal = portal_of(cloud, cloud.account("flaky", port=proxy.port, timeout=TIMEOUT),
                       store=tmp_path / "wm.sqlite3")  # fmt: skip
    instance = (await listed(portal, "flaky"))["going"]
    assert portal.refusal(Action.START, instance) is not None  # seen now: said
    proxy.fault = Fault("status", status=503)
    await _failed_poll(portal, "flaky")
    assert portal.refusal(Action.START, instance) is None
    await portal.close()


async def test_an_action_on_a_row_fetched_by_id_says_no_failed_poll_that_never_ran(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """`wm stop ACCOUNT/ID` fetches its row without listing the account: a stop the cloud
    refused said '(flaky failed its last poll too: ...)' of a poll that never ran."""
    web = cloud.launch(cloud.ec2(), "web")
    proxy = fault_proxy(cloud.server.port)
    portal = portal_of(cloud, cloud.account("flaky", port=proxy.port, timeout=TIMEOUT),
                       store=tmp_path / "wm.sqlite3")  # fmt: skip
    instance = await portal.fetch(f"flaky/{web}")
    assert instance is not None
    assert portal.status("flaky").phase != "failed"
    proxy.fault = Fault("status", status=403, match=b"StopInstances")
    final = (await act(portal, Action.STOP, instance))[-1]
    assert final.phase == "failed", final
    assert "403" in final.message, final.message
    assert "last poll" not in final.message
    assert cloud.state_of(cloud.ec2(), web) == "running"
    await portal.close()
