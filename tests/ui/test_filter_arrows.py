"""Down or Up in the filter field goes to the rows, as enter does, the filter kept: in the
instances view and the events view, at 80x24."""

from __future__ import annotations

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import main_of
from tests.ui.test_events import open_events
from winged_monkey.engine.portal import Portal

SIZE = (80, 24)


async def test_down_and_up_leave_the_filter_for_the_table(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_of(app)
        main.table.focus()
        await pilot.press("slash", "w", "e", "b", "down")
        await wait_for(pilot, lambda: main.focused is main.table, "the table focused")
        assert main.filter_input.value == "web"
        assert main.filter_input.display
        await pilot.press("j")  # moves the cursor, not typed into the filter
        assert main.filter_input.value == "web"
        await pilot.press("slash", "up")
        await wait_for(pilot, lambda: main.focused is main.table, "the table focused")
        events = await open_events(pilot)
        await pilot.press("slash", "w", "e", "b", "down")
        await wait_for(pilot, lambda: events.focused is events.table, "the events table")
        assert events.filter_input.value == "web"
        assert events.filters.text == "web"
