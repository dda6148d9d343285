"""The instance table: every instance of every account, one keyed row each, updated in place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from winged_monkey.models import Instance, InstanceKind, InstanceState
from winged_monkey.render import price_text, size_text
from winged_monkey.ui import format as fmt

#: (key, label, fixed width or None to fit) in display order: what matters most fits in 80.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("mark", "", 1),
    ("state", "state", 12),
    ("name", "name", None),
    ("account", "account", None),
    ("public_ip", "public IP", None),
    ("price", "$/h", 6),
    ("age", "age", 4),
    ("where", "where", None),
    ("size", "size", None),
    ("private_ip", "private IP", None),
)
AGE_REFRESH_S = 15.0
NAME_WIDTH = 24
ACCOUNT_WIDTH = 14
_AGE = [key for key, _, _ in COLUMNS].index("age")

_DIGITS = re.compile(r"(\d+)")
_STATE_ORDER = {state: n for n, state in enumerate(InstanceState)}
_LAST = float("inf")


def natural(text: str) -> tuple[tuple[int, str], ...]:
    """web-2 before web-10."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in _DIGITS.split(text.lower()))


def _created(i: Instance) -> float:
    return -i.created_at.timestamp() if i.created_at else _LAST


#: Sort keys by column: `o` cycles through them in this order.
SORTS: dict[str, Callable[[Instance], Any]] = {
    "name": lambda i: natural(i.name),
    "state": lambda i: _STATE_ORDER[i.state],
    "account": lambda i: i.account,
    "price": lambda i: _LAST if i.price_hourly is None else i.price_hourly,
    "age": _created,
    "where": lambda i: i.where,
    "size": lambda i: size_text(i, unknown=""),
}
SORT_LABELS = {key: label for key, label, _ in COLUMNS}


@dataclass
class _Row:
    instance: Instance
    stale: bool
    marked: bool = False


class _Tag:
    """The mark cell: renders the mark and carries its row's key, so sorting can use the model."""

    __slots__ = ("key", "marked")

    def __init__(self, key: str, marked: bool) -> None:
        self.key = key
        self.marked = marked

    def __rich__(self) -> Text:
        return Text("●" if self.marked else " ", style="bold magenta")


