"""The SQL both stores speak (SQLite on one host, PostgreSQL for `wm serve` replicas),
written once: each query takes the driver's placeholder, `?` (sqlite3) or `%s` (psycopg).
Only placeholders and conditions written in the stores go into the text (S608); values
are always parameters.
Also the conversions between events and their rows, and inventory rows and snapshots.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from winged_monkey.models import PART_SEPARATOR, AccountSnapshot, Event, EventSource

EVENT_COLUMNS = (
    "key",
    "at",
    "source",
    "kind",
    "account",
    "target",
    "target_name",
    "old_state",
    "new_state",
    "outcome",
    "user",
    "detail",
    "duration",
    "cause",
    "since",
)
#: Times kept as unix seconds, UTC.
_TIMES = ("at", "since")
#: "user" is a reserved word in PostgreSQL; SQLite takes the quoted name as well.
_COLUMNS = ", ".join(f'"{c}"' if c == "user" else c for c in EVENT_COLUMNS)
SELECT = f"SELECT seq, {_COLUMNS} FROM events"  # noqa: S608
LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events"
COUNT = "SELECT count(*) FROM events"
#: Every account the store knows, from its inventory and its event log: the log's
#: accounts one index probe each (a skip scan of events_account_at), not a scan of it.
ACCOUNTS = """
WITH RECURSIVE logged (account) AS (
    SELECT min(account) FROM events
    UNION ALL
    SELECT (SELECT min(e.account) FROM events AS e WHERE e.account > logged.account)
    FROM logged WHERE logged.account IS NOT NULL
)
SELECT account FROM logged WHERE account IS NOT NULL
UNION
SELECT account FROM inventory
ORDER BY account
"""
#: The engine's own intents, not a server's audit lines (a LIKE pattern, as a parameter:
#: psycopg would read a literal % as a placeholder).
INTENT_KEYS = "action:%"


def insert_event(p: str) -> str:
    """One event; a key already recorded is skipped."""
    return (
        f"INSERT INTO events ({_COLUMNS}) "  # noqa: S608
        f"VALUES ({', '.join(p for _ in EVENT_COLUMNS)}) ON CONFLICT (key) DO NOTHING"
    )


def window(
    p: str,
    *,
    since: datetime | None,
    until: datetime | None,
    account: str | None,
    target: str | None,
    target_or_name: str | None,
    kinds: Collection[str] | None,
    sources: Collection[EventSource] | None,
    limit: int,
) -> tuple[str, list[object]]:
    """Store.events' query and its parameters: newest first, `since` inclusive, `until`
    exclusive; an empty `kinds` or `sources` matches nothing."""
    clauses: list[str] = []
    params: list[object] = []
    for clause, value in (
        ("at >= ", since.timestamp() if since is not None else None),
        ("at < ", until.timestamp() if until is not None else None),
        ("account = ", account),
        ("target = ", target),
    ):
        if value is not None:
            clauses.append(clause + p)
            params.append(value)
    if target_or_name is not None:  # each side has its index (events_target_name_at)
        # A native event's part of the target (`shop/group`) is found by the target's name,
        # as a range of the index: '0' is the character after the separator '/'.
        clauses.append(
            f"(target = {p} OR target_name = {p} OR "
            f"(source = {p} AND target_name >= {p} AND target_name < {p}))"
        )
        params.extend(
            [
                target_or_name,
                target_or_name,
                str(EventSource.NATIVE),
                target_or_name + PART_SEPARATOR,
                target_or_name + chr(ord(PART_SEPARATOR) + 1),
            ]
        )
    for column, values in (("kind", kinds), ("source", sources)):
        if values is not None:
            wanted = sorted({str(v) for v in values})
            # PostgreSQL has no empty IN list: a filter with every box unticked is false.
            clauses.append(f"{column} IN ({', '.join(p for _ in wanted)})" if wanted else "1 = 0")
            params.extend(wanted)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"{SELECT} {where} ORDER BY at DESC, seq DESC LIMIT {p}", [*params, limit]


def after(p: str) -> str:
    """Events after a seq, oldest first; parameters: the seq, the limit."""
    return f"{SELECT} WHERE seq > {p} ORDER BY seq LIMIT {p}"


def caused_after(p: str) -> str:
    """Events that name a cause, after a seq, oldest first (its index, not a scan of the
    log); parameters: the cause, the seq, the limit."""
    return f"{SELECT} WHERE cause = {p} AND seq > {p} ORDER BY seq LIMIT {p}"


def open_intents(p: str, *, and_also: str = "") -> str:
    """An account's actions requested and never settled: no outcome, or only an unknown
    one. Parameters: the account, INTENT_KEYS, what `and_also` takes, the limit."""
    return (
        f"{SELECT} AS r WHERE r.account = {p} AND r.source = 'action' "  # noqa: S608
        f"AND r.key LIKE {p} AND r.outcome = 'requested' "
        "AND NOT EXISTS (SELECT 1 FROM events AS o WHERE o.cause = r.key "
        "AND o.outcome != 'unknown' AND o.source = 'action') "  # a server's parts settle none
        f"{and_also} ORDER BY r.at LIMIT {p}"
    )


def delete_batch(p: str, condition: str) -> str:
    """Delete up to a batch (the last parameter) of the oldest events `condition` holds."""
    return (
        "DELETE FROM events WHERE seq IN "  # noqa: S608
        f"(SELECT seq FROM events WHERE {condition} ORDER BY seq LIMIT {p})"
    )


def keep_floor(p: str) -> str:
    """The highest seq outside the newest N events (the parameter)."""
    return f"SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET {p}"  # noqa: S608


def load_snapshot(p: str) -> str:
    return f"SELECT payload FROM inventory WHERE account = {p}"  # noqa: S608


def snapshot_time(p: str) -> str:
    return f"SELECT fetched_at FROM inventory WHERE account = {p}"  # noqa: S608


def fetched_at(value: object) -> datetime:
    """An inventory row's `fetched_at`: SQLite keeps the ISO text, PostgreSQL a timestamptz."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


