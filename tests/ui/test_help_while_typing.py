"""Help opens where a field has focus: `?` is typed there (a filter, a name, a secret may
hold one), f1 opens help, and the footer says f1 where `?` would be typed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.screen import Screen
from textual.widgets import Input, Static

from tests.ui.conftest import cached_app, settle, wait_for
from tests.ui.on_screen import by_name, footer_keys, main_of, shows, text_of
from tests.ui.test_secret_prompt import make_app
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.secret import SecretScreen
from winged_monkey.ui.widgets.filter_input import FilterInput


def help_key(screen: Screen[Any]) -> str:
    """The key the footer shows for help, or "" (not shown)."""
    key = footer_keys(screen).get("help")
    return str(key.render()).split()[0] if key is not None else ""


def help_keys(screen: Screen[Any]) -> list[tuple[str, bool]]:
    """The keys help lists for `help`, each with whether it is on (not dim)."""
    assert isinstance(screen, HelpScreen)
    content = screen.query_one(Static).content
    assert isinstance(content, Group)
    found = []
    for table in content.renderables:
        assert isinstance(table, Table)
        for key, does in zip(table.columns[0].cells, table.columns[1].cells, strict=True):
            assert isinstance(key, Text)
            assert isinstance(does, Text)
            if does.plain == "help":
                found.append((key.plain, "dim" not in str(key.style)))
    return found


async def test_f1_opens_help_from_the_filter_where_question_mark_is_typed(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = main_of(app)
        await wait_for(pilot, lambda: help_key(screen) == "?", "? help in the footer")
        await pilot.press("slash", "question_mark")
        field = screen.query_one(FilterInput)
        assert field.value == "?"  # typed, as a filter may need
        assert not shows(app, HelpScreen)
        await wait_for(pilot, lambda: help_key(screen) == "f1", "f1 help in the footer")
        await pilot.press("f1")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help over the filter")
        assert "f1" in text_of(app.screen).split()
        await pilot.press("f1")  # closes as it opened
        await wait_for(pilot, lambda: not shows(app, HelpScreen), "help closed")
        assert field.value == "?"


async def test_f1_opens_help_over_the_secret_prompt(moto: MotoServer, tmp_path: Path) -> None:
    app, store = make_app(moto, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        prompt = app.screen
        await pilot.press("question_mark", "f1")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help over the secret prompt")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is prompt, "back at the secret prompt")
        assert prompt.query_one(Input).value == "?"  # a secret may hold one
    store.close()


async def test_the_secret_prompt_shows_f1_help_and_help_lists_f1_on(
    moto: MotoServer, tmp_path: Path
) -> None:
    """A user typing a secret sees how to reach help (Textual leaves the app's f1 out of a
    dialog's footer), and help lists f1, the key that works there, not a dim `?`."""
    app, store = make_app(moto, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the secret dialog")
        prompt = app.screen
        await wait_for(
            pilot,
            lambda: help_key(prompt) == "f1",
            "f1 help in the secret prompt's footer",
            seen=lambda: sorted(footer_keys(prompt)),
        )
        await pilot.press("f1")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help over the secret prompt")
        assert help_keys(app.screen) == [("f1", True)]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is prompt, "back at the secret prompt")
        await pilot.press("escape")  # skip: the account is left out
        await wait_for(pilot, lambda: not shows(app, SecretScreen), "the prompt closed")
    store.close()


async def test_help_over_a_confirmation_lists_f1_on(cached_portal: Portal) -> None:
    """Under a dialog `?` does nothing (the app's keys but its priority ones are off
    there): help listed `? help` dim, and not f1, the key that opened it."""
    app = cached_app(cached_portal)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "web-1").key)
        await pilot.press("x")
        await wait_for(pilot, lambda: shows(app, ConfirmScreen), "the stop confirmation")
        confirm = app.screen
        await pilot.press("question_mark")  # does nothing here
        await pilot.press("f1")
        await wait_for(pilot, lambda: shows(app, HelpScreen), "help over the confirmation")
        assert help_keys(app.screen) == [("f1", True)]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is confirm, "back at the confirmation")
        await pilot.press("n")
        await wait_for(pilot, lambda: not shows(app, ConfirmScreen), "the confirmation closed")
