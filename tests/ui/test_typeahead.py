"""Keys that arrive together (a fast typist, keys bunched by a slow SSH link, tmux
send-keys) apply in order, each to what the key before it left: not all to the view that
was focused before the first (where `:events⏎` ran ssh, timeline and start)."""

from __future__ import annotations

import asyncio

import pytest
from textual import events

from tests.ui.conftest import cached_app, running, settle, wait_for
from tests.ui.on_screen import by_name, main_of
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AppDetail, Instance
from winged_monkey.ui import typeahead
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.console import ConsoleScreen
from winged_monkey.ui.screens.events import EventsScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.typeahead import STUCK_AFTER_S, Typeahead
from winged_monkey.ui.widgets.event_table import EventTable

CHARS = {"colon": ":", "slash": "/", "enter": "\r"}
APP = {"kind": "app"}


def arrive_together(app: WMApp, *keys: str) -> None:
    """The keys in the app's queue at once, as a terminal's read of several keys puts them."""
    for key in keys:
        app.post_message(events.Key(key, CHARS.get(key, key)))


async def test_a_view_typed_ahead_is_gone_to_and_nothing_runs_on_the_one_left(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        arrive_together(app, "colon", *"events", "enter")
        await wait_for(
            pilot,
            lambda: app.current_mode == "events" and len(app.screen_stack) == 1,
            "the events view",
            seen=lambda: (app.current_mode, app.screen_stack, notes.shown),
        )
        await settle(pilot)
        assert notes.shown == []  # no ssh, start or timeline tried on the instances view


async def test_keys_typed_ahead_of_a_view_switch_go_to_the_view_it_shows(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        instances = main_of(app)
        # The switch ends after the switcher has gone (a worker): the filter typed after it
        # waits for the events view, and is that view's.
        arrive_together(app, "colon", *"events", "enter", "slash", *"web", "enter")

        def filtered() -> bool:
            # Asked before the view has composed its table and filter, too.
            screen = app.screen
            return (
                isinstance(screen, EventsScreen)
                and isinstance(app.focused, EventTable)
                and screen.filter_input.value == "web"
            )

        await wait_for(
            pilot,
            filtered,
            "the events view, “web” in its filter, submitted",
            seen=lambda: (app.screen, app.focused, notes.shown),
        )
        await settle(pilot)
        assert instances.filter_input.value == ""
        assert notes.shown == []  # b (reboot) and e (ssh) never reached a table


def test_a_key_that_never_comes_back_holds_the_next_one_a_second_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its widget went away before handling it: the keys behind it are not held for ever
    (the keyboard would be dead), nor sent early on a late or stray KeyHandled."""
    now = [100.0]
    monkeypatch.setattr(typeahead, "monotonic", lambda: now[0])
    keys = Typeahead()
    first, second = events.Key("a", "a"), events.Key("b", "b")
    assert not keys.hold(first)
    token = keys.sent()
    assert keys.hold(second)
    keys.handled(token + 1)  # not the key on its way
    assert not keys.settle()
    now[0] += STUCK_AFTER_S + 0.01
    assert keys.settle()
    assert keys.next_key() is second


async def test_keys_typed_while_a_dialog_is_on_its_way_from_a_worker_go_to_the_dialog(
    cached_portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`L` on an app row reads the app's servers from its cloud (a worker's await), then
    asks which one in a pick list: `j⏎` typed meanwhile choose the second server there,
    not move the table's cursor and open another row's details under the list."""
    asked, answer = asyncio.Event(), asyncio.Event()

    async def app_detail(row: Instance, events: int = 50) -> AppDetail:
        asked.set()
        await answer.wait()  # the cloud answers when the test says so
        return AppDetail()

    app = cached_app(cached_portal)
    async with running(app) as (pilot, _notes):
        table = main_of(app).table
        web1, web2 = by_name(table, "web-1"), by_name(table, "web-2")
        shop = web1.model_copy(update={"id": "stack-shop", "name": "shop", "extra": APP})
        monkeypatch.setattr(cached_portal, "app_detail", app_detail)
        monkeypatch.setattr(
            cached_portal, "members_elsewhere", lambda row, detail: {"1": web1, "2": web2}
        )
        table.put(shop)
        table.select(shop.key)
        await pilot.pause()
        arrive_together(app, "L", "j", "enter")
        await wait_for(pilot, asked.is_set, "the app's servers asked for")
        await pilot.pause()  # what the keys would do to the view under the list, done
        answer.set()

        def console_of() -> str | None:
            screen = app.screen
            return screen.instance.name if isinstance(screen, ConsoleScreen) else None

        await wait_for(
            pilot,
            lambda: console_of() == "web-2",
            "web-2's console, chosen in the list",
            seen=lambda: (app.screen_stack, app.focused, table.cursor_instance),
        )
        assert table.cursor_instance == shop
        assert [type(s) for s in app.screen_stack] == [MainScreen, ConsoleScreen]


async def test_a_cloud_that_never_answers_holds_the_keys_a_second_at_most(
    cached_portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`L` on an app row whose cloud does not answer (a slow link, up to the account's
    timeout): the keys typed after it wait a second for the pick list that may come, then
    go to the view as ever. Before, the keyboard was dead until the cloud answered."""
    asked = asyncio.Event()

    async def app_detail(row: Instance, events: int = 50) -> AppDetail:
        asked.set()
        await asyncio.Event().wait()  # never answers
        return AppDetail()

    app = cached_app(cached_portal)
    async with running(app) as (pilot, _notes):
        table = main_of(app).table
        web1 = by_name(table, "web-1")
        shop = web1.model_copy(update={"id": "stack-shop", "name": "shop", "extra": APP})
        monkeypatch.setattr(cached_portal, "app_detail", app_detail)
        table.put(shop)
        table.select(shop.key)
        await pilot.pause()
        arrive_together(app, "L")
        await wait_for(pilot, asked.is_set, "the app's servers asked for")
        arrive_together(app, "j")
        await wait_for(
            pilot,
            lambda: table.cursor_instance != shop,
            "the cursor moved off the app while its cloud is silent",
            seen=lambda: (app.screen_stack, app.focused, table.cursor_instance),
        )
        assert [type(s) for s in app.screen_stack] == [MainScreen]


def test_a_worker_s_wait_for_a_dialog_holds_the_keys_a_second_at_most(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(typeahead, "monotonic", lambda: now[0])
    keys = Typeahead()
    key = events.Key("j", "j")
    keys.wait(True)
    assert keys.hold(key)
    now[0] += STUCK_AFTER_S
    assert not keys.settle()
    now[0] += 0.01
    assert keys.settle()
    assert keys.next_key() is key
    keys.handled(keys.sent())  # as the app sends it
    keys.wait(False)
    assert not keys.hold(events.Key("k", "k"))