LOAD_SNAPSHOTS = "SELECT account, payload FROM inventory"


def save_snapshot(p: str) -> str:
    return (
        f"INSERT INTO inventory (account, fetched_at, payload) VALUES ({p}, {p}, {p}) "  # noqa: S608
        "ON CONFLICT (account) DO UPDATE SET fetched_at = excluded.fetched_at, "
        "payload = excluded.payload"
    )


def snapshot(payload: str | None) -> AccountSnapshot | None:
    """An inventory row's snapshot; an older or damaged one is a cache miss."""
    try:
        return AccountSnapshot.model_validate_json(payload) if payload else None
    except ValidationError:
        return None


def snapshots(rows: Iterable[Sequence[Any]]) -> dict[str, AccountSnapshot]:
    """`LOAD_SNAPSHOTS` rows by account, less the ones that no longer read."""
    found = {account: snapshot(payload) for account, payload in rows}
    return {account: one for account, one in found.items() if one is not None}


def event_row(event: Event) -> Sequence[object]:
    data = event.model_dump(mode="json")
    data["at"] = event.at.timestamp()
    data["since"] = event.since.timestamp() if event.since is not None else None
    return tuple(data[column] for column in EVENT_COLUMNS)


def row_event(row: Sequence[Any]) -> Event:
    """A SELECT row (its seq first) as an Event."""
    data = dict(zip(EVENT_COLUMNS, row[1:], strict=True))
    for column in _TIMES:
        if data[column] is not None:
            data[column] = datetime.fromtimestamp(data[column], tz=UTC)
    return Event.model_validate(data)  # faster than model_construct in pydantic 2


def numbered(rows: Iterable[Sequence[Any]]) -> list[tuple[int, Event]]:
    return [(int(row[0]), row_event(row)) for row in rows]
