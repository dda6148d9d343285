"""Asks for an account's secret when no keyring, env var or command has one.

The answer lives in the portal's memory for the session only: never written anywhere.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class SecretScreen(ModalScreen[str | None]):
    """enter submits, escape skips (the account then shows why it has no secret)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "skip", "skip", id="secret.skip", tooltip="Leave this account out"),
    ]

    def __init__(self, account: str, what: str) -> None:
        super().__init__()
        self.account = account
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="secret-dialog"):
            yield Static(Text(f"{self.what.capitalize()} for {self.account}", style="bold"))
            yield Static(
                "Kept in memory for this session only. To stop being asked: "
                f"wm accounts set-secret {self.account}, or secret_env / secret_command "
                "in the account's config.",
                classes="hint",
            )
            yield Input(password=True, placeholder=self.what, id="secret-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value or None)

    def action_skip(self) -> None:
        self.dismiss(None)
