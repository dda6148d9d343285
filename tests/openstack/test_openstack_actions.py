"""Suspend, resume, soft reboot and hard reset through the portal, against the real Nova.

The same stack and witnesses as test_openstack.py (Nova's own record over plain HTTP
with an admin token); Neutron is the stub there, so nothing here touches networking.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    act,
    boot,
    close,
    driver_settings,
    libcloud_driver,
    listed,
    make_portal,
    passwords,
)
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import BackendError
from winged_monkey.models import InstanceState
from winged_monkey.user.credentials import Secrets
from winged_monkey_libcloud import LibcloudBackend

S = InstanceState
pytestmark = pytest.mark.timeout(420)


def test_suspend_then_start_resumes(openstack: OpenStack, tmp_path: Path) -> None:
    ident = str(boot(openstack, "alpha", "sleeper").id)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        assert {Capability.SUSPEND, Capability.RESUME, Capability.RESET} <= portal.capabilities(
            "os-alpha"
        )
        server = listed(portal, "os-alpha")["sleeper"]
        phase, message, _ = act(portal, Action.SUSPEND, server)
        assert (phase, message) == ("done", "sleeper suspended")
        witness = openstack.server(ident)
        assert witness is not None
        assert (witness["status"], witness["OS-EXT-STS:task_state"]) == ("SUSPENDED", None)
        suspended = listed(portal, "os-alpha")["sleeper"]
        assert (suspended.state, suspended.raw_state) == (S.SUSPENDED, "suspended")

        # START on a suspended server is Nova's resume (os-start would be refused).
        assert portal.effective(Action.START, suspended) is Action.RESUME
        phase, message, _ = act(portal, Action.START, suspended)
        assert (phase, message) == ("done", "sleeper resumed")
        witness = openstack.server(ident)
        assert witness is not None
        assert (witness["status"], witness["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
        assert openstack.actions(ident)[:2] == ["resume", "suspend"]  # newest first
    finally:
        close(portal)


def test_stop_of_a_suspended_server_is_refused_before_anything_is_sent(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """A stop powers a suspended VM or domain off, but Nova's stop refuses a suspended
    server (409): wm still says so, and how to go on, before sending anything."""
    ident = str(boot(openstack, "alpha", "dozer").id)
    openstack.nova("POST", f"/servers/{ident}/action", json={"suspend": None}).raise_for_status()
    openstack.settled(ident, "suspended")
    nova = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
    assert nova.status_code == 409, nova.text  # the witness: Nova's own refusal
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["dozer"]
        assert (server.state, server.raw_state) == (S.SUSPENDED, "suspended")
        said = portal.refusal(Action.STOP, server)
    finally:
        close(portal)
    assert said == "dozer is suspended, not stopped: start resumes it, then stop"


def test_poweroff_says_novas_stop_powers_off_by_itself(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """Nova has no stop that skips the guest and needs none (its stop powers the server off
    once the guest has not shut down in its shutdown_timeout): `wm poweroff` says so, and to
    use wm stop, where it said only 'libcloud/openstack cannot poweroff'. Nothing is sent."""
    ident = str(boot(openstack, "alpha", "hardy").id)
    driver = ", ".join(f'{k} = "{v}"' for k, v in driver_settings(openstack, "alpha").items())
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "os-alpha"\nprovider = "openstack"\ndriver = {{ {driver} }}\n'
        f'credentials = {{ key = "{openstack.user("alpha")["user"]}", '
        'secret_env = "WM_TEST_ALPHA_PASSWORD" }\n'
    )
    refused = CliRunner().invoke(main, ["--config", str(config), "poweroff", "hardy", "--yes"])
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output
    assert (
        f"wm: os-alpha/{ident}: Nova has no power-off of its own, and needs none: its stop "
        "asks the guest to shut down, then powers the server off if it has not within "
        "Nova's shutdown_timeout (60 s by default): wm stop"
    ) in refused.output.splitlines(), refused.output
    assert openstack.actions(ident) == ["create"]  # nothing reached Nova
    assert openstack.server(ident)["status"] == "ACTIVE"  # type: ignore[index]


def test_suspend_of_a_server_stopped_behind_the_portals_back_shows_novas_refusal(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "moved").id)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["moved"]  # running, as far as the portal knows
        openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
        openstack.settled(ident, "stopped")
        phase, message, _ = act(portal, Action.SUSPEND, server)
    finally:
        close(portal)
    # Nova's 409 ('Cannot 'suspend' instance <id> while it is in vm_state stopped'), said
    # from the server as read after it; before, Nova's words, naming the id alone.
    assert (phase, message) == (
        "failed",
        "Nova refused the suspend: moved is stopped; suspend needs it running",
    )
    assert openstack.server(ident)["status"] == "SHUTOFF"  # type: ignore[index]


def test_reset_is_novas_hard_reboot_and_reboot_its_soft_one(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """Nova accepts a HARD reboot of a server in ERROR (that is how one recovers it) and
    refuses a SOFT one: Nova itself tells which kind each portal action sends."""
    ident = str(boot(openstack, "alpha", "stuck").id)
    reply = openstack.nova(
        "POST", f"/servers/{ident}/action", json={"os-resetState": {"state": "error"}}
    )
    assert reply.status_code == 202, reply.text
    openstack.settled(ident, "error")
    config = account(openstack, "os-alpha", "alpha")
    portal = make_portal(tmp_path, config)
    try:
        broken = listed(portal, "os-alpha")["stuck"]
        assert broken.state is S.ERROR

        # Straight to the backend: the portal itself offers reboot only on a running row.
        user = openstack.user("alpha")
        backend = LibcloudBackend(
            config, Secrets(account="os-alpha", key=user["user"], secret=user["password"])
        )

        async def soft_reboot() -> None:
            try:
                await backend.act(Action.REBOOT, broken)
            finally:
                await backend.close()

        with pytest.raises(BackendError) as refused:  # Nova's 409: 'vm_state error'
            asyncio.run(soft_reboot())
        assert refused.value.message == (
            "Nova refused the reboot: stuck is in error, where Nova takes no soft reboot; "
            "its hard reboot, a reset, may recover it: wm reset stuck"
        )

        phase, message, _ = act(portal, Action.RESET, broken)
        assert (phase, message) == ("done", "stuck reset")
    finally:
        close(portal)
    witness = openstack.server(ident)
    assert witness is not None
    assert (witness["status"], witness["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    assert openstack.actions(ident)[0] == "reboot"


def test_reboot_of_a_server_in_error_says_reset_is_novas_hard_reboot(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """`wm reboot` of a server in ERROR that ran (it has a host) says Nova takes only its
    hard reboot there, and the command for it, where it said the portal's 'stuck is error;
    reboot needs it running'; on the command line it names no TUI key (it said '(B)').
    Nothing is sent to Nova."""
    ident = str(boot(openstack, "alpha", "stuck").id)
    reply = openstack.nova(
        "POST", f"/servers/{ident}/action", json={"os-resetState": {"state": "error"}}
    )
    assert reply.status_code == 202, reply.text
    openstack.settled(ident, "error")
    assert openstack.server(ident)["hostId"]  # type: ignore[index]
    driver = ", ".join(f'{k} = "{v}"' for k, v in driver_settings(openstack, "alpha").items())
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "os-alpha"\nprovider = "openstack"\ndriver = {{ {driver} }}\n'
        f'credentials = {{ key = "{openstack.user("alpha")["user"]}", '
        'secret_env = "WM_TEST_ALPHA_PASSWORD" }\n'
    )
    refused = CliRunner().invoke(main, ["--config", str(config), "reboot", "stuck"])
    assert refused.exit_code == ExitCode.NOT_FOUND, refused.output
    assert (
        f"wm: os-alpha/{ident}: stuck is in error, where Nova takes no soft reboot; its hard "
        "reboot, a reset, may recover it: wm reset stuck"
    ) in refused.output.splitlines(), refused.output
    assert "(B)" not in refused.output
    assert "reboot" not in openstack.actions(ident)  # nothing reached Nova
    assert openstack.server(ident)["status"] == "ERROR"  # type: ignore[index]


def test_a_server_in_error_with_its_hard_reboot_under_way_says_to_wait_or_send_it_again(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """A server in ERROR whose hard reboot Nova's compute has not run (shown
    `error/rebooting_hard`) was told the generic words ('stuck is rebooting; reboot needs
    it running'), and a stop was sent for Nova to refuse. Nova takes a delete there, and
    the hard reboot again, nothing else: wm says so before sending anything, and to wait,
    or to send the hard reboot again if it never ends."""
    ident = str(boot(openstack, "alpha", "stuck").id)
    reply = openstack.nova(
        "POST", f"/servers/{ident}/action", json={"os-resetState": {"state": "error"}}
    )
    assert reply.status_code == 202, reply.text
    openstack.settled(ident, "error")
    driver = ", ".join(f'{k} = "{v}"' for k, v in driver_settings(openstack, "alpha").items())
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "os-alpha"\nprovider = "openstack"\ndriver = {{ {driver} }}\n'
        f'credentials = {{ key = "{openstack.user("alpha")["user"]}", '
        'secret_env = "WM_TEST_ALPHA_PASSWORD" }\n'
    )
    hard = {"reboot": {"type": "HARD"}}
    with compute_paused(openstack):  # the hard reboot's task stays in flight
        sent = openstack.nova("POST", f"/servers/{ident}/action", json=hard)
        assert sent.status_code == 202, sent.text
        server = openstack.server(ident)
        assert server is not None
        assert (server["OS-EXT-STS:vm_state"], server["OS-EXT-STS:task_state"]) == (
            "error",
            "rebooting_hard",
        )
        # The witnesses: Nova refuses a stop now, and takes the hard reboot again.
        stop = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
        assert stop.status_code == 409, stop.text
        listing = CliRunner().invoke(main, ["--config", str(config), "ls", "--json"])
        stopped = CliRunner().invoke(main, ["--config", str(config), "stop", "stuck", "--yes"])
        rebooted = CliRunner().invoke(main, ["--config", str(config), "reboot", "stuck"])
        before = openstack.actions(ident)
        again = openstack.nova("POST", f"/servers/{ident}/action", json=hard)
        assert again.status_code == 202, again.text
    (row,) = json.loads(listing.stdout)["instances"]
    assert row["raw_state"] == "error/rebooting_hard"
    said = (
        "is in error with a hard reboot under way (Nova: error/rebooting_hard), and Nova takes "
        "no {} until it ends: wait for it; if it never ends, send the hard reboot again: "
        "wm reset stuck"
    )
    for result, action in ((stopped, "stop"), (rebooted, "reboot")):
        assert result.exit_code == ExitCode.NOT_FOUND, result.output
        assert f"wm: os-alpha/{ident}: stuck {said.format(action)}" in result.output.splitlines(), (
            result.output
        )
    assert before.count("reboot") == 1  # the test's own: nothing of wm's reached Nova
    assert "stop" not in before


@contextlib.contextmanager
def compute_paused(stack: OpenStack, service: str = "nova-compute") -> Iterator[Callable[[], None]]:
    """nova-compute (or `service`) frozen (SIGSTOP) until the yielded `thaw` or the end:
    Nova's API has set the task state and the cast waits in RabbitMQ, so the task stays in
    flight. A freeze, not a restart: the fake driver keeps its servers only in memory."""
    pids = json.loads((Path(stack.state["root"]) / "pids.json").read_text())
    group = next(int(p["pid"]) for p in pids if p["name"] == service)
    frozen = {"now": True}

    def thaw() -> None:
        if frozen["now"]:
            frozen["now"] = False
            os.killpg(group, signal.SIGCONT)

    os.killpg(group, signal.SIGSTOP)
    try:
        yield thaw
    finally:
        thaw()


def test_novas_task_state_is_shown_while_the_action_runs(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "held").id)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["held"]

        async def stop() -> list[tuple[str, str]]:
            seen: list[tuple[str, str]] = []
            with compute_paused(openstack) as thaw:
                async for update in portal.run_action(Action.STOP, server):
                    seen.append((update.phase, update.message))
                    if update.phase == "progress":
                        thaw()  # seen in flight: now let nova-compute finish it
            return seen

        seen = asyncio.run(stop())
    finally:
        close(portal)
    assert ("progress", "held is stopping (active/powering-off)") in seen, seen
    assert seen[-1] == ("done", "held stopped")
    assert openstack.server(ident)["status"] == "SHUTOFF"  # type: ignore[index]


def test_wm_ls_says_stopping_and_its_json_novas_task_while_a_stop_runs(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """As the README says: while Nova's stop task runs, `wm ls` says `stopping` (Nova's
    task is no column of it, nor of the TUI's table), `wm ls --json` has Nova's word."""
    ident = str(boot(openstack, "alpha", "held").id)
    driver = ", ".join(f'{k} = "{v}"' for k, v in driver_settings(openstack, "alpha").items())
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "os-alpha"\nprovider = "openstack"\ndriver = {{ {driver} }}\n'
        f'credentials = {{ key = "{openstack.user("alpha")["user"]}", '
        'secret_env = "WM_TEST_ALPHA_PASSWORD" }\n'
    )
    with compute_paused(openstack):  # the task stays in flight
        sent = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
        assert sent.status_code == 202, sent.text
        table = CliRunner().invoke(main, ["--config", str(config), "ls"])
        listing = CliRunner().invoke(main, ["--config", str(config), "ls", "--json"])
    assert table.exit_code == listing.exit_code == ExitCode.OK, table.output + listing.output
    (row,) = [line for line in table.stdout.splitlines() if " held " in line]
    assert "stopping" in row.split()[:2]  # after the state's glyph, if any
    assert "powering-off" not in table.stdout
    (held,) = json.loads(listing.stdout)["instances"]
    assert (held["state"], held["raw_state"]) == ("stopping", "active/powering-off")


def test_an_action_on_a_server_deleted_behind_the_portals_back_says_it_is_gone(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """The action goes to Nova without reading the server first: Nova's 404 to the action
    itself is what tells the portal, in the same words as before."""
    ident = str(boot(openstack, "alpha", "ghost").id)
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        server = listed(portal, "os-alpha")["ghost"]
        assert openstack.nova("DELETE", f"/servers/{ident}").status_code == 204
        deadline = time.monotonic() + 60
        while openstack.server(ident) is not None:
            assert time.monotonic() < deadline, "Nova never deleted the server"
            time.sleep(0.2)
        phase, message, _ = act(portal, Action.STOP, server)
    finally:
        close(portal)
    assert (phase, message) == ("failed", "ghost no longer exists at openstack")


def test_stop_of_a_server_nova_is_still_placing_says_to_wait(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """A server Nova is still building (BUILD, building/scheduling: no host yet) is pending,
    which a stop runs from, and the stop was sent: Nova answered 404 "could not be found",
    and wm said it no longer exists (on a host not yet taken up, 409 "is not ready").
    Nova stops no server it is building, so wm says so before sending anything, and to
    wait; a destroy still goes through."""
    driver = libcloud_driver(openstack, "alpha")
    size = next(s for s in driver.list_sizes() if s.name == "m1.tiny")
    image = driver.get_image(openstack.state["image_id"])
    portal = make_portal(tmp_path, account(openstack, "os-alpha", "alpha"))
    try:
        with compute_paused(openstack, "nova-scheduler"):
            ident = str(driver.create_node(name="fresh", size=size, image=image).id)
            # The witness: Nova itself refuses to stop it, as if it were gone.
            nova = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
            assert nova.status_code == 404, nova.text
            row = listed(portal, "os-alpha")["fresh"]
            assert (row.state, row.raw_state) == (S.PENDING, "building/scheduling")
            refused = portal.refusal(Action.STOP, row)
            phase, message, _ = act(portal, Action.DESTROY, row)
    finally:
        close(portal)
    assert refused == (
        "fresh is still being placed on a host (Nova: building/scheduling), and Nova stops "
        "no server before it has booted: wait until it runs, then stop it (or destroy it now)"
    )
    assert (phase, message) == ("done", "fresh destroyed")
    assert openstack.server(ident) is None
