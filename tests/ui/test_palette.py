"""The command palette (ctrl+p) offers the portal's actions and views, not widget noise."""

from __future__ import annotations

from typing import Any

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from tests.ui.conftest import Live, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, shows


def _offered(pilot: Pilot[Any]) -> list[str]:
    listed = pilot.app.screen.query_one(CommandList)
    return [
        str(listed.get_option_at_index(n).prompt).splitlines()[0]
        for n in range(listed.option_count)
    ]


async def _palette(pilot: Pilot[Any], typed: str = "") -> list[str]:
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: shows(pilot.app, CommandPalette), "the palette")
    if typed:
        await pilot.press(*typed)
    await wait_for(pilot, lambda: bool(_offered(pilot)), "the palette's commands")
    return _offered(pilot)


async def test_the_palette_opens_on_the_portals_views_and_actions(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.pause()
        await _palette(pilot)
        await wait_for(pilot, lambda: "stop (x)" in _offered(pilot), "stop in the palette")
        offered = _offered(pilot)
        assert any(title.startswith("view: events") for title in offered)
        for noise in ("Bottom", "Cursor down", "Copy selected text", "Keys", "Maximize"):
            assert noise not in offered, offered


async def test_typing_stop_finds_stop(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _palette(pilot, "stop")
        await wait_for(pilot, lambda: _offered(pilot)[0].startswith("stop"), "stop found first")
