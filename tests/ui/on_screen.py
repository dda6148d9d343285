"""What the TUI tests read off the screen at 80x24: the main screen, a row by name, the
footer's keys, the account strip and the text shown, and the notifications."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.app import App
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from winged_monkey.models import Instance
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.account_strip import AccountStrip
from winged_monkey.ui.widgets.instance_table import InstanceTable

SIZE = (80, 24)
DEMO_COUNT = 12  # dev 5 (one terminated), dev-eu 3, prod 4


class Notes:
    """Notifications the app showed, caught as the messages they are."""

    def __init__(self) -> None:
        self.shown: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.shown.append(message.notification)

    def find(self, text: str) -> list[Notification]:
        return [n for n in self.shown if text in n.message or text in n.title]


def shows(app: App[Any], kind: type[Screen[Any]]) -> bool:
    """`app` shows a `kind` of screen, its widgets there: a pushed screen is `app.screen`
    from the push, and is composed only when its turn comes (mounted)."""
    return isinstance(app.screen, kind) and app.screen.is_mounted


def main_of(app: WMApp) -> MainScreen:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen


def by_name(table: InstanceTable, name: str, account: str | None = None) -> Instance:
    found = [i for i in table.shown if i.name == name and account in (None, i.account)]
    assert len(found) == 1, (name, [i.name for i in table.shown])
    return found[0]


def footer_keys(screen: Screen[Any]) -> dict[str, Widget]:
    """The footer's keys by their last word, those laid out (a key not yet placed has an
    empty region). The footer rebuilds itself a frame after a key turns on or off, removing
    its keys then mounting new ones in one batch that is painted only whole; a test that
    reads it mid-rebuild sees a part (only the sort keys, say), so it waits for what it wants."""
    # By type name: FooterKey lives in a private Textual module.
    return {str(key.render()).split()[-1]: key for key in screen.query("FooterKey") if key.region}


def strip_text(app: WMApp) -> str:
    return str(app.screen.query_one(AccountStrip).render())


def text_of(screen: Screen[Any]) -> str:
    """What the screen's Static widgets say, rendered as plain text."""
    console = Console(width=200, file=io.StringIO(), record=True)
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()
