"""Pool deployables on the server: the synthetic cloud. A launch names a deployable of a
pool, the server picks the account (matching.py says how) and, when that account rejects
it, tries the next; every try is an event ("pool-launch") linked to its outcome.

The track record comes from the event log (the engine's launch intents and outcomes)
and from polls counted here as they finish (the inventory logs no event for a failed
poll, and one row per poll would drown the log); the poll counts start afresh with
each server process.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from winged_monkey.backend import Capability
from winged_monkey.catalog import CatalogItem
from winged_monkey.errors import AnswerLostError, StoreError, WMError
from winged_monkey.models import Event
from winged_monkey.serve.errors import ApiError, conflict, forbidden, no_answer, not_found
from winged_monkey.serve.matching import Match, TrackRecord, match, track_record
from winged_monkey.serve.request_log import outcome_href
from winged_monkey.wire import (
    CandidateOut,
    CatalogOut,
    DeployableOut,
    LaunchAccepted,
    LaunchIn,
    MatchOut,
    PoolScoresOut,
    TrackRecordOut,
    TryOut,
)

if TYPE_CHECKING:
    from winged_monkey.engine.inventory import AccountUpdate
    from winged_monkey.serve.launches import Launches
    from winged_monkey.serve.pools import PoolDeployable
    from winged_monkey.serve.service import Aggregator
    from winged_monkey.serve.tokens import TokenRecord

log = logging.getLogger("winged_monkey.serve")
#: Finished polls remembered per account (at a 1 s interval: over 4 hours).
POLLS_KEPT = 16384
#: Launch events read per account for its record, per launch that counts.
EVENTS_PER_LAUNCH = 8


class PoolLaunches:
    """Matching, scores and failover for the pools' deployables."""

    def __init__(self, agg: Aggregator, launches: Launches) -> None:
        self.agg = agg
        self.launches = launches
        self._polls: dict[str, deque[tuple[float, bool]]] = {}

    # -- polls ------------------------------------------------------------------------

    def observe(self, update: AccountUpdate) -> None:
        """Count a finished poll (a poller listener)."""
        phase = update.status.phase
        if phase in ("ok", "failed"):
            kept = self._polls.setdefault(update.status.name, deque(maxlen=POLLS_KEPT))
            kept.append((time.monotonic(), phase == "failed"))

    def poll_counts(self, account: str, window_s: float) -> tuple[int, int]:
        """(polls, failed polls) of `account` in the last `window_s` seconds."""
        since = time.monotonic() - window_s
        recent = [failed for at, failed in self._polls.get(account, ()) if at >= since]
        return len(recent), sum(recent)

    # -- matching ---------------------------------------------------------------------

    def offers(self, pool: str, name: str) -> PoolDeployable | None:
        return self.agg.server.pool_settings(pool).deployable(name)

    async def records(self, pool: str, accounts: list[str]) -> dict[str, TrackRecord]:
        settings = self.agg.server.pool_settings(pool)
        since = datetime.now(UTC) - timedelta(hours=settings.window_hours)
        limit = settings.recent_launches * EVENTS_PER_LAUNCH

        def read() -> dict[str, list[Event]]:
            store = self.agg.portal.store
            try:
                return {
                    a: store.events(kinds=["launch"], account=a, since=since, limit=limit)
                    for a in accounts
                }
            except (StoreError, sqlite3.Error) as exc:  # no history: judge on price alone
                log.warning("event log: %s", exc)
                return {}

        events = await asyncio.to_thread(read)  # never on the loop: the store may wait
        window_s = settings.window_hours * 3600
        return {
            a: track_record(
                events.get(a, ()),
                recent=settings.recent_launches,
                polls=(counts := self.poll_counts(a, window_s))[0],
                failed_polls=counts[1],
                window_hours=settings.window_hours,
            )
            for a in accounts
        }

    async def match(
        self,
        pool: str,
        deployable: PoolDeployable,
        count: int = 1,
        excluded: dict[str, str] | None = None,
    ) -> Match:
        """The pool's accounts ranked for `count` x `deployable`, from cached catalogs (no
        launch call; a catalog is fetched once per TTL) and the event log."""
        accounts = list(deployable.realisations())
        fetched = await asyncio.gather(*(self.launches.fetch(a) for a in accounts))
        catalogs = {a: c.catalog for a, c in zip(accounts, fetched, strict=True)}
        errors = {a: c.error for a, c in zip(accounts, fetched, strict=True) if c.error}
        refused = {}
        for account in accounts:
            if self.agg.portal.account_config(account).read_only:
                refused[account] = "the account is read-only"
            elif Capability.LAUNCH not in self.agg.portal.capabilities(account):
                refused[account] = "this account cannot launch"
        records = await self.records(pool, accounts)
        settings = self.agg.server.pool_settings(pool)
        return match(
            pool,
            deployable,
            settings,
            catalogs,
            records,
            count=count,
            errors=errors,
            refused=refused,
            excluded=excluded,
        )

    async def scores(self, token: TokenRecord, pool: str) -> PoolScoresOut:
        self.agg.check_pool(token, pool)
        settings = self.agg.server.pool_settings(pool)
        found = await asyncio.gather(*(self.match(pool, d) for d in settings.deployables))
        return PoolScoresOut(
            pool=pool,
            window_hours=settings.window_hours,
            weights=settings.weights.model_dump(),
            priority=settings.priority,
            deployables=tuple(match_out(m) for m in found),
        )

    async def add_to(self, catalogs: list[CatalogOut]) -> list[CatalogOut]:
        """Each pool's catalog with its pool deployables first, each with the current choice."""
        out = []
        for catalog in catalogs:
            settings = self.agg.server.pool_settings(catalog.pool)
            found = await asyncio.gather(
                *(self.match(catalog.pool, d) for d in settings.deployables)
            )
            pooled = tuple(
                DeployableOut(id=d.name, item=_item(catalog.pool, d, m), match=match_out(m))
                for d, m in zip(settings.deployables, found, strict=True)
            )
            out.append(catalog.model_copy(update={"deployables": pooled + catalog.deployables}))
        return out

    # -- launch -----------------------------------------------------------------------

    async def launch(
        self, token: TokenRecord, pool: str, request: LaunchIn, cause: str | None = None
    ) -> LaunchAccepted:
        """Launch on the best account; on a rejection, on the next; each try an event,
        caused by `cause` (`client:` and the client's intent key) when the client sent one."""
        self.agg.check_pool(token, pool)
        if not token.allows("operator"):
            raise forbidden(f"launching needs the operator role; this token is {token.role}")
        deployable = self.offers(pool, request.deployable)
        if deployable is None:
            raise not_found(f"no deployable {request.deployable!r} in pool {pool!r}")
        tried: dict[str, str] = {}
        tries: list[TryOut] = []
        while True:
            found = await self.match(pool, deployable, request.count, tried)
            chosen = found.chosen
            if chosen is None:
                break
            fit = chosen.fit
            why = found.why()
            step = f"pool {pool}, {deployable.name}, try {len(tries) + 1}: {why}"
            event = await self.agg.record_request(
                token, "pool-launch", fit.account, fit.item, request.name, step, cause=cause
            )
            # This try's outcome: a detail (and outcome) recorded as caused by its request.
            settle = functools.partial(
                self._settle, token, event, fit.account, fit.item, request.name
            )
            # The pool picks the size; a subnet or zone of one account means nothing in another.
            asked = request.model_copy(
                update={
                    "size": fit.size.id if fit.size else None,
                    "location": None,
                    "network": None,
                }
            )
            try:
                started = await self.launches.start(
                    token, fit.account, fit.kind, fit.item, asked, cause=event
                )
            except AnswerLostError as exc:  # it may exist: launching elsewhere could make two
                reason = f"not tried elsewhere: {exc.message}"  # it says it may exist
                await settle(reason)
                raise no_answer(f"{fit.account}: {reason}", outcome_href(exc.intent)) from None
            except WMError as exc:
                tried[fit.account] = exc.message
                tries.append(
                    TryOut(account=fit.account, outcome="rejected", reason=exc.message, event=event)
                )
                await settle(f"{fit.account} rejected the launch: {exc.message}", "failed")
                continue
            finally:
                self.launches.forget(fit.account)  # its quota use changed
            tries.append(TryOut(account=fit.account, outcome="launched", reason=why, event=event))
            await settle(f"launched on {fit.account}: {', '.join(started.ids)}", "ok")
            # Its Location: the outcome of this try's launch, the one the cloud took.
            return started.accepted(fit.account, event, match=match_out(found), tries=tuple(tries))
        if not tries:
            raise conflict(found.why())
        reasons = "; ".join(f"{t.account}: {t.reason}" for t in tries)
        raise ApiError(
            502, "backend_failed", f"every account of pool {pool} rejected the launch: {reasons}"
        )

    async def _settle(
        self,
        token: TokenRecord,
        event: str,
        account: str,
        item: str,
        name: str,
        detail: str,
        outcome: str = "unknown",
    ) -> None:
        await self.agg.record_request(
            token, "pool-launch", account, item, name, detail, outcome, cause=event
        )


