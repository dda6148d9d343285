"""wm start on an EC2 instance that is terminated (EC2 lists one a while after), on moto:
the refusal says it can no longer be started, not 'already terminated', which read as if the
start were done."""

from __future__ import annotations

import asyncio

from tests.conftest import Cloud
from tests.test_portal_moto import refresh
from winged_monkey.actions import Action


def test_start_on_a_terminated_instance_says_it_can_no_longer_be_started(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ident = cloud.launch(ec2, "gone", state="terminated")
    assert cloud.state_of(ec2, ident) == "terminated"  # the witness: EC2 still lists it
    portal = cloud.portal(cloud.account("dev"))

    async def refusals() -> dict[Action, str | None]:
        try:
            await refresh(portal)
            (row,) = [i for i in portal.instances() if i.id == ident]
            return {a: portal.refusal(a, row) for a in (Action.START, Action.STOP, Action.DESTROY)}
        finally:
            await portal.close()

    said = asyncio.run(refusals())
    # Before: 'gone is already terminated'.
    assert said[Action.START] == "gone is terminated: it can no longer be started"
    assert said[Action.STOP] == "gone is terminated: it can no longer be stopped"
    assert said[Action.DESTROY] == "gone is already terminated"
