"""The aggregator's catalogs (fetched once per TTL per account, however many clients ask)
and launches of their deployables into a pool."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast

from winged_monkey.backend import Capability
from winged_monkey.catalog import AccountCatalog, ItemKind, LaunchRequest, Quota
from winged_monkey.errors import ActionNotAllowed, AnswerLostError, InvalidRequest, WMError
from winged_monkey.serve.errors import ApiError, conflict, forbidden, no_answer, not_found
from winged_monkey.serve.request_log import RequestLog, outcome_href
from winged_monkey.serve.tokens import TokenRecord
from winged_monkey.wire import (
    API_PREFIX,
    CatalogOut,
    DeployableOut,
    LaunchAccepted,
    LaunchIn,
    MatchOut,
    TryOut,
)

if TYPE_CHECKING:
    from collections.abc import Coroutine, Iterable
    from typing import Any

    from winged_monkey.serve.settings import ServerConfig


class Host(RequestLog, Protocol):
    """What launches need from the server's core (the Aggregator), and nothing more."""

    server: ServerConfig
    pools: dict[str, list[str]]

    def changed(self) -> None: ...
    def poll_soon(self, accounts: Iterable[str] | None = None) -> None: ...
    def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...
    def visible_pools(self, token: TokenRecord) -> list[str]: ...
    def check_pool(self, token: TokenRecord, pool: str) -> None: ...


#: Seconds before a catalog that could not be read is asked for again.
CATALOG_RETRY_S = 30.0
#: Seconds a catalog request waits for the catalogs being read: one account whose cloud
#: hangs (its own timeout: 20 s by default, a client's too) must not hold every user's
#: catalog of its pool. The read goes on; a later request has it, or its failure.
CATALOG_WAIT_S = 5.0


@dataclass(frozen=True)
class Started:
    """A launch the cloud took: the new ids, and the key of the portal's intent, whose
    outcome (one per id) the 202's Location leads to ("" if none was recorded)."""

    ids: tuple[str, ...]
    intent: str

    def accepted(
        self,
        account: str,
        event: str,
        match: MatchOut | None = None,
        tries: tuple[TryOut, ...] = (),
    ) -> LaunchAccepted:
        """The 202's body; its outcome_href is the 202's Location too."""
        return LaunchAccepted(
            account=account,
            ids=self.ids,
            event=event,
            outcome_href=outcome_href(self.intent),
            match=match,
            tries=tries,
        )


@dataclass
class _CachedCatalog:
    at: float
    catalog: AccountCatalog | None
    error: str | None = None


class SharedCatalogs(Protocol):
    """Catalogs fetched by any replica of the server (`wm serve` on PostgreSQL): one
    fetch per account and TTL for all of them. Blocking calls, run in a thread."""

    def load(self, account: str) -> tuple[float, AccountCatalog] | None:
        """(seconds since it was fetched, the catalog), or None."""
        ...

    def save(self, account: str, catalog: AccountCatalog) -> None: ...


