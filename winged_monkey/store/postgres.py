"""PostgreSQL store: the same public methods as the SQLite Store, for `wm serve` replicas
that share one database (`[serve] database = "postgresql://..."`).

A pool of connections (psycopg 3) in autocommit; every write is one short transaction.
Migrations are numbered rows of their own table, applied under an advisory lock so
replicas starting together migrate once. Appends are serialised by a transaction-scoped
advisory lock: sequence numbers then commit in order, so a reader following `seq` (events
after N) never skips an event that a slower transaction committed later with a lower
number. Any database failure is a StoreError that says the database is unreachable.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from winged_monkey.errors import StoreError
from winged_monkey.models import AccountSnapshot, Event
from winged_monkey.store import queries
from winged_monkey.store.sqlite import Store

log = logging.getLogger("winged_monkey.store.postgres")

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

#: Advisory lock keys (one number space per database): migrations, appends; the first
#: key of pg_advisory_lock(int, int) for the action intents a process follows.
MIGRATION_LOCK = 0x776D_0001
APPEND_LOCK = 0x776D_0002
INTENT_NAMESPACE = 0x776E
POOL_TIMEOUT_S = 3.0
#: Seconds between two attempts to reach a database found unreachable.
PROBE_S = 0.5
#: NOTIFY channel: an account's inventory was saved (the payload is its name).
INVENTORY_CHANNEL = "wm_inventory"
STATEMENT_TIMEOUT_MS = 10_000
#: A request's own database checks (token, rate budget): cut short after this.
QUICK_STATEMENT_MS = 500
QUICK_POOL_TIMEOUT_S = 0.5

# Each entry migrates from version i to i + 1; never edit a released one, add a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE inventory (
        account    TEXT PRIMARY KEY,
        fetched_at TIMESTAMPTZ NOT NULL,
        payload    TEXT NOT NULL
    );
    CREATE TABLE events (
        seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key         TEXT NOT NULL UNIQUE,
        at          DOUBLE PRECISION NOT NULL,  -- unix seconds, UTC (as in SQLite)
        source      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        account     TEXT NOT NULL,
        target      TEXT NOT NULL,
        target_name TEXT NOT NULL DEFAULT '',
        old_state   TEXT,
        new_state   TEXT,
        outcome     TEXT,
        "user"      TEXT,
        detail      TEXT,
        duration    DOUBLE PRECISION,
        cause       TEXT
    );
    CREATE INDEX events_at ON events (at);
    CREATE INDEX events_target ON events (account, target, at);
    CREATE INDEX events_account_at ON events (account, at);
    CREATE INDEX events_target_at ON events (target, at);
    CREATE INDEX events_kind_at ON events (kind, at);
    CREATE INDEX events_source_at ON events (source, at);
    CREATE INDEX events_cause ON events (cause);
    """,
    # 2: `wm serve`'s tokens (hashes only) and rate-limit buckets, shared by the replicas.
    """
    CREATE TABLE tokens (
        id         TEXT PRIMARY KEY,
        hash       TEXT NOT NULL UNIQUE,
        "user"     TEXT NOT NULL,
        role       TEXT NOT NULL,
        pool       TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION,
        revoked_at DOUBLE PRECISION
    );
    CREATE TABLE rate_buckets (
        key    TEXT PRIMARY KEY,
        tokens  DOUBLE PRECISION NOT NULL,
        at      DOUBLE PRECISION NOT NULL,
        granted BOOLEAN NOT NULL DEFAULT true  -- whether the last request got a token
    );
    """,
    # 3: each account's catalog as the replica that fetched it last found it.
    """
    CREATE TABLE catalogs (
        account    TEXT PRIMARY KEY,
        fetched_at DOUBLE PRECISION NOT NULL,  -- unix seconds, the database's clock
        payload    TEXT NOT NULL
    );
    """,
    # 4: `wm events --target` takes a name as well as an id: the name's own index.
    """
    CREATE INDEX events_target_name_at ON events (target_name, at);
    """,
    # 5: a change found after a gap says when its target was last listed (unix seconds).
    """
    ALTER TABLE events ADD COLUMN since DOUBLE PRECISION;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def redact(url: str) -> str:
    """The URL without a password, for messages (a password never belongs in it anyway)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{host}"


