"""The portal: fans out to every account, keeps the merged inventory, runs and follows actions.

It is async and UI-free; the TUI, the CLI and the aggregator drive it alike.
A slow account never delays another: each call has the account's own timeout
and results are yielded in the order they arrive.
"""

from __future__ import annotations

import asyncio
import getpass
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Literal, TypeVar

from winged_monkey import plugins
from winged_monkey.actions import Action, refusal
from winged_monkey.backend import ACTION_CAPABILITY, Backend, Capability
from winged_monkey.config import AccountConfig, Config
from winged_monkey.credentials import CredentialResolver
from winged_monkey.errors import (
    ActionNotAllowed,
    ConfigError,
    NotFoundError,
    StoreError,
    WMError,
)
from winged_monkey.models import (
    AccountSnapshot,
    AccountStatus,
    AppDetail,
    Event,
    EventSource,
    Instance,
    InstanceState,
)
from winged_monkey.observe import diff_inventories
from winged_monkey.store import Store
from winged_monkey.streams import merge

if TYPE_CHECKING:
    from winged_monkey.catalog import AccountCatalog, CatalogItem, LaunchRequest
    from winged_monkey.launching import CatalogUpdate, Launcher
    from winged_monkey.ranking import Ranked, SizeSpec

Clock = Callable[[], datetime]
RETENTION_EVERY_S = 3600.0
T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AccountUpdate:
    """One account's answer to a refresh: its status and, when it answered, its instances."""

    status: AccountStatus
    instances: tuple[Instance, ...] | None = None
    events: tuple[Event, ...] = ()


ActionPhase = Literal["requested", "progress", "done", "failed", "timeout"]


@dataclass(frozen=True)
class ActionUpdate:
    """Progress of one action on one instance, as the portal follows it."""

    action: Action
    instance: Instance
    phase: ActionPhase
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.phase in ("done", "failed", "timeout")


@dataclass
class _Account:
    config: AccountConfig
    backend: Backend | None = None
    status: AccountStatus = field(init=False)
    instances: dict[str, Instance] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The backend's event markers (target id -> last native event read), in memory.
    markers: dict[str, str] = field(default_factory=dict)
    native_events_error: str | None = None

    def __post_init__(self) -> None:
        self.status = AccountStatus(name=self.config.name, phase="loading")


