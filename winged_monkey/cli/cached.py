"""`wm ls --cached`: the last known inventory, read from the store, with each account's age.

No cloud is called and no credential is read. A status line or a script may run it every
few seconds, so it imports the standard library only: the `wm` entry point
(winged_monkey.cli.entry) runs it before click or pydantic are imported, and `wm ls
--cached` through click runs the same code.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from winged_monkey.errors import unlisted_words
from winged_monkey.store.busy import BUSY_TIMEOUT_S, locked
from winged_monkey.terminal.render import (
    HEADER,
    fit_instance_table,
    human_age,
    last_seen_label,
    natural,
    price_text,
    render_table,
    sized,
)

TYPE_CHECKING = False  # typing, dataclasses and pathlib are not free: none is imported here
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any, TextIO

#: Exit codes, as winged_monkey.cli.base.ExitCode (not imported: it imports click).
OK, FAILED = 0, 1


class Cached:
    """What the store knows of the accounts asked about, in `wm ls --json`'s shape."""

    def __init__(self) -> None:
        self.accounts: list[dict[str, Any]] = []
        self.instances: list[dict[str, Any]] = []
        #: (account, what its listing could not include), as `unlisted_line` says it.
        self.unlisted: list[tuple[str, str]] = []

    @property
    def never_listed(self) -> list[str]:
        return [a["name"] for a in self.accounts if a["fetched_at"] is None]

    @property
    def stale(self) -> dict[tuple[str, str], int]:
        """Rows the account's source itself had not seen when they were listed (an
        aggregator's account it could not list), counted by account and reason."""
        counts: dict[tuple[str, str], int] = {}
        for row in self.instances:
            if row.get("stale"):
                key = (str(row.get("account", "")), str(row["stale"]))
                counts[key] = counts.get(key, 0) + 1
        return counts


class Unreadable(Exception):
    """The store is there and SQLite cannot read it: damaged, not a database, or locked."""


def _unreadable(store: Path, exc: sqlite3.Error) -> Unreadable:
    text = str(exc)
    if locked(exc):  # a healthy file another process holds: it must not be moved
        how = f"another process holds it (`fuser {store}` names it); try again once it is done"
    else:
        how = "move the file aside to start a fresh history (the next `wm ls` fills it)"
    return Unreadable(f"{store}: cannot read the cache ({text}): {how}")


def read(store: Path, names: Sequence[str], kind: str | None, now: datetime) -> Cached | None:
    """The cached rows of the accounts `names` (sorted as `wm ls` sorts them), or None when
    there is no store yet. The file is opened read-only: nothing is created or migrated.
    Raises Unreadable, saying what to do, for a file SQLite cannot read."""
    if not store.is_file():
        return None
    try:
        db = sqlite3.connect(
            f"{store.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S
        )
    except sqlite3.Error as exc:
        raise _unreadable(store, exc) from None
    try:
        marks = ",".join("?" * len(names))
        query = f"SELECT account, payload FROM inventory WHERE account IN ({marks})"  # noqa: S608 (only placeholders)
        rows = dict(db.execute(query, list(names)).fetchall())
    except sqlite3.Error as exc:
        if "no such table" not in str(exc):  # else not migrated yet: no listing wrote to it
            raise _unreadable(store, exc) from None
        rows = {}
    finally:
        db.close()
    cached = Cached()
    for name in names:
        snapshot = _snapshot(rows.get(name))
        stamp = snapshot.get("fetched_at") if snapshot else None
        fetched = _when(stamp)
        found = [
            {**row, "kind": _kind(row)}
            for row in (snapshot or {}).get("instances", [])
            if isinstance(row, dict) and (kind is None or _kind(row) == kind)
        ]
        cached.instances.extend(found)
        said = (snapshot or {}).get("unlisted") or []
        cached.unlisted += ((name, unlisted_line(u)) for u in said if isinstance(u, dict))
        cached.accounts.append(
            {
                "name": name,
                "phase": "stale",  # as the TUI marks the cache before any cloud answers
                "fetched_at": stamp if fetched else None,
                "age_seconds": round((now - fetched).total_seconds()) if fetched else None,
                "error": None if fetched else "never listed: run `wm ls` to fill the cache",
                "count": len(found),
                "stale": sum(1 for row in found if row.get("stale")),
                "refreshing": False,
            }
        )
    cached.instances.sort(
        key=lambda i: (i.get("account", ""), natural(i.get("name", "")), i.get("id", ""))
    )
    return cached


