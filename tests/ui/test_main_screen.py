"""The main screen against the real moto demo cloud, driven by keys at 80x24."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.events import Key
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from tests.conftest import DEV_KEY, Cloud
from tests.processes import free_port
from tests.ui.conftest import Live, cached_app, ec2_account, live_portal, settle, wait_for
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.details import DetailsScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.account_strip import AccountStrip
from winged_monkey.ui.widgets.instance_table import InstanceTable, natural
from winged_monkey.user.config import Config

SIZE = (80, 24)
DEMO_COUNT = 12  # dev 5 (one terminated), dev-eu 3, prod 4


class Notes:
    """Notifications the app showed, caught as the messages they are."""

    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.shown.append(message.notification)

    def find(self, text: str) -> list[Notification]:
        return [n for n in self.shown if text in n.message or text in n.title]


def main_of(app: WMApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def by_name(table: InstanceTable, name: str, account: str | None = None) -> Instance:
    found = [i for i in table.shown if i.name == name and account in (None, i.account)]
    assert len(found) == 1, (name, [i.name for i in table.shown])
    return found[0]


def footer_keys(screen: Screen[Any]) -> dict[str, Widget]:
    """The footer's keys by their last word, those laid out (a key not yet placed has an
    empty region). The footer rebuilds itself a frame after a key turns on or off, removing
    its keys then mounting new ones in one batch that is painted only whole; a test that
    reads it mid-rebuild sees a part (only the sort keys, say), so it waits for what it wants."""
    # By type name: FooterKey lives in a private Textual module.
    return {str(key.render()).split()[-1]: key for key in screen.query("FooterKey") if key.region}


def strip_text(app: WMApp) -> str:
    return str(app.screen.query_one(AccountStrip).render())


def text_of(screen: Screen[Any]) -> str:
    """What the screen's Static widgets say, rendered as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True)
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


