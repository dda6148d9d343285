"""Domains shaped like users' own, on libvirt's test driver loaded from a node file
(`test:///path.xml`, in wm's own process): names holding characters a terminal obeys, and
states the test driver's API cannot reach (its node file sets any `runstate`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import libvirt
from click.testing import CliRunner, Result

from tests.libvirt.conftest import DOMAIN as TCP_DOMAIN
from tests.libvirt.daemon import Libvirtd
from tests.test_events import Lines
from tests.ui.conftest import open_timeline, running, wait_for
from tests.ui.on_screen import by_name, main_of, shows, text_of
from winged_monkey.actions import Action
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.details import DetailsScreen
from winged_monkey.user.config import AccountConfig, Config, Credentials

S = InstanceState

#: U+009B is CSI as one character: `\x9b2J` clears an xterm's screen; U+202E reverses
#: what follows on the line. libvirt takes both in a domain's name (XML carries them).
CSI_NAME = "web\u009b2J\u202egpj.exe"
DOMAIN = """<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
<name>{name}</name><uuid>{uuid}</uuid><memory>262144</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><test:runstate>{state}</test:runstate></domain>"""


def node(tmp_path: Path, *domains: tuple[str, str, int]) -> str:
    """A test driver's uri holding `domains` (name, uuid, virDomainState)."""
    path = tmp_path / "node.xml"
    body = "".join(DOMAIN.format(name=n, uuid=u, state=s) for n, u, s in domains)
    path.write_text(f"<node>{body}</node>", encoding="utf-8")
    return f"test://{path}"


def kvm_portal(tmp_path: Path, uri: str, *, action_timeout: float) -> Portal:
    """A portal over one libvirt account, "kvm", at `uri`, following actions closely."""
    account = AccountConfig(
        name="kvm", provider="libvirt", driver={"uri": uri}, credentials=Credentials(keyring=False)
    )
    config = Config(accounts=(account,), action_poll_interval=0.05, action_timeout=action_timeout)
    return Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")


async def listing(portal: Portal) -> dict[str, Instance]:
    """Every row by name, as a fresh listing of each account reads it."""
    async for update in portal.refresh():
        assert update.status.phase != "failed", update.status.error
    return {i.name: i for i in portal.instances()}


def wm(tmp_path: Path, uri: str, *args: str) -> Result:
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "kvm"\nprovider = "libvirt"\ndriver = {{ uri = "{uri}" }}\n'
    )
    return CliRunner().invoke(main, ["--config", str(config), *args])


def tui(daemon: Libvirtd, tmp_path: Path, **settings: Any) -> tuple[Portal, WMApp]:
    """The TUI over one libvirt account `lab` on the daemon (`settings`: the config's)."""
    config = Config(
        accounts=(
            AccountConfig(
                name="lab",
                provider="libvirt",
                driver={"uri": daemon.uri},
                credentials=Credentials(key="wm", keyring=False),
                timeout=10,
            ),
        ),
        **settings,
    )
    portal = Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")
    return portal, WMApp(portal, config, title_suffix="test")


@asynccontextmanager
async def closing(portal: Portal) -> AsyncIterator[None]:
    """The portal closed after use: libvirt's test driver keeps its domains for the next
    test while a connection to it is open."""
    try:
        yield
    finally:
        await portal.close()
        portal.store.close()


def test_an_action_on_a_domain_named_with_terminal_controls_prints_none(
    tmp_path: Path,
) -> None:
    """`wm ls` showed the name with `?` for each control; `wm start` then printed it raw
    (`kvm/...: ok: web\\x9b2J... started`), a CSI sent to the user's terminal."""
    uuid = "6b1b2c4e-0000-4000-8000-000000000001"
    uri = node(tmp_path, (CSI_NAME, uuid, 5))

    listed = wm(tmp_path, uri, "ls", "--width", "200")
    started = wm(tmp_path, uri, "start", f"kvm/{uuid}", "--yes")

    assert "web?2J?gpj.exe" in listed.output, listed.output
    assert started.exit_code == ExitCode.OK, started.output
    assert f"kvm/{uuid}: ok: web?2J?gpj.exe started" in started.output.splitlines()
    for done in (listed, started):
        assert "\u009b" not in done.output
        assert "\u202e" not in done.output


