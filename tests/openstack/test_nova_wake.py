"""Start on a paused or a shelved Nova server, against the real Nova.

Nova refuses both os-start and resume on a paused server, and os-start on a shelved one
(409): each starts by its own verb, unpause or unshelve. The witness is Nova's own record
of the server over plain HTTP with an admin token, as in test_openstack.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    act,
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


@pytest.mark.parametrize(
    ("verb", "settles", "listed_as", "sent"),
    [
        ("pause", "paused", (S.SUSPENDED, "paused"), "unpause"),
        ("shelve", "shelved_offloaded", (S.STOPPED, "shelved_offloaded"), "unshelve"),
    ],
)
def test_start_brings_a_paused_or_shelved_server_back_running(
    openstack: OpenStack,
    tmp_path: Path,
    verb: str,
    settles: str,
    listed_as: tuple[S, str],
    sent: str,
) -> None:
    ident = str(boot(openstack, "alpha", "napper").id)
    openstack.nova("POST", f"/servers/{ident}/action", json={verb: None}).raise_for_status()
    openstack.settled(ident, settles)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["napper"]
        assert (server.state, server.raw_state) == listed_as
        phase, message, _ = act(portal, Action.START, server)
    finally:
        close(portal)
    # Before: 'failed: openstack refused: 409 Conflict Cannot 'resume' instance ... while
    # it is in vm_state paused' (and '... is not ready' for a shelved one).
    assert phase == "done", message
    witness = openstack.settled(ident, "active")
    assert witness["status"] == "ACTIVE"
    assert openstack.actions(ident)[0] == sent  # newest first
