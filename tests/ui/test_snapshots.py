"""Snapshots at 80x24 and 120x36 of the cached-then-failed state (fixed data, fixed clock).

Regenerate with `--snapshot-update` only after looking at the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.test_events import open_events
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.screens.timeline import TimelineScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
SnapCompare = Callable[..., bool]


async def _loaded(pilot: Pilot[Any]) -> None:
    await settle(pilot)  # every account has answered (here: failed), the cache is on screen


async def _stop_web_1(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    for name in ("web-1", "api"):
        (target,) = [i for i in screen.table.shown if i.name == name]
        screen.table.select(target.key)
        await pilot.press("space")
    await pilot.press("x")
    await pilot.pause()


def help_laid_out(pilot: Pilot[Any]) -> bool:
    """The help is on screen, its text as wide as its scroll's inside and as tall as what
    the scroll scrolls: the scrollbar, once the text overflows, narrows it and it wraps
    again a frame later (a snapshot between the two had its thumb one cell off)."""
    screen = pilot.app.screen
    if not isinstance(screen, HelpScreen) or not screen.query(Static):
        return False
    scroll = screen.query_one("#help-dialog", VerticalScroll)
    text = screen.query_one(Static).outer_size
    inside = scroll.scrollable_content_region
    overflows = text.height > inside.height
    return (
        bool(text)
        and text.width == inside.width
        and scroll.virtual_size.height == text.height
        and scroll.show_vertical_scrollbar == overflows
    )


async def _help(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await wait_for(pilot, lambda: help_laid_out(pilot), "the help laid out")


@pytest.mark.snapshot
@pytest.mark.parametrize("size", SIZES)
def test_main_screen(
    snap_compare: SnapCompare, cached_portal: Portal, size: tuple[int, int]
) -> None:
    assert snap_compare(cached_app(cached_portal), terminal_size=size, run_before=_loaded)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", SIZES)
def test_stop_confirmation(
    snap_compare: SnapCompare, cached_portal: Portal, size: tuple[int, int]
) -> None:
    assert snap_compare(cached_app(cached_portal), terminal_size=size, run_before=_stop_web_1)


@pytest.mark.snapshot
@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: SnapCompare, cached_portal: Portal, size: tuple[int, int]) -> None:
    assert snap_compare(cached_app(cached_portal), terminal_size=size, run_before=_help)


async def _events(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    await open_events(pilot)
    await settle(pilot)


async def _timeline(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    screen = await open_events(pilot)
    names = [e.target_name for e in screen.table.shown]
    screen.table.move_cursor(row=names.index("web-1"))
    await pilot.press("enter")
    timeline = pilot.app.screen
    assert isinstance(timeline, TimelineScreen)
    await wait_for(pilot, lambda: timeline.loaded, "the timeline")
    await settle(pilot)


@pytest.mark.snapshot
def test_events_view(snap_compare: SnapCompare, events_portal: Portal) -> None:
    """The last day of the fixed log, newest first, with its plot."""
    assert snap_compare(cached_app(events_portal), terminal_size=(80, 24), run_before=_events)


@pytest.mark.snapshot
def test_timeline(snap_compare: SnapCompare, events_portal: Portal) -> None:
    """web-1: started, rebooted, stopped for two hours, started again."""
    assert snap_compare(cached_app(events_portal), terminal_size=(80, 24), run_before=_timeline)
