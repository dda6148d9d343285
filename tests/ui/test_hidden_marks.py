"""Marked rows that the view or the filter hides, against the real moto demo cloud at
80x24: an action applies to the marked rows shown (or the cursor row) and says which
marked rows it left alone."""

from __future__ import annotations

from tests.ui.conftest import Live, running, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, text_of
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.main import MainScreen


async def test_a_marked_row_the_apps_view_hides_is_not_rebooted(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        live.server.clear_calls()
        screen = main_of(app)
        table = screen.table
        web1 = by_name(table, "web-1")
        table.select(web1.key)
        await pilot.press("space")
        await pilot.press("colon", *"apps", "enter")
        await wait_for(pilot, lambda: table.kind == "app", "the apps view")
        assert "0 apps · 1 marked" in str(screen.sub_title)
        await pilot.press("b")
        await settle(pilot)
        assert not [c for c in live.server.calls if c.action == "RebootInstances"]
        assert not notes.find("rebooted")
        said = notes.find("No app here to reboot")
        assert said
        assert "1 marked row hidden by the view is left alone" in said[0].message
        assert "web-1" in said[0].message
        assert [i.name for i in table.marked] == ["web-1"]


async def test_destroy_under_a_filter_asks_for_the_cursor_row_and_names_the_hidden(
    live: Live,
) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        table.select(by_name(table, "web-2").key)
        await pilot.press("space")
        await pilot.press("slash", *"prod", "enter")
        await pilot.press("x")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        shown = [t.name for t in dialog.targets]
        assert len(shown) == 1
        assert shown[0].startswith("prod-")
        said = text_of(dialog)
        assert "1 marked row hidden by the filter is left alone, still marked: web-2" in said
        await pilot.press("n")
        assert isinstance(app.screen, MainScreen)


async def test_a_bulk_reboot_acts_on_the_marked_rows_shown_only(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        live.server.clear_calls()
        screen = main_of(app)
        table = screen.table
        for name in ("api", "web-1"):
            table.select(by_name(table, name).key)
            await pilot.press("space")
        await pilot.press("slash", *"web-1", "enter")
        await pilot.press("b")
        await settle(pilot)
        rebooted = notes.find("web-1 rebooted")
        assert rebooted
        assert not notes.find("api rebooted")
        assert [c for c in live.server.calls if c.action == "RebootInstances"]
        left = notes.find("Reboot 1 row shown")
        assert left
        assert "hidden by the filter is left alone, still marked: api" in left[0].message
        assert [i.name for i in table.marked] == ["api"]  # web-1 done, api still marked
