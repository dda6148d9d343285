"""Asks for a time range for the events view: `since [until]`, as `wm events` takes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from winged_monkey.store.events import parse_when
from winged_monkey.ui.bindings import dialog_help_key
from winged_monkey.ui.widgets.footer import Footer
from winged_monkey.user.binding_ids import BindingId

TimeRange = tuple[datetime, datetime]


def parse_range(text: str, now: datetime) -> TimeRange:
    """`2d`, `2026-11-01 2026-11-02`, `3h 1h`: since, then an optional until (default now).
    Raises ValueError with what is accepted."""
    parts = text.split()
    if not 1 <= len(parts) <= 2:
        raise ValueError("give a start and optionally an end, e.g. `2026-11-01 2026-11-02`")
    since = parse_when(parts[0], now)
    until = parse_when(parts[1], now) if len(parts) == 2 else now
    if until <= since:
        raise ValueError("the end must come after the start")
    return since, until


class TimeRangeScreen(ModalScreen[TimeRange | None]):
    """enter applies, escape keeps the current window."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id=BindingId.RANGE_CANCEL, tooltip="Keep the window"),
        dialog_help_key(),  # `?` is typed into the range
    ]

    def __init__(self, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="range-dialog"):
            yield Static(Text("Time range: since [until]", style="bold"), classes="title")
            yield Static(
                "ages (30m, 2d, 1w), dates (2026-11-01) or 2026-11-01T08:30", classes="hint"
            )
            yield Input(placeholder="2d   or   2026-11-01 2026-11-02", id="range-input")
            yield Static("", id="range-error")
        yield Footer(compact=True, show_command_palette=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            chosen = parse_range(event.value, self.clock())
        except ValueError as exc:
            self.query_one("#range-error", Static).update(str(exc))
            return
        self.dismiss(chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
