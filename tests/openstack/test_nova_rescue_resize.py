"""A Nova server in rescue, and one resized awaiting confirmation, as Nova says them.

libcloud maps RESCUE to pending and VERIFY_RESIZE to running and keeps its own word for
both: the portal said 'pending' (raw 'pending') for a server no task was moving. Nova's
vm_state is the raw state; one the portal has no state for (rescued) is unknown.
The witness is Nova's own record over plain HTTP with an admin token (test_openstack.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    boot,
    close,
    listed,
    make_portal,
    passwords,
)
from winged_monkey.actions import Action
from winged_monkey.models import InstanceState

S = InstanceState
pytestmark = pytest.mark.timeout(420)


def test_rescued_is_unknown_and_resized_running_each_with_novas_word(
    openstack: OpenStack, tmp_path: Path
) -> None:
    rescued = str(boot(openstack, "alpha", "repair").id)
    resized = str(boot(openstack, "alpha", "resized").id)
    small = openstack.state["flavors"]["m1.small"]
    openstack.nova("POST", f"/servers/{rescued}/action", json={"rescue": None}).raise_for_status()
    openstack.nova(
        "POST", f"/servers/{resized}/action", json={"resize": {"flavorRef": small}}
    ).raise_for_status()
    assert openstack.settled(rescued, "rescued")["status"] == "RESCUE"
    assert openstack.settled(resized, "resized")["status"] == "VERIFY_RESIZE"
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        rows = listed(portal, "os-alpha")
        # Before: 'repair is unknown (provider state: rescued); start needs it stopped or
        # suspended': the portal's generic words won over Nova's backend's.
        for action in (Action.START, Action.STOP, Action.REBOOT):
            assert portal.refusal(action, rows["repair"]) == (
                f"repair is in rescue mode, where Nova refuses {action}; unrescue it first, "
                f"which boots it from its own disk again: openstack server unrescue {rescued}"
            )
        assert portal.refusal(Action.DESTROY, rows["repair"]) is None
        # Before: stop was sent, and Nova refused it ('409 Conflict Cannot 'stop' instance
        # ... while it is in vm_state resized'); the TUI offered it.
        assert portal.refusal(Action.STOP, rows["resized"]) == (
            "resized is resized and Nova awaits its confirmation: confirm the resize (or "
            f"revert it) first, then stop: openstack server resize confirm {resized}"
        )
        assert portal.refusal(Action.DESTROY, rows["resized"]) is None
    finally:
        close(portal)
    assert (rows["repair"].state, rows["repair"].raw_state) == (S.UNKNOWN, "rescued")
    # The witness: Nova itself refuses a stop in rescue mode, as the portal says.
    refused = openstack.nova("POST", f"/servers/{rescued}/action", json={"os-stop": None})
    assert refused.status_code == 409
    assert "while it is in vm_state rescued" in refused.json()["conflictingRequest"]["message"]
    assert (rows["resized"].state, rows["resized"].raw_state) == (S.RUNNING, "resized")
    assert rows["resized"].size == "m1.small"
