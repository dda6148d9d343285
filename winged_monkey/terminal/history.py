"""What the event views compute from the log: windows, states over time, activity per bin.

Pure functions of events, instances and a `now` passed in (no Textual, no IO), so the
events view, the timeline and the plot stay deterministic under test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from winged_monkey.models import AccountStatus, Event, EventSource, Instance, InstanceState

#: The time windows `w` cycles through, in order; None is everything recorded.
WINDOWS: dict[str, timedelta | None] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "all": None,
}
WINDOW_LABELS = {"hour": "last hour", "day": "last day", "week": "last week", "all": "all time"}

#: Bin sizes the plot may use (seconds): the smallest one that fits the width wins.
NICE_BINS = (
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    2 * 3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
    30 * 86400,
)
RUNNING = str(InstanceState.RUNNING)
#: The "state" of a span nobody saw: from a change's `since` (its target last listed in
#: the old state) to when the change was found. Not InstanceState.UNKNOWN, which a
#: provider said.
NOT_LISTED = "not listed"
#: The `opened_by` of the span from a target's launch to its first event.
LAUNCHED = "launched"
_STATE_ORDER = {str(state): n for n, state in enumerate(InstanceState)}


def in_portal_words(event: Event) -> bool:
    """Whether the event's states are the portal's (running, stopped...). A backend's own
    log speaks its provider's words (Heat's CREATE_COMPLETE, of the stack or of one of its
    resources): it is listed and read, but it times no state, or an app read
    CREATE_COMPLETE for hours beside its own `suspended` and ran for none of them."""
    return all(s is None or s in _STATE_ORDER for s in (event.old_state, event.new_state))


def duration_text(seconds: float) -> str:
    """Two units at most: 45s, 12m 05s, 3h 07m, 2d 4h, 3w 1d."""
    total = max(0, int(seconds))
    units = ((604800, "w"), (86400, "d"), (3600, "h"), (60, "m"), (1, "s"))
    for n, (size, unit) in enumerate(units):
        if total >= size or size == 1:
            big, rest = divmod(total, size)
            if n + 1 == len(units):
                return f"{big}{unit}"
            small_size, small_unit = units[n + 1]
            small = rest // small_size
            width = 2 if small_unit in ("m", "s") else 1
            return f"{big}{unit} {small:0{width}d}{small_unit}" if small else f"{big}{unit}"
    return "0s"  # pragma: no cover - the loop always returns


def bin_label(seconds: int) -> str:
    """`hour` for 3600 and `6 h`, `5 min`, `day`: the unit of a plot bin."""
    named = {60: "min", 3600: "hour", 86400: "day", 7 * 86400: "week"}
    if seconds in named:
        return named[seconds]
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def change_text(event: Event) -> str:
    """`running→stopped`, `→running` (an action's result), `stopped→` (vanished)."""
    if event.old_state is None and event.new_state is None:
        return ""
    return f"{event.old_state or ''}→{event.new_state or ''}"


def search_text(event: Event) -> str:
    """What the text filter matches anywhere in (lowercase): what the row shows (the id
    where the target has no name; else its start matches, render.id_starts)."""
    fields = (
        event.account,
        event.target_name or event.target,
        event.kind,
        str(event.source),
        event.old_state or "",
        event.new_state or "",
        event.outcome or "",
        event.user or "",
        event.detail or "",
    )
    return " ".join(fields).lower()


def states_of(events: Iterable[Event]) -> list[str]:
    """The states the events mention, in the portal's state order."""
    found = {s for e in events for s in (e.old_state, e.new_state) if s}
    return sorted(found, key=lambda s: (_STATE_ORDER.get(s, len(_STATE_ORDER)), s))


# -- states over time ----------------------------------------------------------


def reached_at(event: Event) -> datetime:
    """When the event's new state held: an action recorded in one event (no intent
    before it) is dated when it was asked for, and reached its state `duration` later."""
    if (
        event.source is EventSource.ACTION
        and event.outcome == "ok"
        and event.duration
        and event.cause is None  # an outcome linked to its intent is recorded when reached
    ):
        return event.at + timedelta(seconds=event.duration)
    return event.at


@dataclass(frozen=True)
class StateSpan:
    """A stretch of time in one state; `end` None means it still holds."""

    state: str
    start: datetime
    end: datetime | None
    opened_by: str  # the key of the event that entered the state (LAUNCHED: the launch)
    #: False: the state was held before `start` (the first event found it in it) and when
    #: it began is unknown, so its time is at least this much.
    began: bool = True

    def seconds(self, now: datetime) -> float:
        return ((self.end or now) - self.start).total_seconds()


def state_spans(events: Iterable[Event], launched: datetime | None = None) -> list[StateSpan]:
    """The states one target went through, from consecutive state-bearing events.

    The state before the first event (its old state) is timed from `launched`, the
    target's creation, when known and earlier; else it is not timed (its start is
    unknown), and a span of it the first events continue has `began` False. A repeated
    state (an action's result, then the refresh that observed it) continues its span.
    A change found after a gap (`since`) ends the old state when it was last listed, and
    the time until the change was found is a NOT_LISTED span: no state was seen then.
    """
    ordered = sorted(filter(in_portal_words, events), key=reached_at)
    first = min(ordered, key=lambda e: e.at, default=None)
    before = first.old_state if first is not None else None
    spans: list[StateSpan] = []
    current: tuple[str, datetime, str] | None = None  # state, since, opened by
    if first is not None and before is not None and launched is not None and launched < first.at:
        current = (before, launched, LAUNCHED)
    held = before if current is None else None  # the state found held, start unknown
    for event in ordered:
        gone = event.kind == "vanished"
        new = None if gone else event.new_state
        if new is None and not gone:
            continue
        at = reached_at(event)
        if current is not None and current[0] == new:
            continue
        # Not before the state it ends was seen to begin (an action's result in the gap).
        gap = event.since if event.since is not None and event.since < at else None
        if gap is not None and current is not None:
            gap = max(gap, current[1])
        if current is not None:
            spans.append(StateSpan(current[0], current[1], gap or at, current[2]))
        if gap is not None and gap < at:
            spans.append(StateSpan(NOT_LISTED, gap, at, f"{event.key}#{NOT_LISTED}"))
        current = (new, at, event.key) if new is not None else None
    if current is not None:
        spans.append(StateSpan(current[0], current[1], None, current[2]))
    if spans and held is not None and spans[0].state == held and spans[0].opened_by != LAUNCHED:
        spans[0] = replace(spans[0], began=False)  # found in it: held since before
    return spans


def time_in_states(spans: Iterable[StateSpan], now: datetime) -> list[tuple[str, float]]:
    """Total seconds per state, longest first."""
    totals: dict[str, float] = {}
    for span in spans:
        totals[span.state] = totals.get(span.state, 0.0) + span.seconds(now)
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


# -- activity over time --------------------------------------------------------


@dataclass(frozen=True)
class Bins:
    """`count` equal bins of `size` seconds ending at `end`."""

    end: datetime
    size: int
    count: int

    @property
    def start(self) -> datetime:
        return self.end - timedelta(seconds=self.size * self.count)

    def index(self, at: datetime) -> int | None:
        offset = (at - self.start).total_seconds()
        if offset < 0 or at > self.end:
            return None
        return min(self.count - 1, int(offset // self.size))

    def overlapping(self, start: datetime, end: datetime) -> range:
        """Indexes of the bins that [start, end) touches."""
        lo = max(0.0, (start - self.start).total_seconds())
        hi = min(float(self.size * self.count), (end - self.start).total_seconds())
        if hi <= lo:
            return range(0)
        return range(int(lo // self.size), min(self.count, math.ceil(hi / self.size)))


def choose_bins(start: datetime, end: datetime, most: int) -> Bins:
    """The smallest nice bin size that shows [start, end] in at most `most` bins."""
    span = max(1.0, (end - start).total_seconds())
    for size in NICE_BINS:
        count = math.ceil(span / size - 1e-6)  # a day is 24 hours, not 25
        if count <= most:
            return Bins(end, size, max(1, count))
    size = NICE_BINS[-1]
    return Bins(end, size, min(most, math.ceil(span / size)))


def activity_by_kind(events: Iterable[Event], bins: Bins, rows: int) -> list[tuple[str, list[int]]]:
    """Events per bin for the busiest kinds; the rest summed as `other` in the last row."""
    counts: dict[str, list[int]] = {}
    for event in events:
        index = bins.index(event.at)
        if index is not None:
            counts.setdefault(event.kind, [0] * bins.count)[index] += 1
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1]), item[0]))
    if len(ranked) <= rows:
        return ranked
    kept, rest = ranked[: rows - 1], ranked[rows - 1 :]
    other = [sum(values[i] for _, values in rest) for i in range(bins.count)]
    return [*kept, ("other", other)]


def not_listed_since(
    instance: Instance, status: AccountStatus
) -> tuple[datetime | None, str] | None:
    """While its account does not list `instance` now (the account failed or is not listed
    yet, or its source keeps the row as last seen): when it was last listed (None: unknown)
    and why not now. None while it is listed now."""
    why = status.unseen(instance)
    if why == "source":  # an aggregator's row: as its server last listed it
        return instance.observed_at, "its source cannot list it"
    if why == "failed":
        return status.fetched_at, "account failing"
    return (status.fetched_at, "not listed yet") if why == "not listed" else None


def seen_until(events: Iterable[Event], listed: datetime | None) -> datetime | None:
    """Until when a target its account does not list now was seen: its last listing, or a
    newer event that saw its state (an action's outcome); None when nothing says."""
    observed = [reached_at(e) for e in events if e.new_state]
    return max([t for t in (listed, max(observed, default=None)) if t is not None], default=None)


def running_by_account(
    events: Sequence[Event],
    instances: Iterable[Instance],
    accounts: Iterable[str],
    bins: Bins,
    unlisted: Mapping[tuple[str, str], datetime | None] | None = None,
) -> dict[str, list[int]]:
    """How many instances of each account ran in each bin (at any moment of it).

    Built from the state transitions in `events` (the window's); an instance with no
    event in the window kept the state the inventory shows now since it was created.
    Each instance counts at most once per bin, however often it started and stopped in it.
    `unlisted`: the rows their account does not list now, by (account, id), with when they
    were last listed (None: unknown): they count as running until then, not to the end
    (see `unseen_by_account` for the rest).
    """
    unlisted = unlisted or {}
    running: dict[str, list[int]] = {name: [0] * bins.count for name in accounts}
    by_target = _by_target(filter(in_portal_words, events))
    listed = {(i.account, i.id): i for i in instances}
    for key, instance in listed.items():
        if key in by_target or instance.state is not InstanceState.RUNNING:
            continue
        end = unlisted.get(key, bins.end)
        if end is None:
            continue  # running when, nobody knows
        since = max(bins.start, instance.created_at or bins.start)
        _add(running, instance.account, set(bins.overlapping(since, end)), bins.count)
    for (account, target), mine in by_target.items():
        seen = listed.get((account, target))
        created = seen.created_at if seen is not None else None
        key = (account, target)
        until = (seen_until(mine, unlisted[key]) or bins.start) if key in unlisted else None
        _add(running, account, running_slots(mine, created, bins, until=until), bins.count)
    return running


def unseen_by_account(
    events: Sequence[Event],
    instances: Iterable[Instance],
    accounts: Iterable[str],
    bins: Bins,
    unlisted: Mapping[tuple[str, str], datetime | None] | None = None,
    silent: Mapping[str, datetime | None] | None = None,
) -> dict[str, list[int]]:
    """How many instances of each account were in a state nobody saw in each bin: a gap
    before a change found late (NOT_LISTED), and a row not listed now since it was last
    seen (`unlisted`, as for `running_by_account`). `silent`: the accounts not listed now
    (failing, or not answered yet), with when they were last listed (None: never): since
    then one more is unseen, as what they hold may have changed unseen (an account that
    never answered has no rows, and is not "none running")."""
    unlisted = unlisted or {}
    unseen: dict[str, list[int]] = {name: [0] * bins.count for name in accounts}
    for account, listed in (silent or {}).items():
        since = max(listed or bins.start, bins.start)
        _add(unseen, account, bins.overlapping(since, bins.end), bins.count)
    by_target = _by_target(events)
    for instance in instances:
        by_target.setdefault((instance.account, instance.id), [])
    for (account, target), mine in by_target.items():
        slots: set[int] = set()
        for span in state_spans(mine):
            if span.state == NOT_LISTED and span.end is not None:
                slots.update(bins.overlapping(span.start, span.end))
        if (account, target) in unlisted:
            seen = seen_until(mine, unlisted[account, target]) or bins.start
            slots.update(bins.overlapping(max(seen, bins.start), bins.end))
        _add(unseen, account, slots, bins.count)
    return unseen


def _by_target(events: Iterable[Event]) -> dict[tuple[str, str], list[Event]]:
    by_target: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        by_target.setdefault((event.account, event.target), []).append(event)
    return by_target


def running_slots(
    events: Iterable[Event], created: datetime | None, bins: Bins, *, until: datetime | None = None
) -> set[int]:
    """The bins in which one instance ran at any moment, from its events in the window.

    The state before its first event is the first event's `old_state` (an intent or an
    observed change says it), held since it was created (`created`, when known) or the
    window's start until then, or until it was last listed (its `since`); an `appeared` or
    launched instance has no state before. A set: a stop and a start within one bin still
    count that bin once. `until`: when its state was last seen, for a row not listed now
    (its current state is not counted after).
    """
    ordered = sorted(events, key=reached_at)
    slots: set[int] = set()
    if not ordered:
        return slots
    first = ordered[0]
    first_at = reached_at(first)
    before: str | None = None
    if first.kind in ("appeared", "launch"):
        pass  # it did not exist before
    elif first.old_state is not None:  # an intent, or an observed change
        before = first.old_state
    else:  # an action's outcome alone: the refresh that saw it leave tells what it left
        before = next(
            (
                e.old_state
                for e in ordered[1:]
                if e.source is not EventSource.ACTION and e.new_state == first.new_state
            ),
            None,
        )
    if before == RUNNING:
        # Since its creation; a creation date after its first event is not believed (the
        # event saw it earlier): then since the window's start, as with no date at all.
        known = created if created is not None and created <= first_at else None
        since = max(bins.start, known or bins.start)
        last_seen = min(first.since, first_at) if first.since is not None else first_at
        slots.update(bins.overlapping(since, last_seen))
    for span in state_spans(ordered):
        if span.state == RUNNING:
            end = span.end or (max(until, span.start) if until is not None else bins.end)
            slots.update(bins.overlapping(span.start, end))
    return slots


def _add(running: dict[str, list[int]], account: str, indexes: Iterable[int], count: int) -> None:
    row = running.setdefault(account, [0] * count)
    for i in indexes:
        row[i] += 1


SPARKS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[int], peak: int) -> str:
    """One character per value: `·` for none, then eighth blocks up to `peak`."""
    out = []
    for value in values:
        if value <= 0 or peak <= 0:
            out.append("·")
        else:
            level = min(len(SPARKS), max(1, math.ceil(value / peak * len(SPARKS))))
            out.append(SPARKS[level - 1])
    return "".join(out)


