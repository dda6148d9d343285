"""The aggregator's bearer tokens: random, stored only as hashes, scoped, expiring, revocable.

A token is `wm_<id>_<secret>`; the server keeps the sha256 of the whole string (a
high-entropy secret needs no slow hash) in a SQLite file of its own next to the store.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from winged_monkey.errors import StoreError
from winged_monkey.user import paths
from winged_monkey.wire import Role, user_name_problem

ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
PREFIX = "wm_"
#: A token's columns as record_of reads them ("user" quoted: PostgreSQL reserves the word).
TOKEN_COLUMNS = 'id, "user", role, pool, created_at, expires_at, revoked_at'  # noqa: S105
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    user       TEXT NOT NULL,
    role       TEXT NOT NULL,
    pool       TEXT,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL
)
"""


def tokens_path() -> Path:
    """`tokens.sqlite3` beside the store, in the data dir."""
    return paths.data_dir() / "tokens.sqlite3"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _when(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


@dataclass(frozen=True)
class TokenRecord:
    """What the server knows about a token: never the token itself."""

    id: str
    user: str
    role: Role
    pool: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def problem(self, now: datetime) -> str | None:
        """Why the token cannot be used now, or None."""
        if self.revoked_at is not None:
            return "token_revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "token_expired"
        return None

    def allows(self, role: Role) -> bool:
        """Whether this token's role is at least `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)


class TokenError(Exception):
    """A token that does not authenticate; `code` is the wire code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TokenStore:
    """Tokens in SQLite (WAL, so `wm serve token ...` and the running server share it)."""

    _P = "?"  # the driver's placeholder (SharedTokenStore: PostgreSQL's)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            paths.private_file(paths.private_dir(path.parent) / path.name)
            self._db = sqlite3.connect(
                path, timeout=10, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"{path}: cannot open the token store ({exc})") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        """The database for a statement or two (create, list, get, revoke run on it)."""
        with self._lock:
            yield self._db

    def create(
        self,
        user: str,
        role: Role,
        pool: str | None = None,
        *,
        expires: timedelta | None = None,
        now: datetime | None = None,
    ) -> tuple[TokenRecord, str]:
        """A new token: its record and the token itself (shown once, never stored)."""
        record, token = mint(user, role, pool, expires=expires, now=now)
        with self._connection() as db:
            db.execute(insert_token(self._P), token_row(record, token))
        return record, token

    def list(self) -> list[TokenRecord]:
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at"  # noqa: S608
            ).fetchall()
        return [record_of(tuple(row)) for row in rows]

    def get(self, token_id: str) -> TokenRecord | None:
        with self._connection() as db:
            row = db.execute(
                f"SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = {self._P}",  # noqa: S608
                (token_id,),
            ).fetchone()
        return record_of(tuple(row)) if row else None

    def revoke(self, token_id: str, *, now: datetime | None = None) -> bool:
        """Revoke a token by id; False when there is no such (unrevoked) token."""
        at = (now or datetime.now(UTC)).timestamp()
        with self._connection() as db:
            cursor = db.execute(
                f"UPDATE tokens SET revoked_at = {self._P} "  # noqa: S608
                f"WHERE id = {self._P} AND revoked_at IS NULL",
                (at, token_id),
            )
        return bool(cursor.rowcount > 0)

    def authenticate(self, token: str, *, now: datetime | None = None) -> TokenRecord:
        """The record of a valid token; TokenError (unauthorized, expired, revoked) else."""
        digest = token_hash(token)
        with self._lock:
            row = self._db.execute(
                f"SELECT {TOKEN_COLUMNS}, hash FROM tokens WHERE hash = ?",  # noqa: S608
                (digest,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[7], digest):
            raise TokenError("unauthorized", "the token is not valid; ask an admin for one")
        return usable(record_of(row[:7]), now)


def mint(
    user: str,
    role: Role,
    pool: str | None,
    *,
    expires: timedelta | None = None,
    now: datetime | None = None,
) -> tuple[TokenRecord, str]:
    """A new token's record and the token itself; ValueError for a role that does not
    exist or a user name the wire refuses."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if problem := user_name_problem(user):
        raise ValueError(problem)
    now = now or datetime.now(UTC)
    token_id = secrets.token_hex(4)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    expires_at = now + expires if expires is not None else None
    return TokenRecord(token_id, user, role, pool, now, expires_at, None), token


def insert_token(p: str) -> str:
    """The INSERT of `token_row`'s values, with the driver's placeholder `p`."""
    return f"INSERT INTO tokens ({TOKEN_COLUMNS}, hash) VALUES ({', '.join([p] * 8)})"  # noqa: S608


def token_row(record: TokenRecord, token: str) -> tuple[object, ...]:
    """A new token's row: TOKEN_COLUMNS, then the hash (the token itself is never kept)."""
    expires_at = record.expires_at.timestamp() if record.expires_at else None
    created_at = record.created_at.timestamp()
    return (
        record.id,
        record.user,
        record.role,
        record.pool,
        created_at,
        expires_at,
        None,
        token_hash(token),
    )


def usable(record: TokenRecord, now: datetime | None = None) -> TokenRecord:
    """`record`, unless it was revoked or has expired (a TokenError saying which)."""
    problem = record.problem(now or datetime.now(UTC))
    if problem == "token_revoked":
        raise TokenError(problem, "the token was revoked; ask an admin for a new one")
    if problem == "token_expired":
        raise TokenError(problem, "the token has expired; ask an admin for a new one")
    return record


def record_of(row: tuple[object, ...]) -> TokenRecord:
    token_id, user, role, pool, created, expires, revoked = row
    return TokenRecord(
        id=str(token_id),
        user=str(user),
        role=cast("Role", role),
        pool=None if pool is None else str(pool),
        created_at=datetime.fromtimestamp(cast("float", created), tz=UTC),
        expires_at=_when(cast("float | None", expires)),
        revoked_at=_when(cast("float | None", revoked)),
    )


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `45m`, `90s` or `2w` as a timedelta (ValueError otherwise)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in units or not text[:-1].isdigit():
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 45m or 2w")
    seconds = int(text[:-1]) * units[text[-1]]
    if seconds <= 0:
        raise ValueError("the duration must be positive")
    return timedelta(seconds=seconds)
