"""`wm serve` replicas on one PostgreSQL database (`[serve] database = "postgresql://..."`):
the database opened with its password from the credential chain, and the tokens and
rate-limit buckets kept there so every replica agrees on them.

Tokens are read from the database on every request (no cache), so a revocation through
one replica is refused by every other at its next request. A rate-limit bucket is one
row updated in one statement on the database's clock, so N replicas count one budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from winged_monkey.catalog import AccountCatalog
from winged_monkey.errors import StoreError
from winged_monkey.serve.errors import ApiError
from winged_monkey.serve.ratelimit import RateLimiter
from winged_monkey.serve.settings import ServeSettings
from winged_monkey.serve.tokens import (
    TOKEN_COLUMNS,
    TokenError,
    TokenRecord,
    TokenStore,
    record_of,
    token_hash,
    usable,
)
from winged_monkey.store.postgres import PostgresStore
from winged_monkey.user.config import AccountConfig
from winged_monkey.user.credentials import CredentialResolver

if TYPE_CHECKING:
    from fastapi import FastAPI, Request, Response
    from starlette.types import ASGIApp, Receive, Scope, Send

#: Seconds a token checked in the database is taken as checked: a revocation through
#: another replica is refused within this (the issue's bound is 1 s).
RECHECK_S = 0.25

#: The keyring entry (service "winged-monkey") of the database's password.
DATABASE_SECRET_NAME = "serve-database"  # noqa: S105 (a name, not a secret)


def database_password(serve: ServeSettings) -> str | None:
    """The database's password from `[serve.database_credentials]` (keyring, env, command),
    or None (trust, peer or a ~/.pgpass the driver reads itself)."""
    account = AccountConfig(
        name=DATABASE_SECRET_NAME, backend="postgresql", credentials=serve.database_credentials
    )
    return CredentialResolver().resolve(account).secret


def open_database(serve: ServeSettings) -> PostgresStore:
    """The shared store; StoreError when it cannot be reached or migrated."""
    if serve.database is None:
        raise StoreError("no [serve] database configured")
    return PostgresStore.connect(serve.database, database_password(serve))


class DatabaseUnavailable(ApiError):
    """503: what needs the database cannot be done now; reads answer from memory."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "database_unavailable",
            "the database is unreachable: changes are refused until it is back "
            "(reads answer from memory, marked stale); try again shortly",
            {"Retry-After": "5"},
        )


def install(app: FastAPI, store: PostgresStore) -> None:
    """503 for any request that changes something while the database does not answer
    (checked before the change: its intent must be recorded first), and for any other
    request that needed it."""
    app.add_middleware(RefuseChangesWithoutDatabase, store=store)

    async def store_failed(request: Request, exc: Exception) -> Response:
        return _unavailable()

    app.add_exception_handler(StoreError, store_failed)


class RefuseChangesWithoutDatabase:
    """ASGI middleware: a request other than a read first checks that the database
    answers (a round trip in a thread; immediate while it is known down)."""

    def __init__(self, app: ASGIApp, store: PostgresStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in _READS
            and not await asyncio.to_thread(self.store.reachable)
        ):
            await _unavailable()(scope, receive, send)
            return
        await self.app(scope, receive, send)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unavailable() -> Response:
    from winged_monkey.serve.app import error_response

    error = DatabaseUnavailable()
    return error_response(error.status, error.code, error.message, error.headers)


