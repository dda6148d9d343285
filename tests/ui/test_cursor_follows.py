"""The cursor follows the instance the person put it on, against the real moto demo cloud
at 80x24: a filter or a view that hides it puts the cursor on the first row shown, and
showing it again brings the cursor back to it."""

from __future__ import annotations

from tests.ui.conftest import Live, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of
from winged_monkey.ui.widgets.instance_table import InstanceTable


def under_cursor(table: InstanceTable) -> str:
    """The name on the line drawn as the cursor's (what `b` would act on)."""
    instance = table.cursor_instance
    assert instance is not None
    line = table.render_line(table.cursor_row - int(table.scroll_y) + 1).text
    assert instance.name in line, (instance.name, line)
    return instance.name


async def test_a_filter_that_hides_the_cursor_row_starts_at_the_top_then_returns(
    live: Live,
) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        await pilot.press("g", "j", "j", "j")
        assert under_cursor(table) == "eu-web"
        await pilot.press("slash", *"prod", "enter")
        await pilot.pause()
        assert under_cursor(table) == table.shown[0].name == "prod-db"  # the first match
        await pilot.press("escape")
        await pilot.pause()
        assert under_cursor(table) == "eu-web"
        # Once the person moves under a filter, the cursor follows the row moved to.
        await pilot.press("slash", *"prod", "enter", "j")
        await pilot.pause()
        moved_to = under_cursor(table)
        await pilot.press("escape")
        await pilot.pause()
        assert under_cursor(table) == moved_to


async def test_switching_to_apps_and_back_keeps_the_cursor_on_its_instance(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "web-1").key)
        await pilot.press("colon", *"apps", "enter")
        await wait_for(pilot, lambda: table.kind == "app", "the apps view")
        await pilot.press("colon", *"inst", "enter")
        await wait_for(pilot, lambda: table.kind is None, "the instances view")
        await pilot.pause()
        assert under_cursor(table) == "web-1"
