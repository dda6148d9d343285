"""A dialog's footer shows the dialog's keys (y yes, n no, esc close): under help and the
stop confirmation the bottom line showed the instances view's (x stop, D destroy), which
do nothing while the dialog is open. It shows every key the dialog says (`esc`), and f1,
which opens help under any dialog."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, footer_keys, main_of, shows
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.events import EventsScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.switcher import ViewSwitcher
from winged_monkey.ui.screens.time_range import TimeRangeScreen
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


def key_texts(screen: Screen[Any]) -> dict[str, str]:
    """What the footer shows of each key, by its word: `esc cancel`, `f1 help`."""
    return {word: " ".join(str(key.render()).split()) for word, key in footer_keys(screen).items()}


async def test_a_confirmation_shows_esc_and_f1_in_its_footer(cached_portal: Portal) -> None:
    """The dialog says `n / esc no`; its footer showed `y yes n no` (one key per action)
    and no way to help, though f1 opens it there."""
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "web-1").key)
        await pilot.press("x")
        await dialog_keys(pilot, ConfirmScreen, {"yes", "no", "cancel", "help"})
        assert key_texts(app.screen) == {
            "yes": "y yes",
            "no": "n no",
            "cancel": "esc cancel",
            "help": "f1 help",
        }
        await pilot.press("escape")  # the key the footer names cancels
        await wait_for(pilot, lambda: not shows(app, ConfirmScreen), "the confirmation closed")


async def test_the_view_switcher_and_the_time_range_show_f1_help(events_portal: Portal) -> None:
    """Both take `?` as text in their field; f1 opens help there, and their footers now
    say so, as the secret prompt's does."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await dialog_keys(pilot, ViewSwitcher, {"cancel", "help"})
        assert key_texts(app.screen)["help"] == "f1 help"
        switcher = app.screen
        await pilot.press("f1")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help over the switcher")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is switcher, "back at the switcher")
        await pilot.press("e", "v", "enter")
        await wait_for(pilot, lambda: shows(app, EventsScreen), "the events view")
        await pilot.press("W")
        await dialog_keys(pilot, TimeRangeScreen, {"cancel", "help"})
        assert key_texts(app.screen)["help"] == "f1 help"
