"""Reading the event log for people and scripts: time windows, filters, exports (and its
retention, store/retention.py's, which every listing runs without importing this module).

UI-free like the portal: the CLI's `wm events` and the TUI's events view share it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import textwrap
import zoneinfo
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from winged_monkey.models import Event, EventSource, owner_name
from winged_monkey.store.queries import EVENT_COLUMNS
from winged_monkey.store.retention import enforce_retention as enforce_retention
from winged_monkey.store.sqlite import Store

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

#: Column order of the CSV export (JSON objects carry the same fields): the store's
#: columns, the key, without the link to a cause; columns added since go after the key,
#: where a script reading by position does not see the others move.
ADDED_COLUMNS = ("since",)
EXPORT_COLUMNS = (
    *(c for c in EVENT_COLUMNS if c not in ("key", "cause", *ADDED_COLUMNS)),
    "key",
    *ADDED_COLUMNS,
)
TABLE_HEADER = (
    "TIME",
    "SOURCE",
    "KIND",
    "ACCOUNT",
    "TARGET",
    "NAME",
    "CHANGE",
    "OUTCOME",
    "DETAIL",
)


def parse_when(text: str, now: datetime) -> datetime:
    """A point in time from a user: `30s`, `15m`, `1h`, `2d`, `1w` before `now`; `now`;
    a date `2026-11-01` (its midnight) or an ISO date-time `2026-11-01T08:30`.

    Dates and times without an offset are local time; a local time a DST change skips or
    shows twice needs its offset. Raises ValueError saying what is accepted.
    """
    value = text.strip().lower()
    if value == "now":
        return now
    if match := _RELATIVE.match(value):
        amount, unit = float(match[1]), match[2]
        return now - timedelta(seconds=amount * _UNITS[unit])
    dated = re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    try:
        if dated:
            day = date.fromisoformat(value)
            parsed = datetime(day.year, day.month, day.day)
        else:
            parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use an age like 30m, 1h, 2d, 1w, "
            "a date like 2026-11-01 or a date-time like 2026-11-01T08:30"
        ) from None
    if parsed.tzinfo is not None:
        return parsed
    if not dated:  # a date-time: one the local clocks skip or show twice is no one time
        _check_local(text, parsed)
        return parsed.astimezone(UTC)
    first, second = (parsed.replace(fold=fold).astimezone() for fold in (0, 1))
    if first.replace(tzinfo=None) != parsed:  # clocks that skip midnight (Chile, Cuba):
        return max(first, second).astimezone(UTC)  # the day begins when they land
    return first.astimezone(UTC)  # midnight, or the first of two


def _check_local(text: str, naive: datetime) -> None:
    """Refuse a local time a DST change skipped (spring) or showed twice (autumn),
    naming the offsets that make it one time."""
    first, second = (naive.replace(fold=fold).astimezone() for fold in (0, 1))
    offsets = [f"{text.strip()}{o.isoformat()[-6:]}" for o in (first, second)]
    if first.utcoffset() == second.utcoffset():
        return
    if first.replace(tzinfo=None) != naive:  # the clocks jumped over it
        raise ValueError(
            f"{text!r} does not exist in local time (the clocks skipped it for daylight "
            f"saving): give its offset, {offsets[0]} or {offsets[1]}"
        )
    raise ValueError(
        f"{text!r} comes twice in local time (the clocks went back over it): give its "
        f"offset, {offsets[0]} (the first) or {offsets[1]} (the second)"
    )


@dataclass(frozen=True)
class EventQuery:
    """A filter over the log; `run` asks the store, `matches` checks one event (for --follow).

    `target` is what a user types: an instance's or app's id, or its name.
    """

    since: datetime | None = None
    until: datetime | None = None
    account: str | None = None
    target: str | None = None
    kinds: Collection[str] | None = None
    sources: Collection[EventSource] | None = None
    limit: int = 1000

    def run(self, store: Store) -> list[Event]:
        """Newest first."""
        return list(self.each(store))

    def each(self, store: Store) -> Iterator[Event]:
        """`run`, read as it is consumed (an export of any size in little memory)."""
        return store.each_event(
            since=self.since,
            until=self.until,
            account=self.account,
            target_or_name=self.target,
            kinds=self.kinds,
            sources=self.sources,
            limit=self.limit,
        )

    def matches(self, event: Event) -> bool:
        return (
            (self.since is None or event.at >= self.since)
            and (self.until is None or event.at < self.until)
            and (self.account is None or event.account == self.account)
            and (
                self.target is None
                or self.target in (event.target, event.target_name, owner_name(event))
            )
            and (self.kinds is None or event.kind in self.kinds)
            and (self.sources is None or event.source in self.sources)
        )


# -- output ------------------------------------------------------------------


def event_record(event: Event) -> dict[str, object]:
    """The exported fields of one event, JSON-ready (time as ISO 8601 UTC)."""
    data = event.model_dump(mode="json")
    data["at"] = event.at.astimezone(UTC).isoformat()
    data["since"] = event.since.astimezone(UTC).isoformat() if event.since else None
    return {column: data[column] for column in EXPORT_COLUMNS}


def to_json(events: Iterable[Event]) -> str:
    return "".join(json_chunks(events))


def json_chunks(events: Iterable[Event]) -> Iterator[str]:
    """`json.dumps(records, indent=2)` piece by piece, an event at a time."""
    opening = "[\n"
    for event in events:
        yield opening + textwrap.indent(json.dumps(event_record(event), indent=2), "  ")
        opening = ",\n"
    yield "[]" if opening == "[\n" else "\n]"


def to_json_line(event: Event) -> str:
    return json.dumps(event_record(event))


def to_csv(events: Iterable[Event], *, header: bool = True) -> str:
    return "".join(csv_chunks(events, header=header))


def csv_chunks(events: Iterable[Event], *, header: bool = True, rows: int = 1000) -> Iterator[str]:
    """The CSV export `rows` lines at a time (the header with the first)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    for n, event in enumerate(events, 1):
        writer.writerow(event_record(event))
        if n % rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def change_text(event: Event) -> str:
    if event.old_state and event.new_state:
        return f"{event.old_state} → {event.new_state}"
    if event.new_state:
        return f"→ {event.new_state}"
    return f"{event.old_state} →" if event.old_state else ""


