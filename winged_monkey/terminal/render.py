"""Plain-text rendering shared by the CLI and the TUI: ages, prices, state glyphs, tables.

Standard library only at run time: `wm ls --cached` renders its table before (and
without) importing pydantic, so the models are imported for type checking alone.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

from winged_monkey.terminal.encoding import carries

TYPE_CHECKING = False  # typing is not free, and `wm ls --cached` has no use for it
if TYPE_CHECKING:
    from winged_monkey.models import Instance, InstanceState

#: A glyph per state (keyed by InstanceState's values) so the table reads without colour.
STATE_GLYPHS: dict[str, str] = {
    "running": "▶",
    "stopped": "■",
    "pending": "↑",
    "stopping": "↓",
    "rebooting": "↻",
    "suspended": "‖",
    "terminated": "†",
    "error": "✗",
    "unknown": "?",
}

_DIGITS = re.compile(r"(\d+)")


def natural(text: str) -> tuple[tuple[int, str], ...]:
    """web-2 before web-10: the order of names in `wm ls` and the TUI alike."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in _DIGITS.split(text.lower()))


HEADER = ("STATE", "NAME", "ACCOUNT", "WHERE", "SIZE", "$/H", "AGE", "PUBLIC IP", "PRIVATE IP")


def id_starts(ident: str) -> str:
    """How a filter matches an id that no column shows: from its start, with or without
    its kind (`i-0ab…` or `0ab…`), as an id is typed or pasted. Anywhere in it, a word of
    hex letters (`db`, `cafe`) matched one row in sixteen of a fleet. Each form follows a
    newline, which no word of a filter holds: newline + word in it, it starts one."""
    ident = ident.lower()
    kind, dash, rest = ident.partition("-")
    return f"\n{ident}\n{rest}" if dash and kind.isalpha() and len(kind) <= 4 else f"\n{ident}"


def state_label(state: InstanceState | str) -> str:
    """`▶ running`; `running` alone where stdout's encoding has no such glyph."""
    glyph = STATE_GLYPHS.get(state, "?")
    return f"{glyph} {state}" if carries(sys.stdout, glyph) else state


#: Marks a row whose state this listing did not observe (a cached row, or one its source
#: could not list now): the state is the last one seen, so the row never reads as current.
LAST_SEEN_GLYPH = "◌"


def last_seen_label(state: InstanceState | str, seen: datetime | None, now: datetime) -> str:
    """`◌ last seen running 9h ago` (`? ago` when unknown): a state observed then, not now.
    The glyph first, as `state_label`'s, so a table narrowed to glyphs still tells it."""
    glyph = LAST_SEEN_GLYPH if carries(sys.stdout, LAST_SEEN_GLYPH) else "~"
    return f"{glyph} {_LAST_SEEN}{state} {human_age(seen, now)} ago"


