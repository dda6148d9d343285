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

from winged_monkey.ui.bindings import dialog_help_key
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.user.binding_ids import BindingId
from winged_monkey.user.credentials import elsewhere


class SecretScreen(ModalScreen[str | None]):
    """enter submits, escape skips (the account then shows why it has no secret), f1 shows
    help."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "skip", "skip", id=BindingId.SECRET_SKIP, tooltip="Leave this account out"
        ),
        dialog_help_key(),  # f1 opens help here, where `?` is typed into the secret
    ]

    def __init__(
        self, account: str, what: str, *, keyring: bool = True, unset_env: str | None = None
    ) -> None:
        super().__init__()
        self.account = account
        self.what = what
        #: Whether `wm accounts set-secret` can help: the account reads the keyring and this
        #: host has one (the caller checks).
        self.keyring = keyring
        #: The variable the account's secret_env names, when it is not set.
        self.unset_env = unset_env

    def compose(self) -> ComposeResult:
        with Vertical(id="secret-dialog"):
            what = self.what[:1].upper() + self.what[1:]  # "MFA code", not "Mfa code"
            yield Static(Text(f"{what} for {self.account}", style="bold"))
            # The field before the hint: in a short pane (80x11, 40x11) the hint is what
            # goes out of sight, not the account asked about or the field typed in.
            yield Input(password=True, placeholder=self.what, id="secret-input")
            yield Static(self._hint(), classes="hint")
        yield Footer(compact=True, show_command_palette=False)

    def _hint(self) -> str:
        """How to stop being asked, of the account's own sources (as its error says)."""
        kept = "Kept in memory for this session only."
        if self.what != "secret":  # an MFA code: asked each time, nothing to store
            return kept
        if self.unset_env:  # the account names its variable: only it is missing
            return (
                f"{kept} To stop being asked: export {self.unset_env}, the variable "
                "secret_env names, before running wm."
            )
        if not self.keyring:  # set-secret cannot store it here: name what can
            return f"{kept} To stop being asked, {elsewhere(self.account)}."
        return (
            f"{kept} To stop being asked: wm accounts set-secret {self.account}, or "
            "secret_env / secret_command in the account's config."
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value or None)

    def action_skip(self) -> None:
        self.dismiss(None)
