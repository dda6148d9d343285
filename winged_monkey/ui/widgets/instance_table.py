"""The instance table: every instance of every account, drawn a screen at a time.

The rows live in a `RowIndex` (winged_monkey/ui/rows.py); this widget draws only the
lines on screen with Textual's line API (a ScrollView with `render_line`), so a filter,
a sort or fifty accounts answering at once change the index, never thousands of widget
rows. Index changes are applied once per frame, when the table is drawn (or read). The
look is the one of Textual's DataTable, which this table replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from winged_monkey.models import Instance, InstanceKind
from winged_monkey.ui import format as fmt
from winged_monkey.ui.rows import (
    COLUMNS,
    FITTED,
    SORT_LABELS,
    SORTS,
    Row,
    RowIndex,
)
from winged_monkey.ui.widgets import table_lines as lines
from winged_monkey.ui.widgets.table_keys import KEYS
from winged_monkey.ui.widgets.vi_keys import ViKeys, ViMoves, taken_keys

__all__ = ["COLUMNS", "SORTS", "SORT_LABELS", "InstanceTable"]

AGE_REFRESH_S = 15.0
_AGE = [key for key, _, _ in COLUMNS].index("age")


class InstanceTable(ViKeys, ScrollView, can_focus=True):
    """Rows keyed by `Instance.key`; marks, a filter and a sort kept across updates."""

    ALLOW_SELECT = False

    BINDINGS: ClassVar[list[BindingType]] = list(KEYS)

    COMPONENT_CLASSES: ClassVar[set[str]] = {"instance-table--header", "instance-table--cursor"}

    # DataTable's look (Textual 8.2), so the table reads as before.
    DEFAULT_CSS = """
    InstanceTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .instance-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .instance-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .instance-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .instance-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .instance-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class MarksChanged(Message):
        """The set of marked rows changed."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class RowHighlighted(Message):
        """The cursor is on another instance (or on none)."""

        def __init__(self, instance: Instance | None) -> None:
            super().__init__()
            self.instance = instance

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        keymap: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        """`keymap`: the user's (binding id to keys); a vi key it names is theirs."""
        super().__init__(id=id, taken=taken_keys(keymap))
        self._clock = clock
        self.index = RowIndex()
        self._follow = False
        self._cursor = 0
        self._cursor_key: str | None = None
        #: The row the person last put the cursor on: followed while a filter or the view
        #: hides it (the cursor waits on the first row), so it comes back when shown again.
        self._chosen: str | None = None
        self._drawn: list[Row] | None = None  # the order the cursor was last placed in
        self._generation = -1
        self._painter = lines.Painter()
        #: The moment the ages are drawn from, moved by the age refresh alone: a row
        #: repainted between two (the cursor's) reads the same age as its neighbours.
        self._now = clock()
        self._ages: dict[str, str] = {}  # each row's age as last drawn
        self._versions: dict[str, int] = {}  # and its version
        self._drawn_widths: list[int] = []  # the columns' widths as last drawn

    def on_mount(self) -> None:
        self.set_interval(AGE_REFRESH_S, self.refresh_ages)
        self._resized()

    # -- reading -------------------------------------------------------------

    @property
    def sort_column(self) -> str:
        return self.index.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self.index.sort_reverse

    @property
    def kind(self) -> InstanceKind | None:
        """The only kind of row shown (the apps view), or None for every row."""
        return self.index.kind

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_instance(self) -> Instance | None:
        shown = self._sync()
        return shown[self._cursor].instance if shown else None

    @property
    def marked(self) -> list[Instance]:
        """The marked instances in table order (what a confirmation lists)."""
        return [row.instance for row in self.index.marked_in_order()]

    @property
    def shown_count(self) -> int:
        return self.index.shown_count

    @property
    def total_count(self) -> int:
        """Rows of the kind shown, filtered or not."""
        return self.index.total_count

    @property
    def shown(self) -> list[Instance]:
        """The instances on screen, in display order."""
        return [row.instance for row in self._sync()]

    def instance(self, key: str) -> Instance | None:
        row = self.index.rows.get(key)
        return row.instance if row is not None else None

    def cell(self, key: str, column: str) -> Text:
        """What `column` (a COLUMNS key: "state", "name", "size", ...) shows for the row
        `key`, as plain styled text: how tests and scripts read a row."""
        row = self.index.rows[key]
        age = fmt.age_since(row.instance.created_at, self._now)
        names = [name for name, _, _ in COLUMNS]
        return lines.row_cells(row, age)[names.index(column)]

    def select(self, key: str) -> None:
        """Put the cursor on an instance's row (and keep it there across updates)."""
        self._follow = True
        shown = self._sync()
        row = self.index.rows.get(key)
        if row is not None and row.shown:
            self._move(shown.index(row))

    def move_cursor(self, *, row: int) -> None:
        self._sync()
        self._move(row)

    def targets(self) -> list[Instance]:
        """The marked instances shown, or the one under the cursor when none shown is
        marked: a row the filter or the view hides is never acted on unseen."""
        marked = [row.instance for row in self.index.marked_in_order() if row.shown]
        if marked:
            return marked
        current = self.cursor_instance
        return [current] if current is not None else []

    def hidden_marks(self) -> dict[str, list[Instance]]:
        """The marked instances `targets` leaves alone, by what hides them: "view" (a
        row of another kind than the view shows) or "filter"."""
        hidden: dict[str, list[Instance]] = {}
        for row in self.index.marked_in_order():
            if not row.shown:
                by = "view" if self.index.kind not in (None, row.kind) else "filter"
                hidden.setdefault(by, []).append(row.instance)
        return hidden

    # -- writing -------------------------------------------------------------

    def set_account(self, account: str, instances: Iterable[Instance] | None, stale: bool) -> None:
        """Replace one account's rows (or only restyle them when `instances` is None).

        Cheap: the rows are sorted and drawn once per frame, whatever the accounts."""
        index = self.index
        if instances is None:
            changed = index.restyle_account(account, stale)
        else:
            marks = len(index.marked)
            changed = index.replace_account(account, instances, stale)
            if len(index.marked) != marks:
                self.post_message(self.MarksChanged(len(index.marked)))
        if changed:
            self._changed()

    def put(self, instance: Instance, stale: bool = False) -> None:
        """Add or update one instance's row."""
        if self.index.put(instance, stale):
            self._changed()

    def drop(self, key: str) -> None:
        row = self.index.drop(key)
        if row is not None:
            self._changed()
            if row.marked:
                self.post_message(self.MarksChanged(len(self.index.marked)))

    def toggle_mark(self) -> None:
        shown = self._sync()
        if not shown:
            return
        self._follow = True
        row = shown[self._cursor]
        self.index.mark(row, not row.marked)
        self.post_message(self.MarksChanged(len(self.index.marked)))
        self._refresh_rows(self._cursor)
        if self._cursor < len(shown) - 1:
            self._move(self._cursor + 1)

    def clear_marks(self, only: Iterable[Instance] | None = None) -> None:
        """Unmark every row, or `only` those instances' rows."""
        keys = None if only is None else {i.key for i in only}
        for row in self.index.marked:
            if keys is None or row.key in keys:
                self.index.mark(row, False)
        self.post_message(self.MarksChanged(len(self.index.marked)))
        self.refresh()

    def set_kind(self, kind: InstanceKind | None) -> None:
        self.index.set_kind(kind)
        self._changed()

    def set_filter(self, text: str) -> None:
        """Show only rows whose visible fields contain every word of `text`."""
        self.index.set_filter(text)
        self._changed()

    def sort_by(self, column: str, reverse: bool = False) -> None:
        self.index.set_sort(column, reverse)
        self._changed()

    def refresh_ages(self) -> None:
        """Ages move with the clock: repaint the age cells on screen that read otherwise
        now (a fleet days old: none), not every line, each of which crosses the link
        (Textual writes a line from the table's left edge to the cells' end: 3/4 of it)."""
        now = self._now = self._clock()
        widths = self._widths()
        x = sum(widths[:_AGE]) - int(self.scroll_x)
        for at, row in self._on_screen():
            if fmt.age_since(row.instance.created_at, now) != self._ages.get(row.key):
                self._refresh_rows(at, x=x, width=widths[_AGE])

    # -- cursor and keys -------------------------------------------------------

    # Until the user moves the cursor it stays on the top row while accounts arrive;
    # from then on it follows its instance across updates and re-sorts.
    def action_cursor_up(self) -> None:
        self._step(-1)

    def action_cursor_down(self) -> None:
        self._step(+1)

    def action_page_up(self) -> None:
        self._step(-max(1, self._page()))

    def action_page_down(self) -> None:
        self._step(max(1, self._page()))

    def action_scroll_top(self) -> None:
        self._step(-len(self._sync()))

    def action_scroll_bottom(self) -> None:
        self._step(len(self._sync()))

    def action_cursor_left(self) -> None:
        self.scroll_left()

    def action_cursor_right(self) -> None:
        self.scroll_right()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_marks":  # listed, greyed out, while nothing is marked
            return True if self.index.marked else None
        # A vi key the user's keymap gives to another binding is off here: theirs runs.
        return super().check_action(action, parameters)

    def vi_moves(self) -> ViMoves:
        return ViMoves(
            self.action_cursor_down,
            self.action_cursor_up,
            self.action_scroll_top,
            self.action_scroll_bottom,
        )

    def action_clear_marks(self) -> None:
        if self.index.marked:
            self.clear_marks()

    def on_resize(self, event: events.Resize) -> None:
        self._resized()  # which columns fit depends on the width

    def on_click(self, event: events.Click) -> None:
        self._follow = True
        offset = event.get_content_offset(self)
        if offset is None or offset.y < 1:
            return
        row = int(self.scroll_y) + offset.y - 1
        if row < len(self._sync()):
            self._move(row)

    def _step(self, rows: int) -> None:
        self._follow = True
        self._sync()
        self._move(self._cursor + rows)

    def _page(self) -> int:
        return self.scrollable_content_region.height - 1

    def _move(self, row: int, scroll: bool = True, chosen: bool = True) -> None:
        """Put the cursor on the `row`th shown row (clamped); the index is committed.
        `chosen`: the person moved it (else the table placed it), so it follows that row."""
        shown = self._drawn or []
        row = max(0, min(row, len(shown) - 1))
        key = shown[row].key if shown else None
        if chosen:
            self._chosen = key
        if row != self._cursor:
            self._refresh_rows(self._cursor, row)
            self._cursor = row
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.RowHighlighted(shown[row].instance if shown else None))
        if scroll and shown:
            self._scroll_to_cursor()

    def _refresh_rows(self, *rows: int, x: int = 0, width: int | None = None) -> None:
        """Repaint only these shown rows' lines (or their cells from `x`, `width` wide):
        Textual writes every line of what is refreshed, and a whole table is some 8 KB,
        seconds over a slow SSH link."""
        top = int(self.scroll_y)
        width = self.size.width if width is None else width
        for at in rows:
            y = at - top + 1  # the header is line 0
            if 1 <= y < self.size.height and width > 0:
                self.refresh(Region(x, y, width, 1))

    def _scroll_to_cursor(self) -> None:
        top = int(self.scroll_y)
        visible = max(1, self._page())
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False)

    # -- the index, applied once per frame ---------------------------------------

    def _changed(self) -> None:
        self._resized()
        if self.index.moved or self._widths() != self._drawn_widths:
            self._now = self._clock()  # every line is drawn again
            self.refresh()
            return
        # Rows changed in place (one instance stopped): only their lines are repainted,
        # not the table's, some 8 KB over a slow link for one word.
        for at, row in self._on_screen():
            if row.version != self._versions.get(row.key):
                self._refresh_rows(at)

    def _on_screen(self) -> list[tuple[int, Row]]:
        """The rows drawn on screen now, each with its place among the shown rows."""
        shown = self._drawn or []
        top = int(self.scroll_y)
        return [
            (at, shown[at])
            for at in range(top, min(len(shown), top + max(0, self.size.height - 1)))
        ]

    def _sync(self) -> list[Row]:
        """Apply the index's pending changes; keep the cursor on its instance."""
        shown = self.index.commit()
        if self.index.generation == self._generation:
            return shown
        self._drawn, self._generation = shown, self.index.generation
        place = self._cursor
        row = self.index.rows.get(self._chosen or "")
        if self._follow and row is not None:
            place = shown.index(row) if row.shown else 0
        self._move(min(place, len(shown) - 1), scroll=self._follow, chosen=False)
        if row is None:  # gone: follow whatever the cursor is on now
            self._chosen = self._cursor_key
        return shown

    def _labels(self) -> list[str]:
        return lines.labels(self.index.sort_column, self.index.sort_reverse)

    def _widths(self) -> list[int]:
        """Each column's drawn width; 0 for one dropped on a narrow screen (table_lines)."""
        fitted = dict(zip(FITTED, self.index.widths(), strict=True))
        room = self.scrollable_content_region.width
        return lines.widths(fitted, self._labels(), room, self.index.sort_column)

    def _resized(self) -> None:
        # A filter that hides every row leaves a line to say so under the header.
        size = Size(sum(self._widths()), max(self.index.shown_count, self._unmatched()) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    # -- drawing -------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painter.forget_lines()  # restyled: every line is drawn again

    def render_lines(self, crop: Region) -> list[Strip]:
        self._sync()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            line = self._header_line()
        else:
            shown = self._drawn or []
            at = scroll_y + y - 1
            if at == 0 and not shown and self._unmatched():
                line = self._unmatched_line()
            elif at >= len(shown):
                return Strip.blank(width, self.rich_style)
            else:
                line = self._row_line(shown[at], at == self._cursor)
        return line.crop_extend(scroll_x, scroll_x + width, self.rich_style).simplify()

    def _header_line(self) -> Strip:
        widths = self._drawn_widths = self._widths()
        key = ("header", tuple(widths), self.size.width, self.has_focus, *self._labels())

        def draw() -> Strip:
            style = self.get_component_rich_style("instance-table--header")
            cells = lines.header_cells(self._labels(), widths)
            return self._draw(cells, widths, (style, Style(), style))

        return self._painter.cached(key, draw)

    def _unmatched(self) -> int:
        """1 when the filter hides every row there is (0 of 12), else 0."""
        index = self.index
        return int(bool(index.terms) and index.shown_count == 0 and index.total_count > 0)

    def _unmatched_line(self) -> Strip:
        words = " ".join(self.index.terms)
        style = self.rich_style + Style(dim=True)
        text = Text(f"  no row matches “{words}” · esc clears the filter", style=style)
        text.truncate(self.size.width, overflow="ellipsis")
        return Strip(text.render(self.app.console), text.cell_len)

    def _row_line(self, row: Row, cursor: bool) -> Strip:
        age = self._ages[row.key] = fmt.age_since(row.instance.created_at, self._now)
        self._versions[row.key] = row.version
        widths = self._widths()
        key = (row.key, row.version, age, cursor, tuple(widths), self.size.width, self.has_focus)

        def draw() -> Strip:
            base = self.rich_style
            mark = self.get_component_rich_style("instance-table--cursor") if cursor else Style()
            return self._draw(lines.row_cells(row, age, widths), widths, (base, mark, base))

        return self._painter.cached(key, draw)

    def _draw(
        self, cells: Sequence[Text], widths: list[int], styles: tuple[Style, Style, Style]
    ) -> Strip:
        options = self.app.console_options
        return self._painter.line(self.app.console, options, cells, widths, self.size.width, styles)
