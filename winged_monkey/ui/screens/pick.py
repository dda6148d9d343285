"""A short list to choose one thing from (an app's server, a field to copy); enter picks,
escape cancels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.ui.widgets.vi_keys import ViOptionList, taken_keys
from winged_monkey.user.binding_ids import BindingId


class PickScreen(ModalScreen[str | None]):
    """Returns the chosen choice's value, or None on escape."""

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen OptionList {
        width: 80%; max-width: 90; height: auto; max-height: 80%;
        border: round $accent; background: $surface;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id=BindingId.PICK_CANCEL, tooltip="Choose nothing"),
    ]

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        keymap: Mapping[str, str] | None = None,
    ) -> None:
        """`choices`: (label shown, value returned); `keymap`: the user's (a vi key it
        gives to another binding does not move here)."""
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.taken = taken_keys(keymap, self.BINDINGS)

    def compose(self) -> ComposeResult:
        options = [Option(label, id=str(n)) for n, (label, _) in enumerate(self.choices)]
        listing = ViOptionList(*options, id="pick-list", taken=self.taken)
        listing.border_title = self.title_text
        listing.border_subtitle = "enter choose · esc cancel"
        yield listing
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)