def _item(pool: str, deployable: PoolDeployable, found: Match) -> CatalogItem:
    hardware = ", ".join(
        part
        for part in (
            f"{deployable.vcpus} vCPU" if deployable.vcpus else "",
            f"{deployable.ram_mb} MB" if deployable.ram_mb else "",
            f"{deployable.disk_gb} GB disk" if deployable.disk_gb else "",
            deployable.arch or "",
        )
        if part
    )
    return CatalogItem(
        account=found.chosen.account if found.chosen else pool,
        kind="deployable",
        id=deployable.name,
        name=deployable.name,
        description=deployable.description,
        provider="pool",
        needs=(f"hardware: {hardware}",) if hardware else (),
        arch=deployable.arch,
    )


def match_out(found: Match) -> MatchOut:
    return MatchOut(
        pool=found.pool,
        deployable=found.deployable,
        chosen=found.chosen.account if found.chosen else None,
        why=found.why(),
        ranked=tuple(
            CandidateOut(
                account=s.account,
                launchable=s.launchable,
                kind=s.fit.kind,
                item=s.fit.item,
                size=s.fit.size.id if s.fit.size else None,
                price_hourly=s.fit.price_hourly,
                priority=s.priority,
                score=s.score,
                parts=dict(s.parts),
                record=TrackRecordOut(
                    launches=s.record.launches,
                    failed=s.record.failed,
                    median_s=s.record.median_s,
                    polls=s.record.polls,
                    failed_polls=s.record.failed_polls,
                    window_hours=s.record.window_hours,
                ),
                summary=s.summary(),
                reasons=s.reasons,
            )
            for s in found.ranked
        ),
    )