def event_row(event: Event) -> tuple[str, ...]:
    """One line of the human table; times in local time with their UTC offset (a log read
    in another zone, or across a DST change, when 01:30 comes twice, says which time)."""
    detail = event.detail or ""
    if event.user:
        detail = f"by {event.user}" + (f": {detail}" if detail else "")
    if event.duration is not None:
        detail += f" ({event.duration:.1f} s)"
    return (
        event.at.astimezone().isoformat(" ", "seconds"),
        str(event.source),
        event.kind,
        event.account,
        event.target,
        event.target_name or "-",
        change_text(event) or "-",
        event.outcome or "-",
        " ".join(detail.split()) or "-",
    )


#: A POSIX TZ rule, which names its offset: `EST5EDT`, `<+0530>-5:30` (no zoneinfo file).
_POSIX_TZ = re.compile(r"^(<[^>]+>|[A-Za-z]{3,})[+-]?\d")


def unknown_zone() -> str | None:
    """What to tell a user whose TZ names no zone: the C library then shows UTC, saying
    nothing (TZ=Europe/Lodnon), and the table's +00:00 would read as a choice."""
    zone = os.environ.get("TZ", "")
    name = zone.removeprefix(":")
    if not name or _POSIX_TZ.match(name):
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return (
            f"TZ={zone!r} is no time zone this system knows (see /usr/share/zoneinfo): "
            "times are shown in UTC"
        )
    return None


def event_rows(events: Iterable[Event]) -> list[tuple[str, ...]]:
    return [TABLE_HEADER, *(event_row(e) for e in events)]
