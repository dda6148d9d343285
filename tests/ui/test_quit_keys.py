"""ctrl+c says how to quit with the portal's key, and help lists ctrl+z (80x24)."""

from __future__ import annotations

from tests.ui.conftest import cached_app, running
from tests.ui.on_screen import text_of
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.app import WMApp


async def test_ctrl_c_names_q(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with running(app) as (pilot, notes):
        await pilot.press("ctrl+c")
        await pilot.pause()
        (note,) = notes.find("to quit")
        assert note.message.startswith("Press q to quit")
        assert "ctrl+q" not in note.message
        assert "ctrl+z" in note.message
        await pilot.press("question_mark")
        await pilot.pause()
        assert "to the shell" in text_of(app.screen)


async def test_ctrl_c_follows_the_keymap(cached_portal: Portal) -> None:
    config = cached_portal.config.model_copy(update={"keys": {"quit": "Q"}})
    app = WMApp(cached_portal, config, clock=cached_portal.clock)
    async with running(app) as (pilot, notes):
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert notes.find("Press Q to quit")
