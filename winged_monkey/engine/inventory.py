"""Listing accounts: one account's poll (its rows, the changes since the last poll, its own
events), the cached start, and the event log's upkeep.

Each account is polled by itself; `refresh` runs several at once and yields each
answer as it arrives. Who polls when is `winged_monkey.engine.poller`'s business.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from winged_monkey.backend import Capability
from winged_monkey.engine.accounts import Account, Accounts
from winged_monkey.engine.observe import diff_inventories, explained
from winged_monkey.engine.recorder import Recorder
from winged_monkey.engine.streams import merge
from winged_monkey.errors import describe, is_config_error
from winged_monkey.models import AccountSnapshot, AccountStatus, Event, EventSource, Instance
from winged_monkey.store.retention import enforce_retention
from winged_monkey.user.config import Config

RETENTION_EVERY_S = 3600.0
#: The longest one pass of retention runs: a year's backlog (750,000 events past 90 days
#: take minutes to delete) is worked off over the next polls and commands, none of which
#: waits more than this for it.
RETENTION_BUDGET_S = 0.5
Settler = Callable[[str, Mapping[str, Instance], Sequence[Event]], Awaitable[list[Event]]]


@dataclass(frozen=True)
class AccountUpdate:
    """One account's answer to a refresh: its status and, when it answered, its instances."""

    status: AccountStatus
    instances: tuple[Instance, ...] | None = None
    events: tuple[Event, ...] = ()