class InstanceTable(DataTable[Any]):
    """Rows keyed by `Instance.key`; marks, a filter and a sort kept across updates."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "screen.details",
            "info",
            id="details",
            tooltip="Show every field of the instance under the cursor",
        ),
    ]

    class MarksChanged(Message):
        """The set of marked rows changed."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._clock = clock
        self._rows: dict[str, _Row] = {}
        self._terms: list[str] = []
        self._kind: InstanceKind | None = None
        self._follow = False
        self.sort_column = "name"
        self.sort_reverse = False

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.set_interval(AGE_REFRESH_S, self.refresh_ages)

    # Until the user moves the cursor it stays on the top row while accounts arrive;
    # from then on it follows its instance across updates and re-sorts.
    def action_cursor_up(self) -> None:
        self._follow = True
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self._follow = True
        super().action_cursor_down()

    def action_page_up(self) -> None:
        self._follow = True
        super().action_page_up()

    def action_page_down(self) -> None:
        self._follow = True
        super().action_page_down()

    def action_scroll_top(self) -> None:
        self._follow = True
        super().action_scroll_top()

    def action_scroll_bottom(self) -> None:
        self._follow = True
        super().action_scroll_bottom()

    def on_click(self) -> None:
        self._follow = True

    # -- reading -------------------------------------------------------------

    @property
    def cursor_instance(self) -> Instance | None:
        key = self._cursor_key()
        return self._rows[key].instance if key is not None else None

    @property
    def marked(self) -> list[Instance]:
        return [row.instance for row in self._rows.values() if row.marked]

    @property
    def shown_count(self) -> int:
        return self.row_count

    @property
    def total_count(self) -> int:
        """Rows of the kind shown, filtered or not."""
        if self._kind is None:
            return len(self._rows)
        return sum(1 for row in self._rows.values() if row.instance.kind == self._kind)

    @property
    def shown(self) -> list[Instance]:
        """The instances on screen, in display order."""
        return [self._rows[row.key.value or ""].instance for row in self.ordered_rows]

    def instance(self, key: str) -> Instance | None:
        row = self._rows.get(key)
        return row.instance if row is not None else None

    def select(self, key: str) -> None:
        """Put the cursor on an instance's row (and keep it there across updates)."""
        self._follow = True
        self.move_cursor(row=self.get_row_index(key))

    def targets(self) -> list[Instance]:
        """The marked instances, or the one under the cursor when none is marked."""
        marked = self.marked
        if marked:
            return marked
        current = self.cursor_instance
        return [current] if current is not None else []

    # -- writing -------------------------------------------------------------

    def set_account(self, account: str, instances: Iterable[Instance] | None, stale: bool) -> None:
        """Replace one account's rows (or only restyle them when `instances` is None)."""
        with self._keeping_cursor():
            if instances is None:
                for row in self._rows.values():
                    if row.instance.account == account:
                        self._put(row.instance, stale)
                return
            fresh = {i.key: i for i in instances}
            gone = [k for k, r in self._rows.items() if r.instance.account == account]
            for key in gone:
                if key not in fresh:
                    self._drop(key)
            for instance in fresh.values():
                self._put(instance, stale)
            self._sort()

    def put(self, instance: Instance, stale: bool = False) -> None:
        """Add or update one instance's row."""
        with self._keeping_cursor():
            self._put(instance, stale)
            self._sort()

    def drop(self, key: str) -> None:
        with self._keeping_cursor():
            self._drop(key)

    def toggle_mark(self) -> None:
        key = self._cursor_key()
        if key is None:
            return
        self._follow = True
        row = self._rows[key]
        row.marked = not row.marked
        self.update_cell(key, "mark", _Tag(key, row.marked))
        self.post_message(self.MarksChanged(len(self.marked)))
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def clear_marks(self) -> None:
        for key, row in self._rows.items():
            if row.marked:
                row.marked = False
                if key in self.rows:
                    self.update_cell(key, "mark", _Tag(key, False))
        self.post_message(self.MarksChanged(0))

    @property
    def kind(self) -> InstanceKind | None:
        """The only kind of row shown (the apps view), or None for every row."""
        return self._kind

    def set_kind(self, kind: InstanceKind | None) -> None:
        self._kind = kind
        self._refilter()

    def set_filter(self, text: str) -> None:
        """Show only rows whose visible fields contain every word of `text`."""
        self._terms = text.lower().split()
        self._refilter()

    def _refilter(self) -> None:
        with self._keeping_cursor():
            for key, row in self._rows.items():
                shown = key in self.rows
                if self._matches(row.instance) and not shown:
                    self.add_row(*self._cells(key, row), key=key)
                elif shown and not self._matches(row.instance):
                    self.remove_row(key)
            self._sort()

    def sort_by(self, column: str, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        with self._keeping_cursor():
            self._sort()

    def refresh_ages(self) -> None:
        """Recompute the age column (ages move with the clock, not with the data)."""
        for row_key in self.rows:
            key = row_key.value or ""
            age = self._cells(key, self._rows[key])[_AGE]
            if age != self.get_cell(key, "age"):
                self.update_cell(key, "age", age)

    # -- internals -----------------------------------------------------------

    def _put(self, instance: Instance, stale: bool) -> None:
        key = instance.key
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = _Row(instance, stale)
        elif row.instance == instance and row.stale == stale:
            return
        else:
            row.instance, row.stale = instance, stale
        shown = key in self.rows
        if not self._matches(instance):
            if shown:
                self.remove_row(key)
            return
        cells = self._cells(key, row)
        if not shown:
            self.add_row(*cells, key=key)
            return
        for (column, _, _), cell in zip(COLUMNS, cells, strict=True):
            self.update_cell(key, column, cell)

    def _drop(self, key: str) -> None:
        row = self._rows.pop(key, None)
        if key in self.rows:
            self.remove_row(key)
        if row is not None and row.marked:
            self.post_message(self.MarksChanged(len(self.marked)))

    def _matches(self, instance: Instance) -> bool:
        if self._kind is not None and instance.kind != self._kind:
            return False
        if not self._terms:
            return True
        text = fmt.instance_search_text(instance)
        return all(term in text for term in self._terms)

    def _cells(self, key: str, row: _Row) -> list[Any]:
        i = row.instance
        texts = [
            fmt.state_text(i.state),
            fmt.name_text(i, NAME_WIDTH),
            Text(fmt.one_line(i.account, ACCOUNT_WIDTH)),
            Text(fmt.first_ip(i.public_ips)),
            Text(price_text(i.price_hourly), justify="right"),
            Text(fmt.age_since(i.created_at, self._clock()), justify="right"),
            Text(i.where),
            Text(size_text(i, unknown="")),
            Text(fmt.first_ip(i.private_ips)),
        ]
        if row.stale or i.state is InstanceState.TERMINATED:
            for text in texts:
                text.stylize(fmt.STALE_STYLE)
        return [_Tag(key, row.marked), *texts]

    def _sort(self) -> None:
        by = SORTS[self.sort_column]
        name = SORTS["name"]

        def order(tag: _Tag) -> tuple[Any, ...]:
            instance = self._rows[tag.key].instance
            return (by(instance), name(instance), tag.key)

        self.sort("mark", key=order, reverse=self.sort_reverse)

    def _cursor_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            row_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return row_key.value

    @contextmanager
    def _keeping_cursor(self) -> Iterator[None]:
        """Keep the cursor on the same instance while rows come, go and move."""
        key = self._cursor_key() if self._follow else None
        before = self.cursor_row
        yield
        if key is None or self.row_count == 0:
            return
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            index = min(before, self.row_count - 1)
        if index != self.cursor_row:
            self.move_cursor(row=index)
