"""Destroying a stopped instance never shows it as stopping (moto at 80x24)."""

from __future__ import annotations

from textual.message import Message

from tests.ui.conftest import Live, settle
from tests.ui.on_screen import SIZE, by_name, main_of
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.main import MainScreen


async def test_destroying_a_stopped_instance_goes_straight_to_terminated(live: Live) -> None:
    seen: list[InstanceState] = []

    def hook(message: Message) -> None:
        if isinstance(message, MainScreen.ActionProgress):
            seen.append(message.update.instance.state)

    app = live.app()
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await settle(pilot)
        table = main_of(app).table
        batch = by_name(table, "batch")
        assert batch.state is InstanceState.STOPPED
        table.select(batch.key)
        await pilot.press("D")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        shown = table.instance(batch.key)
        assert shown is None or shown.state is not InstanceState.STOPPING  # its first moment
        await settle(pilot)
        assert seen, "no progress came"
        assert InstanceState.STOPPING not in seen, seen
        assert seen[-1] is InstanceState.TERMINATED
        row = table.instance(batch.key)
        assert row is None or row.state is InstanceState.TERMINATED
