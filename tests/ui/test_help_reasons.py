"""Help says why a key is off in words that fit it: `u unmark all` while nothing is
marked, `esc unfilter` with no filter, a row's action the row or its account refuses
(at 80x24)."""

from __future__ import annotations

import io
import re

from rich.console import Console
from textual.widgets import Static

from tests.ui.conftest import cached_app, settle
from tests.ui.on_screen import by_name, main_of
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.help import HelpScreen

SIZE = (80, 24)


def help_lines(screen: HelpScreen) -> dict[str, str]:
    """Each row of help by what the key does (its second column)."""
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(screen.query_one(Static).content)
    rows = [re.split(r"\s{2,}", line.strip()) for line in console.export_text().splitlines()]
    return {row[1]: row[2] for row in rows if len(row) == 3}


async def test_help_says_why_each_key_is_off(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "prod-web-1").key)  # prod is read-only
        table.focus()
        await pilot.press("question_mark")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = help_lines(screen)
        assert rows["unmark all"].startswith("(nothing marked) "), rows["unmark all"]
        assert rows["unfilter"].startswith("(no filter) "), rows["unfilter"]
        assert rows["stop"].startswith("(not for this row or account) "), rows["stop"]