class SharedTokenStore(TokenStore):
    """TokenStore's methods over the shared database's `tokens` table."""

    _P = "%s"

    def __init__(self, store: PostgresStore, *, owns_store: bool = False) -> None:
        self._store = store
        self._owns_store = owns_store  # `wm serve token ...` opened the store for this
        self.path = None  # type: ignore[assignment]
        #: hash -> (record, when checked) of the tokens this replica authenticated: for
        #: RECHECK_S without asking again, and for reads while the database is unreachable
        #: (a revocation made meanwhile cannot be known).
        self._known: dict[str, tuple[TokenRecord, float]] = {}

    def close(self) -> None:
        if self._owns_store:
            self._store.close()

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._store.connection() as db:
            yield db

    def revoke(self, token_id: str, *, now: datetime | None = None) -> bool:
        revoked = super().revoke(token_id, now=now)
        for digest, (record, _) in list(self._known.items()):
            if record.id == token_id:  # refused here at once, elsewhere within RECHECK_S
                self._known.pop(digest, None)
        return revoked

    def authenticate(self, token: str, *, now: datetime | None = None) -> TokenRecord:
        digest = token_hash(token)
        known = self._known.get(digest)
        checked = time.monotonic()
        if known is not None and checked - known[1] < RECHECK_S:
            record = known[0]
        else:
            record = self._lookup(digest, known)
            self._known[digest] = (record, checked)
        return usable(record, now)

    def _lookup(self, digest: str, known: tuple[TokenRecord, float] | None) -> TokenRecord:
        try:
            with self._store.connection(quick=True) as db:
                row = db.execute(
                    f"SELECT {TOKEN_COLUMNS}, hash FROM tokens WHERE hash = %s",  # noqa: S608
                    (digest,),
                ).fetchone()
        except StoreError:
            if known is None:
                raise DatabaseUnavailable() from None
            return known[0]
        if row is None or not hmac.compare_digest(row[7], digest):
            self._known.pop(digest, None)
            raise TokenError("unauthorized", "the token is not valid; ask an admin for one")
        return record_of(tuple(row[:7]))


# One statement: refill by the time since the bucket's last request (database clock, so
# replicas agree), take one token when there is one, and say whether it did and what is left.
_TAKE = """
INSERT INTO rate_buckets AS b (key, tokens, at, granted)
VALUES (%(key)s, %(burst)s - 1, extract(epoch FROM clock_timestamp()), true)
ON CONFLICT (key) DO UPDATE SET
    tokens = least(%(burst)s, b.tokens + (excluded.at - b.at) * %(rate)s) - CASE
        WHEN least(%(burst)s, b.tokens + (excluded.at - b.at) * %(rate)s) >= 1 THEN 1 ELSE 0 END,
    granted = least(%(burst)s, b.tokens + (excluded.at - b.at) * %(rate)s) >= 1,
    at = excluded.at
RETURNING tokens, granted
"""


class SharedRateLimiter(RateLimiter):
    """RateLimiter's `take` over the shared `rate_buckets` table."""

    def __init__(self, store: PostgresStore, rate: float, burst: int) -> None:
        super().__init__(rate, burst)
        self._store = store

    def take(self, key: str) -> float:
        """0 when the request may go; else the seconds until it may. Without the database
        each replica counts on its own (RateLimiter) until it is back."""
        try:
            with self._store.connection(quick=True) as db:
                row = db.execute(
                    _TAKE, {"key": key, "burst": float(self.burst), "rate": self.rate}
                ).fetchone()
        except StoreError:
            return super().take(key)
        if row is None or row[1]:
            return 0.0
        return (1 - float(row[0])) / self.rate


class SharedCatalogStore:
    """Launches' SharedCatalogs over the `catalogs` table; ages on the database's clock.
    A database failure is a miss (this replica fetches the catalog itself)."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    def load(self, account: str) -> tuple[float, AccountCatalog] | None:
        try:
            with self._store.connection() as db:
                row = db.execute(
                    "SELECT extract(epoch FROM clock_timestamp()) - fetched_at, payload "
                    "FROM catalogs WHERE account = %s",
                    (account,),
                ).fetchone()
        except StoreError:
            return None
        if row is None:
            return None
        try:
            return float(row[0]), AccountCatalog.model_validate_json(row[1])
        except ValidationError:
            return None  # written by another version: fetch it afresh

    def save(self, account: str, catalog: AccountCatalog) -> None:
        with contextlib.suppress(StoreError), self._store.connection() as db:
            db.execute(
                "INSERT INTO catalogs (account, fetched_at, payload) "
                "VALUES (%s, extract(epoch FROM clock_timestamp()), %s) "
                "ON CONFLICT (account) DO UPDATE SET fetched_at = excluded.fetched_at, "
                "payload = excluded.payload",
                (account, catalog.model_dump_json()),
            )