class Inventory:
    """Polls accounts, keeps their rows and statuses, records what changed."""

    def __init__(
        self,
        config: Config,
        accounts: Accounts,
        recorder: Recorder,
        clock: Callable[[], datetime],
        *,
        on_listed: Settler | None = None,
    ) -> None:
        self.config = config
        self.accounts = accounts
        self.recorder = recorder
        self.clock = clock
        #: Called with each successful listing and the changes it observed, which it
        #: records (linked to the actions that made them) with the events it settles (the
        #: actions whose outcome only an observation could tell): `Operations.reconcile`.
        self.on_listed = on_listed
        self._maintained_at: float | None = None

    def load_cache(self) -> list[AccountUpdate]:
        """The last known inventory of each configured account not yet polled, marked stale."""
        updates = []
        for name, snapshot in self.recorder.load_snapshots().items():
            account = self.accounts.find(name)
            if account is None or account.status.phase != "loading":
                continue
            account.show(snapshot.instances)
            account.status = AccountStatus(
                name=name,
                phase="stale",
                fetched_at=snapshot.fetched_at,
                count=len(snapshot.instances),
                unlisted=snapshot.unlisted,
            )
            updates.append(AccountUpdate(account.status, snapshot.instances))
        return updates

    async def refresh(
        self, names: Sequence[str] | None = None, *, native_events: bool = True
    ) -> AsyncIterator[AccountUpdate]:
        """Poll the accounts at once; yield each account's updates as soon as they are known."""
        targets = list(names) if names is not None else self.accounts.names
        async for update in merge([self.poll(n, native_events=native_events) for n in targets]):
            yield update
        await self.maintain()

    async def poll(self, name: str, *, native_events: bool = True) -> AsyncIterator[AccountUpdate]:
        """One account's poll: "refreshing" at once, then its listing (or its failure), then,
        with `native_events` and a backend that has its own events (Capability.EVENTS), a
        second update carrying the new ones. The listing is never held back for them."""
        account = self.accounts.get(name)
        # Keep what is known (ok with its age, stale, failed) and say a poll is under way.
        account.status = account.status.model_copy(update={"refreshing": True})
        yield AccountUpdate(account.status)
        update = await self._list(account)
        yield update
        if native_events and update.instances is not None:
            native = await self._native_events(account, update.instances)
            if native is not None:
                yield native

    async def _list(self, account: Account) -> AccountUpdate:
        name = account.name
        account.retry_after = None
        try:
            backend = await self.accounts.backend(name)
            previous = await self.recorder.load_snapshot(name)
            if previous is not None:
                backend.recall(previous.instances)
                if not account.markers:  # a new process: on from where the last one read
                    account.markers = dict(previous.markers)
            began = time.monotonic()
            listed = await self.accounts.within(name, backend.list_instances())
        except Exception as exc:
            # A throttling provider says when to come back (ThrottledError.retry_after).
            retry = getattr(exc, "retry_after", None)
            account.retry_after = float(retry) if isinstance(retry, int | float) else None
            return self._fail(account, describe(exc), config_error=is_config_error(exc))
        now = self.clock()
        # The events say what this listing saw; the rows kept and shown are the newest known
        # (an action that read a row while the listing was out read it later than the cloud
        # answered the listing), here and again once the awaits below are done.
        events = (
            diff_inventories(name, previous, {i.id: i for i in listed}, now, gap=self._gap(account))
            if previous
            else []
        )
        if events and previous is not None:
            events = explained(events, await self._outcomes_since(name, previous.fetched_at))
        rows = account.newest(listed, began)
        unlisted = backend.unlisted()
        snapshot = AccountSnapshot(
            account=name,
            fetched_at=now,
            instances=rows,
            unlisted=unlisted,
            markers=account.markers,
        )
        await self.recorder.save_snapshot(snapshot)
        if self.on_listed is None:
            await self.recorder.append(events)
        instances = account.show(rows)
        account.status = AccountStatus(
            name=name,
            phase="ok",
            fetched_at=now,
            count=len(listed),
            stale=sum(1 for i in listed if i.stale is not None),
            unlisted=unlisted,
        )
        if self.on_listed is not None:
            events = await self.on_listed(name, instances, events)
        rows = account.newest(listed, began)
        account.show(rows)
        account.forget_reads(began)
        return AccountUpdate(account.status, rows, tuple(events))

    async def _outcomes_since(self, account: str, since: datetime) -> list[Event]:
        """The log's action events of `account` since `since`, newest first: what another
        process may have done and seen since this account's last listing."""
        store = self.recorder.store
        actions = [EventSource.ACTION]
        none: list[Event] = []
        return await self.recorder.run(
            lambda: store.events(account=account, since=since, sources=actions), none
        )

    def _gap(self, account: Account) -> float:
        """How old the last listing may be before a change found against it is said to have
        happened some time since, not now: more than a few polls at the account's pace."""
        return 3 * (self.config.refresh_interval + account.config.timeout)

    def _fail(self, account: Account, reason: str, *, config_error: bool) -> AccountUpdate:
        # Keep the last rows on screen: a failed poll does not mean the machines vanished.
        account.status = AccountStatus(
            name=account.name,
            phase="failed",
            fetched_at=account.status.fetched_at,
            error=reason,
            config_error=config_error,
            count=len(account.instances),
        )
        return AccountUpdate(account.status)

    async def _native_events(
        self, account: Account, listed: tuple[Instance, ...]
    ) -> AccountUpdate | None:
        """The backend's own events after the last markers, into the log; never fails the
        account (a problem is kept in `native_events_error`, the next poll tries again)."""
        backend = account.backend
        if backend is None or Capability.EVENTS not in backend.capabilities:
            return None
        try:
            found = await self.accounts.within(
                account.name, backend.native_events(listed, dict(account.markers))
            )
        except Exception as exc:
            account.native_events_error = f"events: {describe(exc)}"
            return None
        account.native_events_error = None
        events = self._retained(found.events)
        recorded = await self.recorder.append(events)
        if recorded < 0:  # not in the log: read them again next time
            return None
        account.markers = dict(found.markers)
        if not recorded:
            return None
        # The rows again (whoever keeps only an account's last update keeps its rows), as
        # they are now: an action may have read one since the listing, which is older.
        return AccountUpdate(account.status, tuple(account.instances.values()), events)

    def _retained(self, events: tuple[Event, ...]) -> tuple[Event, ...]:
        """A cloud's events the retention keeps: a process whose store has no markers yet
        (its first poll, a store from before markers were kept) reads a stack's whole
        history, and what retention pruned from it would come back as new (to `wm events
        --follow`, the events view) until pruned again."""
        days = self.config.events.max_age_days
        if not days:
            return events
        since = self.clock() - timedelta(days=days)
        return tuple(e for e in events if e.at >= since)

    async def maintain(self) -> None:
        """Apply the event log's retention limits, in a thread, at most once an hour, for
        RETENTION_BUDGET_S at most: a pass cut short goes on at the next call."""
        now = time.monotonic()
        if self._maintained_at is not None and now - self._maintained_at < RETENTION_EVERY_S:
            return
        self._maintained_at = now

        policy, at, store = self.config.events, self.clock(), self.recorder.store
        deadline = now + RETENTION_BUDGET_S

        def spent() -> bool:
            return time.monotonic() > deadline

        await self.recorder.run(lambda: enforce_retention(store, policy, at, cancelled=spent), 0)
        if spent():  # perhaps cut short: the rest at the next call
            self._maintained_at = None
