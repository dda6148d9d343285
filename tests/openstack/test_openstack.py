"""libcloud's OpenStack driver through the portal, against a real Keystone + Nova (fake virt).

Every service is the real one from Debian 12's Zed except Neutron: a stub answers
every network list with an empty one, so servers here have no NICs and nothing
about networking is tested. Each action is checked by an independent witness:
Nova's own record of the server, read over plain HTTP with an admin token.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest
from libcloud.common.exceptions import BaseHTTPError

from tests.conftest import wait_until
from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    act,
    boot,
    close,
    libcloud_driver,
    listed,
    make_portal,
    passwords,
    refresh,
)
from winged_monkey.actions import Action
from winged_monkey.errors import AuthError, BackendError
from winged_monkey.models import InstanceState
from winged_monkey.user.credentials import Secrets
from winged_monkey_libcloud import LibcloudBackend
from winged_monkey_libcloud.errors import translate

S = InstanceState
# The first test also waits for the stack to start (~90 s here).
pytestmark = pytest.mark.timeout(420)


def test_two_projects_see_only_their_own_servers(openstack: OpenStack, tmp_path: Path) -> None:
    web = boot(openstack, "alpha", "alpha-web")
    db = boot(openstack, "beta", "beta-db")
    portal = make_portal(
        tmp_path, account(openstack, "os-alpha", "alpha"), account(openstack, "os-beta", "beta")
    )
    try:
        alpha = listed(portal, "os-alpha")
        beta = listed(portal, "os-beta")
    finally:
        close(portal)
    assert set(alpha) == {"alpha-web"}
    assert set(beta) == {"beta-db"}
    assert alpha["alpha-web"].id == web.id
    assert beta["beta-db"].id == db.id
    row = alpha["alpha-web"]
    assert (row.state, row.raw_state, row.provider) == (S.RUNNING, "active", "openstack")
    # Named as `openstack server list` names them, not by flavor id (1) and image UUID.
    assert (row.size, row.image) == ("m1.tiny", "cirros-fake")
    # The witness agrees on ownership, and alpha's user cannot even read beta's server.
    assert openstack.server(str(web.id))["tenant_id"] == openstack.user("alpha")["project_id"]  # type: ignore[index]
    assert libcloud_driver(openstack, "alpha").ex_get_node_details(db.id) is None  # type: ignore[attr-defined]


def test_full_lifecycle_followed_until_novas_task_is_done(
    openstack: OpenStack, tmp_path: Path
) -> None:
    node = boot(openstack, "alpha", "lifecycle")
    ident = str(node.id)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["lifecycle"]

        phase, message, _ = act(portal, Action.STOP, server)
        assert (phase, message) == ("done", "lifecycle stopped")
        witness = openstack.server(ident)
        assert witness is not None
        assert (witness["status"], witness["OS-EXT-STS:task_state"]) == ("SHUTOFF", None)
        stopped = listed(portal, "os-alpha")["lifecycle"]
        assert (stopped.state, stopped.raw_state) == (S.STOPPED, "stopped")

        phase, message, _ = act(portal, Action.START, stopped)
        assert (phase, message) == ("done", "lifecycle started")
        witness = openstack.server(ident)
        assert witness is not None
        assert (witness["status"], witness["OS-EXT-STS:task_state"]) == ("ACTIVE", None)

        running = listed(portal, "os-alpha")["lifecycle"]
        phase, message, _ = act(portal, Action.REBOOT, running)
        assert (phase, message) == ("done", "lifecycle rebooted")
        witness = openstack.server(ident)
        assert witness is not None
        assert (witness["status"], witness["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
        assert openstack.actions(ident)[0] == "reboot"  # newest first
        assert {"create", "stop", "start", "reboot"} <= set(openstack.actions(ident))

        phase, message, _ = act(portal, Action.DESTROY, running)
        assert (phase, message) == ("done", "lifecycle destroyed")
        assert openstack.server(ident) is None
        assert "lifecycle" not in listed(portal, "os-alpha")
    finally:
        close(portal)


def test_a_task_in_flight_is_not_a_finished_action(openstack: OpenStack, tmp_path: Path) -> None:
    """Right after os-stop Nova still says ACTIVE, with task powering-off: the portal must
    show stopping (not running, which would end a start, nor stopped too early)."""
    node = boot(openstack, "alpha", "tasked")
    driver = libcloud_driver(openstack, "alpha")
    assert driver.stop_node(node)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        seen = listed(portal, "os-alpha")["tasked"]
    finally:
        close(portal)
    witness = openstack.settled(str(node.id), "stopped")
    assert witness["status"] == "SHUTOFF"
    # Either the poll caught the task in flight, or Nova had already finished it.
    assert (seen.state, seen.raw_state) in {
        (S.STOPPING, "active/powering-off"),
        (S.STOPPED, "stopped"),
    }


def test_a_server_nova_cannot_place_shows_novas_fault(openstack: OpenStack, tmp_path: Path) -> None:
    node = boot(openstack, "alpha", "nowhere", flavor="m1.nohost")
    openstack.settled(str(node.id), "error")
    witness = openstack.server(str(node.id))
    assert witness is not None
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        row = listed(portal, "os-alpha")["nowhere"]
    finally:
        close(portal)
    assert (row.state, row.raw_state) == (S.ERROR, "error")
    assert row.extra["fault"] == " ".join(witness["fault"]["message"].split())
    assert "No valid host" in str(row.extra["fault"])
    assert "details" not in row.extra["fault_record"]  # Nova's traceback stays out


def test_a_server_on_no_host_is_refused_all_but_destroy_saying_it_never_ran(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "nowhere", flavor="m1.nohost").id)
    openstack.settled(ident, "error")
    # The witness: Nova itself refuses to stop it, in words that say neither why nor what to do.
    refused = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
    assert refused.status_code == 409
    assert refused.json()["conflictingRequest"]["message"] == f"Instance {ident} is not ready"
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        row = listed(portal, "os-alpha")["nowhere"]
        # Before: stop was sent and failed with Nova's bare "409 Conflict Instance <id> is
        # not ready"; start said "nowhere is error; start needs it stopped or suspended".
        for action in (Action.STOP, Action.START, Action.RESET):
            assert portal.refusal(action, row) == (
                "nowhere is on no host (Nova: No valid host was found): it never ran, so it "
                f"cannot be {action.past}; destroy it and launch again"
            )
        phase, message, _ = act(portal, Action.DESTROY, row)
    finally:
        close(portal)
    assert (phase, message) == ("done", "nowhere destroyed")
    assert openstack.server(ident) is None


def test_an_over_quota_boot_is_refused_with_novas_message(openstack: OpenStack) -> None:
    driver = libcloud_driver(openstack, "alpha")
    huge = next(s for s in driver.list_sizes() if s.name == "m1.huge")  # 32 cores > 20
    image = driver.get_image(openstack.state["image_id"])
    with pytest.raises(BaseHTTPError) as refused:
        driver.create_node(name="too-big", size=huge, image=image)
    assert refused.value.code == 403
    assert "Quota exceeded for cores: Requested 32, but already used 0 of 20 cores" in str(
        refused.value.message
    )
    # What the portal shows a person for it.
    shown = translate(
        refused.value,
        provider="openstack",
        where="nova",
        secrets=Secrets(account="os-alpha", key="alice", secret="x"),
    )
    assert isinstance(shown, BackendError)
    assert shown.account == "os-alpha"
    assert shown.message == (
        "openstack refused: 403 Forbidden Quota exceeded for cores: "
        "Requested 32, but already used 0 of 20 cores"
    )
    reply = openstack.nova("GET", "/servers", params={"all_tenants": "1", "name": "too-big"})
    assert reply.json()["servers"] == []  # nothing was created


def test_a_wrong_password_is_an_auth_error_naming_the_account(
    openstack: OpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WM_TEST_ALPHA_PASSWORD", "not-the-password")
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        status = refresh(portal)["os-alpha"]

        async def check() -> None:
            await portal.check("os-alpha")

        with pytest.raises(AuthError) as refused:
            asyncio.run(check())
    finally:
        close(portal)
    assert status.phase == "failed"
    assert status.error is not None
    assert "credentials refused by openstack" in status.error
    assert refused.value.account == "os-alpha"
    assert "wm accounts set-secret os-alpha" in refused.value.message
    assert "not-the-password" not in refused.value.message


def refuses(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` any more."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def test_keystone_down_while_nova_is_up_says_keystone(openstack: OpenStack, tmp_path: Path) -> None:
    keystone = f"127.0.0.1:{openstack.state['ports']['keystone']}"
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    openstack.stack.stop_service("keystone")
    port = openstack.state["ports"]["keystone"]
    # Its port refusing, not a connection still taken on the way down (a CI run met a reset).
    wait_until(lambda: refuses(port), timeout=10)
    started = time.monotonic()
    try:
        status = refresh(portal)["os-alpha"]
        # Nova itself still answers (its version document needs no token).
        assert httpx.get(openstack.compute_url.rsplit("/", 1)[0] + "/").status_code == 200
    finally:
        close(portal)
        openstack.stack.run_keystone()
    assert time.monotonic() - started < 60
    assert status.phase == "failed"
    assert status.error == (
        f"cannot reach Keystone (identity, {keystone}): connection refused "
        "(nothing listens there; is the endpoint right?)"
    )


def test_a_check_names_the_nova_it_reached(openstack: OpenStack) -> None:
    """`wm accounts test` names the Nova that Keystone's catalog led to, not the address
    libcloud's connection holds before its first call (it said 127.0.0.1:443)."""
    user = openstack.user("alpha")
    secrets = Secrets(account="os-alpha", key=user["user"], secret=user["password"])
    backend = LibcloudBackend(account(openstack, "os-alpha", "alpha"), secrets)
    try:
        said = asyncio.run(backend.check())
    finally:
        asyncio.run(backend.close())
    nova = f"127.0.0.1:{openstack.state['ports']['nova']}"
    assert said.startswith(f"openstack at {nova}: reachable, "), said
