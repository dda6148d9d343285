"""Which `wm serve` replica polls which account: a PostgreSQL advisory lock per account,
held by a connection of its own (the poller's PollGate).

The lock lives as long as that connection: when a replica dies (even `kill -9`) the
server sees its socket close and frees its locks, and another replica takes each account
at its next turn, within one poll interval. A replica that does not hold an account's
lock reads the account's last inventory from the database instead of asking the cloud,
so N replicas cost the clouds what one does and serve the same rows.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from winged_monkey.engine.inventory import AccountUpdate, Inventory
from winged_monkey.errors import StoreError
from winged_monkey.models import AccountStatus

if TYPE_CHECKING:
    import psycopg

    from winged_monkey.store.postgres import PostgresStore

log = logging.getLogger("winged_monkey.serve.leases")
#: First key of pg_try_advisory_lock(int, int); the second is the account name's hash.
LEASE_NAMESPACE = 0x776D


class AccountLeases:
    """One advisory lock per account on a dedicated connection; a PollGate."""

    def __init__(
        self,
        store: PostgresStore,
        inventory: Inventory,
        wake: Callable[[Iterable[str]], None] | None = None,
    ) -> None:
        self._store = store
        self._inventory = inventory
        #: Called on the loop with accounts another replica just saved (Poller.poll_now),
        #: so this one reads them now rather than at its next interval.
        self._wake = wake
        self._lock = threading.Lock()  # one connection: one statement at a time
        self._db: psycopg.Connection[Any] | None = None
        self._held: set[str] = set()
        self._listener: threading.Thread | None = None
        self._closing = threading.Event()

    @property
    def held(self) -> frozenset[str]:
        """The accounts this replica polls now."""
        return frozenset(self._held)

    async def may_poll(self, name: str) -> bool:
        if self._wake is not None and self._listener is None:
            self._listener = threading.Thread(
                target=self._listen,
                args=(asyncio.get_running_loop(), self._wake),
                name="wm-serve-listen",
                daemon=True,  # never waited for at exit
            )
            self._listener.start()
        return await asyncio.to_thread(self._try, name)

    def _listen(
        self, loop: asyncio.AbstractEventLoop, wake: Callable[[Iterable[str]], None]
    ) -> None:
        """LISTEN for saved inventories; wake this replica's loop for the accounts it
        follows. A lost connection is opened again; a missed note only delays the rows
        until the next interval."""
        import psycopg

        from winged_monkey.store.postgres import INVENTORY_CHANNEL

        while not self._closing.is_set():
            try:
                with self._store.dedicated_connection() as db:
                    db.execute(f"LISTEN {INVENTORY_CHANNEL}")
                    while not self._closing.is_set():
                        for note in db.notifies(timeout=1.0):
                            if note.payload not in self._held:
                                loop.call_soon_threadsafe(wake, [note.payload])
            except (psycopg.Error, RuntimeError):  # RuntimeError: the loop has closed
                if self._closing.wait(1.0):
                    return

    def _try(self, name: str) -> bool:
        import psycopg

        with self._lock:
            try:
                db = self._connection()
                if name in self._held:
                    db.execute("SELECT 1")  # the session, and so its locks, still lives
                    return True
                row = db.execute(
                    "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LEASE_NAMESPACE, name)
                ).fetchone()
            except psycopg.Error as exc:
                # The connection is gone, and its locks with it: poll nothing until the
                # database answers again (polling blind would multiply the cloud's cost).
                log.warning("leases: database unreachable (%s)", type(exc).__name__)
                self._drop()
                return False
            if row is not None and row[0]:
                self._held.add(name)
                log.info("leases: this replica polls %s", name)
                return True
            return False

    def _connection(self) -> psycopg.Connection[Any]:
        if self._db is None or self._db.closed:
            self._db = self._store.dedicated_connection()
            self._held.clear()
        return self._db

    def _drop(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db = None
        self._held.clear()

    async def follow(self, name: str) -> AccountUpdate | None:
        """The account as the replica that polls it last saved it; None when unchanged.
        Without the database the rows stay as they were, marked stale."""
        account = self._inventory.accounts.get(name)
        try:
            snapshot = await asyncio.to_thread(self._store.load_snapshot, name)
        except StoreError:
            if account.status.phase == "stale":
                return None
            account.status = account.status.model_copy(update={"phase": "stale"})
            return AccountUpdate(account.status)
        if snapshot is None:
            return None
        status = account.status
        if status.phase == "ok" and status.fetched_at == snapshot.fetched_at:
            return None
        account.show(snapshot.instances)
        account.status = AccountStatus(
            name=name,
            phase="ok",
            fetched_at=snapshot.fetched_at,
            count=len(snapshot.instances),
            # What the polling replica's status says of that listing, said here too (its
            # headers, provider-accounts): its rows as last seen, the accounts it lacked.
            stale=sum(1 for i in snapshot.instances if i.stale is not None),
            unlisted=snapshot.unlisted,
        )
        return AccountUpdate(account.status, snapshot.instances)

    def close(self) -> None:
        """Let the other replicas take this one's accounts now."""
        self._closing.set()
        with self._lock:
            self._drop()
