"""The footer keeps filter, help and quit on screen, a filter on, at 80 and 60 columns, in
the instances view and in the events view."""

from __future__ import annotations

import pytest

from tests.ui.conftest import Live, cached_app, settle, wait_for
from tests.ui.on_screen import footer_keys, main_of
from tests.ui.test_events import open_events
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_a_filter_on_a_running_row_keeps_help_and_quit(
    live: Live, size: tuple[int, int]
) -> None:
    app = live.app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("slash", "w", "e", "b", "enter")
        await settle(pilot)
        screen = main_of(app)
        row = screen.table.cursor_instance
        assert row is not None
        assert row.state is InstanceState.RUNNING  # stop, reboot, destroy offered
        wanted = {"filter", "unfilter", "help", "quit", "stop"}
        await wait_for(pilot, lambda: wanted <= set(footer_keys(screen)), "the row's keys")
        keys = footer_keys(screen)
        for name in ("filter", "unfilter", "help", "quit", "stop"):
            assert keys[name].region.right <= size[0], f"{name} is cut off the footer"


async def test_the_events_view_filtered_keeps_help_and_quit(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("slash", "w", "e", "b", "enter")
        wanted = {"filter", "unfilter", "help", "quit"}
        await wait_for(pilot, lambda: wanted <= set(footer_keys(screen)), "the view's keys")
        keys = footer_keys(screen)
        for name in wanted:
            assert keys[name].region.right <= 80, f"{name} is cut off the footer"