class Portal:
    """Everything the views need, with no knowledge of how they look."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        resolver: CredentialResolver | None = None,
        clock: Clock = utcnow,
        user: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.resolver = resolver or CredentialResolver()
        self.clock = clock
        self.user = user or _local_user()
        self._accounts = {a.name: _Account(a) for a in config.accounts}
        self._in_flight: set[str] = set()
        self._maintained_at: float | None = None
        #: Problems with the local store, for the UI to show once (the portal keeps running).
        self.store_warnings: list[str] = []

    # -- inventory -----------------------------------------------------------

    @property
    def account_names(self) -> list[str]:
        return list(self._accounts)

    def account_config(self, name: str) -> AccountConfig:
        return self._accounts[name].config

    def status(self, name: str) -> AccountStatus:
        return self._accounts[name].status

    def statuses(self) -> list[AccountStatus]:
        return [a.status for a in self._accounts.values()]

    def instances(self) -> list[Instance]:
        return [i for a in self._accounts.values() for i in a.instances.values()]

    def instance(self, key: str) -> Instance | None:
        account, _, instance_id = key.partition("/")
        holder = self._accounts.get(account)
        return holder.instances.get(instance_id) if holder else None

    def members_elsewhere(self, app: Instance, detail: AppDetail) -> dict[str, Instance]:
        """The app's members that another account lists as instances, by physical id: a
        Heat server resource is the Nova account's server (the same id in both clouds' words)."""
        wanted = {r.physical_id for r in detail.resources if r.physical_id}
        return {
            i.id: i
            for i in self.instances()
            if i.id in wanted and i.account != app.account and i.kind == "instance"
        }

    @property
    def busy(self) -> bool:
        """True while an action is being followed (the UI polls faster then)."""
        return bool(self._in_flight)

    def load_cache(self) -> list[AccountUpdate]:
        """The last known inventory of each configured account, marked stale."""
        updates = []
        for name, snapshot in self._load_snapshots().items():
            holder = self._accounts.get(name)
            if holder is None or holder.status.phase != "loading":
                continue
            holder.instances = {i.id: i for i in snapshot.instances}
            holder.status = AccountStatus(
                name=name,
                phase="stale",
                fetched_at=snapshot.fetched_at,
                count=len(snapshot.instances),
            )
            updates.append(AccountUpdate(holder.status, snapshot.instances))
        return updates

    async def refresh(
        self, names: list[str] | None = None, *, native_events: bool = True
    ) -> AsyncIterator[AccountUpdate]:
        """Poll the accounts at once; yield each account's update as soon as it is known.

        With `native_events`, an account whose backend has its own events (Capability.EVENTS)
        is then asked for those after its listing: they go to the event log, and a second
        update of that account (the same rows) carries the new ones; the listing is never
        held back for them.
        """
        targets = [self._accounts[n] for n in (names or self._accounts)]
        for holder in targets:
            # Keep what is known (ok with its age, stale, failed) and say a poll is under way.
            holder.status = holder.status.model_copy(update={"refreshing": True})
            yield AccountUpdate(holder.status)

        async def poll(holder: _Account) -> AsyncIterator[AccountUpdate]:
            update = await self._refresh_one(holder)
            yield update
            if native_events and update.instances is not None:
                native = await self._native_events(holder, update.instances)
                if native is not None:
                    yield native

        async for update in merge([poll(h) for h in targets]):
            yield update
        await self._maintain()

    async def _native_events(
        self, holder: _Account, listed: tuple[Instance, ...]
    ) -> AccountUpdate | None:
        """The backend's own events after the last markers, into the log; never fails the
        account (a problem is kept in `native_events_error`, the next poll tries again)."""
        backend = holder.backend
        if backend is None or Capability.EVENTS not in backend.capabilities:
            return None
        try:
            found = await self._within(holder, backend.native_events(listed, dict(holder.markers)))
        except WMError as exc:
            holder.native_events_error = f"events: {exc.message}"
            return None
        except Exception as exc:  # a plugin bug must not take the listing down
            holder.native_events_error = f"events: unexpected {type(exc).__name__}: {exc}"
            return None
        holder.native_events_error = None
        recorded = self._safe(lambda: self.store.append_events(found.events), -1)
        if recorded < 0:  # not in the log: read them again next time
            return None
        holder.markers = dict(found.markers)
        if not recorded:
            return None
        # The listing again: whoever keeps only an account's last update keeps its rows.
        return AccountUpdate(holder.status, listed, found.events)

    def native_events_error(self, name: str) -> str | None:
        """Why the account's own events could not be read at the last poll, if they could not."""
        return self._accounts[name].native_events_error

    async def _maintain(self) -> None:
        """Apply the event log's retention limits, in a thread, at most once an hour."""
        now = time.monotonic()
        if self._maintained_at is not None and now - self._maintained_at < RETENTION_EVERY_S:
            return
        self._maintained_at = now
        from winged_monkey.events import enforce_retention  # with its exports: not for every `wm`

        policy, at = self.config.events, self.clock()
        await asyncio.to_thread(self._safe, lambda: enforce_retention(self.store, policy, at), 0)

    async def _refresh_one(self, holder: _Account) -> AccountUpdate:
        name = holder.config.name
        try:
            # Building a backend may read a keyring or run secret_command: not on the loop.
            backend = await asyncio.to_thread(self._backend, holder)
            previous = self._safe(lambda: self.store.load_snapshot(name), None)
            if previous is not None:
                backend.recall(previous.instances)
            listed = await self._within(holder, backend.list_instances())
        except WMError as exc:
            return self._fail(holder, exc.message)
        except Exception as exc:  # a plugin bug must not take the other accounts down
            return self._fail(holder, f"unexpected {type(exc).__name__}: {exc}")
        now = self.clock()
        instances = {i.id: i for i in listed}
        events = diff_inventories(name, previous, instances, now) if previous else ()
        snapshot = AccountSnapshot(account=name, fetched_at=now, instances=tuple(listed))
        self._safe(lambda: self.store.save_snapshot(snapshot), None)
        self._safe(lambda: self.store.append_events(events), 0)
        holder.instances = instances
        holder.status = AccountStatus(name=name, phase="ok", fetched_at=now, count=len(listed))
        return AccountUpdate(holder.status, tuple(listed), tuple(events))

    async def _within(self, holder: _Account, call: Awaitable[T]) -> T:
        """`call` under the account's timeout; running out is a WMError that says so."""
        try:
            return await asyncio.wait_for(call, holder.config.timeout)
        except TimeoutError:
            raise WMError(
                f"no answer within {holder.config.timeout:g} s (timeout)",
                account=holder.config.name,
            ) from None

    def _fail(self, holder: _Account, reason: str) -> AccountUpdate:
        # Keep the last rows on screen: a failed poll does not mean the machines vanished.
        holder.status = AccountStatus(
            name=holder.config.name,
            phase="failed",
            fetched_at=holder.status.fetched_at,
            error=reason,
            count=len(holder.instances),
        )
        return AccountUpdate(holder.status)

    def _backend(self, holder: _Account) -> Backend:
        with holder.lock:  # one backend per account, even if two threads ask at once
            if holder.backend is None:
                cls = plugins.load(holder.config.backend)
                secrets = self.resolver.resolve(holder.config)
                holder.backend = cls(holder.config, secrets)
            return holder.backend

    async def backend(self, name: str) -> Backend:
        """The account's backend, built on first use (in a thread: it may read a keyring)."""
        holder = self._accounts[name]
        return await asyncio.to_thread(self._backend, holder)

    async def within(self, name: str, call: Awaitable[T]) -> T:
        """`call` under the account's timeout (a WMError that says so when it runs out)."""
        return await self._within(self._accounts[name], call)

    async def check(self, name: str) -> str:
        """Credentials and reachability of one account, as one line (raises WMError)."""
        holder = self._accounts[name]
        backend = await asyncio.to_thread(self._backend, holder)
        return await self._within(holder, backend.check())

    async def app_detail(self, app: Instance, events: int = 50) -> AppDetail:
        """An app's members, outputs, parameters and latest events (raises WMError)."""
        holder = self._accounts[app.account]
        backend = await asyncio.to_thread(self._backend, holder)
        if Capability.STACKS not in backend.capabilities:
            raise ActionNotAllowed(
                f"{holder.config.backend} accounts have no apps", account=app.account
            )
        return await self._within(holder, backend.app_detail(app, events))

    async def launch_app(
        self,
        account: str,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        *,
        follow: bool = True,
        user: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Validate and launch an app, then (with `follow`) follow it until it runs or fails.

        Raises WMError when the account cannot launch, InvalidRequest with the provider's
        reason when it rejects the template or its parameters."""
        holder = self._accounts.get(account)
        if holder is None:
            self.config.account(account)  # raises ConfigError naming the configured ones
            raise ConfigError(f"no account {account!r}")
        if holder.config.read_only:
            raise ActionNotAllowed(f"account {account} is read-only", account=account)
        backend = await asyncio.to_thread(self._backend, holder)
        if not {Capability.LAUNCH, Capability.STACKS} <= backend.capabilities:
            raise ActionNotAllowed(
                f"{holder.config.backend} accounts cannot launch apps", account=account
            )
        at, started = self.clock(), time.monotonic()
        app_id = await self._within(holder, backend.launch_app(template, name, parameters))
        row = Instance(
            account=account,
            id=app_id,
            name=name,
            state=InstanceState.PENDING,
            raw_state="launch requested",
            provider=holder.config.backend,
            extra={"kind": "app"},
        )
        holder.instances[app_id] = row
        final = ActionUpdate(Action.START, row, "requested", f"{name} launch requested")
        self._in_flight.add(row.key)
        try:
            yield final
            if not follow:  # accepted is the outcome asked for
                final = replace(final, phase="done")
                return
            async for update in self._follow(backend, Action.START, row, holder.config.timeout):
                holder.instances[app_id] = update.instance
                final = update
                yield update
        finally:
            self._in_flight.discard(row.key)
            if not final.finished:
                final = replace(final, phase="failed", message="stopped following (cancelled)")
            self._record(final, "launch", final.message, at, time.monotonic() - started, user)

    # -- catalog and launch (winged_monkey.launching) -------------------------

    @cached_property
    def _launcher(self) -> Launcher:
        from winged_monkey.launching import Launcher  # it builds on this module

        return Launcher(self)

    def catalog_accounts(self) -> list[str]:
        """Accounts whose backend declares a catalog (no network call)."""
        return self._launcher.catalog_accounts()

    def cached_catalog(self, account: str) -> AccountCatalog | None:
        """The account's catalog if one was fetched in the last few minutes."""
        return self._launcher.cached(account)

    async def catalog(self, account: str, *, refresh: bool = False) -> AccountCatalog:
        """What the account can launch (cached per account; raises WMError)."""
        return await self._launcher.catalog(account, refresh=refresh)

    def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        """The catalog of each account (default: every one with a catalog), each as soon
        as it arrives; an account that fails is an update with its error."""
        return self._launcher.catalogs(names, refresh=refresh)

    async def search_images(self, account: str, query: str, limit: int = 50) -> list[CatalogItem]:
        """The provider's public images matching `query`, on demand (raises WMError)."""
        return await self._launcher.search_images(account, query, limit)

    async def where(
        self,
        spec: SizeSpec | str,
        *,
        item: str | None = None,
        count: int = 1,
        names: Sequence[str] | None = None,
    ) -> tuple[list[Ranked], list[CatalogUpdate]]:
        """Accounts ranked for `count` x `spec` ("2cpu 4gb" or a size name), best first,
        each with its reason; and the accounts whose catalog could not be read."""
        return await self._launcher.where(spec, item=item, count=count, names=names)

    def launch(
        self,
        account: str,
        request: LaunchRequest,
        *,
        follow: bool = True,
        user: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Launch `request` (an image; a template goes through `launch_app`) after a quota
        check that stops with the numbers (InvalidRequest); then follow every new instance
        until it runs or fails. Each instance's outcome is a "launch" event in the log,
        recorded as `user`'s (default: ours)."""
        return self._launcher.launch(account, request, follow=follow, user=user)

    # -- actions -------------------------------------------------------------

    def capabilities(self, account: str) -> frozenset[Capability]:
        """What the account's backend can do; before it is built, what its class declares."""
        holder = self._accounts[account]
        if holder.backend is not None:
            return holder.backend.capabilities
        try:
            return plugins.load(holder.config.backend).CAPABILITIES
        except WMError:
            return frozenset()

    def effective(self, action: Action, instance: Instance) -> Action:
        """The action that carries out `action` here: starting a suspended instance resumes
        it where the backend has a separate resume (Nova, libvirt, vSphere)."""
        if (
            action is Action.START
            and instance.state is InstanceState.SUSPENDED
            and Capability.RESUME in self.capabilities(instance.account)
        ):
            return Action.RESUME
        return action

    def refusal(self, action: Action, instance: Instance) -> str | None:
        """Why `action` cannot run on `instance` now, or None when it can."""
        action = self.effective(action, instance)
        holder = self._accounts.get(instance.account)
        if holder is None:
            return f"account {instance.account!r} is not configured"
        if holder.config.read_only:
            return f"account {instance.account} is read-only"
        if instance.key in self._in_flight:
            return f"{instance.name} already has an action in flight"
        if (
            holder.backend is not None
            and ACTION_CAPABILITY[action] not in holder.backend.capabilities
        ):
            return f"{holder.config.backend}/{holder.config.provider} cannot {action}"
        reason = refusal(action, instance)
        if reason is None and holder.backend is not None:
            reason = holder.backend.refusal(action, instance)
        return reason

    def find(self, ref: str) -> list[Instance]:
        """Instances matching an id, a name, or `account/id` (for the CLI)."""
        everything = self.instances()
        if "/" in ref:
            exact = [i for i in everything if i.key == ref]
            if exact:
                return exact
        by_id = [i for i in everything if i.id == ref]
        return by_id or [i for i in everything if i.name == ref]

    async def run_action(
        self, action: Action, instance: Instance, *, user: str | None = None
    ) -> AsyncIterator[ActionUpdate]:
        """Request `action`, then follow the instance until its target state or a failure.

        `user` names who asked in the event log (the aggregator's token user); default: ours."""
        action = self.effective(action, instance)
        reason = self.refusal(action, instance)
        if reason:
            raise ActionNotAllowed(reason, account=instance.account)
        holder = self._accounts[instance.account]
        backend = await asyncio.to_thread(self._backend, holder)
        started = time.monotonic()
        at = self.clock()
        self._in_flight.add(instance.key)
        moving = instance.model_copy(update={"state": action.transition or instance.state})
        holder.instances[instance.id] = moving
        final: ActionUpdate | None = None
        try:
            yield ActionUpdate(action, moving, "requested", f"{action} requested")
            try:
                await asyncio.wait_for(backend.act(action, instance), holder.config.timeout)
            except TimeoutError:
                final = ActionUpdate(
                    action, instance, "failed", f"no answer within {holder.config.timeout:g} s"
                )
            except WMError as exc:
                final = ActionUpdate(action, instance, "failed", exc.message)
            if final is None:
                async for update in self._follow(backend, action, moving, holder.config.timeout):
                    if update.finished:
                        final = update
                    else:
                        holder.instances[instance.id] = update.instance
                        yield update
        finally:
            self._in_flight.discard(instance.key)
            if final is None:  # cancelled: the instance is in whatever state the cloud says
                final = ActionUpdate(action, instance, "failed", "stopped following (cancelled)")
            self._record_action(final, at, time.monotonic() - started, user)
            # Terminated instances stay listed, as the clouds themselves keep them a while.
            holder.instances[instance.id] = final.instance
        yield final

    async def _follow(
        self, backend: Backend, action: Action, instance: Instance, call_timeout: float
    ) -> AsyncIterator[ActionUpdate]:
        deadline = time.monotonic() + self.config.action_timeout
        last = (instance.state, instance.raw_state)
        while True:
            await asyncio.sleep(self.config.action_poll_interval)
            try:
                fresh = await asyncio.wait_for(backend.get_instance(instance.id), call_timeout)
            except (TimeoutError, WMError):
                fresh = instance  # a missed poll is not a failed action; try again
            if fresh is None:
                if action is Action.DESTROY:
                    gone = instance.model_copy(update={"state": InstanceState.TERMINATED})
                    yield ActionUpdate(action, gone, "done", f"{instance.name} {action.past}")
                else:
                    yield ActionUpdate(action, instance, "failed", f"{instance.name} disappeared")
                return
            if action.reached(fresh.state):
                yield ActionUpdate(action, fresh, "done", f"{fresh.name} {action.past}")
                return
            if fresh.state is InstanceState.ERROR:
                why = str(fresh.extra.get("fault") or fresh.raw_state)
                yield ActionUpdate(action, fresh, "failed", f"{fresh.name} went to error: {why}")
                return
            if time.monotonic() > deadline:
                yield ActionUpdate(
                    action,
                    fresh,
                    "timeout",
                    f"{fresh.name} still {fresh.state} after {self.config.action_timeout:g} s",
                )
                return
            if (fresh.state, fresh.raw_state) != last:
                # The provider's own word too: Nova's task ("active/powering-off") is news
                # even while the portal's state stays the same.
                last = (fresh.state, fresh.raw_state)
                raw = f" ({fresh.raw_state})" if fresh.raw_state.lower() != fresh.state else ""
                yield ActionUpdate(action, fresh, "progress", f"{fresh.name} is {fresh.state}{raw}")
            instance = fresh

    def _record_action(
        self, update: ActionUpdate, at: datetime, duration: float, user: str | None = None
    ) -> None:
        self._record(update, str(update.action), update.message, at, duration, user)

    def _record(
        self,
        update: ActionUpdate,
        kind: str,
        message: str,
        at: datetime,
        duration: float,
        user: str | None = None,
    ) -> None:
        target = update.instance
        event = Event(
            key=f"action:{target.account}:{target.id}:{kind}:{at.timestamp():.6f}",
            at=at,
            source=EventSource.ACTION,
            kind=kind,
            account=target.account,
            target=target.id,
            target_name=target.name,
            new_state=str(target.state),
            outcome="ok" if update.phase == "done" else update.phase,
            user=user or self.user,
            detail=message,
            duration=round(duration, 3),
        )
        self._safe(lambda: self.store.append_events([event]), 0)

    def resolve_targets(self, refs: list[str]) -> list[Instance]:
        """Map CLI references to instances; unknown or ambiguous ones raise NotFoundError."""
        found: list[Instance] = []
        for ref in refs:
            matches = self.find(ref)
            if not matches:
                raise NotFoundError(f"no instance matches {ref!r}")
            if len(matches) > 1:
                keys = ", ".join(i.key for i in matches)
                raise NotFoundError(f"{ref!r} is ambiguous ({keys}); use ACCOUNT/ID")
            found.append(matches[0])
        return found

    # -- lifecycle -----------------------------------------------------------

    async def close(self) -> None:
        for holder in self._accounts.values():
            if holder.backend is not None:
                await holder.backend.close()

    def _load_snapshots(self) -> dict[str, AccountSnapshot]:
        empty: dict[str, AccountSnapshot] = {}
        return self._safe(self.store.load_snapshots, empty)

    def _safe(self, call: Callable[[], T], fallback: T) -> T:
        """Run a store call; a broken store degrades history, never the inventory."""
        try:
            return call()
        except (StoreError, sqlite3.Error, OSError) as exc:
            message = f"local store: {exc}"
            if message not in self.store_warnings:
                self.store_warnings.append(message)
            return fallback


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
