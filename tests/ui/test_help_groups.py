"""Help lists wm's keys, grouped as a user looks for them (the row's actions, what reads
it, finding, moving, other views, the rest), not Textual's own (tab's Focus Next, ctrl+q's
Quit, ctrl+pageup's Page Left), which mean nothing to a user of wm."""

from __future__ import annotations

import io
import re

from rich.console import Console
from textual.binding import Binding
from textual.widgets import Static

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import SIZE
from tests.ui.test_events import open_events
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.help import HelpScreen, group_of

TEXTUAL_WORDS = ("Focus Next", "Focus Previous", "Copy selected text", "Page Left", "Quit the app")


def help_text(screen: HelpScreen) -> list[str]:
    console = Console(width=120, file=io.StringIO(), record=True)
    console.print(screen.query_one(Static).content)
    return [line.strip() for line in console.export_text().splitlines() if line.strip()]


def row(lines: list[str], does: str) -> tuple[int, str]:
    """The line whose second column is `does`: where it is, and its keys."""
    for n, line in enumerate(lines):
        cells = re.split(r"\s{2,}", line)
        if len(cells) >= 2 and cells[1] == does:
            return n, cells[0]
    raise AssertionError(f"no {does!r} row in {lines}")


async def test_help_lists_wm_keys_in_groups(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        assert isinstance(app.screen, HelpScreen)
        lines = help_text(app.screen)
        for words in TEXTUAL_WORDS:
            assert not [line for line in lines if words in line], words
        groups = [
            "Act on the marked rows (or the cursor row)",
            "Look closer",
            "Find and sort",
            "Move",
            "Go to",
            "Anywhere",
        ]
        at = [lines.index(group) for group in groups]
        assert at == sorted(at), lines
        # Each key under its group: start with the actions, details with the reads, ...
        for does, group in [
            ("start", 0),
            ("stop", 0),
            ("mark", 0),
            ("info", 1),
            ("ssh", 1),
            ("filter", 2),
            ("sort", 2),
            ("down", 3),
            ("views", 4),
            ("accounts", 4),
            ("quit", 5),
        ]:
            n, _keys = row(lines, does)
            after = [g for g, line in zip(groups, at, strict=True) if line < n]
            assert after[-1] == groups[group], (does, after[-1])
        # The keys that move alike share a row.
        assert row(lines, "down")[1] == "↓ j"
        assert row(lines, "start")[0] < row(lines, "stop")[0]

        await pilot.press("escape")
        await open_events(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the events' help")
        assert isinstance(app.screen, HelpScreen)
        lines = help_text(app.screen)
        assert lines[0] == "This view"
        for words in TEXTUAL_WORDS:
            assert not [line for line in lines if words in line], words
        # The event table's arrows are Textual's: listed, in wm's words.
        assert row(lines, "up")[1] == "↑"
        assert row(lines, "down")[1] == "↓ j"


def test_a_views_own_key_without_an_id_is_not_a_move() -> None:
    # The template wizard's `enter next` was listed under Move, with the arrows.
    assert group_of(Binding("enter", "screen.next", "next")) == "This view"
    assert group_of(Binding("down,up", "submit", "to the rows")) == "Move"
    assert group_of(Binding("j", "vi('j')", "down")) == "Move"
    assert group_of(Binding("pagedown", "page_down", "page down")) == "Move"
