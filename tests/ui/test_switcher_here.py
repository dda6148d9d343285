"""`:` marks the view you are in without wrapping any line, at 80 and 60 columns."""

from __future__ import annotations

import pytest
from textual.widgets import OptionList, Static

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import shows
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.switcher import VIEWS, ViewSwitcher


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_here_is_marked_on_its_own_line(cached_portal: Portal, size: tuple[int, int]) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: shows(app, ViewSwitcher), "the switcher")
        await pilot.pause()
        views = app.screen.query_one(OptionList)
        assert views.option_count == len(VIEWS)
        assert views.virtual_size.height == len(VIEWS)  # one line each: nothing wrapped
        first = str(views.get_option_at_index(0).prompt)
        assert first.startswith("● instances")
        assert str(views.get_option_at_index(1).prompt).startswith("  apps")


async def test_an_unknown_view_is_said_in_the_dialog_with_the_views(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: shows(app, ViewSwitcher), "the switcher")
        await pilot.press("x", "y", "z", "enter")
        switcher = app.screen
        assert isinstance(switcher, ViewSwitcher)  # still open, to type again
        none = switcher.query_one("#views-none", Static)
        await wait_for(pilot, lambda: none.display, "the words in the dialog")
        said = str(none.content)
        assert said.startswith("No view called “xyz”"), said
        assert all(name in said for name, _ in VIEWS), said
        await pilot.press("backspace")  # typing again takes the words away
        await wait_for(pilot, lambda: not none.display, "the words gone")
