"""SQLite store: the last inventory of each account and the append-only event log.

WAL mode and a busy timeout let two `wm` processes share one file. Every write
is its own short transaction; events are deduplicated by their stable key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from winged_monkey.errors import StoreError
from winged_monkey.models import AccountSnapshot, Event

BUSY_TIMEOUT_S = 10.0

# Each entry migrates from version i to i + 1; never edit a released one, add a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE inventory (
        account    TEXT PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        payload    TEXT NOT NULL
    );
    CREATE TABLE events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        key         TEXT NOT NULL UNIQUE,
        at          REAL NOT NULL,  -- unix seconds, UTC
        source      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        account     TEXT NOT NULL,
        target      TEXT NOT NULL,
        target_name TEXT NOT NULL DEFAULT '',
        old_state   TEXT,
        new_state   TEXT,
        outcome     TEXT,
        user        TEXT,
        detail      TEXT,
        duration    REAL
    );
    CREATE INDEX events_at ON events (at);
    CREATE INDEX events_target ON events (account, target, at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_EVENT_COLUMNS = (
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
)


class Store:
    """The portal's local state. Open with `Store.open(path)` or `Store.memory()`."""

    def __init__(self, connection: sqlite3.Connection, path: Path | None) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            store = cls(db, path)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{path}: {exc}. Move the file aside to start a fresh history; "
                "the app runs without history meanwhile"
            ) from None
        except OSError as exc:
            raise StoreError(f"{path}: {exc.strerror}; the app runs without history") from None
        return store

    @classmethod
    def memory(cls) -> Store:
        """A store that lives and dies with the process (demo fallbacks, broken files)."""
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(db, None)
        store._migrate()
        return store

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"written by a newer Winged Monkey (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade wm"
            )
        for target in range(version, SCHEMA_VERSION):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (current,) = self._db.execute("PRAGMA user_version").fetchone()
                if current == target:  # another process may have migrated meanwhile
                    for statement in _statements(MIGRATIONS[target]):
                        self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {target + 1}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- inventory ---------------------------------------------------------

    def save_snapshot(self, snapshot: AccountSnapshot) -> None:
        self._db.execute(
            "INSERT INTO inventory (account, fetched_at, payload) VALUES (?, ?, ?) "
            "ON CONFLICT (account) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "payload = excluded.payload",
            (snapshot.account, snapshot.fetched_at.isoformat(), snapshot.model_dump_json()),
        )

    def load_snapshot(self, account: str) -> AccountSnapshot | None:
        row = self._db.execute(
            "SELECT payload FROM inventory WHERE account = ?", (account,)
        ).fetchone()
        try:
            return AccountSnapshot.model_validate_json(row[0]) if row else None
        except ValidationError:
            return None

    def load_snapshots(self) -> dict[str, AccountSnapshot]:
        snapshots: dict[str, AccountSnapshot] = {}
        for account, payload in self._db.execute("SELECT account, payload FROM inventory"):
            try:
                snapshots[account] = AccountSnapshot.model_validate_json(payload)
            except ValidationError:
                continue  # an older or damaged row is just a cache miss
        return snapshots

    # -- events ------------------------------------------------------------

    def append_events(self, events: Iterable[Event]) -> int:
        """Insert events, skipping keys already recorded; returns how many were new."""
        rows = [_event_row(event) for event in events]
        if not rows:
            return 0
        placeholders = ", ".join("?" for _ in _EVENT_COLUMNS)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            before = self._db.total_changes
            self._db.executemany(
                f"INSERT OR IGNORE INTO events ({', '.join(_EVENT_COLUMNS)}) "  # noqa: S608
                f"VALUES ({placeholders})",
                rows,
            )
            added = self._db.total_changes - before
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return added

    def events(
        self,
        *,
        since: datetime | None = None,
        account: str | None = None,
        target: str | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Newest first."""
        clauses: list[str] = []
        params: list[object] = []
        if since is not None:
            clauses.append("at >= ?")
            params.append(since.timestamp())
        if account is not None:
            clauses.append("account = ?")
            params.append(account)
        if target is not None:
            clauses.append("target = ?")
            params.append(target)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        cursor = self._db.execute(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events {where} "  # noqa: S608
            "ORDER BY at DESC, seq DESC LIMIT ?",
            (*params, limit),
        )
        return [_row_event(row) for row in cursor]


def _event_row(event: Event) -> Sequence[object]:
    data = event.model_dump(mode="json")
    data["at"] = event.at.timestamp()
    return tuple(data[column] for column in _EVENT_COLUMNS)


def _row_event(row: Sequence[object]) -> Event:
    data = dict(zip(_EVENT_COLUMNS, row, strict=True))
    data["at"] = datetime.fromtimestamp(float(data["at"]), tz=UTC)  # type: ignore[arg-type]
    return Event.model_validate(data)


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
