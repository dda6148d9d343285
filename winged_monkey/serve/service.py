"""The aggregator's core, without the web framework: a portal polled on the server's own
schedule, answers built from its cache, actions and launches run in background tasks.

Reads never reach a cloud: a hundred clients cost the clouds what the poller costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
import math
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from pydantic import TypeAdapter

from winged_monkey.actions import Action
from winged_monkey.backend import ACTION_CAPABILITY
from winged_monkey.engine.operations import ActionUpdate
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import WMError
from winged_monkey.models import Event, Instance, InstanceKind, Unlisted
from winged_monkey.serve.errors import ApiError, conflict, forbidden, not_found
from winged_monkey.serve.launches import Launches
from winged_monkey.serve.pool_launches import PoolLaunches
from winged_monkey.serve.request_log import RequestLog, outcome_href
from winged_monkey.serve.settings import ServerConfig
from winged_monkey.serve.tokens import TokenRecord
from winged_monkey.wire import (
    API_PREFIX,
    CLIENT_CAUSE,
    AccountStatusOut,
    ActionAccepted,
    EventPage,
    Link,
    PoolOut,
    ProviderAccountOut,
    ProviderOut,
    RequestedOut,
    ResourceOut,
    Role,
    Whoami,
)

log = logging.getLogger("winged_monkey.serve")
COLLECTIONS: dict[InstanceKind, str] = {"instance": "instances", "app": "deployments"}
EVENT_SCAN = 5000  # rows examined per events request at most; `next` lets a client go on
_RESOURCES = TypeAdapter(list[ResourceOut])
#: Actions a client asks for with POST (destroy is DELETE on the resource).
POST_ACTIONS = tuple(a for a in Action if a is not Action.DESTROY)


class Aggregator(RequestLog):
    """Everything the routes need; one per server process."""

    def __init__(self, server: ServerConfig, portal: Portal) -> None:
        self.server = server
        self.portal = portal
        self.pools = server.pools()
        self._pool_of = {a: p for p, accounts in self.pools.items() for a in accounts}
        self.launches = Launches(self)
        self.pooled = PoolLaunches(self, self.launches)
        self._tasks: set[asyncio.Task[None]] = set()
        self.poller = portal.poller(every=server.poll_interval)
        self.poller.subscribe(lambda _update: self.changed())
        self.poller.subscribe(self.pooled.observe)  # the accounts' poll record
        self._polling: asyncio.Task[None] | None = None
        #: Bumped whenever the portal's rows may have changed; listings are cached per value.
        self.generation = 0
        self._listings: dict[tuple[object, ...], bytes] = {}
        self._tags: dict[tuple[object, ...], str] = {}
        self._listings_generation: tuple[int, int] = (-1, -1)

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        self.portal.load_cache()
        self.changed()
        self._polling = asyncio.create_task(self.poller.run(), name="wm-serve-poller")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._polling] if self._polling else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.portal.close()

    @property
    def polls(self) -> int:
        """Polls every account has finished (the slowest account's count)."""
        return min(self.poller.polls.values(), default=0)

    def changed(self) -> None:
        """The rows (or what may be done to them) may differ from what was served."""
        self.generation += 1

    def poll_soon(self, accounts: Iterable[str] | None = None) -> None:
        """Poll now rather than at the interval (after a launch, say)."""
        self.poller.poll_now(accounts)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- scope -----------------------------------------------------------------

    def visible_pools(self, token: TokenRecord) -> list[str]:
        if token.pool is None:
            return list(self.pools)
        return [token.pool] if token.pool in self.pools else []

    def pool_of(self, account: str) -> str:
        return self._pool_of[account]

    def check_pool(self, token: TokenRecord, pool: str) -> None:
        if pool not in self.pools:
            raise not_found(f"no pool {pool!r}")
        if token.pool is not None and token.pool != pool:
            raise forbidden(f"this token is for pool {token.pool!r}, not {pool!r}")

    def check_account(self, token: TokenRecord, account: str) -> None:
        if account not in self._pool_of:
            via, slash, source = account.partition("/")
            if slash and via in self._pool_of:  # as /provider-accounts names a relayed one
                raise not_found(
                    f"{account!r} is an account of the server behind account {via!r}, not "
                    f"of this one: ask for account={via} (its rows' source_account is "
                    f"{source!r})"
                )
            raise not_found(f"no provider account {account!r}")
        self.check_pool(token, self._pool_of[account])

    def relayed(self, account: str | None) -> tuple[str, str] | None:
        """(ACCOUNT, NAME) of `ACCOUNT/NAME`, an account of the server behind ACCOUNT (an
        aggregator account) as /provider-accounts and the listings' headers name it; None
        for one of this server's own (or none)."""
        if account is None or account in self._pool_of:
            return None
        via, slash, source = account.partition("/")
        return (via, source) if slash and via in self._pool_of and source else None

    def _check_relayed(self, token: TokenRecord, via: str, source: str) -> None:
        """404 unless `via`'s server has an account `source` that this one knows of: rows
        of it, or it cannot list it (`unlisted`)."""
        self.check_pool(token, self._pool_of[via])
        if any(u.name == source for u in self.portal.status(via).unlisted):
            return
        under = source + "/"
        if any(_behind(i, via, under) for i in self.portal.instances()):
            return
        raise not_found(
            f"no account {source!r} behind account {via!r}: its server lists no rows of it "
            f"and does not say it cannot list it ({API_PREFIX}/provider-accounts names those)"
        )

    def _visible_accounts(
        self,
        token: TokenRecord,
        pool: str | None = None,
        account: str | None = None,
        *,
        relayed: bool = False,
    ) -> list[str]:
        """`relayed`: `account` may be ACCOUNT/NAME (a listing's filter): ACCOUNT's, then."""
        if pool is not None:
            self.check_pool(token, pool)
        behind = self.relayed(account) if relayed else None
        if behind is not None:
            self._check_relayed(token, *behind)
            account = behind[0]
        elif account is not None:
            self.check_account(token, account)
        pools = [pool] if pool is not None else self.visible_pools(token)
        return [a for p in pools for a in self.pools[p] if account is None or a == account]

    # -- reads -----------------------------------------------------------------

    def whoami(self, token: TokenRecord) -> Whoami:
        return Whoami(
            user=token.user,
            role=token.role,
            pools=tuple(self.visible_pools(token)),
            expires_at=token.expires_at,
        )

    def providers(self, token: TokenRecord) -> list[ProviderOut]:
        seen: dict[str, ProviderOut] = {}
        for name in self._visible_accounts(token):
            config = self.portal.account_config(name)
            pid = f"{config.backend}/{config.provider}" if config.provider else config.backend
            seen.setdefault(
                pid, ProviderOut(id=pid, backend=config.backend, provider=config.provider)
            )
        return list(seen.values())

    def provider_accounts(self, token: TokenRecord) -> list[ProviderAccountOut]:
        """Each account with its status; after an aggregator account, those of its server
        that it lacks (`ACCOUNT/NAME`, failed: the server cannot list them; loading: not
        yet) or serves as last seen (stale), as their own server says them, so a client of
        this one names them too (it reads no listing's headers)."""
        found = []
        for name in self._visible_accounts(token):
            config = self.portal.account_config(name)
            status = self.portal.status(name)
            quotas = self.launches.quotas(name)
            provider = f"{config.backend}/{config.provider}" if config.provider else config.backend
            pool = self.pool_of(name)
            found.append(
                ProviderAccountOut(
                    id=name,
                    provider=provider,
                    region=config.region,
                    pool=pool,
                    status=AccountStatusOut(
                        phase=status.phase, fetched_at=status.fetched_at, error=status.error
                    ),
                    quotas=quotas,
                )
            )
            # As its server said it, not in this server's words: through a chain of
            # servers, each client says "cannot list upstream/b: ..." once.
            found.extend(
                ProviderAccountOut(
                    id=f"{name}/{u.name}",
                    provider=provider,
                    region=u.region,
                    pool=pool,
                    status=AccountStatusOut(phase=u.phase, error=u.reason),
                    quotas=u.quotas,
                )
                for u in status.unlisted
            )
            found.extend(
                ProviderAccountOut(
                    id=f"{name}/{source}",
                    provider=provider,
                    region=known.region if known else None,
                    pool=pool,
                    status=AccountStatusOut(phase="stale", fetched_at=at, error=why),
                    quotas=known.quotas if known else (),
                )
                for source, (at, why, known) in self._stale_sources(name).items()
            )
        return found

    def _stale_sources(
        self, account: str
    ) -> dict[str, tuple[datetime | None, str, Unlisted | None]]:
        """The accounts of an aggregator account's server whose rows it relays as that
        server's last seen (as that server names them: team-b, upstream/team-b): each with
        the oldest observation among them, why in that server's words, and what it said of
        that account (Instance.stale_source: its region and quota)."""
        if not self.portal.status(account).stale:  # counted by its last poll: mostly 0
            return {}
        found: dict[str, tuple[datetime | None, str, Unlisted | None]] = {}
        for row in self.portal.instances():
            if row.account != account or row.stale is None or row.source_account is None:
                continue
            source = row.stale_source
            name = source.name if source is not None else row.source_account
            why = _said(source) if source is not None else row.stale
            at, _, _ = found.get(name, (row.observed_at, why, source))
            oldest = min((t for t in (at, row.observed_at) if t is not None), default=None)
            found[name] = (oldest, why, source)
        return found

    def pool_list(self, token: TokenRecord) -> list[PoolOut]:
        return [PoolOut(id=p, accounts=tuple(self.pools[p])) for p in self.visible_pools(token)]

    def resources(
        self,
        token: TokenRecord,
        kind: InstanceKind,
        pool: str | None = None,
        account: str | None = None,
    ) -> list[ResourceOut]:
        accounts = set(self._visible_accounts(token, pool, account, relayed=True))
        rows = [i for i in self.portal.instances() if i.account in accounts and i.kind == kind]
        if (behind := self.relayed(account)) is not None:  # ACCOUNT/NAME: NAME's rows there
            rows = [i for i in rows if _behind(i, behind[0], behind[1] + "/")]
        rows.sort(key=lambda i: (i.account, i.name, i.id))
        return [self.resource_out(i, token) for i in rows]

    def resources_json(
        self,
        token: TokenRecord,
        kind: InstanceKind,
        pool: str | None = None,
        account: str | None = None,
        *,
        gzipped: bool = False,
    ) -> bytes:
        """`resources` as JSON (gzipped if asked), built once per change of the rows for
        everyone who sees the same pools with the same role: a hundred clients polling cost
        one serialisation and one compression."""
        key = (token.role, tuple(self.visible_pools(token)), kind, pool, account)
        # The rows as `find` reads them, or what may be done to them, changed since.
        generation = (self.generation, self.portal.rows_version())
        if self._listings_generation != generation:
            self._listings.clear()
            self._tags.clear()
            self._listings_generation = generation
        cached = self._listings.get((*key, gzipped))
        if cached is None:
            if gzipped:
                plain = self.resources_json(token, kind, pool, account)
                cached = gzip.compress(plain, compresslevel=5, mtime=0)
            else:
                cached = _RESOURCES.dump_json(self.resources(token, kind, pool, account))
            self._listings[(*key, gzipped)] = cached
        return cached

    def resources_tag(
        self,
        token: TokenRecord,
        kind: InstanceKind,
        pool: str | None = None,
        account: str | None = None,
        *,
        gaps: tuple[list[str], list[str]],
    ) -> str:
        """The listing's weak ETag (the same rows whatever the encoding): a dashboard that
        polls with If-None-Match is answered 304, not the whole listing again. `gaps`: the
        selection's, as `gaps` says them, whose headers change the answer too."""
        plain = self.resources_json(token, kind, pool, account)  # brings the caches up to date
        key = (token.role, tuple(self.visible_pools(token)), kind, pool, account)
        tag = self._tags.get(key)
        if tag is None:
            said = repr(gaps).encode()
            tag = f'W/"{hashlib.blake2b(plain + said, digest_size=12).hexdigest()}"'
            self._tags[key] = tag
        return tag

    def gaps(
        self, token: TokenRecord, pool: str | None = None, account: str | None = None
    ) -> tuple[list[str], list[str]]:
        """The accounts of the selection a listing holds no rows of, because the server
        cannot list them (failed since it started) or has not yet: their rows are unknown,
        not none (and those an aggregator account's server lacks, as `ACCOUNT/ITS_ACCOUNT`);
        then those whose rows it serves as last seen (its last poll failed; or, as
        `ACCOUNT/ITS_ACCOUNT`, that server serves them so)."""
        missing, last_seen = [], []
        for name in self._visible_accounts(token, pool, account, relayed=True):
            status = self.portal.status(name)
            if not (status.phase in ("ok", "stale") or status.count):
                missing.append(name)
            elif status.phase in ("failed", "stale"):
                last_seen.append(name)
            missing += (f"{name}/{u.name}" for u in status.unlisted)
            last_seen += (f"{name}/{source}" for source in self._stale_sources(name))
        if (behind := self.relayed(account)) is not None and account is not None:
            # ACCOUNT/NAME: what it lacks of NAME (and of ACCOUNT itself, its whole source)
            def within(said: str) -> bool:
                return said in (behind[0], account) or said.startswith(account + "/")

            missing, last_seen = list(filter(within, missing)), list(filter(within, last_seen))
        return missing, last_seen

    def check_known(
        self,
        token: TokenRecord,
        kind: InstanceKind,
        pool: str | None = None,
        account: str | None = None,
        *,
        missing: list[str],
        complete: bool = False,
    ) -> None:
        """Refuse (503) a listing narrowed to accounts the server holds no rows of because
        it cannot list them, or has not yet (`missing`, as `gaps` says them): answered `[]`,
        a script read no machines where nobody knows. Otherwise a listing answers what is
        known and its headers name the accounts missing, unless the client asked for all or
        nothing (`complete`)."""
        if not missing:
            return
        selection = self._visible_accounts(token, pool, account, relayed=True)
        narrowed = pool is not None or account is not None
        unknown = [name for name in missing if name in selection]  # not relayed: ours
        # Narrowed to ACCOUNT/NAME: nothing known when its server cannot list NAME.
        relayed = self.relayed(account) is not None
        nothing = account in missing if relayed else len(unknown) == len(selection)
        if not complete and not (narrowed and nothing):
            return
        whys = []
        for name in missing:
            if name not in selection:  # ACCOUNT/ITS_ACCOUNT: said by ACCOUNT's server
                via, _, source = name.partition("/")
                said = {u.name: u.line for u in self.portal.status(via).unlisted}
                whys.append(f"{via}: {said.get(source, f'its server cannot list {source}')}")
                continue
            status = self.portal.status(name)
            if status.phase == "failed":
                whys.append(f"the aggregator cannot list {name}: {status.error}")
            else:
                whys.append(f"the aggregator has not listed {name} yet")
        if narrowed and nothing:
            scope = account if account is not None else f"pool {pool}"
        else:
            scope = ", ".join(missing)
        collection = COLLECTIONS[kind]
        raise ApiError(
            503,
            "not_listed",
            f"the {collection} of {scope} are unknown, not none: {'; '.join(whys)}; ask "
            f"again later ({API_PREFIX}/provider-accounts says when each account was last "
            "listed)",
            {"Retry-After": str(max(1, math.ceil(self.server.poll_interval)))},
        )

    def find(self, token: TokenRecord, kind: InstanceKind, account: str, rid: str) -> Instance:
        self.check_account(token, account)
        instance = self.portal.instance(f"{account}/{rid}")
        if instance is None or instance.kind != kind:
            meant = self._meant(account, rid)
            raise not_found(f"no {kind} {rid!r} in account {account!r}{meant}")
        return instance

    def _meant(self, account: str, rid: str) -> str:
        """What a path's id that names no row of its collection likely meant: the row of
        that id in the other collection, or the rows of that name (a script sends what
        people call their machines; the path takes ids)."""
        other = self.portal.instance(f"{account}/{rid}")
        if other is not None:
            return f": it is an {other.kind}, {resource_href(other)}"
        named = sorted(
            (i for i in self.portal.instances() if i.account == account and i.name == rid),
            key=lambda i: i.id,
        )
        if not named:
            return ""
        hrefs = ", ".join(f"{i.id} ({resource_href(i)})" for i in named[:5])
        return f": the path takes an id, and {rid!r} is the name of {hrefs}"

    def resource_out(self, row: Instance, token: TokenRecord) -> ResourceOut:
        href = resource_href(row)
        # The engine shows an action's expected state (`stopping`) while it runs; a client
        # gets the state last observed, and the action as requested.
        flight = self.portal.flight(row.key)
        instance = flight.seen(row) if flight else row
        requested = (
            RequestedOut(action=flight.kind, at=flight.at, user=flight.user) if flight else None
        )
        if requested is None and instance.requested is not None:  # under way at its source
            requested = RequestedOut.model_validate(instance.requested.model_dump())
        observed_at, stale = self.freshness(instance.account)
        stale_account = None
        if instance.stale is not None:  # kept as last seen by its source (an aggregator):
            observed_at = instance.observed_at  # as of then
            source = instance.stale_source
            if stale is None and source is not None:  # its source's words, and whose
                stale, stale_account = _said(source), source.name
            stale = stale or instance.stale
        return ResourceOut(
            id=instance.id,
            account=instance.account,
            pool=self.pool_of(instance.account),
            kind=instance.kind,
            name=instance.name,
            state=instance.state,
            raw_state=instance.raw_state,
            provider=instance.provider,
            region=instance.region,
            size=instance.size,
            image=instance.image,
            public_ips=instance.public_ips,
            private_ips=instance.private_ips,
            created_at=instance.created_at,
            price_hourly=instance.price_hourly,
            members=instance.members,
            href=href,
            links=self.links(row, token, href),
            extra=instance.extra,
            observed_at=observed_at,
            stale=stale,
            stale_account=stale_account,
            requested=requested,
            after_timeout={
                str(action): said
                for action in Action
                if (said := self.portal.after_timeout(action, instance)) is not None
            },
        )

    def freshness(self, account: str) -> tuple[datetime | None, str | None]:
        """When the account was last listed, and why its rows are not current (None: they
        are): a failed poll keeps the last rows, which a client must not take as seen now."""
        status = self.portal.status(account)
        if status.phase == "failed":
            return status.fetched_at, status.error or "its last poll failed"
        if status.phase == "stale":
            return status.fetched_at, status.error or "not listed since the server started"
        return status.fetched_at, None

    def links(self, instance: Instance, token: TokenRecord, href: str) -> dict[str, Link]:
        """The actions this token may run on the instance now."""
        links: dict[str, Link] = {}
        if not token.allows("operator"):
            return links
        for action in Action:
            if self.refusal(token, action, instance) is not None:
                continue
            if action is Action.DESTROY:
                links[str(action)] = Link(method="DELETE", href=href)
            else:
                links[str(action)] = Link(method="POST", href=f"{href}/{action}")
        return links

    def refusal(self, token: TokenRecord, action: Action, instance: Instance) -> str | None:
        """Why this token cannot run `action` on the instance now (role, then state)."""
        needed: Role = "admin" if action is Action.DESTROY else "operator"
        if not token.allows(needed):
            return f"{action} needs the {needed} role; this token is {token.role}"
        effective = self.portal.effective(action, instance)
        if ACTION_CAPABILITY[effective] not in self.portal.capabilities(instance.account):
            config = self.portal.account_config(instance.account)
            kind = "/".join(filter(None, (config.backend, config.provider)))
            return self.portal.lacks(effective, instance.account) or f"{kind} cannot {effective}"
        return self.portal.refusal(action, instance)

    # -- actions ---------------------------------------------------------------

    async def act(
        self, token: TokenRecord, action: Action, instance: Instance, origin: str | None = None
    ) -> ActionAccepted:
        """Start `action` in the background; answer once the portal has taken it. `origin`:
        the client's key for its own record of the action (percent-encoded, INTENT_HEADER),
        the cause of the request's event; the engine's intent points at that event."""
        cause = client_cause(origin)
        reason = self.refusal(token, action, instance)
        if reason is None:  # what the provider says now (a Heat app's resources)
            reason = await self.portal.read_refusal(action, instance)
        if reason is not None:  # an attempt refused is part of the audit trail too
            await self.record_request(
                token,
                str(action),
                instance.account,
                instance.id,
                instance.name,
                reason,
                "refused",
                cause=cause,
            )
            role_missing = not token.allows("admin" if action is Action.DESTROY else "operator")
            raise forbidden(reason) if role_missing else conflict(reason)
        event = await self.record_request(
            token, str(action), instance.account, instance.id, instance.name, cause=cause
        )
        taken: asyncio.Future[ActionUpdate] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                updates = self.portal.run_action(
                    action, instance, user=token.user, cause=event, read=True
                )
                async for update in updates:
                    self.changed()
                    if not taken.done():
                        taken.set_result(update)
            except Exception as exc:
                if not taken.done():
                    taken.set_exception(exc)
                else:
                    log.warning("%s %s: %s", action, instance.key, exc)
            finally:
                self.changed()

        self.spawn(run())
        try:
            first = await taken
        except WMError as exc:
            raise conflict(exc.message) from None
        # The row as the engine holds it now (the action may have ended since it was taken).
        row = self.portal.instance(first.instance.key) or instance
        return ActionAccepted(
            action=str(action),
            resource=self.resource_out(row, token),
            event=event,
            outcome_href=outcome_href(first.intent),  # its outcome names its intent as cause
        )

    # -- events ------------------------------------------------------------------

    async def events(
        self,
        token: TokenRecord,
        *,
        after: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        account: str | None = None,
        target: str | None = None,
        cause: str | None = None,
        limit: int = 100,
    ) -> EventPage:
        """Events after store seq `after`, oldest first, of the token's pools only (read in
        a thread: the store may wait for another process's write); `cause`: those that
        name that event as their cause, read by its index."""
        visible = set(self._visible_accounts(token, account=account))
        store = self.portal.store

        def read(seq: int, count: int) -> list[tuple[int, Event]]:
            if cause is None:
                return store.events_after(seq, limit=count)
            return store.events_caused_after(cause, seq, limit=count)

        return await asyncio.to_thread(
            self._scan_events, read, visible, after, since, until, target, limit
        )

    def _scan_events(
        self,
        read: Callable[[int, int], list[tuple[int, Event]]],
        visible: set[str],
        after: int,
        since: datetime | None,
        until: datetime | None,
        target: str | None,
        limit: int,
    ) -> EventPage:
        found: list[Event] = []
        cursor = after
        scanned = 0
        while len(found) < limit and scanned < EVENT_SCAN:
            batch = read(cursor, min(500, EVENT_SCAN - scanned))
            if not batch:
                break
            for seq, event in batch:
                scanned += 1
                cursor = seq
                if _matches(event, visible, since, until, target):
                    found.append(event)
                    if len(found) == limit:
                        break
        return EventPage(events=tuple(found), next=cursor)


def client_cause(origin: str | None) -> str | None:
    """The cause a request's event names for a client's intent key (wire.INTENT_HEADER);
    None without one, or for one that is not a key (control characters: it is written to
    the log and to people's terminals)."""
    if origin is None:
        return None
    key = unquote(origin)
    if not key or not key.isprintable():
        return None
    return CLIENT_CAUSE + key


def _matches(
    event: Event,
    accounts: Iterable[str],
    since: datetime | None,
    until: datetime | None,
    target: str | None,
) -> bool:
    return (
        event.account in accounts
        and (since is None or event.at >= since)
        and (until is None or event.at < until)
        and (target is None or event.target == target)
    )


def resource_href(instance: Instance) -> str:
    account, rid = quote(instance.account, safe=""), quote(instance.id, safe="")
    return f"{API_PREFIX}/{COLLECTIONS[instance.kind]}/{account}/{rid}"


def _behind(row: Instance, via: str, under: str) -> bool:
    """Whether `row` is one that account `via`'s server holds in its account `under` (with
    its "/"), or in one behind that (a row's id there is SOURCE/ID: convert.local_id)."""
    return row.account == via and row.source_account is not None and row.id.startswith(under)


def _said(source: Unlisted) -> str:
    """What the source of a row kept as last seen said of the account it could not list,
    in its own words (a relay adds none: its client names the account, once)."""
    if source.reason:
        return source.reason
    return "its poll failed" if source.phase == "failed" else "not listed yet by its server"
