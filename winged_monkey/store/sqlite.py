"""SQLite store: the last inventory of each account and the append-only event log.

WAL mode and a busy timeout let two `wm` processes share one file. Every write
is its own short transaction; events are deduplicated by their stable key.
One connection serves every thread of the process (a lock serialises them), so
the UI's thread workers may query while the portal appends.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path

from winged_monkey.errors import StoreError
from winged_monkey.models import AccountSnapshot, Event, EventSource
from winged_monkey.store import queries
from winged_monkey.store.busy import BUSY_TIMEOUT_S, locked
from winged_monkey.user import paths

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
    # 2: every filter of the events view has an index that also yields `at` order,
    # so a window query reads only the rows it returns.
    """
    CREATE INDEX events_account_at ON events (account, at);
    CREATE INDEX events_target_at ON events (target, at);
    CREATE INDEX events_kind_at ON events (kind, at);
    CREATE INDEX events_source_at ON events (source, at);
    """,
    # 3: an action's outcome and the observation that settles it point at its intent.
    """
    ALTER TABLE events ADD COLUMN cause TEXT;
    CREATE INDEX events_cause ON events (cause);
    """,
    # 4: `wm events --target` takes a name as well as an id: the name's own index.
    """
    CREATE INDEX events_target_name_at ON events (target_name, at);
    """,
    # 5: a change found after a gap says when its target was last listed (unix seconds).
    """
    ALTER TABLE events ADD COLUMN since REAL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class StoreLocked(StoreError):
    """Another process held the file's lock for the whole busy timeout: the file is
    healthy (keep it) and another try would wait as long again."""