def run(
    store: Path,
    names: Sequence[str],
    kind: str | None,
    *,
    as_json: bool,
    width: int | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print the cached listing; FAILED when there is no cache, an account has none, a
    row was not seen by its source, or its listing lacked an account it reaches (a script
    must not take those states as current, or as all)."""
    now = datetime.now(UTC)
    try:
        cached = read(store, names, kind, now)
    except Unreadable as exc:
        print(f"wm: {exc}", file=err)
        return FAILED
    if cached is None:
        print(
            f"wm: no cached inventory yet ({store}): `wm ls` or the TUI fills it "
            "with each account's answer",
            file=err,
        )
        return FAILED
    if as_json:
        print(
            json.dumps({"accounts": cached.accounts, "instances": cached.instances}, indent=2),
            file=out,
        )
    else:
        print(render_listing(cached, width, now), file=out)
    for name in cached.never_listed:
        print(f"wm: {name}: never listed: run `wm ls` to fill the cache", file=err)
    stale = cached.stale
    for (account, why), count in stale.items():  # the words of a live `wm ls`
        rows = "1 row is" if count == 1 else f"{count} rows are"
        print(f"wm: {account}: {rows} as last seen, not now: {why}", file=err)
    for account, line in cached.unlisted:
        print(f"wm: {account}: not listed: {line}", file=err)
    return FAILED if cached.never_listed or stale or cached.unlisted else OK


def unlisted_line(unlisted: dict[str, Any]) -> str:
    """A snapshot's entry of what its listing could not include, in the words of a live
    `wm ls` (models.Unlisted.line, whose model is not imported here: it imports pydantic)."""
    return unlisted_words(unlisted.get("name"), unlisted.get("phase"), unlisted.get("reason"))


def render_listing(cached: Cached, width: int | None, now: datetime) -> str:
    """The instance table as `wm ls` prints it, each state as last seen (none was seen
    now), then each account's age: its listing's, and its oldest row's when a row is
    older than the listing (as its source last listed it)."""
    listed_at = {a["name"]: _when(a["fetched_at"]) for a in cached.accounts}
    rows: list[tuple[str, ...]] = [HEADER]
    oldest: dict[str, list[datetime | None]] = {}
    for row in cached.instances:
        owner = str(row.get("account", ""))
        seen = _when(row.get("observed_at")) if row.get("stale") else listed_at.get(owner)
        if row.get("stale"):
            oldest.setdefault(owner, []).append(seen)
        rows.append(_cells(row, now, seen))
    ages = [("ACCOUNT", "LISTED", "AGE", "ROWS")]
    for account in cached.accounts:
        name = account["name"]
        fetched = listed_at[name]
        listed = fetched.astimezone().strftime("%Y-%m-%d %H:%M") if fetched else "never"
        age = human_age(fetched, now) if fetched else "-"
        count = str(account["count"]) if fetched else "?"  # none seen, not none held
        older = oldest.get(name)
        if older:  # rows its source had only as last seen: as old as their observation
            known = [t for t in older if t is not None]
            first = None if len(known) < len(older) else min(known)
            age += f"; oldest row {human_age(first, now)}"
            count += f" ({len(older)} as last seen)"
        ages.append((name, listed, age, count))
    return render_table(fit_instance_table(rows, width)) + "\n\n" + render_table(ages)


def _cells(row: dict[str, Any], now: datetime, seen: datetime | None) -> tuple[str, ...]:
    provider, region = str(row.get("provider", "")), row.get("region")
    extra = row.get("extra") or {}
    members = extra.get("members") if isinstance(extra, dict) else None
    price = row.get("price_hourly")
    return (
        last_seen_label(str(row.get("state", "unknown")), seen, now),
        str(row.get("name", "")),
        _account_label(row),
        f"{provider}/{region}" if region else provider,
        sized(_kind(row), row.get("size"), members if isinstance(members, int) else None),
        price_text(float(price) if isinstance(price, int | float) else None),
        human_age(_when(row.get("created_at")), now),
        ", ".join(row.get("public_ips") or ()) or "-",
        ", ".join(row.get("private_ips") or ()) or "-",
    )


def _account_label(row: dict[str, Any]) -> str:
    """`team/prod` for a row an aggregator's account holds in prod, as `wm ls` names it."""
    account, source = str(row.get("account", "")), row.get("source_account")
    return f"{account}/{source}" if isinstance(source, str) and source else account


def _kind(row: dict[str, Any]) -> str:
    extra = row.get("extra")
    return "app" if isinstance(extra, dict) and extra.get("kind") == "app" else "instance"


def _snapshot(payload: str | None) -> dict[str, Any] | None:
    try:
        found = json.loads(payload) if payload else None
    except ValueError:  # a damaged row is a cache miss, as the store reads it
        return None
    return found if isinstance(found, dict) else None


def _when(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