# -- one change, one row ---------------------------------------------------------------


def folded(events: Sequence[Event]) -> list[Event]:
    """One row per change: an action's intent and what `cause` links to it (its outcome,
    the observation that settled it) become one event, newest first.

    The row reads as the change: the intent's kind, source and user (the stop, not the
    `state` observation that followed it), the outcome and its detail from the part that
    settled it, the state before from its first part and the state after from its newest.
    It sits where its newest part is (the time of the last thing that happened to it),
    under the first part's key, names the instance its newest part is about (a launch's
    new instance), and counts its parts at the end of its detail. An event whose cause is
    not loaded stands alone.
    """
    by_key = {e.key: e for e in events}

    def root(event: Event) -> str:
        seen = {event.key}
        while event.cause in by_key and event.cause not in seen:
            event = by_key[event.cause]
            seen.add(event.key)
        return event.key

    groups: dict[str, list[Event]] = {}
    for event in events:  # newest first: a group sits where its newest part is
        groups.setdefault(root(event), []).append(event)
    rows = []
    for key, parts in groups.items():
        if len(parts) == 1:
            rows.append(parts[0])
            continue
        newest, first = parts[0], by_key[key]
        ended = next((p for p in parts if p.outcome not in (None, "requested")), None)
        said = ended or newest
        count = f"{len(parts)} parts"
        rows.append(
            newest.model_copy(
                update={
                    "key": key,
                    "source": first.source,
                    "kind": first.kind,
                    "user": first.user or said.user,
                    "old_state": next((p.old_state for p in reversed(parts) if p.old_state), None),
                    "new_state": next((p.new_state for p in parts if p.new_state), None),
                    "outcome": ended.outcome if ended else first.outcome,
                    "detail": f"{said.detail} · {count}" if said.detail else count,
                    "duration": ended.duration if ended else None,
                    "cause": None,
                }
            )
        )
    return rows
