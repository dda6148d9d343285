"""The console's title stays one line at 80 columns while it follows (issue: it wrapped
`… · following every` / ` 5 s (f stops)` over the console's first line)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import by_name, main_of, shows
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.console import ConsoleScreen

SIZE = (80, 24)


def with_console(portal: Portal, monkeypatch: pytest.MonkeyPatch, lines: int) -> WMApp:
    """The app over `portal`, whose every instance's console holds `lines` boot lines."""

    async def console_output(instance: Instance) -> str:
        return "".join(f"boot line {n}\n" for n in range(lines))

    monkeypatch.setattr(portal, "console_output", console_output)
    return cached_app(portal)


async def test_the_console_title_is_one_line_while_following(
    cached_portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = with_console(cached_portal, monkeypatch, 10)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "prod-report").key)  # the fleet's longest name
        table.focus()
        await pilot.press("L")
        await wait_for(pilot, lambda: shows(app, ConsoleScreen), "the console")
        screen = app.screen
        assert isinstance(screen, ConsoleScreen)
        await wait_for(pilot, lambda: screen.reads >= 1, "the console read")
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.reads >= 2, "a read while following")
        await pilot.pause()
        title = screen.query_one("#console-title", Static)
        assert title.size.height == 1
        line = "".join(segment.text for segment in title.render_line(0)).strip()
        assert line.endswith("10 lines · following (f stops)"), line
