"""The launch wizard's lists (sizes, locations) and Y's copy list move with j, k, g and G,
as every other list does; before, those keys did nothing there and said nothing (80x24)."""

from __future__ import annotations

from tests.ui.conftest import Live, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, shows
from tests.ui.test_launch_wizard import highlighted, open_wizard, option_ids, shop, step
from winged_monkey.ui.screens.pick import PickScreen

__all__ = ["shop"]  # the fixture, used by name


async def test_j_k_g_and_g_move_in_the_wizard_lists(shop: Live) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        wizard = await open_wizard(pilot)
        await pilot.press("enter")
        assert step(wizard) == "size"
        picked = wizard.choices.size  # the account step's: one the image runs on
        assert picked is not None
        sizes = option_ids(wizard, "#wizard-sizes")
        await pilot.press("g")
        assert highlighted(wizard, "#wizard-sizes") == sizes[0]
        await pilot.press("j", "j")
        assert highlighted(wizard, "#wizard-sizes") == sizes[2]
        await pilot.press("k")
        assert highlighted(wizard, "#wizard-sizes") == sizes[1]
        await pilot.press("G")
        assert highlighted(wizard, "#wizard-sizes") == sizes[-1]
        await pilot.press("g", *["j"] * sizes.index(picked.id), "enter")
        assert step(wizard) == "location"
        locations = option_ids(wizard, "#wizard-locations")
        await pilot.press("j")
        assert highlighted(wizard, "#wizard-locations") == locations[1]


async def test_j_and_k_move_in_the_copy_list(shop: Live) -> None:
    app = shop.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "web-1", "dev").key)
        await pilot.press("Y")
        await wait_for(pilot, lambda: shows(app, PickScreen), "the copy list")
        listing = app.screen.query_one("#pick-list")
        assert getattr(listing, "highlighted", None) == 0
        await pilot.press("j", "j")
        assert getattr(listing, "highlighted", None) == 2
        await pilot.press("k")
        assert getattr(listing, "highlighted", None) == 1
