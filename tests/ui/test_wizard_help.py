"""Help in the launch wizard tells the truth for the step: on the size and location steps
↓ and ↑ move the step's list, and help listed them also as a dim `↓ next account`, the
account step's (80x24)."""

from __future__ import annotations

from tests.ui.conftest import Live, wait_for
from tests.ui.on_screen import SIZE, shows
from tests.ui.test_help_groups import help_text, row
from tests.ui.test_launch_wizard import open_wizard, shop, step
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.launch import LaunchWizard

__all__ = ["shop"]  # the fixture, used by name


async def test_help_on_a_list_step_lists_the_arrows_as_the_lists(shop: Live) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await pilot.press("enter")
        for expected in ("size", "location"):
            assert step(wizard) == expected
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: shows(app, HelpScreen), f"help on the {expected} step")
            assert isinstance(app.screen, HelpScreen)
            lines = help_text(app.screen)
            assert row(lines, "down")[1] == "↓ j", lines
            assert row(lines, "up")[1] == "↑ k", lines
            told = [line for line in lines if "next account" in line or "previous account" in line]
            assert not told, told  # ↓ is the list's here, not the account step's
            await pilot.press("escape")
            await wait_for(pilot, lambda: shows(app, LaunchWizard), "the wizard")
            await pilot.press("enter")