async def test_lists_every_instance_of_every_account(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        assert table.total_count == DEMO_COUNT
        assert {i.account for i in table.shown} == {"dev", "dev-eu", "prod"}
        assert [i.name for i in table.shown][:3] == ["api", "batch", "eu-cache"]  # sorted by name
        assert by_name(table, "batch").state is InstanceState.STOPPED
        assert all(s.phase == "ok" for s in live.portal.statuses())
        assert strip_text(app).count("ok") == 3
        assert "12 instances" in str(app.screen.sub_title)


async def test_failed_account_in_the_strip_while_others_list(
    moto: MotoServer, demo_config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WM_UI_TEST_SECRET", "x")
    portal = live_portal(demo_config, tmp_path, ec2_account("gone", free_port()))
    app = WMApp(portal, portal.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert portal.status("gone").phase == "failed"
        text = strip_text(app)
        assert "gone" in text
        assert "failed: cannot reach 127.0.0.1" in text  # nothing cached: nothing shown
        assert "Traceback" not in text
        assert main_of(app).table.total_count == DEMO_COUNT


async def test_next_start_shows_the_cache_and_keeps_rows_of_failed_accounts(
    live: Live, tmp_path: Path
) -> None:
    """Run once against the cloud; then start again with the cloud unreachable."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    port = free_port()
    unreachable = tuple(
        a.model_copy(update={"endpoint": a.endpoint.model_copy(update={"port": port})})
        for a in live.config.accounts
        if a.endpoint is not None
    )
    config = live.config.model_copy(update={"accounts": unreachable})
    again = live_portal(config.model_copy(update={"accounts": ()}), tmp_path, *unreachable)
    assert {u.status.phase for u in again.load_cache()} == {"stale"}  # the CLI may do this
    app = WMApp(again, again.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert {s.phase for s in again.statuses()} == {"failed"}
        assert main_of(app).table.total_count == DEMO_COUNT
        text = strip_text(app)
        assert text.count(": cannot reach 127.0.0.1") == 3
        assert "failed (5 shown, " in text


async def test_filter_live_over_visible_columns(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        await pilot.press("slash")
        assert screen.filter_input.has_focus
        await pilot.press(*"prod-web")
        assert [i.name for i in screen.table.shown] == ["prod-web-1", "prod-web-2"]
        assert "2 of 12" in str(screen.sub_title)
        await pilot.press("enter")  # back to the table, filter kept
        assert screen.table.has_focus
        assert screen.table.shown_count == 2
        await pilot.press("slash", "backspace", "backspace", "backspace", "backspace")
        await pilot.press(*"eu-west")  # the where column
        assert {i.account for i in screen.table.shown} == {"dev-eu"}
        await pilot.press("escape")  # clears and hides
        assert screen.table.shown_count == DEMO_COUNT
        assert not screen.filter_input.display
        assert screen.table.has_focus


async def test_mark_rows_and_sort(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        table.select(by_name(table, "web-1").key)
        await pilot.press("space")
        await pilot.pause()
        assert [i.name for i in table.marked] == ["web-1"]
        assert "1 marked" in str(screen.sub_title)
        cursor = table.cursor_instance
        assert cursor is not None
        assert cursor.name == "web-2"
        # `o` goes through the columns in screen order, to state (the first) last; the cursor
        # stays on its instance.
        await pilot.press(*["o"] * 8)
        assert "sort state" in str(screen.sub_title)
        assert table.cursor_instance == cursor
        states = list(InstanceState)
        by_state = [(states.index(i.state), natural(i.name)) for i in table.shown]
        assert by_state == sorted(by_state)  # the lifecycle's order, names within a state
        assert len({i.state for i in table.shown}) > 1  # (an order that means something)
        await pilot.press("O")
        assert "▼" in str(screen.sub_title)
        assert table.cursor_instance == cursor
        reversed_states = [states.index(i.state) for i in table.shown]
        assert reversed_states == sorted(reversed_states, reverse=True)
        table.select(by_name(table, "web-1").key)
        await pilot.press("space")
        assert table.marked == []


async def test_details_show_every_field(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailsScreen)
        assert app.screen.instance.name == "api"
        text = text_of(app.screen)
        assert "provider state" in text
        assert "extra." in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_stop_asks_and_names_targets(live: Live) -> None:
    notes = Notes()
    app = live.app()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        live.server.clear_calls()  # the demo's own seeding stopped some
        table = main_of(app).table
        web1 = by_name(table, "web-1")
        table.select(web1.key)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        dialog = text_of(app.screen)
        assert "Stop 1 instance in 1 account?" in dialog
        assert "web-1" in dialog
        assert "dev" in dialog
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert table.instance(web1.key) == web1  # nothing happened
        assert not [c for c in live.server.calls if c.action == "StopInstances"]

        await pilot.press("x", "y")
        await pilot.pause()
        moving = table.instance(web1.key)
        assert moving is not None
        assert moving.state in (InstanceState.STOPPING, InstanceState.STOPPED)
        await settle(pilot)
        stopped = table.instance(web1.key)
        assert stopped is not None
        assert stopped.state is InstanceState.STOPPED
        assert notes.find("web-1 stopped")
        assert [c for c in live.server.calls if c.action == "StopInstances"]


async def test_start_runs_without_asking_and_notifies(live: Live) -> None:
    notes = Notes()
    app = live.app()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        table = main_of(app).table
        batch = by_name(table, "batch")
        table.select(batch.key)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await wait_for(
            pilot,
            lambda: (
                (i := table.instance(batch.key)) is not None and i.state is InstanceState.RUNNING
            ),
            "batch to run",
        )
        await settle(pilot)
        done = notes.find("batch started")
        assert done
        assert done[0].severity == "information"


async def test_destroy_several_needs_the_count(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        live.server.clear_calls()  # the demo's own seeding terminated one
        table = main_of(app).table
        targets = [by_name(table, "web-1"), by_name(table, "web-2")]
        for target in targets:
            table.select(target.key)
            await pilot.press("space")
        await pilot.press("D")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.count_required
        assert confirm.targets == targets
        await pilot.press("y")  # not enough for several
        assert app.screen is confirm
        count = confirm.query_one(Input)
        await pilot.press("3", "enter")  # the wrong count
        assert app.screen is confirm
        assert count.value == ""
        await pilot.press("2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        terminated = [c for c in live.server.calls if c.action == "TerminateInstances"]
        assert len(terminated) == 2
        for target in targets:
            row = table.instance(target.key)
            assert row is None or row.state is InstanceState.TERMINATED
        assert table.marked == []


async def test_refresh_key_shows_changes_made_elsewhere(live: Live, cloud: Cloud) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        api = by_name(table, "api")
        assert api.state is InstanceState.RUNNING
        cloud.ec2(key=DEV_KEY).stop_instances(InstanceIds=[api.id])  # another tool stops it
        await pilot.press("R")
        await settle(pilot)
        fresh = table.instance(api.key)
        assert fresh is not None
        assert fresh.state is InstanceState.STOPPED


async def test_help_lists_every_binding(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        active = app.screen.active_bindings
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = text_of(help_screen)
        described = {ab.binding.description for ab in active.values() if ab.binding.description}
        for description in described:
            assert description in text, description
        for expected in ("filter", "mark", "info", "stop", "destroy", "refresh", "help", "quit"):
            assert expected in described
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_help_lists_keys_hidden_for_the_current_row(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "batch", "dev").key)  # stopped: no stop, no reboot
        await pilot.pause()
        footer_keys = {ab.binding.description for ab in app.screen.active_bindings.values()}
        assert "stop" not in footer_keys
        await pilot.press("question_mark")
        text = text_of(app.screen)
        for line in text.splitlines():
            if " stop " in f" {line} " or " reboot " in f" {line} ":
                assert "(not for this row or account)" in line, line
        assert "Stop the marked instances" in text
        assert "Reboot the marked instances" in text


async def test_actions_follow_state_and_account(
    moto: MotoServer, demo_config: Config, tmp_path: Path, cloud: Cloud
) -> None:
    readonly = cloud.account("dev-ro", read_only=True)  # the same machines, read-only
    portal = live_portal(demo_config, tmp_path, readonly)
    app = WMApp(portal, portal.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table

        def keys() -> set[str]:
            return {ab.binding.description for ab in app.screen.active_bindings.values()}

        table.select(by_name(table, "batch", "dev").key)  # stopped
        await pilot.pause()
        assert screen.check_action("act", ("stop",)) is False
        assert "stop" not in keys()
        assert "start" in keys()
        assert "reboot" not in keys()

        table.select(by_name(table, "api", "dev").key)  # running
        await pilot.pause()
        assert "stop" in keys()
        assert "reboot" in keys()
        assert "start" not in keys()

        table.select(by_name(table, "api", "dev-ro").key)
        await pilot.pause()
        assert not {"start", "stop", "reboot", "destroy"} & keys()
        await pilot.press("x")  # pressed anyway: nothing is asked, nothing is sent
        assert isinstance(app.screen, MainScreen)


async def test_marked_rows_some_refused_are_explained(live: Live) -> None:
    notes = Notes()
    app = live.app()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        live.server.clear_calls()
        table = main_of(app).table
        for name in ("api", "batch"):  # running, stopped
            table.select(by_name(table, name).key)
            await pilot.press("space")
        await pilot.press("b")  # reboot: only api can
        await settle(pilot)
        skipped = notes.find("1 of 2 skipped")
        assert skipped
        assert "batch is stopped" in skipped[0].message
        assert [c for c in live.server.calls if c.action == "RebootInstances"]


async def test_keymap_from_config_remaps(live: Live) -> None:
    config = live.config.model_copy(update={"keys": {"stop": "k", "filter": "f"}})
    app = WMApp(live.portal, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.pause()
        active = app.screen.active_bindings
        assert active["k"].binding.action == "act('stop')"
        assert "x" not in active
        await pilot.press("f")
        assert main_of(app).filter_input.has_focus


async def test_palette_offers_the_screen_keys(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "stop (x)" in titles
        assert "refresh (R)" in titles
        assert "start (s)" not in titles  # api is running


async def test_store_warnings_are_shown_once(cached_portal: Portal) -> None:
    notes = Notes()
    cached_portal.store_warnings.append("local store: disk I/O error")
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
    assert len(notes.find("disk I/O error")) == 1


async def test_keys_typed_right_after_slash_reach_the_filter(live: Live) -> None:
    """Over a slow link `/web` arrives in one read: no key may be lost to the table."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for character in "/web/":  # no pause between them, unlike pilot.press
            app.post_message(Key("slash" if character == "/" else character, character))
        await wait_for(pilot, lambda: main_of(app).filter_input.value == "web/", "the filter")
        await pilot.pause()
        assert {i.name for i in main_of(app).table.shown} == set()  # nothing has "web/"


async def test_apps_view_shows_only_apps_and_instances_view_shows_all(
    cached_portal: Portal,
) -> None:
    """`:apps` is the same polled table narrowed to apps; `:instances` shows every row."""
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_of(app)
        first = main.table.shown[0]
        stack = first.model_copy(
            update={"id": "stack-1", "name": "shop", "extra": {"kind": "app", "members": 3}}
        )
        main.table.put(stack)
        everything = main.table.total_count
        await pilot.press("colon", *"apps", "enter")
        await wait_for(pilot, lambda: main.table.kind == "app", "the apps view")
        assert [i.name for i in main.table.shown] == ["shop"]
        assert app.view == "apps"
        assert "1 app" in str(main.sub_title)
        await pilot.press("colon", *"inst", "enter")
        await wait_for(pilot, lambda: main.table.kind is None, "the instances view")
        assert main.table.shown_count == everything
        assert app.view == "instances"


async def test_help_and_quit_fit_in_the_footer_at_80_columns(live: Live) -> None:
    """On a running row (stop, reboot and destroy offered) `? help` is still on screen."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        assert table.cursor_instance is not None
        assert table.cursor_instance.state is InstanceState.RUNNING
        wanted = {"stop", "reboot", "destroy", "help", "quit"}
        await wait_for(pilot, lambda: wanted <= set(footer_keys(app.screen)), "the row's keys")
        keys = footer_keys(app.screen)
        for name in ("help", "quit"):
            assert keys[name].region.right <= SIZE[0], f"{name} is cut off the footer"


async def test_an_apps_view_without_apps_says_where_they_come_from(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#no-apps", Static)
        assert not hint.display  # the instances view has rows
        await pilot.press("colon", *"apps", "enter")
        await wait_for(pilot, lambda: hint.display, "the hint")
        assert "Heat accounts list their stacks here" in str(hint.render())
        await pilot.press("colon", *"inst", "enter")
        await wait_for(pilot, lambda: not hint.display, "the hint to go")
