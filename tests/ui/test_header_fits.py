"""The header's title fits its width in fewer words, never cut: at 60 columns Textual's
Header leaves it 42 cells, and the instances view's ended `… · 12 instances · nam…`."""

from __future__ import annotations

from textual.widgets import Static

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import by_name, main_of
from winged_monkey.engine.portal import Portal


async def test_the_title_drops_the_sort_then_shortens_the_name_at_60_columns(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        count = table.total_count
        title = screen.query_one("HeaderTitle", Static)

        def drawn() -> str:
            return title.render_line(0).text.strip()

        # The sort goes first: the column's header marks it too (`name ▲`).
        whole = f"Winged Monkey · demo — {count} instances"
        await wait_for(pilot, lambda: drawn() == whole, whole, seen=drawn)

        for name in ("web-1", "api"):
            table.select(by_name(table, name).key)
            await pilot.press("space")
        marked = f"wm · demo — {count} instances · 2 marked"
        await wait_for(pilot, lambda: drawn() == marked, marked, seen=drawn)

        # Room again: every word back.
        await pilot.resize_terminal(100, 20)
        wide = f"Winged Monkey · demo — {count} instances · 2 marked · name ▲"
        await wait_for(pilot, lambda: drawn() == wide, wide, seen=drawn)
        await pilot.resize_terminal(60, 20)
        await wait_for(pilot, lambda: drawn() == marked, f"{marked} again", seen=drawn)