def human_age(since: datetime | None, now: datetime) -> str:
    """Compact age: 45s, 12m, 5h, 3d, 8w; '?' when unknown."""
    if since is None:
        return "?"
    seconds = max(0, int((now - since).total_seconds()))
    for size, unit in ((604800, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def hourly_text(price: float | None) -> str:
    """`$0.0047/h` (four places: t3a.nano and t3.nano differ); `?` when unknown."""
    return "?" if price is None else f"${price:.4f}/h"


def monthly_text(price: float | None) -> str:
    """`$3.43/mo`; `?` when unknown."""
    return "?" if price is None else f"${price:,.2f}/mo"


def price_text(price: float | None) -> str:
    """Unknown is '?', never 0."""
    if price is None:
        return "?"
    return f"{price:.3f}" if price < 10 else f"{price:.2f}"


#: Marks an n-tier app in the name column of the TUI.
APP_GLYPH = "◆"


def size_text(instance: Instance, unknown: str = "?") -> str:
    """The size; for an app, "app" and its member count ("app (3)")."""
    return sized(instance.kind, instance.size, instance.members, unknown)


def sized(kind: str, size: str | None, members: int | None, unknown: str = "?") -> str:
    if kind == "app":
        return "app" if members is None else f"app ({members})"
    return size or unknown


def instance_row(instance: Instance, now: datetime) -> tuple[str, ...]:
    """A row of the table; one its source could not list now (`stale`) shows the state it
    was last seen in, and how long ago (`observed_at`), never as a current one."""
    if instance.stale is not None:
        state = last_seen_label(instance.state, instance.observed_at, now)
    elif instance.state == "unknown" and instance.raw_state:
        # A state wm cannot map is the provider's own word beside it, never a guess.
        state = f"{state_label(instance.state)} ({printable(instance.raw_state)})"
    else:
        state = state_label(instance.state)
    return (
        state,
        instance.name,
        instance.account_label,
        instance.where,
        size_text(instance),
        price_text(instance.price_hourly),
        human_age(instance.created_at, now),
        ", ".join(instance.public_ips) or "-",
        ", ".join(instance.private_ips) or "-",
    )


def instance_rows(instances: Iterable[Instance], now: datetime) -> list[tuple[str, ...]]:
    return [HEADER, *(instance_row(i, now) for i in instances)]


GAP = "  "


#: A last column with less room than this is left to the terminal rather than wrapped.
_WRAP_MIN = 20


#: C0 and C1 control characters (a cloud's name may hold any): shown as `?`, never sent to
#: the terminal, where ESC or CSI would move the cursor or recolour the screen. With them
#: the bidirectional embeddings, overrides and isolates, which a terminal draws in no cell
#: (the columns after them shift) or obeys (`rtl\u202egpj.exe` reads as `rtlexe.jpg`).
CONTROLS = dict.fromkeys(
    [*range(0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)],
    "?",
)


def printable(text: str) -> str:
    """`text` as one line a terminal shows as it is: its control characters as `?` (a line
    break too: a name never forges a line of output)."""
    return text if text.isprintable() else text.translate(CONTROLS)


def printable_lines(text: str) -> str:
    """`text` with each line `printable`: the line breaks kept (a message of several lines)."""
    return "\n".join(printable(line) for line in text.split("\n"))


def cells(text: str) -> int:
    """The terminal columns `text` takes: a CJK character or an emoji two, a combining
    mark none (as wcwidth counts them)."""
    return len(text) if text.isascii() else _wide_cells(text)


@lru_cache(maxsize=4096)  # a table's non-ASCII cells repeat: every row's `▶ running`
def _wide_cells(text: str) -> int:
    import unicodedata

    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _pad(cell: str, width: int) -> str:
    return cell + " " * (width - cells(cell))


def render_table(rows: Sequence[Sequence[str]], width: int | None = None) -> str:
    """Left-aligned columns separated by two spaces; the first row is the header. Given a
    `width`, a last column (free text: a reason, a detail) that would overflow it wraps
    between words under its own start. Columns are measured in terminal cells."""
    rows = [[printable(c) for c in row] for row in rows]
    widths = [max(cells(row[c]) for row in rows) for c in range(len(rows[0]))]
    offset = sum(widths[:-1]) + len(GAP) * (len(widths) - 1)
    if width is None or offset + widths[-1] <= width or width - offset < _WRAP_MIN:
        return "\n".join(
            GAP.join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
    return "\n".join(
        hanging(
            "".join(_pad(cell, w) + GAP for cell, w in zip(row[:-1], widths, strict=False)),
            row[-1],
            width,
        )
        for row in rows
    )


def hanging(head: str, text: str, width: int) -> str:
    """`head` then `text` wrapped at `width` between words (never inside one), its further
    lines under its start."""
    import textwrap

    lines = textwrap.wrap(
        text,
        width=max(1, width - cells(head)),  # the head measured in cells, as the screen has it
        break_long_words=False,
        break_on_hyphens=False,
    )
    if not lines:
        return head.rstrip()
    indent = " " * cells(head)
    return "\n".join([head + lines[0], *(indent + line for line in lines[1:])])


def folded(head: str, text: str, width: int | None, indent: int = 2) -> str:
    """`head` then `text` on one line when it fits `width` (None: any), else wrapped between
    words with its further lines `indent` cells in: under the name a line begins with, not
    wrapped by the terminal mid-word at its edge."""
    import textwrap

    if width is None or cells(head + text) <= width:
        return head + text
    lines = textwrap.wrap(
        head + text,
        width=max(20, width),
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines)


def table_width(rows: Sequence[Sequence[str]]) -> int:
    return max(cells(line) for line in render_table(rows).splitlines())


def output_width(given: int | None) -> int | None:
    """The width a table must fit: --width (0: no limit), else the terminal's (COLUMNS
    first) when stdout is one; a pipe or a file gets every column."""
    if given is not None:
        return given or None
    if not sys.stdout.isatty():
        return None
    import shutil

    return shutil.get_terminal_size().columns


#: What gives way, in order, when the instance table is wider than the terminal: a cell's
#: extra addresses, then whole columns of the least use; the name is never touched and
#: nothing is cut mid-word or mid-number (a cut IP or price would read as another one).
_NARROWING: tuple[str, ...] = (
    "+IPS",
    "PRIVATE IP",
    "$/H",
    "WHERE",
    "AGE",
    "SIZE",
    "+STATE",
    "PUBLIC IP",
    "ACCOUNT",
)


def fit_instance_table(rows: Sequence[Sequence[str]], width: int | None) -> list[list[str]]:
    """The rows of `instance_rows` narrowed to `width` columns (None: as they are). At the
    narrowest a row is its state's glyph and its whole name, however long."""
    table = [list(row) for row in rows]
    for step in _NARROWING:
        if width is None or table_width(table) <= width:
            break
        header = table[0]
        if step == "+IPS":  # "10.0.0.1, 10.0.0.2" -> "10.0.0.1 +1"
            for column in (c for c, title in enumerate(header) if title.endswith(" IP")):
                for row in table[1:]:
                    first, *more = row[column].split(", ")
                    row[column] = f"{first} +{len(more)}" if more else first
        elif step == "+STATE":  # the glyph alone still tells the states apart
            column = header.index("STATE")
            table = [
                [*row[:column], _state_glyph(row[column]), *row[column + 1 :]] for row in table
            ]
            table[0][column] = "S"
        elif step in header:
            table = _without(table, header.index(step))
    return table


def _state_glyph(cell: str) -> str:
    """A state cell as its glyph: `▶`; a state last seen keeps its mark too (`◌▶`)."""
    first, _, rest = cell.partition(" ")
    if not rest.startswith(_LAST_SEEN):
        return first
    state = rest.removeprefix(_LAST_SEEN).split(" ")[0]
    glyph = STATE_GLYPHS.get(state, "?")
    return first + (glyph if carries(sys.stdout, glyph) else state)


_LAST_SEEN = "last seen "


def _without(table: list[list[str]], column: int) -> list[list[str]]:
    return [row[:column] + row[column + 1 :] for row in table]


#: What gives way, in order, when the event table is wider than the terminal: the target's
#: id (the name tells it; --json and --csv keep it), the source, the time's year and its
#: seconds (as the events view shows it), the detail (the last column: cut after a word,
#: or dropped when little room is left), then the account. The kind, name, change and
#: outcome are never touched.
_EVENT_NARROWING: tuple[str, ...] = (
    "TARGET",
    "SOURCE",
    "+YEAR",
    "+SECONDS",
    "+DETAIL",
    "ACCOUNT",
)
#: The seconds of a time, which the +SECONDS step drops (its UTC offset stays).
_SECONDS = re.compile(r"(\d\d:\d\d):\d\d")
#: Below this many columns a cut detail says too little to keep.
_DETAIL_MIN = 16
#: Outcomes whose detail says why a change did not go as asked: never cut, but on lines of
#: its own under the row where the table has no room for it whole (a bare "failed", or
#: "by root: app1…", at 80 columns sent the user to --width 0 to learn why).
_SAYS_WHY = frozenset({"failed", "refused", "timeout", "unknown", "rejected"})
#: Those lines' indent: under the row's time, clear of the columns.
_WHY_INDENT = "    "


def fit_event_table(rows: Sequence[Sequence[str]], width: int | None) -> list[list[str]]:
    """The rows of `event_rows` narrowed to `width` columns (None: as they are)."""
    return _narrow_events(rows, width)[0]


def event_table(rows: Sequence[Sequence[str]], width: int | None) -> str:
    """`wm events`'s table: the rows of `event_rows` narrowed to `width`, each change that
    went wrong followed by its detail where the narrowed table could not hold it whole."""
    table = fit_event_table(rows, width)
    below: dict[int, list[str]] = {}
    for index, (row, fitted) in enumerate(zip(rows, table, strict=True)):
        if index and width is not None and (why := _why_below(rows[0], row, table[0], fitted)):
            below[index] = hanging(_WHY_INDENT, printable(why), width).splitlines()
    if "DETAIL" in table[0] and not any(row[-1] for row in table[1:]):
        table = [row[:-1] for row in table]  # every detail said below: no empty column
    return "\n".join(
        line
        for index, row_line in enumerate(render_table(table).splitlines())
        for line in (row_line, *below.get(index, ()))
    )


def _why_below(
    header: Sequence[str], row: Sequence[str], shown: Sequence[str], fitted: list[str]
) -> str | None:
    """The detail of `row` (as `event_rows` made it) to say under it, if it says why the
    change went wrong and `fitted` (the row narrowed, under the header `shown`) cut or
    dropped it; a cut one is taken out of `fitted`, to be said once."""
    detail = row[header.index("DETAIL")]
    if row[header.index("OUTCOME")] not in _SAYS_WHY or detail == "-":
        return None
    if "DETAIL" not in shown:
        return detail
    if fitted[-1] == detail:
        return None
    fitted[-1] = ""
    return detail


class EventLines:
    """`wm events --follow`'s lines, each fitted to `width` as the table would be. A line
    never has more columns than the one before it: once a long line has dropped the
    source, the lines after it stay without it (a stream has no header to re-read)."""

    def __init__(self, header: Sequence[str], width: int | None) -> None:
        self.header = header
        self.width = width
        self._level = 0

    def line(self, row: Sequence[str]) -> str:
        row = [printable(cell) for cell in row]  # a target's name, as the table shows it
        table, self._level = _narrow_events(
            [self.header, row], self.width, self._level, headed=False
        )
        fitted = table[1]
        if self.width is None or (why := _why_below(self.header, row, table[0], fitted)) is None:
            return GAP.join(fitted)
        return f"{GAP.join(fitted).rstrip()}\n{hanging(_WHY_INDENT, why, self.width)}"


def _narrow_events(
    rows: Sequence[Sequence[str]], width: int | None, at_least: int = 0, *, headed: bool = True
) -> tuple[list[list[str]], int]:
    """`rows` (a header first) narrowed by the first `at_least` steps, then by more while
    wider than `width` (the header's width counted only if `headed`: it is printed); and
    how many steps were taken."""
    table = [list(row) for row in rows]
    shown = 0 if headed else 1
    taken = 0
    for taken, step in enumerate(_EVENT_NARROWING):
        if width is None or (taken >= at_least and table_width(table[shown:]) <= width):
            return table, taken
        header = table[0]
        if step in ("+YEAR", "+SECONDS"):  # "2026-12-04 17:22:13+01:00" -> "12-04 17:22+01:00"
            column = header.index("TIME")
            for row in table[1:]:
                cell = row[column]
                row[column] = cell[5:] if step == "+YEAR" else _SECONDS.sub(r"\1", cell, count=1)
        elif step == "+DETAIL":
            column = header.index("DETAIL")
            room = width - table_width([row[:column] for row in table[shown:]]) - len(GAP)
            if room < _DETAIL_MIN:
                table = _without(table, column)
            else:
                for row in table[1:]:
                    row[column] = _cut_after_word(row[column], room)
        elif step in header:
            table = _without(table, header.index(step))
    return table, len(_EVENT_NARROWING)


def _cut_after_word(text: str, room: int) -> str:
    """`text` in `room` columns: whole when it fits, else its words that fit and "…"."""
    if len(text) <= room:
        return text
    cut = text[: room - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,:;·") + "…"
