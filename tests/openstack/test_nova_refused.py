"""Nova's refusal of an action on a row wm had no state to refuse by, against the real Nova.

`wm stop ACCOUNT/ID` fetches the one server and lists nothing, so no state of a listing
refuses the stop before it is sent (as for a row of an account whose last poll failed).
Nova then answers in its own words, naming the id and not what to do: 409 "Instance <id>
is not ready" (no host holds the server), 409 "Cannot 'reboot' instance <id> while it is
in vm_state building", or, for a server the scheduler has not placed yet, 404 "could not
be found", as for a deleted one. wm reads the server once after such an answer and says
what it read and what to do, naming the account. The witnesses are Nova's own answers
and records over plain HTTP with an admin token.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from tests.faultproxy import PASS, Fault, FaultProxy
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
    refresh,
)
from tests.openstack.test_openstack_actions import compute_paused
from winged_monkey.actions import Action
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.models import InstanceState

S = InstanceState
pytestmark = pytest.mark.timeout(420)


def _config(openstack: OpenStack, tmp_path: Path) -> Path:
    driver = ", ".join(f'{k} = "{v}"' for k, v in driver_settings(openstack, "alpha").items())
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "os-alpha"\nprovider = "openstack"\ndriver = {{ {driver} }}\n'
        f'credentials = {{ key = "{openstack.user("alpha")["user"]}", '
        'secret_env = "WM_TEST_ALPHA_PASSWORD" }\n'
    )
    return config


def _wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def _said(result: Result) -> str:
    """The command's failure line (after its 'stop requested')."""
    (line,) = [line for line in result.stderr.splitlines() if ": failed: " in line]
    return line


def test_stop_by_id_of_a_server_on_no_host_says_it_never_ran_not_novas_bare_not_ready(
    openstack: OpenStack, tmp_path: Path
) -> None:
    ident = str(boot(openstack, "alpha", "nowhere", flavor="m1.nohost").id)
    openstack.settled(ident, "error")
    nova = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
    assert nova.json()["conflictingRequest"]["message"] == f"Instance {ident} is not ready"
    result = _wm(_config(openstack, tmp_path), "stop", "--yes", f"os-alpha/{ident}")
    assert result.exit_code == ExitCode.FAILED, result.output
    # Before: 'os-alpha/<id>: failed: openstack refused: 409 Conflict Instance <id> is not
    # ready': neither why nor what to do.
    assert _said(result) == (
        f"os-alpha/{ident}: failed: Nova refused the stop: nowhere is on no host "
        "(Nova: No valid host was found): it never ran, so it cannot be stopped; destroy it "
        "and launch again"
    )
    witness = openstack.server(ident)
    assert witness is not None
    assert witness["OS-EXT-STS:vm_state"] == "error"  # nothing was done


def test_stop_and_reboot_by_id_of_a_server_nova_is_still_placing_say_so_not_gone(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """Nova answers the stop of a server it has not placed yet with 404, as if it were
    gone: wm said 'fresh no longer exists' of a server Nova still lists. A reboot is its
    409 'Cannot 'reboot' instance <id> while it is in vm_state building'."""
    driver = libcloud_driver(openstack, "alpha")
    size = next(s for s in driver.list_sizes() if s.name == "m1.tiny")
    image = driver.get_image(openstack.state["image_id"])
    config = _config(openstack, tmp_path)
    with compute_paused(openstack, "nova-scheduler"):
        ident = str(driver.create_node(name="fresh", size=size, image=image).id)
        nova = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
        assert nova.status_code == 404, nova.text  # the witness: Nova's own answer
        stop = _wm(config, "stop", "--yes", f"os-alpha/{ident}")
        reboot = _wm(config, "reboot", f"os-alpha/{ident}")
        witness = openstack.server(ident)
    assert witness is not None
    assert (witness["OS-EXT-STS:vm_state"], witness["OS-EXT-STS:task_state"]) == (
        "building",
        "scheduling",
    )
    assert stop.exit_code == reboot.exit_code == ExitCode.FAILED, stop.output + reboot.output
    for verb, result in (("stop", stop), ("reboot", reboot)):
        # Before: the stop read 'fresh no longer exists at openstack', the reboot
        # 'openstack refused: 409 Conflict Cannot 'reboot' instance <id> while it is in
        # vm_state building'.
        assert _said(result) == (
            f"os-alpha/{ident}: failed: Nova refused the {verb}: fresh is still "
            f"being placed on a host (Nova: building/scheduling), and Nova {verb}s no server "
            f"before it has booted: wait until it runs, then {verb} it (or destroy it now)"
        )


def test_reboot_by_id_of_a_server_under_a_nova_task_says_to_wait_for_it(
    openstack: OpenStack, tmp_path: Path
) -> None:
    """A stop is in flight (nova-compute frozen: Nova's task stays powering-off); Nova
    refuses a reboot meanwhile with 409 'Cannot 'reboot' instance <id> while it is in
    task_state powering-off'."""
    ident = str(boot(openstack, "alpha", "held").id)
    config = _config(openstack, tmp_path)
    with compute_paused(openstack):
        sent = openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
        assert sent.status_code == 202, sent.text
        nova = openstack.nova("POST", f"/servers/{ident}/action", json={"reboot": {"type": "SOFT"}})
        reboot = _wm(config, "reboot", f"os-alpha/{ident}")
    assert "while it is in task_state powering-off" in nova.json()["conflictingRequest"]["message"]
    assert reboot.exit_code == ExitCode.FAILED, reboot.output
    # Before: 'openstack refused: 409 Conflict Cannot 'reboot' instance <id> while it is in
    # task_state powering-off'.
    assert _said(reboot) == (
        f"os-alpha/{ident}: failed: Nova refused the reboot: held is busy with a "
        "Nova task (Nova: active/powering-off), and Nova takes no other action meanwhile: "
        "wait until it ends, then try again"
    )
    openstack.settled(ident, "stopped")  # the stop Nova was busy with went on


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


def test_a_refusal_read_after_a_failed_poll_says_the_state_read_and_no_unknown_one(
    openstack: OpenStack, fault_proxy: Callable[[int], FaultProxy], tmp_path: Path
) -> None:
    """The account's last poll failed, so nothing refuses the suspend by a state nobody
    saw now: it is sent, Nova refuses, and wm reads the server and says its state. It then
    added "(os-alpha failed its last poll too: moved's state now is unknown ...)" right
    after the state it had just read."""
    ident = str(boot(openstack, "alpha", "moved").id)
    url = urlsplit(openstack.compute_url)
    proxy = fault_proxy(url.port or 80)
    config = account(openstack, "os-alpha", "alpha")
    through = f"http://127.0.0.1:{proxy.port}{url.path}"
    config = config.model_copy(
        update={"driver": {**config.driver, "ex_force_base_url": through}, "timeout": 10}
    )
    portal = make_portal(tmp_path, config)
    try:
        server = listed(portal, "os-alpha")["moved"]  # running, as far as wm knows
        openstack.nova("POST", f"/servers/{ident}/action", json={"os-stop": None})
        openstack.settled(ident, "stopped")
        proxy.fault = Fault("status", status=503)
        assert refresh(portal)["os-alpha"].phase == "failed"
        proxy.fault = PASS
        phase, message, _ = act(portal, Action.SUSPEND, server)
    finally:
        close(portal)
    assert (phase, message) == (
        "failed",
        "Nova refused the suspend: moved is stopped; suspend needs it running",
    )
