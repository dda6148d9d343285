"""The events view's bar: its count is never cut, and a target filter says it is on."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from tests.ui.conftest import cached_app, settle
from tests.ui.test_events import open_events
from winged_monkey.demo.seed import running_demo
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.events import EventsScreen


def bar_text(screen: EventsScreen, width: int) -> str:
    """The bar as the terminal shows it: one line, `width` cells."""
    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(screen.query_one("#events-bar", Static).content)
    return console.export_text().splitlines()[0]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_the_count_and_the_target_filter_stay_on_the_bar(
    events_portal: Portal, size: tuple[int, int]
) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        total = len(screen.table.shown)
        width = screen.query_one("#events-bar", Static).content_size.width
        assert bar_text(screen, width).startswith(f"{total} events")
        await pilot.press("i")
        await pilot.pause()
        shown = len(screen.table.shown)
        label = screen.filters.target[2] if screen.filters.target else "?"
        text = bar_text(screen, width)
        assert shown < total
        assert text.startswith(f"{shown} of {total} events")
        assert f"only {label}" in text
        assert f"only {label}" in bar_text(screen, 40)  # before every other label


async def test_a_bar_too_long_for_80_columns_ends_in_an_ellipsis(events_portal: Portal) -> None:
    """What is drawn, not the bar's text: a wrapped bar showed its first line only, cut
    mid-phrase with nothing to say more was there (`f one row per`)."""
    app = cached_app(events_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("slash", *"nothing matches this", "enter")
        await pilot.pause()
        bar = screen.query_one("#events-bar", Static)
        full = bar_text(screen, 200).rstrip()
        drawn = bar.render_line(0).text.rstrip()
        assert len(full) > bar.content_size.width  # it does not fit
        assert drawn.endswith("…"), drawn
        assert full.startswith(drawn[:-1].strip())


async def test_the_filters_that_are_on_come_before_those_that_are_off(
    events_portal: Portal,
) -> None:
    """At 80 columns a bar with a target, a state and a text filter on was cut after the
    defaults (`a all accounts  k all kinds  …`): the state and the words that hid rows were
    not on screen. Those that are on come first now; the defaults give way."""
    app = cached_app(events_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("i", "s")
        await pilot.press("slash", *"web", "enter")
        await pilot.pause()
        state = screen.filters.state
        assert state is not None
        drawn = screen.query_one("#events-bar", Static).render_line(0).text
        assert "only " in drawn
        assert f"s {state}" in drawn, drawn
        assert "“web”" in drawn, drawn


async def test_the_bar_fits_80_columns_whole_with_its_fold_key(tmp_path: Path) -> None:
    """The demo's events view, every filter at its default and its rows folded: the bar
    fits 80 columns to its last word (it ended `f one row per…`); unfolded too."""
    with running_demo(tmp_path / "demo") as (config, store_path, _server):
        portal = Portal(config, Store.open(store_path), user="tester")
        app = WMApp(portal, config, title_suffix="demo")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = await open_events(pilot)
            bar = screen.query_one("#events-bar", Static)
            drawn = bar.render_line(0).text.rstrip()
            assert drawn.endswith("f by change"), drawn
            assert "…" not in drawn
            await pilot.press("f")
            await pilot.pause()
            drawn = bar.render_line(0).text.rstrip()
            assert drawn.endswith("f every part"), drawn
        await portal.close()