class PostgresStore(Store):
    """A Store by its interface (the engine takes it wherever it takes one): its reads
    are the SQLite Store's queries over its own pooled connections; its writes and its
    connection code are its own. Open with `PostgresStore.connect(url, password)`."""

    shares_intents = True
    _P = "%s"
    #: Open intents leave out those a live process still follows (it holds their lock).
    _UNFOLLOWED = (
        "AND NOT EXISTS (SELECT 1 FROM pg_locks AS l WHERE l.locktype = 'advisory' "  # noqa: S608
        f"AND l.classid = {INTENT_NAMESPACE} AND l.objid = hashtext(r.key)::oid "
        "AND l.objsubid = 2)"
    )

    def __init__(
        self, pool: ConnectionPool[Any], url: str, quick: ConnectionPool[Any] | None = None
    ) -> None:
        self._pool = pool
        self._quick = quick or pool
        self.url = redact(url)
        self._down = threading.Event()
        self._intent_lock = threading.Lock()
        self._intent_db: psycopg.Connection[Any] | None = None
        self._following: set[str] = set()
        self._probe_lock = threading.Lock()
        self._closed = False
        self.path = None
        self.read_only = False

    @classmethod
    def connect(
        cls,
        url: str,
        password: str | None = None,
        *,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = POOL_TIMEOUT_S,
    ) -> PostgresStore:
        """Open a pool on `url` and migrate; StoreError when the database cannot be used."""
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise StoreError(
                "a postgresql:// database needs psycopg: "
                "pip install 'winged-monkey[serve-postgres]'"
            ) from None
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            "application_name": "wm-serve",
            # A database that vanishes without closing its sockets (a partition) is found
            # out in seconds, not at TCP's default of minutes: the lease connection's locks
            # are then given up, and the server frees them on its side the same way.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 15_000,
        }
        if password is not None:
            kwargs["password"] = password
        pool: ConnectionPool[Any] = ConnectionPool(
            url,
            kwargs=kwargs,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            name="wm-store",
        )
        # The requests' own checks (token, rate budget) run on the server's event loop:
        # their pool gives up soon, so a slow database delays a request, not the server.
        quick_kwargs = {**kwargs, "options": f"-c statement_timeout={QUICK_STATEMENT_MS}"}
        quick: ConnectionPool[Any] = ConnectionPool(
            url,
            kwargs=quick_kwargs,
            min_size=1,
            max_size=4,
            timeout=QUICK_POOL_TIMEOUT_S,
            open=False,
            name="wm-store-quick",
        )
        store = cls(pool, url, quick)
        try:
            pool.open(wait=True, timeout=timeout)
            quick.open(wait=False)
            store._migrate()
        except StoreError:
            store.close()
            raise
        except Exception as exc:
            store.close()
            raise store._unreachable(exc) from None
        return store

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The connection pool (tokens, rate limits and leases share it)."""
        return self._pool

    def close(self) -> None:
        self._closed = True
        with self._intent_lock:
            if self._intent_db is not None:
                self._intent_db.close()
        if self._quick is not self._pool:
            self._quick.close()
        self._pool.close()

    def dedicated_connection(self) -> psycopg.Connection[Any]:
        """A connection outside the pool, for session state (advisory locks live and die
        with it); psycopg.Error when the database cannot be reached."""
        import psycopg

        conninfo, kwargs = self._pool.conninfo, self._pool.kwargs
        assert isinstance(conninfo, str)  # as connect() set them
        assert isinstance(kwargs, dict)
        return psycopg.connect(conninfo, **kwargs)

    def _unreachable(self, exc: BaseException) -> StoreError:
        detail = " ".join(str(exc).split())[:300] or type(exc).__name__
        return StoreError(f"database {self.url} unreachable or failing ({detail})")

    @property
    def down(self) -> bool:
        """The database stopped answering and has not answered the prober since."""
        return self._down.is_set()

    @contextmanager
    def connection(self, *, quick: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; any database failure becomes a StoreError. `quick`: from
        the pool whose statements and waits are cut short (QUICK_STATEMENT_MS).

        Once the database is found unreachable, calls fail at once (no request waits on
        the pool) until a prober thread reaches it again: recovery needs no restart. A
        statement cut short only fails itself (the database is slow, not gone)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        if self._down.is_set():
            raise StoreError(f"database {self.url} unreachable (retrying every {PROBE_S:g} s)")
        try:
            with (self._quick if quick else self._pool).connection() as db:
                yield db
        except psycopg.errors.QueryCanceled:
            raise StoreError(f"database {self.url}: too slow (statement timeout)") from None
        except PoolTimeout as exc:
            if not quick:
                self._mark_down()
            raise self._unreachable(exc) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._mark_down()
            raise self._unreachable(exc) from None
        except psycopg.Error as exc:
            detail = " ".join(str(exc).split())[:300]
            raise StoreError(f"database {self.url}: {detail}") from None

    def reachable(self) -> bool:
        """Whether the database answers now (a round trip; immediate False while down)."""
        try:
            with self.connection() as db:
                db.execute("SELECT 1")
        except StoreError:
            return False
        return True

    def _mark_down(self) -> None:
        with self._probe_lock:
            if self._down.is_set() or self._closed:
                return
            self._down.set()
            log.warning("database %s unreachable; retrying every %g s", self.url, PROBE_S)
            threading.Thread(target=self._probe, name="wm-db-probe", daemon=True).start()

    def _probe(self) -> None:
        import psycopg

        while not self._closed:
            try:
                with self.dedicated_connection() as db:
                    db.execute("SELECT 1")
            except psycopg.Error:
                time.sleep(PROBE_S)
                continue
            self._pool.check()  # replace the pooled connections the outage broke
            self._down.clear()
            log.warning("database %s reachable again", self.url)
            return

    @contextmanager
    def _writing(self) -> Iterator[psycopg.Connection[Any]]:  # type: ignore[override]
        with self.connection() as db, db.transaction():
            yield db

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:  # type: ignore[override]
        """The Store's reads (snapshots, events, counts) run here, on a pooled connection."""
        with self.connection() as db:
            yield db

    def _migrate(self) -> None:
        with self._writing() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            db.execute(
                "CREATE TABLE IF NOT EXISTS wm_schema_migrations "
                "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            row = db.execute(
                "SELECT coalesce(max(version), 0) FROM wm_schema_migrations"
            ).fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"database {self.url}: written by a newer Winged Monkey (schema {version}, "
                    f"this one knows {SCHEMA_VERSION}); upgrade wm"
                )
            for target in range(version, SCHEMA_VERSION):
                db.execute(MIGRATIONS[target])
                db.execute("INSERT INTO wm_schema_migrations (version) VALUES (%s)", (target + 1,))

    # -- inventory ---------------------------------------------------------

    def save_snapshot(self, snapshot: AccountSnapshot) -> None:
        """Save the account's inventory and tell the listening replicas (at commit)."""
        with self._writing() as db:
            db.execute(
                queries.save_snapshot("%s"),
                (snapshot.account, snapshot.fetched_at, snapshot.model_dump_json()),
            )
            db.execute("SELECT pg_notify(%s, %s)", (INVENTORY_CHANNEL, snapshot.account))

    # -- events ------------------------------------------------------------

    def append_events(self, events: Iterable[Event]) -> int:
        """Insert events, skipping keys already recorded; returns how many were new."""
        batch = list(events)
        rows = [queries.event_row(event) for event in batch]
        if not rows:
            return 0
        query = queries.insert_event("%s")
        added = 0
        with self._writing() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            with db.cursor() as cursor:
                for row in rows:
                    cursor.execute(query, row)
                    added += max(cursor.rowcount, 0)
        self._follow_intents(batch)
        return added

    def _follow_intents(self, events: list[Event]) -> None:
        """Hold a session lock on each action intent this process follows, released with
        its outcome: `open_intents` leaves out the locked ones, so another replica settles
        an intent only when its follower is gone (the lock dies with its connection)."""
        import psycopg

        taken = [e.key for e in events if e.outcome == "requested" and _followed(e.key)]
        released = [e.cause for e in events if e.cause and e.cause in self._following]
        if not taken and not released:
            return
        with self._intent_lock:
            try:
                if self._intent_db is None or self._intent_db.closed:
                    self._intent_db = self.dedicated_connection()
                    self._following.clear()
                for key in taken:
                    self._intent_db.execute(
                        "SELECT pg_advisory_lock(%s, hashtext(%s))", (INTENT_NAMESPACE, key)
                    )
                    self._following.add(key)
                for key in released:
                    if key in self._following:
                        self._following.discard(key)
                        self._intent_db.execute(
                            "SELECT pg_advisory_unlock(%s, hashtext(%s))", (INTENT_NAMESPACE, key)
                        )
            except psycopg.Error as exc:
                # Without the locks another replica may settle an intent this one still
                # follows (two outcomes); the actions themselves are not affected.
                log.warning("intent locks: %s", type(exc).__name__)
                self._intent_db = None
                self._following.clear()

    def prune_events(
        self,
        *,
        before: datetime | None = None,
        keep: int | None = None,
        batch: int = 500,
        cancelled: Callable[[], bool] | None = None,
    ) -> int:
        """Delete events older than `before`, then all but the newest `keep` (by seq), in
        transactions of at most `batch` rows. Returns how many were deleted."""
        deleted = 0
        if before is not None:
            deleted += self._delete_in_batches("at < %s", before.timestamp(), batch, cancelled)
        if keep is not None:
            with self.connection() as db:
                row = db.execute(queries.keep_floor("%s"), (max(keep, 0),)).fetchone()
            if row is not None:
                deleted += self._delete_in_batches("seq <= %s", int(row[0]), batch, cancelled)
        return deleted

    def _delete_in_batches(
        self, condition: str, bound: float, batch: int, cancelled: Callable[[], bool] | None
    ) -> int:
        query = queries.delete_batch("%s", condition)
        deleted = 0
        while cancelled is None or not cancelled():
            with self.connection() as db:
                removed = max(db.execute(query, (bound, batch)).rowcount, 0)
            deleted += removed
            if removed < batch:
                break
        return deleted


def _followed(key: str) -> bool:
    """The portal's own action intents (`action:...`) get an outcome from the process
    that follows them; the aggregator's request records are settled by observation."""
    return key.startswith("action:")
