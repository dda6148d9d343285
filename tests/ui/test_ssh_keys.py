"""The TUI's reads of a row against the moto demo: `y` copies the ssh command, `Y` a field
(OSC 52, tmux's passthrough too), `L` the console (followed with `f`), `e` hands the
terminal to ssh where the terminal can be suspended, and says how otherwise; ctrl+z and
ctrl+c are in the help. Read-only accounts keep all of these."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Log

from tests.ui.conftest import Live, live_portal, running, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of
from winged_monkey.demo.server import MotoServer
from winged_monkey.terminal.osc52 import osc52, tmux_passthrough
from winged_monkey.ui import clipboard
from winged_monkey.ui.screens import console
from winged_monkey.ui.screens.console import ConsoleScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.screens.pick import PickScreen
from winged_monkey.user.config import Config

MOTO_CONSOLE = "Linux version 2.6.16-xenU"


@pytest.fixture
def read_only_prod(moto: MotoServer, demo_config: Config, tmp_path: Path) -> Live:
    """The demo with its prod account read-only."""
    accounts = tuple(
        a.model_copy(update={"read_only": True}) if a.name == "prod" else a
        for a in demo_config.accounts
    )
    portal = live_portal(demo_config.model_copy(update={"accounts": accounts}), tmp_path)
    return Live(moto, portal.config, portal)


async def test_y_copies_the_ssh_command_and_Y_a_field(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[bytes] = []
    monkeypatch.setattr(clipboard, "write_terminal", written.append)
    monkeypatch.setenv("TMUX", "/tmp/tmux-1000/default,4242,0")
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        web1 = by_name(table, "web-1")
        table.select(web1.key)
        await pilot.press("y")
        await settle(pilot)
        # moto's AMI says no user; the demo's accounts give up connecting after 3 s.
        assert app.clipboard == f"ssh -o ConnectTimeout=3 {web1.public_ips[0]}"
        assert written == [tmux_passthrough(osc52(app.clipboard))]

        await pilot.press("Y")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("down", "down", "down", "enter")  # id, name, account/id, public
        assert isinstance(app.screen, MainScreen)
        assert app.clipboard == web1.public_ips[0]


async def test_L_shows_the_console_and_f_follows_it(
    read_only_prod: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = read_only_prod
    monkeypatch.setattr(console, "FOLLOW_EVERY_S", 0.1)
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        prod = by_name(table, "prod-web-1")  # a read-only account: reading changes nothing
        assert live.portal.account_config(prod.account).read_only
        table.select(prod.key)
        await pilot.press("L")
        screen = app.screen
        assert isinstance(screen, ConsoleScreen)
        await wait_for(pilot, lambda: screen.reads >= 1, "the console")
        assert screen.shown.startswith(MOTO_CONSOLE)
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.reads >= 3, "two more reads")
        assert screen.following
        # Nothing new in moto's fixed text: each line is shown once.
        assert screen.query_one(Log).line_count == screen.shown.count("\n") == 10
        await pilot.press("f", "escape")
        assert isinstance(app.screen, MainScreen)


async def test_e_without_a_terminal_to_hand_over_says_the_command(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        web1 = by_name(table, "web-1")
        table.select(web1.key)
        await pilot.press("e")  # run_test's headless driver cannot suspend
        await settle(pilot)
        run = f"ssh -o ConnectTimeout=3 {web1.public_ips[0]}"
        assert notes.find(f"this terminal cannot hand over to ssh; run: {run}")
        stopped = by_name(table, "batch")
        table.select(stopped.key)
        await pilot.press("e")
        await settle(pilot)
        assert notes.find("batch (dev/")
        assert notes.find("is stopped: start it first")


async def test_help_lists_ctrl_z_and_what_ctrl_c_does(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        listed = {b.binding.key: b.binding for b in app.help_bindings(app.screen)}
        assert listed["ctrl+z"].action == "suspend_process"
        assert "ctrl+c never quits (it copies selected text): q does" in (
            listed["ctrl+z"].tooltip or ""
        )
        for key in ("e", "y", "Y", "L"):
            assert key in listed


async def test_y_on_a_stopped_row_says_what_it_did_not_copy_and_why(live: Live) -> None:
    """`y` on a stopped row: a note titled `Not allowed` said neither what was refused nor
    (in its title) which key; it reads as the other refused keys do (`Cannot stop`)."""
    app = live.app()
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        stopped = by_name(table, "batch")
        table.select(stopped.key)
        await pilot.press("y")
        await wait_for(pilot, lambda: bool(notes.find("batch (dev/")), "y's note")
        [note] = notes.find("batch (dev/")
        assert note.title == "Cannot copy"
        assert note.message.startswith("No ssh command copied: batch (dev/"), note.message
        assert note.message.endswith("is stopped: start it first"), note.message
        assert note.severity == "warning"
        assert not notes.find("Not allowed")
