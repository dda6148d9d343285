"""The engine's door to the store: every call runs in a thread, and a broken store degrades
history, never the inventory.

SQLite may wait up to its busy timeout for another `wm` holding the write lock; on the
event loop that would freeze the TUI (and `wm serve`) for as long, so nothing here runs
a store call on the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar

from winged_monkey import blocking
from winged_monkey.errors import StoreError
from winged_monkey.models import AccountSnapshot, Event
from winged_monkey.store.sqlite import Store

T = TypeVar("T")


class Recorder:
    """Store calls off the event loop; problems collected once each in `warnings`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Problems with the local store, for the UI to show once (the engine keeps running).
        self.warnings: list[str] = []
        #: Each account's snapshot as this process last saved or read it. Its rows are the
        #: ones on screen, so a poll that finds it still the store's diffs against it, not
        #: against a second copy of every row parsed again (a quarter of the peak RSS at 5,000
        #: EC2 instances: scripts/bench_big_account.py).
        self._snapshots: dict[str, AccountSnapshot] = {}

    def safe(self, call: Callable[[], T], fallback: T) -> T:
        """Run a store call here (in the caller's thread); its failure becomes a warning."""
        try:
            return call()
        except (StoreError, sqlite3.Error, OSError) as exc:
            message = f"local store: {exc}"
            if message not in self.warnings:
                self.warnings.append(message)
            return fallback

    async def run(self, call: Callable[[], T], fallback: T) -> T:
        """`safe(call, fallback)` in a thread."""
        blocking.daemon_threads_by_default()
        return await asyncio.to_thread(self.safe, call, fallback)

    async def append(self, events: Iterable[Event]) -> int:
        """Append events; the number recorded, or -1 when the store refused them."""
        batch = list(events)
        if not batch:
            return 0
        return await self.run(lambda: self.store.append_events(batch), -1)

    async def save_snapshot(self, snapshot: AccountSnapshot) -> None:
        await self.run(lambda: self._save(snapshot), None)

    async def load_snapshot(self, account: str) -> AccountSnapshot | None:
        """The account's last saved inventory: the one in hand while the store holds no
        other (another `wm`, or `wm serve` replica, may have saved a newer one since)."""
        return await self.run(lambda: self._load(account), None)

    def load_snapshots(self) -> dict[str, AccountSnapshot]:
        """Every account's last inventory (at start-up, before the loop matters)."""
        empty: dict[str, AccountSnapshot] = {}
        found = self.safe(self.store.load_snapshots, empty)
        self._snapshots.update(found)
        return found

    def _save(self, snapshot: AccountSnapshot) -> None:
        self._snapshots.pop(snapshot.account, None)  # kept only once the store has it
        self.store.save_snapshot(snapshot)
        self._snapshots[snapshot.account] = snapshot

    def _load(self, account: str) -> AccountSnapshot | None:
        held = self._snapshots.get(account)
        if held is not None and self.store.snapshot_time(account) == held.fetched_at:
            return held
        self._snapshots.pop(account, None)
        found = self.store.load_snapshot(account)
        if found is not None:
            self._snapshots[account] = found
        return found


class History:
    """The event log as views read it: blocking calls, meant for a thread worker (never
    the event loop). The only door the UI has to the store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        account: str | None = None,
        target: str | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """Newest first; `since` inclusive, `until` exclusive (Store.events)."""
        return self._store.events(
            since=since, until=until, account=account, target=target, limit=limit
        )

    def events_after(self, seq: int, *, limit: int = 1000) -> list[tuple[int, Event]]:
        """Events recorded after `seq`, oldest first, with their sequence numbers."""
        return self._store.events_after(seq, limit=limit)

    def last_seq(self) -> int:
        """The newest event's sequence number (0 when there is none)."""
        return self._store.last_seq()