async def test_the_tui_shows_a_domain_named_with_terminal_controls_without_them(
    daemon: Libvirtd, hypervisor: Any, tmp_path: Path
) -> None:
    """The table showed `web?2J?gpj.exe`; its details (enter: the title and the name row),
    the stop confirmation and the toast of its stop sent the U+009B and U+202E themselves
    to the terminal."""
    hypervisor.defineXML(TCP_DOMAIN.format(name=CSI_NAME)).create()
    portal, app = tui(daemon, tmp_path, action_poll_interval=0.05, action_timeout=15)
    shown = "web?2J?gpj.exe"
    async with closing(portal), running(app) as (pilot, notes):
        table = main_of(app).table
        row = by_name(table, CSI_NAME)
        table.select(row.key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: shows(app, DetailsScreen), "the details")
        details = text_of(app.screen)
        await pilot.press("escape", "x")
        await wait_for(pilot, lambda: shows(app, ConfirmScreen), "the confirmation")
        confirm = text_of(app.screen)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes.find("stopped")), "the stop's toast")
    toast = notes.find("stopped")[0]
    said = [details, confirm, toast.title, toast.message]
    assert details.splitlines()[0].startswith(f"{shown}  lab/"), details
    assert f"name                 {shown}" in details, details
    assert shown in confirm, confirm
    assert toast.title == f"Stop {shown}", toast
    for text in said:
        assert "\u009b" not in text
        assert "\u202e" not in text


NIC = "<interface type='network'><mac address='{mac}'/><source network='default'/></interface>"
WITH_NICS = """<domain type='test'><name>{name}</name><memory>262144</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices>{nics}</devices></domain>"""


def test_addresses_are_libvirts_own_over_a_remote_uri(
    daemon: Libvirtd, hypervisor: Any, tmp_path: Path
) -> None:
    """libcloud reads a domain's addresses from this machine's ARP table, and only for a
    local uri: over test+tcp (as over qemu+ssh) `wm ls` showed none for every domain, where
    `virsh domifaddr` gives each NIC's. A domain with no NIC, or shut off, has none."""
    nics = "".join(NIC.format(mac=f"52:54:00:0a:0b:{n:02x}") for n in (1, 2))
    hypervisor.defineXML(WITH_NICS.format(name="two-nics", nics=nics)).create()
    hypervisor.defineXML(WITH_NICS.format(name="no-nic", nics="")).create()
    hypervisor.defineXML(WITH_NICS.format(name="off", nics=NIC.format(mac="52:54:00:0a:0b:09")))
    lease = libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE
    told = hypervisor.lookupByName("two-nics").interfaceAddresses(lease)
    expected = [a["addr"] for nic in sorted(told) for a in told[nic]["addrs"]]
    assert len(expected) == 2  # the witness: what virsh domifaddr says

    listed = wm(tmp_path, daemon.uri, "ls", "--json")

    assert listed.exit_code == ExitCode.OK, listed.output
    rows = {i["name"]: i for i in json.loads(listed.stdout)["instances"]}
    assert sorted(rows["two-nics"]["private_ips"]) == sorted(expected)
    assert rows["two-nics"]["public_ips"] == []
    assert rows["no-nic"]["private_ips"] == rows["off"]["private_ips"] == []


def test_start_of_a_domain_its_guest_put_to_sleep_wakes_it(tmp_path: Path) -> None:
    """A pmsuspended domain (its guest went to ACPI S3) is listed suspended, and `s` or `wm
    start` resumes a suspended row: that was libvirt's resume, which refuses one that is not
    paused ("domain 'laptop-vm' not paused"), so it never woke. It is a PM wakeup now
    (`virsh dompmwakeup`): the test driver has none, and its refusal names the call. A
    paused domain still resumes."""
    sleeping, paused = (
        "6b1b2c4e-0000-4000-8000-000000000007",
        "6b1b2c4e-0000-4000-8000-000000000003",
    )
    uri = node(tmp_path, ("laptop-vm", sleeping, 7), ("paused-vm", paused, 3))

    woken = wm(tmp_path, uri, "start", "laptop-vm", "--yes")
    resumed = wm(tmp_path, uri, "start", "paused-vm", "--yes")

    assert woken.exit_code == ExitCode.FAILED, woken.output
    assert (
        f"kvm/{sleeping}: failed: libvirt: this function is not supported by the "
        "connection driver: virDomainPMWakeup" in woken.output.splitlines()
    )
    assert "not paused" not in woken.output
    assert resumed.exit_code == ExitCode.OK, resumed.output
    assert f"kvm/{paused}: ok: paused-vm resumed" in resumed.output.splitlines()


def test_wm_ssh_to_a_domain_named_with_terminal_controls_prints_none(tmp_path: Path) -> None:
    """`wm ssh` to a domain with no address says so, naming it: the name went out raw."""
    uuid = "6b1b2c4e-0000-4000-8000-000000000011"
    uri = node(tmp_path, (CSI_NAME, uuid, 1))

    done = wm(tmp_path, uri, "ssh", "--print", f"kvm/{uuid}")

    assert done.exit_code != ExitCode.OK
    assert done.output.startswith(f"wm: web?2J?gpj.exe (kvm/{uuid}) has no address yet"), done
    assert "\u009b" not in done.output
    assert "\u202e" not in done.output


