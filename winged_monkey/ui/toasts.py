"""Toasts for actions: one summary per bulk action (or launch), and none over a dialog.

`Bulk` is pure (the outcomes of one bulk action, summed up when the last one ends);
`Toaster` holds toasts while a dialog is open and shows them again when it closes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from textual.notifications import SeverityLevel

from winged_monkey.engine.operations import ActionUpdate

SHOWN_LINES = 4  # a summary's lines before "… and N more"
SHOWN_REASONS = 5  # a refusal note's reasons before "… and N more rows"
_SEVERITY: dict[str, SeverityLevel] = {
    "done": "information",
    "unknown": "warning",  # no failure: the cloud may have acted, the next poll will tell
    "timeout": "warning",
}
_RANK: dict[SeverityLevel, int] = {"information": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Toast:
    message: str
    title: str = ""
    severity: SeverityLevel = "information"
    timeout: float = 5.0


@dataclass
class Bulk:
    """One bulk action (`verb`: "stop", "launch") on `count` instances, or as many as
    were requested when None (a launch learns its ids from the cloud). `track` takes each
    update and returns the one toast when the last outcome is in."""

    verb: str
    count: int | None = None
    what: str = ""  # what a launch made ("nc-test"), for its title
    requested: set[str] = field(default_factory=set)
    outcomes: list[ActionUpdate] = field(default_factory=list)

    def track(self, update: ActionUpdate) -> Toast | None:
        if not update.finished:
            self.requested.add(update.instance.key)
            return None
        self.outcomes.append(update)
        return self._summed()

    def refuse(self, reason: str, key: str = "") -> list[Toast]:
        """One row refused as it was sent (what its provider was read to refuse, before
        anything was asked of it; or, its intent recorded, the refusal its call met: a
        `wm serve`'s 409, whose row `key` was requested): the note the key's own refusal
        shows, then this bulk action's summary if that row was the last one out and
        others ran."""
        if self.count is not None:
            self.count -= 1
        self.requested.discard(key)  # a launch's count: no outcome of it will come
        done = self._summed() if self.outcomes else None
        return [cannot(self.verb, [reason]), *([done] if done is not None else [])]

    def _summed(self) -> Toast | None:
        expected = self.count if self.count is not None else len(self.requested)
        if len(self.outcomes) < expected:
            return None
        return summary(self.verb, self.outcomes, self.what)


def cannot(verb: str, reasons: list[str], asked: int = 0, left_alone: str = "") -> Toast:
    """The note for rows `verb` will not run on, each with its reason: a reason alone when
    it is the only one, one shared by many rows said once (`3 rows: ...`); with `asked`
    (the rows marked, some of which it runs on), `N of M skipped:` before them."""
    grouped = Counter(reasons)
    said = [why if n == 1 else f"{n} rows: {why}" for why, n in grouped.items()]
    listed = "\n".join(f"• {line}" for line in said[:SHOWN_REASONS])
    unsaid = sum(list(grouped.values())[SHOWN_REASONS:])
    more = f"\n… and {_count(unsaid, 'more row')}" if unsaid else ""
    if asked:
        text = f"{len(reasons)} of {asked} skipped:\n{listed}{more}"
    else:  # nothing to do: the reasons alone, short
        text = said[0] if len(said) == 1 else f"{listed}{more}"
        text += f"\n{left_alone}" if left_alone else ""
    return Toast(text, f"Cannot {verb}", "warning")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(verb: str, outcomes: list[ActionUpdate], what: str = "") -> Toast:
    """One toast for the outcomes of one action on one or several instances."""
    worst = max((_SEVERITY.get(u.phase, "error") for u in outcomes), key=_RANK.__getitem__)
    timeout = 5.0 if worst == "information" else 15.0
    if len(outcomes) == 1:
        (update,) = outcomes
        phase = "" if update.phase == "done" else f" ({update.phase})"
        name = update.instance.name or what
        return Toast(update.message, f"{verb.capitalize()} {name}{phase}", worst, timeout)
    ok = [u for u in outcomes if u.phase == "done"]
    # A name two accounts share is said with its account: "web-1, web-1" tells nothing.
    names = Counter(u.instance.name for u in outcomes)

    def label(update: ActionUpdate) -> str:
        row = update.instance
        return row.name if names[row.name] == 1 else f"{row.account_label}/{row.name}"

    lines = [
        f"{', '.join(label(u) for u in group)}: {state}" for state, group in _by_state(ok).items()
    ]
    lines += [f"{label(u)} {u.phase}: {u.message}" for u in outcomes if u.phase != "done"]
    if len(lines) > SHOWN_LINES:
        lines = [*lines[: SHOWN_LINES - 1], f"… and {len(lines) - SHOWN_LINES + 1} more"]
    counted = f"{len(ok)} of {len(outcomes)} done" if len(ok) < len(outcomes) else "all done"
    title = f"{verb.capitalize()} {what or f'{len(outcomes)} instances'}: {counted}"
    return Toast("\n".join(lines), title, worst, timeout)


def _by_state(updates: list[ActionUpdate]) -> dict[str, list[ActionUpdate]]:
    groups: dict[str, list[ActionUpdate]] = {}
    for update in updates:
        groups.setdefault(str(update.instance.state), []).append(update)
    return groups


class Toaster:
    """Shows toasts through `show`, never while `covered()` (a dialog is open): those wait,
    and the ones on screen when a dialog opens are shown again, for the time they had
    left, when it closes."""

    def __init__(
        self,
        show: Callable[[Toast], None],
        clear: Callable[[], None],
        covered: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show, self._clear, self._covered, self._clock = show, clear, covered, clock
        self._waiting: list[Toast] = []
        self._on_screen: list[tuple[float, Toast]] = []  # (until, toast)

    def notify(self, toast: Toast) -> None:
        if self._covered():
            self._waiting.append(toast)
        else:
            self._put(toast)

    def dialog_opened(self) -> None:
        """Take this toaster's toasts off the screen; they come back when it closes."""
        now = self._clock()
        left = [(until, t) for until, t in self._on_screen if until > now]
        self._on_screen = []
        if left:
            self._clear()
            self._waiting[:0] = [replace(t, timeout=until - now) for until, t in left]

    def dismissed(self) -> None:
        """The user cleared the toasts on screen: a dialog's closing does not bring them back."""
        self._on_screen = []

    def dialog_closed(self) -> None:
        waiting, self._waiting = self._waiting, []
        for toast in waiting:
            self._put(toast)

    @property
    def waiting(self) -> list[Toast]:
        return list(self._waiting)

    def _put(self, toast: Toast) -> None:
        # Only those still up are kept: with no dialog all day, not every toast shown.
        now = self._clock()
        self._on_screen = [(until, t) for until, t in self._on_screen if until > now]
        self._on_screen.append((now + toast.timeout, toast))
        self._show(toast)
