"""Help built from the bindings themselves (active ones first), never a hand-kept list."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

from winged_monkey.ui.screens.instance_keys import ACTION_KEYS, ROW_READS
from winged_monkey.ui.widgets.vi_keys import ViScroll, taken_keys
from winged_monkey.user.binding_ids import BindingId

#: Why a key is off, said before its tooltip, by its binding's id; a key not named here
#: is listed dim without a reason.
OFF_BECAUSE: dict[str, str] = {
    BindingId.CLEAR_MARKS: "nothing marked",
    BindingId.CLEAR_FILTER: "no filter",
    BindingId.FILTER: "typing in the filter",
    **dict.fromkeys(
        (
            BindingId.DETAILS,
            BindingId.MARK,
            BindingId.TIMELINE,
            BindingId.EVENTS_TIMELINE,
            BindingId.EVENTS_TARGET,
            *ROW_READS,
        ),
        "no row here",
    ),
    **dict.fromkeys((*ACTION_KEYS, BindingId.UPDATE_APP), "not for this row or account"),
}


def help_table(bindings: Iterable[ActiveBinding], key_display: Callable[[Binding], str]) -> Table:
    """One row per binding that has a description: key, what it does, and its tooltip."""
    table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("does", no_wrap=True)
    table.add_column("", ratio=1, style="dim")
    seen: set[tuple[str, str]] = set()
    # The portal's own keys (they have ids, for the keymap) first, then Textual's.
    ordered = sorted(bindings, key=lambda active: active.binding.id is None)
    for _node, binding, enabled, tooltip in ordered:
        if not binding.description or (binding.action, binding.description) in seen:
            continue
        seen.add((binding.action, binding.description))
        note = tooltip or binding.tooltip
        if not enabled and binding.id in OFF_BECAUSE:
            note = f"({OFF_BECAUSE[binding.id]}) {note}"
        style = "" if enabled else "dim"
        table.add_row(
            Text(key_display(binding), style=style),
            Text(binding.description, style=style),
            Text(note),
        )
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened from; escape, q or ? closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,question_mark,q",
            "close",
            "close",
            id=BindingId.HELP_CLOSE,
            tooltip="Close help",
        ),
    ]

    def __init__(self, bindings: Iterable[ActiveBinding]) -> None:
        super().__init__()
        self.bindings = list(bindings)

    def compose(self) -> ComposeResult:
        with ViScroll(id="help-dialog", taken=taken_keys(None, self.BINDINGS)) as scroll:
            scroll.border_title = "Keys"
            scroll.border_subtitle = "esc closes"
            yield Static(help_table(self.bindings, self.app.get_key_display))

    def action_close(self) -> None:
        self.dismiss(None)
