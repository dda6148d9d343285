"""libcloud's libvirt driver through the portal, against a real libvirtd (test driver) on loopback.

The witness is a separate libvirt connection that the test holds: it also keeps the
test driver's state alive (the driver resets when its last connection closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket as sock
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest
from click.testing import CliRunner, Result

from tests.conftest import eventually
from tests.libvirt.conftest import DOMAIN
from tests.libvirt.daemon import Libvirtd
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import WMError
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials

S = InstanceState


def account(daemon: Libvirtd, **settings: Any) -> AccountConfig:
    return AccountConfig(
        name="lab",
        provider="libvirt",
        driver={"uri": daemon.uri},
        # libcloud insists on a user name for +tcp URIs; auth_tcp = "none" ignores it.
        credentials=Credentials(key="wm", keyring=False),
        timeout=10,
        **settings,
    )


@pytest.fixture
def portal(daemon: Libvirtd, hypervisor: Any, tmp_path: Path) -> Iterator[Portal]:
    config = Config(accounts=(account(daemon),), action_poll_interval=0.05, action_timeout=15)
    store = Store.open(tmp_path / "wm.sqlite3")
    portal = Portal(config, store, user="tester")
    yield portal
    asyncio.run(portal.close())
    store.close()


def listed(portal: Portal) -> dict[str, Instance]:
    async def run() -> None:
        async for update in portal.refresh():
            assert update.status.phase != "failed", update.status.error

    asyncio.run(run())
    return {i.name: i for i in portal.instances()}


def act(portal: Portal, action: Action, instance: Instance) -> str:
    async def run() -> str:
        phase = ""
        async for update in portal.run_action(action, instance):
            phase = update.phase
        return phase

    return asyncio.run(run())


def act_with_message(portal: Portal, action: Action, instance: Instance) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        phase, message = "", ""
        async for update in portal.run_action(action, instance):
            phase, message = update.phase, update.message
        return phase, message

    return asyncio.run(run())


def state_of(conn: Any, name: str) -> int:
    return int(conn.lookupByName(name).state()[0])


def test_lists_domains_with_real_states_and_uuid_ids(portal: Portal, hypervisor: Any) -> None:
    found = listed(portal)
    assert {"web", "db"} <= set(found)
    web, db = found["web"], found["db"]
    assert (web.state, web.raw_state) == (S.RUNNING, "running")
    # libcloud says TERMINATED for a shut-off domain; it is only stopped.
    assert (db.state, db.raw_state) == (S.STOPPED, "shutoff")
    assert web.id == hypervisor.lookupByName("web").UUIDString()
    assert web.provider == "libvirt"


def test_capabilities_come_from_the_driver(portal: Portal) -> None:
    listed(portal)
    assert {Capability.START, Capability.STOP, Capability.REBOOT, Capability.DESTROY} <= (
        portal.capabilities("lab")
    )


def test_start_stop_keep_the_same_id(portal: Portal, hypervisor: Any) -> None:
    db = listed(portal)["db"]
    assert act(portal, Action.START, db) == "done"
    assert state_of(hypervisor, "db") == libvirt.VIR_DOMAIN_RUNNING
    again = listed(portal)["db"]
    assert again.id == db.id  # the domain id changed on start; the UUID did not
    assert again.state is S.RUNNING

    assert act(portal, Action.STOP, again) == "done"
    assert state_of(hypervisor, "db") == libvirt.VIR_DOMAIN_SHUTOFF
    assert listed(portal)["db"].state is S.STOPPED


def test_reboot(portal: Portal, hypervisor: Any) -> None:
    web = listed(portal)["web"]
    assert act(portal, Action.REBOOT, web) == "done"
    assert state_of(hypervisor, "web") == libvirt.VIR_DOMAIN_RUNNING


def test_destroy_removes_the_domain(portal: Portal, hypervisor: Any) -> None:
    web = listed(portal)["web"]
    assert act(portal, Action.DESTROY, web) == "done"
    assert "web" not in {d.name() for d in hypervisor.listAllDomains()}
    assert "web" not in listed(portal)


def test_a_dead_libvirtd_fails_only_its_account(daemon: Libvirtd, tmp_path: Path) -> None:
    dead = AccountConfig(
        name="gone",
        provider="libvirt",
        driver={"uri": "test+tcp://127.0.0.1:9/default"},
        credentials=Credentials(key="wm", keyring=False),
        timeout=5,
    )
    portal = Portal(Config(accounts=(account(daemon), dead)), Store.memory())

    async def run() -> dict[str, str]:
        phases = {}
        async for update in portal.refresh():
            phases[update.status.name] = update.status.error or update.status.phase
        await portal.close()
        return phases

    phases = asyncio.run(run())
    assert phases["lab"] == "ok"
    assert phases["gone"] == (
        "libvirt: unable to connect to server at '127.0.0.1:9': Connection refused: is "
        "libvirt's daemon listening there? It listens on TCP only when told "
        "(libvirtd-tcp.socket, or --listen with listen_tcp = 1); or reach it over ssh "
        "(qemu+ssh://user@host/system)"
    )  # what to do, not libvirt's words alone


@pytest.mark.parametrize("socket", ["missing", "stale"])
def test_no_local_daemon_asks_whether_libvirtd_runs(socket: str, tmp_path: Path) -> None:
    path = tmp_path / "libvirt-sock"
    if socket == "stale":  # a daemon that died and left its socket behind
        with contextlib.closing(sock.socket(sock.AF_UNIX)) as left:
            left.bind(str(path))
    local = AccountConfig(
        name="here",
        provider="libvirt",
        driver={"uri": f"qemu+unix:///system?socket={path}"},
        credentials=Credentials(keyring=False),
        timeout=5,
    )
    portal = Portal(Config(accounts=(local,)), Store.memory())

    async def run() -> str | None:
        errors = [u.status.error async for u in portal.refresh()]
        await portal.close()
        return errors[-1]

    error = asyncio.run(run())
    assert error is not None
    assert error.startswith(f"libvirt: Failed to connect socket to '{path}'"), error
    assert "is libvirt's daemon running on this machine?" in error
    assert "?socket=" in error


def test_suspend_then_start_resumes(portal: Portal, hypervisor: Any) -> None:
    web = listed(portal)["web"]
    assert Capability.SUSPEND in portal.capabilities("lab")
    assert act(portal, Action.SUSPEND, web) == "done"
    assert state_of(hypervisor, "web") == libvirt.VIR_DOMAIN_PAUSED
    paused = listed(portal)["web"]
    assert (paused.state, paused.raw_state) == (S.SUSPENDED, "paused")

    # START on a suspended row is a resume here (libvirt cannot "create" a paused domain).
    assert portal.effective(Action.START, paused) is Action.RESUME
    assert act(portal, Action.START, paused) == "done"
    assert state_of(hypervisor, "web") == libvirt.VIR_DOMAIN_RUNNING
    assert listed(portal)["web"].state is S.RUNNING


def test_resume_is_refused_on_a_running_domain(portal: Portal) -> None:
    web = listed(portal)["web"]
    with pytest.raises(WMError, match="web is already running"):
        act(portal, Action.RESUME, web)


def test_reset_power_cycles_without_the_guest(portal: Portal, hypervisor: Any) -> None:
    web = listed(portal)["web"]
    assert Capability.RESET in portal.capabilities("lab")
    assert act(portal, Action.RESET, web) == "done"
    assert state_of(hypervisor, "web") == libvirt.VIR_DOMAIN_RUNNING
    assert listed(portal)["web"].id == web.id


def test_reset_of_a_domain_that_is_shut_off_is_libvirts_refusal(
    portal: Portal, hypervisor: Any
) -> None:
    web = listed(portal)["web"]  # running, as far as the portal knows
    hypervisor.lookupByName("web").destroy()  # someone else powers it off
    phase, message = act_with_message(portal, Action.RESET, web)
    assert phase == "failed"
    assert "not running" in message.lower(), message
    assert "Traceback" not in message


def test_an_account_comes_back_when_libvirtd_restarts(tmp_path: Path) -> None:
    """libvirt never reopens a closed connection: once libvirtd restarted (an upgrade, a
    host's reboot), every poll of the account failed with 'internal error: client socket
    is closed' until wm itself was restarted. The lost connection is said as such and
    forgotten, and the next poll connects again."""
    with tempfile.TemporaryDirectory(prefix="wm-libvirtd-") as folder:
        daemon = Libvirtd(Path(folder)).start()
        portal = Portal(Config(accounts=(account(daemon),)), Store.memory())

        async def poll() -> tuple[str, str | None]:
            last = [u.status async for u in portal.refresh()][-1]
            return last.phase, last.error

        async def run() -> list[tuple[str, str | None]]:
            seen = [await poll()]
            daemon.stop()
            seen.append(await poll())
            daemon.start()
            witness = libvirt.open(daemon.uri)  # keeps the new daemon's test driver alive
            witness.defineXML(DOMAIN.format(name="after"))
            seen.append(await poll())
            seen.append((",".join(sorted(i.name for i in portal.instances())), None))
            witness.close()
            await portal.close()
            return seen

        try:
            first, down, again, names = asyncio.run(run())
        finally:
            daemon.stop()
    assert first == ("ok", None)
    assert down[0] == "failed"
    assert (down[1] or "").endswith(
        "the connection to libvirt's daemon was lost (it stopped or restarted?); "
        "the next poll connects again"
    ), down
    assert again == ("ok", None)
    assert "after" in names[0].split(",")


def test_stopping_a_transient_domain_is_done_when_it_is_gone(
    portal: Portal, hypervisor: Any
) -> None:
    """A transient domain (virsh create, never defined) ceases to exist once it stops, as
    libvirt documents: `wm stop` of one said 'failed: scratch disappeared' though the stop
    did all it could. The row says it is transient, and its stop is done when it is gone."""
    hypervisor.createXML(DOMAIN.format(name="scratch"), 0)
    found = listed(portal)
    assert found["scratch"].extra["transient"] is True
    assert "transient" not in found["web"].extra
    phase, message = act_with_message(portal, Action.STOP, found["scratch"])
    assert (phase, message) == ("done", "scratch stopped (transient: gone once stopped)")
    assert "scratch" not in {d.name() for d in hypervisor.listAllDomains()}
    # a persistent domain that vanishes under a stop is still a failure to say
    web = found["web"]
    hypervisor.lookupByName("web").destroy()
    hypervisor.lookupByName("web").undefine()
    assert act_with_message(portal, Action.STOP, web)[0] == "failed"


def test_a_failed_action_leaves_no_connection_open(daemon: Libvirtd, tmp_path: Path) -> None:
    """An action libvirt refused kept its virDomain alive in the error's context (raised
    `from None`, the error still held libvirt's exception and the failed call's frames),
    and with it the connection, after the account was closed: libvirtd kept serving it.
    Here the witness is the test driver, which forgets its domains only once its last
    connection closes (the next test's domains met the last one's)."""
    witness = libvirt.open(daemon.uri)
    witness.defineXML(DOMAIN.format(name="leak")).create()
    portal = Portal(Config(accounts=(account(daemon),)), Store.open(tmp_path / "wm.sqlite3"))
    try:
        row = listed(portal)["leak"]
        witness.lookupByName("leak").destroy()
        assert act_with_message(portal, Action.RESET, row)[0] == "failed"
    finally:
        asyncio.run(portal.close())
        portal.store.close()
        witness.close()
    fresh = libvirt.open(daemon.uri)
    try:
        assert "leak" not in {d.name() for d in fresh.listAllDomains()}
    finally:
        fresh.close()


def test_a_tcp_uri_needs_no_credentials_and_is_named_in_the_check(
    daemon: Libvirtd, hypervisor: Any
) -> None:
    """`qemu+tcp://host/system` to a libvirtd with auth_tcp = "none" needs no user name, as
    virsh needs none: wm said 'libvirt: RuntimeError: The remote Libvirt instance requires
    authentication, please set 'key' and 'secret' parameters' (libcloud's words for
    settings wm's config does not have). And `wm accounts test` said 'libvirt at libvirt'
    where the uri tells where."""
    plain = AccountConfig(
        name="lab",
        provider="libvirt",
        driver={"uri": daemon.uri + "?no_verify=1"},
        credentials=Credentials(keyring=False),
        timeout=10,
    )
    portal = Portal(Config(accounts=(plain,)), Store.memory())

    async def run() -> str:
        try:
            return await portal.check("lab")
        finally:
            await portal.close()

    said = asyncio.run(run())
    assert said.startswith(f"libvirt at {daemon.uri}: reachable, "), said
    assert said.endswith(" (no credentials)"), said  # not "(credentials from none)"


def wm(daemon: Libvirtd, tmp_path: Path, *args: str, settings: str = "") -> Result:
    """`wm` with one account `lab` on the daemon, as a user writes it (`settings`: the
    config's own lines before it)."""
    config = tmp_path / "wm.toml"
    config.write_text(
        f'{settings}[[accounts]]\nname = "lab"\nprovider = "libvirt"\n'
        f'driver = {{ uri = "{daemon.uri}" }}\n'
    )
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_stop_of_a_paused_domain_powers_it_off_and_keeps_it(
    daemon: Libvirtd, hypervisor: Any, tmp_path: Path
) -> None:
    """`wm stop` on a paused domain said "web is suspended, not stopped: start resumes it,
    then stop": two actions and a boot to power it off. It powers it off now, as `virsh
    destroy` does (QEMU refuses to ask a paused guest to shut down: "domain is not
    running"), and the domain stays defined: a fresh `wm ls` lists it stopped."""
    hypervisor.lookupByName("web").suspend()
    # No handle kept: it would keep the connection, and the test driver's domains, past
    # the fixture's close (the next test's `web` then exists already).
    uuid = hypervisor.lookupByName("web").UUIDString()

    stopped = wm(daemon, tmp_path, "stop", "web", "--yes")
    after = wm(daemon, tmp_path, "ls", "--json")

    assert stopped.exit_code == ExitCode.OK, stopped.output
    assert f"lab/{uuid}: ok: web stopped" in stopped.output.splitlines()
    shutoff = [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert hypervisor.lookupByName("web").state() == shutoff  # powered off, still defined
    assert hypervisor.lookupByName("web").isPersistent()
    assert after.exit_code == ExitCode.OK, after.output
    rows = {i["name"]: i for i in json.loads(after.stdout)["instances"]}
    assert (rows["web"]["state"], rows["web"]["raw_state"]) == ("stopped", "shutoff")


#: A domain whose guest does not power off when asked: the test driver takes a shutdown
#: as the guest's power-off, which `on_poweroff = restart` turns into a restart, so a stop
#: leaves it running, as a guest with no ACPI daemon (or a hung one) does under QEMU.
DEAF = DOMAIN.replace("</os>", "</os><on_poweroff>restart</on_poweroff>")


def test_wm_poweroff_powers_off_a_domain_whose_guest_ignores_the_stop(
    daemon: Libvirtd, hypervisor: Any, tmp_path: Path
) -> None:
    """A stop asks the guest; one that ignores it keeps its domain running, and `wm stop`
    timed out 'deaf still running after 2 s' with no next step (a second stop asks the
    guest again; libcloud's only power-off undefines the domain). The timeout names `wm
    poweroff`, which powers the domain off as `virsh destroy` does: still defined, listed
    stopped."""
    hypervisor.defineXML(DEAF.format(name="deaf")).create()
    uuid = hypervisor.lookupByName("deaf").UUIDString()  # no handle kept (as above)
    quick = "action_timeout = 2\naction_poll_interval = 0.1\n"

    stopped = wm(daemon, tmp_path, "stop", "deaf", "--yes", settings=quick)

    assert stopped.exit_code != ExitCode.OK, stopped.output
    assert (
        f"lab/{uuid}: timeout: deaf still running after 2 s: its guest did not "
        "shut down; wm poweroff deaf powers it off without asking the guest"
    ) in stopped.output.splitlines(), stopped.output
    assert state_of(hypervisor, "deaf") == libvirt.VIR_DOMAIN_RUNNING

    off = wm(daemon, tmp_path, "poweroff", "deaf", "--yes")
    after = wm(daemon, tmp_path, "ls", "--json")

    assert off.exit_code == ExitCode.OK, off.output
    assert f"lab/{uuid}: ok: deaf powered off" in off.output.splitlines()
    assert hypervisor.lookupByName("deaf").state() == [
        libvirt.VIR_DOMAIN_SHUTOFF,
        libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED,
    ]
    assert hypervisor.lookupByName("deaf").isPersistent()  # not undefined
    rows = {i["name"]: i for i in json.loads(after.stdout)["instances"]}
    assert (rows["deaf"]["state"], rows["deaf"]["raw_state"]) == ("stopped", "shutoff")


def test_poweroff_of_a_domain_that_is_shut_off_is_refused(portal: Portal) -> None:
    db = listed(portal)["db"]
    assert Capability.POWEROFF in portal.capabilities("lab")
    assert portal.refusal(Action.POWEROFF, db) == "db is already stopped"


def test_poweroff_runs_while_a_stop_its_guest_ignores_is_followed(
    portal: Portal, hypervisor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop is followed until the action timeout (600 s by default), and the row was
    refused every other action meanwhile ('deaf already has an action in flight'): in
    the TUI the poweroff it needs waited ten minutes. It runs beside the stop's follow,
    which then ends as the domain did, stopped."""
    hypervisor.defineXML(DEAF.format(name="deaf")).create()
    deaf = listed(portal)["deaf"]

    async def both() -> tuple[list[str], list[str]]:
        stops: list[str] = []

        async def stop() -> None:
            async for update in portal.run_action(Action.STOP, deaf):
                stops.append(f"{update.phase}: {update.message}")

        backend = await portal.accounts.backend("lab")
        looks: list[str] = []
        real = backend.get_instance

        async def get_instance(instance_id: str) -> Instance | None:
            looks.append(instance_id)  # the follow's: the stop was sent before it
            return await real(instance_id)

        monkeypatch.setattr(backend, "get_instance", get_instance)
        stopping = asyncio.create_task(stop())
        await eventually(lambda: bool(looks))  # the stop, sent and taken, is followed
        shown = portal.instance(deaf.key)
        assert shown is not None
        assert portal.refusal(Action.REBOOT, shown) == "deaf already has an action in flight"
        assert portal.refusal(Action.POWEROFF, shown) is None
        offs = [f"{u.phase}: {u.message}" async for u in portal.run_action(Action.POWEROFF, shown)]
        await asyncio.wait_for(stopping, 10)  # its follow sees it stopped: not 15 s
        return stops, offs

    stops, offs = asyncio.run(both())

    assert offs[-1] == "done: deaf powered off"
    assert stops[-1] == "done: deaf stopped"
    assert state_of(hypervisor, "deaf") == libvirt.VIR_DOMAIN_SHUTOFF
    assert hypervisor.lookupByName("deaf").isPersistent()