class Store:
    """The portal's local state. Open with `Store.open(path)` or `Store.memory()`."""

    #: Other processes record and follow actions in this log while this one runs (`wm
    #: serve` replicas on PostgreSQL): open intents are read again at each reconcile.
    shares_intents = False
    #: The driver's placeholder in queries (store.queries); the reads below are shared.
    _P = "?"
    #: What else keeps an intent out of `open_intents` (PostgreSQL: a live follower).
    _UNFOLLOWED = ""

    def __init__(
        self, connection: sqlite3.Connection, path: Path | None, *, read_only: bool = False
    ) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False, wait: bool = True) -> Store:
        """Open (creating and migrating) the store at `path`.

        With `read_only`, nothing is created or migrated and every write raises
        StoreError: for `wm events` on a file this process may not write. Another
        process's lock is waited for BUSY_TIMEOUT_S, then raises StoreLocked; without
        `wait`, opening does not wait for it (a lock already waited for once).
        """
        timeout = BUSY_TIMEOUT_S if wait else 0.0
        try:
            if read_only:
                if not path.exists():
                    raise StoreError(f"{path}: no such file; there is no history yet")
                uri = f"{path.resolve().as_uri()}?mode=ro"
                db = sqlite3.connect(
                    uri,
                    uri=True,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                paths.private_file(paths.private_dir(path.parent) / path.name)
                db = sqlite3.connect(
                    path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
            store = cls(db, path, read_only=read_only)
            store._migrate()
            if not wait:  # later calls wait for a lock as any other store's do
                db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        except sqlite3.DatabaseError as exc:
            if locked(exc):  # a healthy file another process holds: moving it loses history
                raise StoreLocked(_locked_words(path)) from None
            raise StoreError(
                f"{path}: {_explain(exc)}. Move the file aside to start a fresh history; "
                "the app runs without history meanwhile"
            ) from None
        except OSError as exc:  # the data directory is a file, or cannot be made or written
            raise StoreError(
                f"{path}: {exc.strerror}: set WM_DATA_DIR to a directory you can write; the app "
                "runs without history meanwhile"
            ) from None
        return store

    @classmethod
    def memory(cls) -> Store:
        """A store that lives and dies with the process (demo fallbacks, broken files)."""
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        store = cls(db, None)
        store._migrate()
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:  # kept as it is: moving it aside would lose its history
            raise StoreError(
                f"{self.path}: written by a newer Winged Monkey (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade wm (the file is kept as it is); the app "
                "runs without history meanwhile"
            )
        if not self.read_only:
            self._probe_write(version)
        if self.read_only:
            if version < 1:
                raise sqlite3.DatabaseError("not a Winged Monkey store (no schema)")
            # Newer migrations only add indexes readers can do without.
            self._db.execute("SELECT count(*) FROM events WHERE 0").fetchone()
            return
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

    def _probe_write(self, version: int) -> None:
        """Fail at open, not at the first event, when SQLite fell back to reading only."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(f"PRAGMA user_version = {int(version)}")
        except sqlite3.OperationalError as exc:
            if locked(exc):
                raise StoreLocked(_locked_words(self.path)) from None
            raise StoreError(
                f"{self.path}: cannot write ({exc}): the file or its directory is read-only; "
                "the app runs without recording history (wm events can still read it)"
            ) from None
        finally:
            self._rollback()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; a read-only or broken file raises StoreError."""
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only; nothing is recorded")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot write ({_explain(exc)})") from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"{self.path}: cannot write ({_explain(exc)})") from None
            except BaseException:
                self._rollback()
                raise

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The lock, and damage found while reading reported as a StoreError."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{self.path or 'memory'}: cannot read ({_explain(exc)})"
                ) from None

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # -- inventory ---------------------------------------------------------

    def save_snapshot(self, snapshot: AccountSnapshot) -> None:
        with self._writing() as db:
            db.execute(
                queries.save_snapshot("?"),
                (snapshot.account, snapshot.fetched_at.isoformat(), snapshot.model_dump_json()),
            )

    def load_snapshot(self, account: str) -> AccountSnapshot | None:
        with self._reading() as db:
            row = db.execute(queries.load_snapshot(self._P), (account,)).fetchone()
        return queries.snapshot(row[0] if row else None)

    def snapshot_time(self, account: str) -> datetime | None:
        """When the account's saved inventory was fetched (its `fetched_at`), or None: tells
        whether a snapshot in hand is still the saved one without reading every row."""
        with self._reading() as db:
            row = db.execute(queries.snapshot_time(self._P), (account,)).fetchone()
        return queries.fetched_at(row[0]) if row else None

    def load_snapshots(self) -> dict[str, AccountSnapshot]:
        with self._reading() as db:
            return queries.snapshots(db.execute(queries.LOAD_SNAPSHOTS).fetchall())

    # -- events ------------------------------------------------------------

    def append_events(self, events: Iterable[Event]) -> int:
        """Insert events, skipping keys already recorded; returns how many were new."""
        rows = [queries.event_row(event) for event in events]
        if not rows:
            return 0
        with self._writing() as db:
            before = db.total_changes
            db.executemany(queries.insert_event("?"), rows)
            return db.total_changes - before

    def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        account: str | None = None,
        target: str | None = None,
        target_or_name: str | None = None,
        kinds: Collection[str] | None = None,
        sources: Collection[EventSource] | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Newest first. `since` is inclusive, `until` exclusive; None means no bound.
        `target` is an instance's or app's id; `target_or_name` its id or its name (what a
        user types to `wm events --target`).

        An empty `kinds` or `sources` matches nothing (a filter with every box unticked).
        """
        return list(
            self.each_event(
                since=since,
                until=until,
                account=account,
                target=target,
                target_or_name=target_or_name,
                kinds=kinds,
                sources=sources,
                limit=limit,
            )
        )

    def each_event(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        account: str | None = None,
        target: str | None = None,
        target_or_name: str | None = None,
        kinds: Collection[str] | None = None,
        sources: Collection[EventSource] | None = None,
        limit: int = 1000,
        chunk: int = 1000,
    ) -> Iterator[Event]:
        """`events`, read `chunk` rows at a time as they are consumed: an export of a
        year's log (a million events) holds one chunk in memory, not all of them. The
        store stays locked until the iterator is exhausted or closed: for a reader that
        consumes it at once (`wm events --json`)."""
        query, params = queries.window(
            self._P,
            since=since,
            until=until,
            account=account,
            target=target,
            target_or_name=target_or_name,
            kinds=kinds,
            sources=sources,
            limit=limit,
        )
        with self._reading() as db:
            cursor = db.execute(query, params)
            while rows := cursor.fetchmany(chunk):
                yield from (queries.row_event(row) for row in rows)

    def events_after(self, seq: int, *, limit: int = 1000) -> list[tuple[int, Event]]:
        """Events recorded after sequence number `seq`, oldest first (for --follow, live views).

        Start from `last_seq()`; pass the last returned seq back in to get the next ones.
        """
        with self._reading() as db:
            return queries.numbered(db.execute(queries.after(self._P), (seq, limit)).fetchall())

    def events_caused_after(
        self, cause: str, seq: int, *, limit: int = 1000
    ) -> list[tuple[int, Event]]:
        """`events_after` of the events whose cause is `cause` alone (an action's outcome
        and what was observed of it), however long the log since `seq`."""
        with self._reading() as db:
            rows = db.execute(queries.caused_after(self._P), (cause, seq, limit)).fetchall()
        return queries.numbered(rows)

    def open_intents(self, account: str, *, limit: int = 500) -> list[Event]:
        """The account's actions requested and never settled: no outcome, or only an
        unknown one (the process died mid-action, or the answer never came)."""
        with self._reading() as db:
            rows = db.execute(
                queries.open_intents(self._P, and_also=self._UNFOLLOWED),
                (account, queries.INTENT_KEYS, limit),
            ).fetchall()
        return [queries.row_event(row) for row in rows]

    def last_seq(self) -> int:
        """The sequence number of the newest recorded event (0 when there is none)."""
        with self._reading() as db:
            (seq,) = db.execute(queries.LAST_SEQ).fetchone()
        return int(seq)

    def accounts(self) -> list[str]:
        """Every account the store has a history of (events or a last inventory), sorted:
        those removed from the config since included."""
        with self._reading() as db:
            return [str(row[0]) for row in db.execute(queries.ACCOUNTS).fetchall()]

    def count_events(self) -> int:
        with self._reading() as db:
            (count,) = db.execute(queries.COUNT).fetchone()
        return int(count)

    def prune_events(
        self,
        *,
        before: datetime | None = None,
        keep: int | None = None,
        batch: int = 500,
        cancelled: Callable[[], bool] | None = None,
    ) -> int:
        """Delete events older than `before`, then all but the newest `keep` (by seq).

        Meant for a thread: a file store prunes over a connection of its own (WAL
        readers never wait for it) in transactions of at most `batch` rows, so the
        portal's writers wait at most one batch. Returns how many were deleted.
        """
        with self._pruning_connection() as db:
            deleted = 0
            if before is not None:
                deleted += self._delete_batches(db, "at < ?", before.timestamp(), batch, cancelled)
            if keep is not None:
                with self._lock if db is self._db else nullcontext():
                    floor = _keep_floor(db, keep)
                if floor is not None:
                    deleted += self._delete_batches(db, "seq <= ?", floor, batch, cancelled)
            return deleted

    @contextmanager
    def _pruning_connection(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise StoreError(f"{self.path}: opened read-only; nothing is pruned")
        if self.path is None:
            yield self._db  # in memory: the one connection, taken batch by batch
            return
        try:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot prune ({_explain(exc)})") from None
        try:
            yield db
        finally:
            db.close()

    def _delete_batches(
        self,
        db: sqlite3.Connection,
        condition: str,
        bound: float,
        batch: int,
        cancelled: Callable[[], bool] | None,
    ) -> int:
        query = queries.delete_batch("?", condition)
        deleted = 0
        while cancelled is None or not cancelled():
            with self._lock if db is self._db else nullcontext():
                try:
                    db.execute("BEGIN IMMEDIATE")
                    removed = db.execute(query, (bound, batch)).rowcount
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise StoreError(f"{self.path}: cannot prune ({_explain(exc)})") from None
            deleted += removed
            if removed < batch:
                break
        return deleted


def _keep_floor(db: sqlite3.Connection, keep: int) -> int | None:
    """The highest seq outside the newest `keep` events, or None when all fit."""
    low, high = db.execute("SELECT min(seq), max(seq) FROM events").fetchone()
    if low is None or high - low + 1 <= keep:  # seqs only grow: the span bounds the count
        return None
    row = db.execute(queries.keep_floor("?"), (max(keep, 0),)).fetchone()
    return int(row[0]) if row else None


def _locked_words(path: Path | None) -> str:
    return (
        f"{path}: locked by another process for over {BUSY_TIMEOUT_S:g} s (another wm, "
        f"wm serve or an sqlite3 shell; `fuser {path}` names it): the file is fine, keep it "
        "and try again once that process is done; the app runs without history meanwhile"
    )


def _explain(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return f"{text} (the file or its directory is read-only)"
    return text


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
