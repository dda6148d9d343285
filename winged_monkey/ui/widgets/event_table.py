"""The event table: one row per event, newest first, keyed by the event's stable key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from winged_monkey.models import Event, EventSource, owner_name
from winged_monkey.terminal import history
from winged_monkey.ui import format as fmt
from winged_monkey.ui.widgets.vi_keys import ViKeys, ViMoves, vi_bindings
from winged_monkey.user.binding_ids import BindingId

#: (key, label, width or None to fit): what identifies an event first, prose last.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("time", "time", 11),
    ("account", "account", None),
    ("target", "target", None),
    ("kind", "kind", None),
    ("change", "old→new", None),
    ("outcome", "outcome", None),
    ("user", "user", None),
    ("detail", "detail", None),
)
#: Dropped in this order while the row is wider than the table (less a cell for the
#: scrollbar): a column is shown whole or not at all, so no user, outcome or state reads
#: cut at the edge (`alic` at 80 columns, `running→termina` at 60). The detail, prose at
#: the end, may run past it when PROSE_MIN cells of it are in sight. The timeline (enter)
#: shows every field of an event.
DROPPED = ("user", "outcome", "account", "change")
PROSE = "detail"
PROSE_MIN = 12
PADDING = 2  # DataTable's cell padding, both sides
ACCOUNT_WIDTH = 10
TARGET_WIDTH = 16
DETAIL_WIDTH = 60

OUTCOME_LOOK: dict[str, tuple[str, str]] = {
    "ok": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "refused": ("⊘", "yellow"),  # nothing done: not a failure
    "timeout": ("◷", "yellow"),
    "requested": ("→", "dim"),
    "unknown": ("?", "yellow"),
}
SOURCE_STYLE = {EventSource.ACTION: "bold", EventSource.OBSERVED: "", EventSource.NATIVE: "italic"}


def time_text(at: datetime) -> str:
    """Local time, to the minute: `06-01 11:58`."""
    return at.astimezone().strftime("%m-%d %H:%M")


def outcome_text(outcome: str | None) -> Text:
    if not outcome:
        return Text("")
    glyph, style = OUTCOME_LOOK.get(outcome, ("?", ""))
    return Text(f"{glyph} {outcome}", style=style)


def target_label(event: Event) -> str:
    return event.target_name or event.target


def owner_label(event: Event) -> str:
    """The target itself, not the part a native event is about: `i` and the timeline are
    of the whole stack (`shop`, not `shop/group`)."""
    return owner_name(event) or event.target


def event_cells(event: Event) -> list[Text]:
    return [
        Text(time_text(event.at), style="dim"),
        Text(fmt.one_line(event.account, ACCOUNT_WIDTH)),
        Text(fmt.one_line(target_label(event), TARGET_WIDTH), style="bold"),
        Text(event.kind, style=SOURCE_STYLE.get(event.source, "")),
        Text(history.change_text(event)),
        outcome_text(event.outcome),
        Text(event.user or "", style="dim"),
        Text(fmt.one_line(event.detail or "", DETAIL_WIDTH), style="dim"),
    ]


class RowTable(ViKeys, DataTable[Any]):
    """A DataTable whose Home and End (and g, G) move the cursor to the first and last row,
    as in the instances view; DataTable's own only scroll, leaving the cursor (what enter,
    t or i act on) off screen. j and k move it down and up unless `taken` (vi_keys)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "first row", show=False, tooltip="The first row"),
        Binding("end", "scroll_bottom", "last row", show=False, tooltip="The last row"),
        *vi_bindings("row"),
    ]

    def vi_moves(self) -> ViMoves:
        return ViMoves(
            self.action_cursor_down,
            self.action_cursor_up,
            self.action_scroll_top,
            self.action_scroll_bottom,
        )


class EventTable(RowTable):
    """Shows a list of events as given; the cursor stays on its event across updates."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "screen.timeline",
            "timeline",
            id=BindingId.EVENTS_TIMELINE,
            tooltip="Every event of this instance in order, with time spent in each state",
        ),
    ]

    def __init__(self, *, id: str | None = None, taken: frozenset[str] = frozenset()) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, taken=taken)
        self._events: dict[str, Event] = {}

    def on_mount(self) -> None:
        self._lay_out([key for key, _, _ in COLUMNS])

    def _lay_out(self, keys: list[str]) -> None:
        self.clear(columns=True)
        for key, label, width in COLUMNS:
            if key in keys:
                self.add_column(label, key=key, width=width)

    def fitted(self, rows: Sequence[list[Text]], room: int) -> list[str]:
        """The columns shown for `rows` (every column's cells) in `room` cells."""
        widths = {
            key: PADDING + (width or max([cell_len(label), *(row[n].cell_len for row in rows)]))
            for n, (key, label, width) in enumerate(COLUMNS)
        }
        keys = [key for key, _, _ in COLUMNS]
        for key in DROPPED:
            if sum(widths[k] for k in keys if k != PROSE) <= room:
                break
            keys.remove(key)
        if sum(widths[k] for k in keys if k != PROSE) + PROSE_MIN > room:
            keys.remove(PROSE)
        return keys

    def on_resize(self) -> None:
        if self._events:
            self.show(self.shown)

    @property
    def cursor_event(self) -> Event | None:
        if self.row_count == 0:
            return None
        try:
            row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return self._events.get(row_key.value or "")

    @property
    def shown(self) -> list[Event]:
        """The events on screen, top to bottom."""
        return [self._events[row.key.value or ""] for row in self.ordered_rows]

    def show(self, events: Sequence[Event]) -> None:
        """Replace the rows. A cursor on the top row stays on top (new events come there);
        elsewhere it stays on its event."""
        current = self.cursor_event if self.cursor_row > 0 else None
        self._events = {e.key: e for e in events}
        rows = [event_cells(event) for event in events]
        keys = self.fitted(rows, self.size.width - 1)
        if keys != [str(column.key.value) for column in self.ordered_columns]:
            self._lay_out(keys)
        else:
            self.clear()
        picked = [n for n, (key, _, _) in enumerate(COLUMNS) if key in keys]
        for event, cells in zip(events, rows, strict=True):
            self.add_row(*(cells[n] for n in picked), key=event.key)
        if current is None or self.row_count == 0:
            return
        try:
            index = self.get_row_index(current.key)
        except RowDoesNotExist:
            return
        self.move_cursor(row=index, animate=False)