def test_wm_events_follow_prints_a_domains_name_without_its_controls(tmp_path: Path) -> None:
    """`wm events` showed the name with `?` for each control; `wm events --follow`, whose
    lines are fitted one by one, printed the start of the domain named with a CSI raw."""
    uuid = "6b1b2c4e-0000-4000-8000-000000000012"
    uri = node(tmp_path, (CSI_NAME, uuid, 5))
    started = wm(tmp_path, uri, "start", f"kvm/{uuid}", "--yes")
    assert started.exit_code == ExitCode.OK, started.output
    follow = [sys.executable, "-c", "from winged_monkey.cli.main import main; main()"]
    process = subprocess.Popen(
        [*follow, "--config", str(tmp_path / "wm.toml"), "events", "-f", "--since", "1h"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )
    try:
        line = Lines(process).next()  # the start, from the window so far
    finally:
        process.kill()
        process.wait()
    assert f"kvm  {uuid}  web?2J?gpj.exe" in line, line
    assert "\u009b" not in line
    assert "\u202e" not in line


async def test_the_tuis_notes_and_timeline_show_a_domains_name_without_its_controls(
    daemon: Libvirtd, hypervisor: Any, tmp_path: Path
) -> None:
    """`s` on a running row says why not in a note, naming it; `t` opens its timeline,
    titled by its name: both sent the U+009B and U+202E to the terminal."""
    hypervisor.defineXML(TCP_DOMAIN.format(name=CSI_NAME)).create()
    portal, app = tui(daemon, tmp_path)
    shown = "web?2J?gpj.exe"
    async with closing(portal), running(app) as (pilot, notes):
        table = main_of(app).table
        table.select(by_name(table, CSI_NAME).key)
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(notes.find("already running")), "the refusal")
        timeline = await open_timeline(pilot, app, CSI_NAME)
        title = text_of(timeline)
    note = notes.find("already running")[0]
    assert note.message == f"{shown} is already running", note
    header, named = title.splitlines()[:2]
    assert header.endswith(f"timeline of {shown}"), title
    assert named.startswith(f"{shown}  lab/"), title
    for text in (note.message, title):
        assert "\u009b" not in text
        assert "\u202e" not in text


def test_a_domains_size_is_its_vcpus_and_memory(tmp_path: Path) -> None:
    """libvirt has no flavours: every domain's size was `?`, though libvirt says its vCPUs
    and memory (`virsh dominfo`), as a vSphere VM's `1 vCPU / 64 MB` is shown."""
    running, off = "6b1b2c4e-0000-4000-8000-000000000021", "6b1b2c4e-0000-4000-8000-000000000022"
    uri = node(tmp_path, ("app", running, 1), ("spare", off, 5))
    witness = libvirt.open(uri)  # the test driver's own copy of the node: the same domains
    try:
        told = {u: witness.lookupByUUIDString(u).info() for u in (running, off)}
    finally:
        witness.close()

    listed = wm(tmp_path, uri, "ls", "--json")

    assert listed.exit_code == ExitCode.OK, listed.output
    sizes = {i["id"]: i["size"] for i in json.loads(listed.stdout)["instances"]}
    for uuid, (_, _, memory, cpus, _) in told.items():
        assert sizes[uuid] == f"{cpus} vCPU / {memory // 1024} MB"
    assert sizes[running] == "1 vCPU / 256 MB"


async def test_stop_of_a_paused_or_sleeping_domain_ends_stopped(tmp_path: Path) -> None:
    """A stop on a paused domain, or one its guest put to sleep (pmsuspended), was refused
    ("is suspended, not stopped: start resumes it, then stop"). It powers each off: done
    once stopped, as a fresh listing sees it, and each is still listed (still defined)."""
    paused, sleeping = (
        "6b1b2c4e-0000-4000-8000-000000000023",
        "6b1b2c4e-0000-4000-8000-000000000024",
    )
    uri = node(tmp_path, ("paused-vm", paused, 3), ("laptop-vm", sleeping, 7))
    portal = kvm_portal(tmp_path, uri, action_timeout=15)
    async with closing(portal):
        rows = await listing(portal)
        assert rows["paused-vm"].state is rows["laptop-vm"].state is S.SUSPENDED
        ends = []
        for row in (rows["paused-vm"], rows["laptop-vm"]):
            updates = [u async for u in portal.run_action(Action.STOP, row)]
            ends.append((updates[-1].phase, updates[-1].instance.state))
        fresh = await listing(portal)
    assert ends == [("done", S.STOPPED), ("done", S.STOPPED)]
    assert (fresh["paused-vm"].state, fresh["paused-vm"].raw_state) == (S.STOPPED, "shutoff")
    assert (fresh["laptop-vm"].state, fresh["laptop-vm"].raw_state) == (S.STOPPED, "shutoff")


