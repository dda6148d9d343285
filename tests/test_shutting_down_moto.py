"""wm start or stop on an EC2 instance being terminated (`shutting-down`, the portal's
stopping), on moto: the refusal says it is being terminated, where it said 'is stopping;
start needs it stopped or suspended', as if it would stop and start again.

moto terminates at once (TerminateInstances answers shutting-down, DescribeInstances already
terminated), so the test sets moto's own record of the instance to shutting-down, code 32,
the state AWS lists for a while: the server then lists it as AWS does.
"""

from __future__ import annotations

import asyncio

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends

from tests.conftest import Cloud
from tests.test_portal_moto import refresh
from winged_monkey.actions import Action
from winged_monkey.models import InstanceState


def test_start_or_stop_on_an_instance_shutting_down_says_it_is_being_terminated(
    cloud: Cloud,
) -> None:
    ec2 = cloud.ec2()
    ident = cloud.launch(ec2, "going")
    held = ec2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_instance(ident)
    held._state.name, held._state.code = "shutting-down", 32
    assert cloud.state_of(ec2, ident) == "shutting-down"  # the witness: as EC2 lists it
    portal = cloud.portal(cloud.account("dev"))

    async def refusals() -> tuple[InstanceState, dict[Action, str | None]]:
        try:
            await refresh(portal)
            (row,) = [i for i in portal.instances() if i.id == ident]
            actions = (Action.START, Action.STOP, Action.REBOOT, Action.DESTROY)
            return row.state, {a: portal.refusal(a, row) for a in actions}
        finally:
            await portal.close()

    state, said = asyncio.run(refusals())
    assert state is InstanceState.STOPPING
    # Before: 'going is stopping; start needs it stopped or suspended'.
    for action in (Action.START, Action.STOP, Action.REBOOT):
        assert said[action] == (
            f"going is being terminated (EC2: shutting-down): it can no longer be {action.past}"
        )
    assert said[Action.DESTROY] is None  # EC2 takes a terminate again
