"""`X` powers off the marked rows without asking their guests, after a confirmation that
names them (moto at 80x24: EC2's StopInstances with Force=true)."""

from __future__ import annotations

from tests.ui.conftest import Live, running, wait_for
from tests.ui.on_screen import by_name, main_of, text_of
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.confirm import ConfirmScreen


async def test_x_asks_then_powers_off_the_row(live: Live) -> None:
    """There was no key for a stop that does not ask the guest: `x` asked it again."""
    app = live.app()
    async with running(app) as (pilot, _notes):
        table = main_of(app).table
        api = by_name(table, "api", "dev")
        assert api.state is InstanceState.RUNNING
        table.select(api.key)
        await pilot.pause()
        live.server.clear_calls()

        await pilot.press("X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert "api" in text_of(app.screen)
        assert not [c for c in live.server.calls if c.mutating]  # nothing sent before yes
        await pilot.press("y")

        def stopped() -> bool:
            row = table.instance(api.key)
            return row is not None and row.state is InstanceState.STOPPED

        await wait_for(pilot, stopped, "api stopped")
        assert [c.action for c in live.server.calls if c.mutating] == ["StopInstances"]
