"""The account strip: every account that is not ok (failures first), the ok ones summed up.

It has at most `MAX_LINES` lines so the table keeps the screen. When every account fits,
each has its line; otherwise the ok accounts share one line and the accounts that do not
fit are counted as "+N more" with the key that opens the accounts view, where every
message is whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget

from winged_monkey.models import AccountStatus
from winged_monkey.ui import format as fmt

MAX_LINES = 4
_GLYPH = 2  # a line's first characters: its phase glyph and a space
#: The action of the key that opens the accounts view (its key is looked up, as remapped).
ACCOUNTS_ACTION = "accounts"
#: Worst first: what needs attention comes before what is fine.
PHASE_RANK: dict[str, int] = {"failed": 0, "stale": 1, "loading": 2, "ok": 3}


def by_urgency(statuses: Iterable[AccountStatus]) -> list[AccountStatus]:
    """Failed, then stale, loading, ok; config order within each (the sort is stable)."""
    return sorted(statuses, key=lambda status: PHASE_RANK[status.phase])


def _count(n: int) -> str:
    return f"{n} instance{'s' if n != 1 else ''}"


def _as_last_seen(status: AccountStatus) -> str:
    """` · 2 as last seen`: rows its source could not list now (dimmed; enter says why);
    ` · 1 not listed`: what it could not list at all (the accounts view says what)."""
    seen = f" · {status.stale} as last seen" if status.stale else ""
    return seen + (f" · {len(status.unlisted)} not listed" if status.unlisted else "")


def strip_age(then: datetime | None, now: datetime) -> str:
    """A listing's age to the minute (`<1m`, `4m`, `2h`): polled every 15 s, an account's
    age in seconds changed its line every second, some 250 bytes a second each over the
    link, to say what the poll glyph (⟳) already says."""
    if then is not None and (now - then).total_seconds() < 60:
        return "<1m"
    return fmt.age_since(then, now)


def detail(status: AccountStatus, now: datetime) -> str:
    """What the account's line says after its name (the full error, on one line)."""
    age = strip_age(status.fetched_at, now)
    if status.phase == "ok":
        return f"ok {age} · {_count(status.count)}{_as_last_seen(status)}"
    if status.phase == "stale":
        return f"stale: cached {age} ago · {_count(status.count)}" if age else "stale (cached)"
    if status.phase == "loading":
        return "loading…" + (f" (shown: cached {age} ago)" if age else "")
    kept = f" ({status.count} shown, {age} old)" if age and status.count else ""
    return f"failed{kept}: {status.error or 'unknown reason'}"


def account_line(
    status: AccountStatus,
    now: datetime,
    width: int,
    name_width: int,
    read_only: bool,
    hint: str,
) -> Text:
    """`✗ lab    failed: cannot reach…` and, when the text is cut, where to read it whole."""
    glyph, style = fmt.PHASE_LOOK["loading" if status.refreshing else status.phase]
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{glyph} ", style=style)
    line.append(fmt.one_line(status.name, name_width).ljust(name_width), style="bold")
    line.append(" ro " if read_only else "    ", style="dim")
    text = " ".join(detail(status, now).split())
    room = max(0, width - len(line))
    look = style if status.phase != "ok" else ""
    if len(text) <= room:
        line.append(text, style=look)
    elif hint and room > len(hint) + 12:
        line.append(fmt.one_line(text, room - len(hint) - 1), style=look)
        line.append(f" {hint}", style="dim")
    else:
        line.append(fmt.one_line(text, room), style=look)
    return line


def summary_line(fine: list[AccountStatus], hidden: list[AccountStatus], key: str) -> Text:
    """`+4 more: 4 failed (a: all accounts) · ● 3 ok · 14 instances: dev, prod, lab`."""
    line = Text(no_wrap=True, overflow="ellipsis")
    if hidden:
        phases: Counter[str] = Counter(s.phase for s in hidden)
        what = ", ".join(f"{phases[p]} {p}" for p in PHASE_RANK if phases[p])
        line.append(f"+{len(hidden)} more: {what}", style="bold")
        if key:
            line.append(f" ({key}: all accounts)", style="dim")
    if fine:
        glyph, style = fmt.PHASE_LOOK["ok"]
        if hidden:
            line.append(" · ")
        line.append(f"{glyph} {len(fine)} ok", style=style)
        line.append(f" · {_count(sum(s.count for s in fine))}: ")
        line.append(", ".join(s.name for s in fine), style="dim")
    return line


