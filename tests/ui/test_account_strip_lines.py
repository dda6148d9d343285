"""The account strip as drawn at 80x24: each of its lines stays one line, cut with "…"."""

from __future__ import annotations

from datetime import timedelta

from textual.app import App, ComposeResult
from textual.geometry import Region

from tests.ui.conftest import FIXED_NOW, fixed_clock
from tests.ui.on_screen import SIZE
from winged_monkey.models import AccountStatus
from winged_monkey.ui.widgets.account_strip import AccountStrip


class StripApp(App[None]):
    def compose(self) -> ComposeResult:
        yield AccountStrip(fixed_clock)


def ok(n: int) -> AccountStatus:
    return AccountStatus(
        name=f"synth-{n:02d}",
        phase="ok",
        fetched_at=FIXED_NOW - timedelta(seconds=30),
        count=200,
    )


def drawn(strip: AccountStrip) -> list[str]:
    """The strip's lines as they are on screen."""
    width, height = strip.outer_size
    return [line.text.strip() for line in strip.render_lines(Region(0, 0, width, height))]


async def test_fifty_ok_accounts_are_one_summary_line_cut_with_an_ellipsis() -> None:
    app = StripApp()
    async with app.run_test(size=SIZE) as pilot:
        strip = app.query_one(AccountStrip)
        strip.set_statuses(ok(n) for n in range(50))
        await pilot.pause()
        lines = [line for line in drawn(strip) if line]
        assert len(lines) == 1, lines
        assert lines[0].startswith("● 50 ok · 10000 instances: synth-00, synth-01,")
        assert lines[0].endswith("…"), lines
        assert strip.size.height == 1  # the table keeps the rest of the screen
