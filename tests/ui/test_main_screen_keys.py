"""The main screen against the real moto demo cloud, driven by keys at 80x24: help,
the keymap from the config, the palette, and the footer at 80 columns."""

from __future__ import annotations

from tests.ui.conftest import Live, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, footer_keys, main_of, text_of
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.help import HelpScreen, as_wm_key
from winged_monkey.ui.screens.main import MainScreen


async def test_help_lists_every_binding(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        active = app.screen.active_bindings
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        text = text_of(help_screen)
        # wm's keys, in wm's words (Textual's own, tab's Focus Next, are not wm's: not listed).
        keys = [as_wm_key(ab.node, ab.binding) for ab in active.values() if ab.binding.description]
        described = {key.description for key in keys if key is not None}
        for description in described:
            assert description in text, description
        for expected in ("filter", "mark", "info", "stop", "destroy", "refresh", "help", "quit"):
            assert expected in described
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_help_lists_keys_hidden_for_the_current_row(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "batch", "dev").key)  # stopped: no stop, no reboot
        await pilot.pause()
        footer_keys = {ab.binding.description for ab in app.screen.active_bindings.values()}
        assert "stop" not in footer_keys
        await pilot.press("question_mark")
        text = text_of(app.screen)
        for line in text.splitlines():
            if " stop " in f" {line} " or " reboot " in f" {line} ":
                assert "(not for this row or account)" in line, line
        assert "Stop the marked instances" in text
        assert "Reboot the marked instances" in text


async def test_keymap_from_config_remaps(live: Live) -> None:
    config = live.config.model_copy(update={"keys": {"stop": "k", "filter": "f"}})
    app = WMApp(live.portal, config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.pause()
        active = app.screen.active_bindings
        assert active["k"].binding.action == "act('stop')"
        assert "x" not in active
        await pilot.press("f")
        assert main_of(app).filter_input.has_focus


async def test_palette_offers_the_screen_keys(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "api").key)
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "stop (x)" in titles
        assert "refresh (R)" in titles
        assert "start (s)" not in titles  # api is running


async def test_help_and_quit_fit_in_the_footer_at_80_columns(live: Live) -> None:
    """On a running row (stop, reboot and destroy offered) `? help` is still on screen."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        assert table.cursor_instance is not None
        assert table.cursor_instance.state is InstanceState.RUNNING
        wanted = {"stop", "reboot", "destroy", "help", "quit"}
        await wait_for(pilot, lambda: wanted <= set(footer_keys(app.screen)), "the row's keys")
        keys = footer_keys(app.screen)
        for name in ("help", "quit"):
            assert keys[name].region.right <= SIZE[0], f"{name} is cut off the footer"
