"""A dialog's footer shows the dialog's keys (y yes, n no, esc close): under help and the
stop confirmation the bottom line showed the instances view's (x stop, D destroy), which
do nothing while the dialog is open."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, footer_keys, main_of
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.widgets.footer import Footer


def bottom_line_keys(screen: Screen[Any]) -> set[str]:
    """The keys the footer of `screen` shows on the screen's bottom line (none: that line
    is another screen's)."""
    footers = [f for f in screen.query(Footer) if f.region.y == SIZE[1] - 1]
    return set(footer_keys(screen)) if footers else set()


async def dialog_keys(pilot: Pilot[Any], kind: type[Screen[Any]], wanted: set[str]) -> set[str]:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, kind), kind.__name__)
    await wait_for(
        pilot,
        lambda: wanted <= bottom_line_keys(app.screen),
        f"{kind.__name__}'s keys on the bottom line",
        seen=lambda: bottom_line_keys(app.screen),
    )
    return bottom_line_keys(app.screen)


async def test_help_and_the_confirmation_show_their_own_keys(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "web-1").key)
        await wait_for(pilot, lambda: "stop" in footer_keys(main_of(app)), "the view's keys")

        await pilot.press("question_mark")
        shown = await dialog_keys(pilot, HelpScreen, {"close"})
        assert not shown & {"stop", "destroy", "filter", "quit"}, shown

        await pilot.press("escape")
        await pilot.press("x")
        shown = await dialog_keys(pilot, ConfirmScreen, {"yes", "no"})
        assert not shown & {"stop", "destroy", "filter", "quit"}, shown
        await pilot.press("n")
        await wait_for(pilot, lambda: "stop" in footer_keys(main_of(app)), "the view's keys back")
