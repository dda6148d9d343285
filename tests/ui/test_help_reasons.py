"""Help says why a key is off in words that fit it: `u unmark all` while nothing is
marked, `esc unfilter` with no filter, a row's action the row or its account refuses
(at 80x24)."""

from __future__ import annotations

import io
import re

from rich.console import Console
from textual.widgets import Static

from tests.ui.conftest import cached_app, running, settle, wait_for
from tests.ui.on_screen import by_name, main_of, shows
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.main import MainScreen

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


async def test_help_lists_update_as_off_on_an_instance_row_and_p_says_why(
    cached_portal: Portal,
) -> None:
    """`p update` was listed as on, with the row's actions, on a plain instance's row
    (where only an app has parameters to update): it is listed off, and p says why."""
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        table.select(by_name(table, "web-1").key)  # dev: not read-only, an instance
        table.focus()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "the help")
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        rows = help_lines(screen)
        assert rows["update"].startswith("(not for this row or account) "), rows["update"]
        assert not rows["stop"].startswith("("), rows["stop"]  # on: the row is running
        await pilot.press("escape")
        await wait_for(pilot, lambda: shows(app, MainScreen), "the instances view")
        await pilot.press("p")
        await wait_for(pilot, lambda: bool(notes.find("Cannot update")), "a note")
        (note,) = notes.find("Cannot update")
        assert note.message == "Only an app has parameters to update"
