"""vi's j, k, g and G move in every view that moves, as its arrows, Home and End do: the
details, the console, help, the events view (where `k` stays the kind filter) and the
timeline, at 80x24."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget

from tests.ui.conftest import cached_app, fixed_clock, settle, wait_for
from tests.ui.on_screen import main_of, shows
from tests.ui.test_console_title import with_console
from tests.ui.test_events import open_events
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.console import ConsoleScreen
from winged_monkey.ui.screens.details import DetailsScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.timeline import TimelineScreen

SIZE = (80, 24)


async def vi_scrolls(pilot: Pilot[Any], body: Widget) -> None:
    """G to the end, g to the top, j a line down, k a line up."""
    await wait_for(pilot, lambda: body.max_scroll_y > 2, "more lines than the screen holds")
    await pilot.press("G")
    await wait_for(pilot, lambda: body.scroll_y == body.max_scroll_y, "the end")
    await pilot.press("g")
    await wait_for(pilot, lambda: body.scroll_y == 0, "the top")
    await pilot.press("j", "j")
    await wait_for(pilot, lambda: body.scroll_y == 2, "two lines down")
    await pilot.press("k")
    await wait_for(pilot, lambda: body.scroll_y == 1, "a line up")


async def test_details_and_help_scroll_with_vi_keys(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = main_of(app).table.shown[0]
        # Tags of its own make the instance longer than the screen.
        tags = {f"tag-{n}": f"value {n}" for n in range(30)}
        await app.push_screen(DetailsScreen(row.model_copy(update={"extra": tags}), fixed_clock))
        await pilot.pause()
        await vi_scrolls(pilot, app.screen.query_one("#details-body"))
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await vi_scrolls(pilot, app.screen.query_one("#help-dialog"))


async def test_the_console_scrolls_with_vi_keys(
    cached_portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = with_console(cached_portal, monkeypatch, 100)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_of(app).table.focus()
        await pilot.press("L")
        await wait_for(pilot, lambda: shows(app, ConsoleScreen), "the console")
        await vi_scrolls(pilot, app.screen.query_one("#console-log"))


async def test_events_and_timeline_move_with_vi_keys_and_k_stays_the_kind(
    events_portal: Portal,
) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        table = screen.table
        last = table.row_count - 1
        await pilot.press("G")
        await wait_for(pilot, lambda: table.cursor_row == last, "the last row")
        await pilot.press("g", "j", "j")
        await wait_for(pilot, lambda: table.cursor_row == 2, "the third row")
        table.move_cursor(row=[e.target_name for e in table.shown].index("web-1"))
        await pilot.press("enter")
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        await wait_for(pilot, lambda: timeline.loaded and timeline.table.row_count > 1, "rows")
        await pilot.press("g")
        await wait_for(pilot, lambda: timeline.table.cursor_row == 0, "the first row")
        await pilot.press("j", "G", "k")
        end = timeline.table.row_count - 2
        await wait_for(pilot, lambda: timeline.table.cursor_row == end, "one above the last")
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("k")  # the events view's own k: the next kind of event
        await wait_for(pilot, lambda: screen.filters.kind is not None, "a kind")