class Launches:
    """Catalogs per pool and launches, over the aggregator's portal."""

    def __init__(self, agg: Host) -> None:
        self.agg = agg
        self._cache: dict[str, _CachedCatalog] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        #: None: this process fetches every catalog itself.
        self.shared: SharedCatalogs | None = None
        self._refetch: set[str] = set()
        #: The catalog reads under way (one per account), which requests wait on.
        self._reading: dict[str, asyncio.Task[_CachedCatalog]] = {}

    def forget(self, account: str) -> None:
        """Fetch the account's catalog afresh next time (a launch changed its quota use)."""
        self._cache.pop(account, None)
        self._refetch.add(account)  # from the cloud, not another replica's older fetch

    def quotas(self, account: str) -> tuple[Quota, ...]:
        """The account's quota as its last fetched catalog said (no cloud call)."""
        cached = self._cache.get(account)
        return cached.catalog.quotas if cached and cached.catalog else ()

    async def fetch(self, account: str) -> _CachedCatalog:
        """The account's catalog from the cache, fetched once per TTL however many ask."""
        lock = self._locks.setdefault(account, asyncio.Lock())
        async with lock:
            cached = self._cache.get(account)
            now = time.monotonic()
            ttl = (
                self.agg.server.serve.catalog_ttl if cached and cached.catalog else CATALOG_RETRY_S
            )
            if cached is not None and now - cached.at < ttl:
                return cached
            if Capability.CATALOG not in self.agg.portal.capabilities(account):
                cached = _CachedCatalog(now, None, "this account has no catalog")
            elif (shared := await self._shared(account)) is not None:
                cached = shared
            else:
                try:
                    backend = await self.agg.portal.backend(account)
                    if Capability.CATALOG not in backend.capabilities:  # narrowed once built
                        raise ActionNotAllowed("this account has no catalog", account=account)
                    found = await self.agg.portal.within(account, backend.catalog())
                    cached = _CachedCatalog(now, found)
                    if self.shared is not None:
                        await asyncio.to_thread(self.shared.save, account, found)
                except WMError as exc:
                    cached = _CachedCatalog(now, None, exc.message)
                except Exception as exc:  # a plugin bug: the other accounts still answer
                    cached = _CachedCatalog(now, None, f"unexpected {type(exc).__name__}")
            self._cache[account] = cached
            self.agg.changed()  # building the backend may have narrowed its capabilities
            return cached

    async def _shared(self, account: str) -> _CachedCatalog | None:
        """Another replica's fetch of the account's catalog, while within the TTL."""
        if self.shared is None or account in self._refetch:
            self._refetch.discard(account)
            return None
        found = await asyncio.to_thread(self.shared.load, account)
        if found is None or found[0] >= self.agg.server.serve.catalog_ttl:
            return None
        return _CachedCatalog(time.monotonic() - found[0], found[1])

    async def catalogs(self, token: TokenRecord) -> list[CatalogOut]:
        pools = self.agg.visible_pools(token)
        ready = await self._within_wait({a for pool in pools for a in self.agg.pools[pool]})
        out = []
        for pool in pools:
            accounts = self.agg.pools[pool]
            found = [ready[a] for a in accounts]
            deployables: list[DeployableOut] = []
            per_account: list[AccountCatalog] = []
            errors: dict[str, str] = {}
            for name, cached in zip(accounts, found, strict=True):
                if cached.catalog is None:
                    if cached.error and Capability.CATALOG in self.agg.portal.capabilities(name):
                        errors[name] = cached.error
                    continue
                per_account.append(cached.catalog.model_copy(update={"items": ()}))
                deployables.extend(
                    DeployableOut(id=deployable_id(name, i.kind, i.id), item=i)
                    for i in cached.catalog.items
                    if not i.public
                )
            out.append(
                CatalogOut(
                    id=pool,
                    pool=pool,
                    deployables=tuple(deployables),
                    accounts=tuple(per_account),
                    errors=errors,
                )
            )
        return out

    async def _within_wait(self, accounts: set[str]) -> dict[str, _CachedCatalog]:
        """Each account's catalog, fetched if due, as far as it is read in CATALOG_WAIT_S;
        an account still being read then says so (its read goes on)."""
        for account in accounts:
            reading = self._reading.get(account)
            if reading is None or reading.done():
                self._reading[account] = asyncio.create_task(self.fetch(account))
        tasks = {account: self._reading[account] for account in accounts}
        if tasks:
            await asyncio.wait(tasks.values(), timeout=CATALOG_WAIT_S)
        now = time.monotonic()
        waiting = (
            f"its cloud has not answered yet (its catalog is still being read after "
            f"{CATALOG_WAIT_S:g} s); ask again"
        )
        return {
            account: task.result() if task.done() else _CachedCatalog(now, None, waiting)
            for account, task in tasks.items()
        }

    async def launch(
        self, token: TokenRecord, pool: str, request: LaunchIn, cause: str | None = None
    ) -> LaunchAccepted:
        """`cause`: the request's own cause (`client:` and the client's intent key)."""
        self.agg.check_pool(token, pool)
        if not token.allows("operator"):
            raise forbidden(f"launching needs the operator role; this token is {token.role}")
        account, kind, item_id = parse_deployable(request.deployable)
        if account not in self.agg.pools[pool]:
            raise not_found(f"no deployable {request.deployable!r} in pool {pool!r}")
        config = self.agg.portal.account_config(account)
        if config.read_only:
            raise conflict(f"account {account} is read-only")
        cached = await self.fetch(account)
        items = cached.catalog.items if cached.catalog else ()
        if not any(i.id == item_id and i.kind == kind for i in items):
            raise not_found(f"no deployable {request.deployable!r} in pool {pool!r}")
        if kind != "template" and Capability.LAUNCH not in self.agg.portal.capabilities(account):
            raise conflict(f"{config.backend} accounts cannot launch here")
        event = await self.agg.record_request(
            token, "launch", account, item_id, request.name, cause=cause
        )
        try:
            started = await self.start(token, account, kind, item_id, request, cause=event)
        except InvalidRequest as exc:
            raise ApiError(422, "invalid", exc.message) from None
        except AnswerLostError as exc:  # not a refusal: the client must say unknown
            raise no_answer(f"{account}: {exc.message}", outcome_href(exc.intent)) from None
        except WMError as exc:
            raise ApiError(502, "backend_failed", f"{account}: {exc.message}") from None
        return started.accepted(account, event)

    async def start(
        self,
        token: TokenRecord,
        account: str,
        kind: str,
        item_id: str,
        request: LaunchIn,
        cause: str | None = None,
    ) -> Started:
        """Launch through the portal in the background; the new ids (and the intent) once
        the cloud took the launch, or its refusal raised (InvalidRequest, WMError).
        `cause`: the key of the request's event, which the engine's intent points at."""
        if kind == "template":
            return await self._start_app(token, account, item_id, request, cause)
        launch = LaunchRequest(item=item_id, kind=cast("ItemKind", kind), **request.spec())
        # Through the portal: its quota check stops an over-quota launch before any call,
        # the new rows are in the cache at once, and each outcome is logged as the user's.
        taken: asyncio.Future[Started] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            ids: list[str] = []
            intent = ""
            try:
                updates = self.agg.portal.launch(account, launch, user=token.user, cause=cause)
                async for update in updates:
                    self.agg.changed()
                    intent = intent or update.intent
                    if update.phase == "requested":
                        ids.append(update.instance.id)
                    if not taken.done() and (len(ids) == launch.count or update.finished):
                        taken.set_result(Started(tuple(ids), intent))
            except Exception as exc:
                if not taken.done():
                    taken.set_exception(exc)
            if not taken.done():
                taken.set_result(Started(tuple(ids), intent))

        self.agg.spawn(run())
        started = await taken
        self.agg.poll_soon()
        return started

    async def _start_app(
        self,
        token: TokenRecord,
        account: str,
        template: str,
        request: LaunchIn,
        cause: str | None = None,
    ) -> Started:
        taken: asyncio.Future[Started] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                async for update in self.agg.portal.launch_app(
                    account,
                    template,
                    request.name,
                    request.parameters,
                    user=token.user,
                    cause=cause,
                ):
                    self.agg.changed()
                    if not taken.done():
                        taken.set_result(Started((update.instance.id,), update.intent))
            except Exception as exc:
                if not taken.done():
                    taken.set_exception(exc)

        self.agg.spawn(run())
        started = await taken
        self.agg.poll_soon()
        return started


def deployable_id(account: str, kind: str, item_id: str) -> str:
    return f"{account}:{kind}:{item_id}"


def parse_deployable(text: str) -> tuple[str, str, str]:
    account, _, rest = text.partition(":")
    kind, _, item_id = rest.partition(":")
    if not account or kind not in ("image", "template", "deployable") or not item_id:
        raise not_found(f"no deployable {text!r}; take ids from GET {API_PREFIX}/catalogs")
    return account, kind, item_id
