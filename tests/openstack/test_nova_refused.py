"""Nova's refusal of an action on a server it has no state to take it in, against the real
Nova: wm says what state the server is in and what to do, where Nova's words name the id
alone. The witnesses are Nova's own answers over plain HTTP with an admin token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    close,
    libcloud_driver,
    listed,
    make_portal,
    passwords,
)
from tests.openstack.test_openstack_actions import compute_paused
from winged_monkey.actions import Action
from winged_monkey.models import InstanceState

S = InstanceState
pytestmark = pytest.mark.timeout(420)


def test_reboot_reset_and_suspend_of_a_server_being_placed_say_to_wait_as_stop_does(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """Nova takes no action but delete on a server it is building (vm_state building);
    a stop said so and to wait, a reboot, reset or suspend 'fresh is pending; reboot
    needs it running', as if something were wrong with it, and a start that it needed
    stopping first."""
    driver = libcloud_driver(openstack, "alpha")
    size = next(s for s in driver.list_sizes() if s.name == "m1.tiny")
    image = driver.get_image(openstack.state["image_id"])
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        with compute_paused(openstack, "nova-scheduler"):
            ident = str(driver.create_node(name="fresh", size=size, image=image).id)
            row = listed(portal, "os-alpha")["fresh"]
            waits = (Action.REBOOT, Action.RESET, Action.SUSPEND)
            said = {action: portal.refusal(action, row) for action in waits}
            start = portal.refusal(Action.START, row)
            nova = openstack.nova("POST", f"/servers/{ident}/action", json={"suspend": None})
    finally:
        close(portal)
    assert (row.state, row.raw_state) == (S.PENDING, "building/scheduling")
    # The witness: Nova itself refuses it.
    assert nova.status_code == 409
    assert "while it is in vm_state building" in nova.json()["conflictingRequest"]["message"]
    for action, words in said.items():
        assert words == (
            "fresh is still being placed on a host (Nova: building/scheduling), and Nova "
            f"{action}s no server before it has booted: wait until it runs, then {action} "
            "it (or destroy it now)"
        )
    # Before: 'fresh is pending; start needs it stopped or suspended'.
    assert start == (
        "fresh is still being placed on a host (Nova: building/scheduling): it runs once Nova "
        "has built it, with nothing to start"
    )