def strip_lines(
    statuses: Iterable[AccountStatus],
    now: datetime,
    width: int,
    *,
    read_only: Collection[str] = (),
    key: str = "",
    max_lines: int = MAX_LINES,
) -> list[Text]:
    """The strip's lines: one per account when all fit, else the troubled ones and a sum."""
    ordered = by_urgency(statuses)
    if not ordered:
        return []
    name_width = min(16, max(len(s.name) for s in ordered))
    cut_hint = f"({key}: all)" if key else ""

    def line(status: AccountStatus) -> Text:
        return account_line(status, now, width, name_width, status.name in read_only, cut_hint)

    if len(ordered) <= max_lines:
        return [line(s) for s in ordered]
    troubled = [s for s in ordered if s.phase != "ok"]
    fine = [s for s in ordered if s.phase == "ok"]
    room = max_lines - 1  # the last line sums up the rest
    shown, hidden = troubled[:room], troubled[room:]
    return [*(line(s) for s in shown), summary_line(fine, hidden, key)]


class AccountStrip(Widget):
    """Shows the latest status of each account; ages follow the clock once a second."""

    DEFAULT_CSS = """
    AccountStrip {
        height: auto;
        max-height: 4;
        padding: 0 1;
        /* Textual fits a Text by these rules, not by the Text's own no_wrap/overflow:
        without them a long summary line wraps over the strip's other lines. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        read_only: Collection[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._read_only = frozenset(read_only)
        self._statuses: dict[str, AccountStatus] = {}
        self._drawn: list[Text] | None = None  # the lines last rendered

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_ages)

    def set_statuses(self, statuses: Iterable[AccountStatus]) -> None:
        for status in statuses:
            self._statuses[status.name] = status
        self.refresh_ages()

    def refresh_ages(self) -> None:
        """Repaint the lines whose text changed (an age, a phase, the poll glyph) and no
        other: each line repainted crosses the link whole, some 250 bytes."""
        # What is compared next is what this asked to paint, whatever render() then reads.
        drawn, lines = self._drawn, self._lines()
        self._drawn = lines
        if drawn is None or len(drawn) != len(lines):
            self.refresh(layout=True)  # its height changes
            return
        for y, (old, new) in enumerate(zip(drawn, lines, strict=True)):
            if old == new:
                continue
            # A poll's ⟳ and back (two a poll, every account) change the glyph alone:
            # its cells are repainted, some 40 bytes where the line is 220.
            whole = old[_GLYPH:] != new[_GLYPH:]
            width = self.content_size.width if whole else cell_len(new.plain[:_GLYPH])
            self.refresh(Region(0, y, width, 1))

    def update_status(self, status: AccountStatus) -> None:
        self.set_statuses([status])

    def status(self, name: str) -> AccountStatus | None:
        return self._statuses.get(name)

    @property
    def statuses(self) -> list[AccountStatus]:
        """Every account's latest status, in config order."""
        return list(self._statuses.values())

    def _key(self) -> str:
        """The key that opens the accounts view on this screen (as the keymap has it)."""
        for active in self.screen.active_bindings.values():
            if active.binding.action == ACCOUNTS_ACTION:
                return self.app.get_key_display(active.binding)
        return ""

    def _lines(self) -> list[Text]:
        if not self._statuses:
            return [Text("no accounts configured: add [[accounts]] to the config", style="dim")]
        return strip_lines(
            self._statuses.values(),
            self._clock(),
            max(10, self.content_size.width),
            read_only=self._read_only,
            key=self._key(),
        )

    def render(self) -> Text:
        lines = self._lines()
        if self._drawn is None:
            self._drawn = lines
        return Text("\n").join(lines)
