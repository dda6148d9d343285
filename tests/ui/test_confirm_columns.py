"""The confirmation lists its targets in columns: name, account, id, state, the account
padded to the widest so the ids line up (at 80x24)."""

from __future__ import annotations

from textual.widgets import Static

from tests.ui.conftest import cached_app, settle
from tests.ui.on_screen import by_name, main_of
from winged_monkey.actions import Action
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.confirm import ConfirmScreen

SIZE = (80, 24)


async def test_the_ids_line_up_across_accounts_of_different_lengths(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        targets = [by_name(table, "prod-web-1"), by_name(table, "web-2")]  # prod, dev
        await app.push_screen(ConfirmScreen(Action.STOP, targets))
        await pilot.pause()
        body = app.screen.query_one("#confirm-targets Static", Static)
        lines = ["".join(s.text for s in body.render_line(y)) for y in range(2)]
        columns = [line.index(t.id) for line, t in zip(lines, targets, strict=True)]
        assert columns[0] == columns[1], lines
