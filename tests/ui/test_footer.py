"""The footer keeps filter, help and quit on screen, a filter on, at 80 and 60 columns, in
the instances view and in the events view; what it shows is whole keys, at any width."""

from __future__ import annotations

import pytest

from tests.ui.conftest import Live, cached_app, open_timeline, settle, wait_for
from tests.ui.on_screen import footer_keys, main_of, shows
from tests.ui.test_events import open_events
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.footer import Footer


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


async def test_every_key_the_footer_shows_is_whole_at_any_width(live: Live) -> None:
    # At 60 columns Textual's Footer ended `⏎ i`: a key cut at the edge. Each key shown is
    # whole, the least useful dropped; widened again, they come back.
    app = live.app()
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        screen = main_of(app)

        def shown() -> dict[str, int]:
            """Each key or label the footer shows, by its text: where it ends."""
            footer = screen.query_one(Footer)
            parts = footer.query("FooterKey, FooterLabel")
            return {str(part.render()): part.region.right for part in parts if part.region}

        def whole(width: int) -> bool:
            ends = shown()
            return {"/ filter", "? help", "q quit"} <= set(ends) and all(
                end <= width for end in ends.values()
            )

        for width in (60, 50, 73, 120, 66, 60):
            await pilot.resize_terminal(width, 20)
            await wait_for(pilot, lambda w=width: whole(w), f"whole keys at {width}", seen=shown)  # type: ignore[misc]
            if width == 60:
                assert "⏎ info" not in shown()
            if width == 120:
                assert {"⏎ info", "o", "O", "sort"} <= set(shown())
            if width == 66:  # room for `oO`, not for its label: neither
                assert "⏎ info" in shown()
                assert not {"o", "O", "sort"} & set(shown())


async def test_a_view_closed_and_opened_again_keeps_the_app_running(live: Live) -> None:
    # The closed view's footer was told of a resize once off screen, and asked its screen.
    app = live.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for name in ("batch", "web-1", "api"):
            await open_timeline(pilot, app, name)
            await pilot.press("escape")
            await wait_for(pilot, lambda: shows(app, MainScreen), "the instances view")
        assert app.is_running
        await wait_for(pilot, lambda: "quit" in footer_keys(main_of(app)), "the footer's keys")
