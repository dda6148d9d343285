"""A destroyed row at 80x24, against the real moto demo cloud: it stays in the table as
terminated when the action ends, and the next listing (which still has it) keeps it so."""

from __future__ import annotations

from tests.ui.conftest import Live, settle
from tests.ui.on_screen import SIZE, by_name, main_of
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.confirm import ConfirmScreen


async def test_a_destroyed_row_stays_as_terminated_without_flicker(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table
        web1 = by_name(table, "web-1")
        table.select(web1.key)
        await pilot.press("D")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)  # the action is done
        shown = by_name(table, "web-1")
        assert shown.state is InstanceState.TERMINATED
        assert "†" in table.cell(web1.key, "state").plain
        await pilot.press("R")  # the next listing still has it
        await settle(pilot)
        assert by_name(table, "web-1").state is InstanceState.TERMINATED