async def test_stop_of_a_domain_stuck_shutting_down_powers_it_off(tmp_path: Path) -> None:
    """A domain libvirt says is `shutdown` (its guest was asked and has not finished) is
    stopping, and a stop was refused ("stuck-vm is stopping; stop needs it running"): only
    a destroy, which undefines it, got it off. A stop powers it off now (`virsh destroy`),
    and a fresh listing sees it stopped and still there."""
    stuck = "6b1b2c4e-0000-4000-8000-000000000025"
    uri = node(tmp_path, ("stuck-vm", stuck, 4))  # VIR_DOMAIN_SHUTDOWN
    portal = kvm_portal(tmp_path, uri, action_timeout=15)
    async with closing(portal):
        row = (await listing(portal))["stuck-vm"]
        assert (row.state, row.raw_state) == (S.STOPPING, "shutdown")
        updates = [u async for u in portal.run_action(Action.STOP, row)]
        fresh = (await listing(portal))["stuck-vm"]
    assert (updates[-1].phase, updates[-1].message) == ("done", "stuck-vm stopped")
    assert (fresh.state, fresh.raw_state) == (S.STOPPED, "shutoff")


def test_wm_stop_of_a_domain_stuck_shutting_down_says_it_stopped(tmp_path: Path) -> None:
    """`wm stop` on it exited 4 ("is stopping; stop needs it running"); it is stopped."""
    stuck = "6b1b2c4e-0000-4000-8000-000000000026"
    uri = node(tmp_path, ("stuck-vm", stuck, 4))

    done = wm(tmp_path, uri, "stop", "stuck-vm", "--yes")

    assert done.exit_code == ExitCode.OK, done.output
    assert f"kvm/{stuck}: ok: stuck-vm stopped" in done.output.splitlines()


async def test_stop_of_a_crashed_domain_powers_it_off(tmp_path: Path) -> None:
    """A crashed domain (libvirt's `crashed`, kept for a dump: wm's error) was stopped by
    asking its guest (virDomainShutdown), which QEMU refuses ("domain is not running"). A
    stop powers it off now (`virsh destroy`), and it stays defined. The test driver takes
    the shutdown QEMU refuses; this domain restarts on a guest's power-off
    (`on_poweroff` restart), so only a power-off ends it stopped: asked, it came back
    running and the stop timed out ("crashed-vm still running after 5 s")."""
    crashed = "6b1b2c4e-0000-4000-8000-000000000027"
    domain = DOMAIN.format(name="crashed-vm", uuid=crashed, state=6)  # VIR_DOMAIN_CRASHED
    path = tmp_path / "node.xml"
    path.write_text(
        "<node>" + domain.replace("</os>", "</os><on_poweroff>restart</on_poweroff>") + "</node>",
        encoding="utf-8",
    )
    portal = kvm_portal(tmp_path, f"test://{path}", action_timeout=5)
    async with closing(portal):
        row = (await listing(portal))["crashed-vm"]
        assert (row.state, row.raw_state) == (S.ERROR, "crashed")
        assert portal.refusal(Action.STOP, row) is None
        updates = [u async for u in portal.run_action(Action.STOP, row)]
        fresh = (await listing(portal))["crashed-vm"]
    assert (updates[-1].phase, updates[-1].message) == ("done", "crashed-vm stopped")
    assert (fresh.state, fresh.raw_state) == (S.STOPPED, "shutoff")  # still defined


async def test_a_stop_that_times_out_in_shutdown_says_to_stop_again(tmp_path: Path) -> None:
    """A first stop whose domain hangs in libvirt's `shutdown` (its guest was asked and has
    not finished) timed out with "stuck-vm still stopping after 1 s" and no word of what
    to do; it adds "stop again to power it off", which the second stop does. The test
    driver powers a domain off as soon as it is asked, so the follow of that first stop is
    run on a domain loaded in `shutdown`."""
    stuck = "6b1b2c4e-0000-4000-8000-000000000028"
    uri = node(tmp_path, ("stuck-vm", stuck, 4))  # VIR_DOMAIN_SHUTDOWN
    portal = kvm_portal(tmp_path, uri, action_timeout=1)
    async with closing(portal):
        row = (await listing(portal))["stuck-vm"]
        backend = await portal.accounts.backend("kvm")
        first = [u async for u in portal.operations.follow(backend, Action.STOP, row)]
        again = [u async for u in portal.run_action(Action.STOP, row)]
    assert (first[-1].phase, first[-1].message) == (
        "timeout",
        "stuck-vm still stopping after 1 s: stop again to power it off",
    )
    assert (again[-1].phase, again[-1].message) == ("done", "stuck-vm stopped")
