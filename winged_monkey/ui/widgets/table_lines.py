"""The instance table's lines, as Textual's DataTable would draw them: the header's
words, each column's width (fitted to the rows, then shortened or dropped on a narrow
screen), a row's cells, and padded cells turned into segments (drawn once, reused).

No widget here: InstanceTable (instance_table.py) keeps the rows, the cursor and the
caches of whole lines, and calls these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.renderables.styled import Styled
from textual.strip import Strip

from winged_monkey.models import InstanceState
from winged_monkey.terminal.render import size_text
from winged_monkey.ui import format as fmt
from winged_monkey.ui.rows import ACCOUNT_WIDTH, COLUMNS, NAME_WIDTH, Row, hourly_cell

PADDING = 1  # a space either side of each cell, as DataTable draws them
_CACHE_LINES = 2000  # drawn rows kept; a screen holds a few dozen
_CACHE_CELLS = 20000
# Each cell's segments carry their column (as DataTable's do), so cells stay apart.
_COLUMN_META = [Style.from_meta({"column": n}) for n in range(len(COLUMNS))]
_OUTSIDE = Style.from_meta({"out_of_bounds": True})
_COLUMN_AT = {key: n for n, (key, _, _) in enumerate(COLUMNS)}
#: Shortened (the state to its glyph) or dropped, in this order, while a row is wider than
#: the table: the low-value columns go first; the address and the price only where the
#: table is narrower still (half of an 80-column tmux window), where they would be cut at
#: its edge; the name and account stay.
_SHRINK = ("state", "where", "private_ip", "size", "age", "public_ip", "price")
_GLYPH = 1
_STATE = _COLUMN_AT["state"]


def labels(sort_column: str, reverse: bool) -> list[str]:
    """The header's words; the sorted column's carries ▲ (or ▼ when reversed)."""
    arrow = "▼" if reverse else "▲"
    return [
        f"{label} {arrow}".strip() if key == sort_column else label for key, label, _ in COLUMNS
    ]


def widths(fitted: dict[str, int], words: list[str], room: int, sort_column: str) -> list[int]:
    """Each column's drawn width, its padding included: its fixed width or `fitted` (the
    rows' widest), at least its header's `words`; then 0 for a column dropped because the
    row would not fit `room` otherwise (in _SHRINK's order, the state to its glyph): a
    column is shown whole or not at all, so no name or number is cut."""
    found = [
        2 * PADDING + max(width or fitted[key], cell_len(label))
        for (key, _, width), label in zip(COLUMNS, words, strict=True)
    ]
    for key in _SHRINK:
        if not room or sum(found) <= room:
            break
        if key == sort_column:  # the sorted column stays in sight
            continue
        found[_COLUMN_AT[key]] = 2 * PADDING + _GLYPH if key == "state" else 0
    return found


def header_cells(words: list[str], drawn: list[int]) -> list[Text]:
    """The header's cells; a state column shortened to its glyph has no word."""
    cells = [Text(word) for word in words]
    if drawn[_STATE] == 2 * PADDING + _GLYPH:
        cells[_STATE] = Text("")
    return cells


def row_cells(row: Row, age: str, drawn: list[int] | None = None) -> list[Text]:
    """A row's cells: its mark, then COLUMNS' (the state its glyph alone when `drawn`
    shortened it); a stale or terminated row is dimmed."""
    i = row.instance
    texts = [
        fmt.state_text(i.state),
        fmt.name_text(i, NAME_WIDTH),
        Text(fmt.account_cell(i, ACCOUNT_WIDTH)),
        Text(fmt.first_ip(i.public_ips)),
        # Stopped and terminated rows cost nothing per hour: no price that reads as one;
        # a row its account did not list now: unknown, `?`.
        Text(hourly_cell(row), justify="right"),
        Text(age, justify="right"),
        Text(i.where),
        Text(size_text(i, unknown="")),
        Text(fmt.first_ip(i.private_ips)),
    ]
    if row.stale or i.state is InstanceState.TERMINATED:
        for text in texts:
            text.stylize(fmt.STALE_STYLE)
    cells = [Text("●" if row.marked else " ", style="bold magenta"), *texts]
    if drawn is not None and drawn[_STATE] == 2 * PADDING + _GLYPH:
        cells[_STATE] = cells[_STATE][:_GLYPH]
    return cells


class Painter:
    """Table lines into segments, both kept: whole lines by what they show, and padded
    cells, which mostly repeat (states, accounts, sizes, prices, ages), so a new screen of
    rows draws few."""

    def __init__(self) -> None:
        self._lines: dict[tuple[Any, ...], Strip] = {}
        self._cells: dict[tuple[Any, ...], list[Segment]] = {}

    def cached(self, key: tuple[Any, ...], draw: Callable[[], Strip]) -> Strip:
        """The line drawn for `key`, drawn by `draw` the first time."""
        line = self._lines.get(key)
        if line is None:
            if len(self._lines) > _CACHE_LINES:
                self._lines.clear()
            line = self._lines[key] = draw()
        return line

    def forget_lines(self) -> None:
        """Focus and theme changes restyle every line; cells are keyed by their full
        style, so their cache stays valid and the lines are redrawn from it."""
        self._lines.clear()

    def line(
        self,
        console: Console,
        options: ConsoleOptions,
        cells: Sequence[Text],
        drawn: list[int],
        width: int,
        styles: tuple[Style, Style, Style],
    ) -> Strip:
        """One table line `width` wide: padded cells, then the row's style to the right
        edge. `styles`: the widget's base, its component's (header, cursor) and the row's;
        the cursor's colours win over the cells' own, as its CSS priority says."""
        base, component, row_style = styles
        post = Style.from_color(component.color, component.bgcolor)
        segments: list[Segment] = []
        for column, (cell, cell_width) in enumerate(zip(cells, drawn, strict=True)):
            if not cell_width:  # dropped: the screen is too narrow
                continue
            pre = base + _COLUMN_META[column] + component
            segments.extend(self._cell(console, options, cell, cell_width, pre, post))
        rest = max(0, width - sum(drawn))
        segments.append(Segment(" " * rest, row_style + component + _OUTSIDE))
        return Strip(segments)

    def _cell(
        self,
        console: Console,
        options: ConsoleOptions,
        cell: Text,
        width: int,
        pre: Style,
        post: Style,
    ) -> list[Segment]:
        key = (cell.plain, cell.style, tuple(cell.spans), cell.justify, width, pre, post)
        found = self._cells.get(key)
        if found is None:
            if len(self._cells) > _CACHE_CELLS:
                self._cells.clear()
            fitted = options.update_dimensions(width, 1).update(no_wrap=True)
            styled = Styled(Padding(cell, (0, PADDING)), pre_style=pre, post_style=post)
            found = self._cells[key] = console.render_lines(styled, fitted)[0]
        return found
