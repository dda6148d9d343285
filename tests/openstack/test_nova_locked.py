"""An action on a locked Nova server, against the real Nova: Nova's refusal (409 'Instance
<id> is locked') names the server's id alone and not what to do; the portal's names the
server and the way out. The witness is Nova's own record over plain HTTP (an admin token).
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

pytestmark = pytest.mark.timeout(420)


def test_stop_on_a_locked_server_says_it_is_locked_and_how_to_unlock_it(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "frozen").id)
    openstack.nova("POST", f"/servers/{ident}/action", json={"lock": None}).raise_for_status()
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["frozen"]
        phase, message, _ = act(portal, Action.STOP, server)
    finally:
        close(portal)
        openstack.nova("POST", f"/servers/{ident}/action", json={"unlock": None})
    assert phase == "failed"
    # Before: 'openstack refused: 409 Conflict Instance <id> is locked'.
    assert message.startswith("frozen is locked, so Nova refuses every action on it")
    # The command with the id last, as a toast shows it whole (test_nova_rescue_toast).
    assert message.endswith(f"openstack server unlock {ident}")
    witness = openstack.server(ident)
    assert witness is not None
    assert witness["OS-EXT-STS:vm_state"] == "active"  # nothing was done
