"""The portal's catalog and launch side: per-account catalogs (cached), image search,
ranking across accounts, and launches followed until every new instance runs or fails.

`Portal.catalog`, `catalogs`, `search_images`, `where` and `launch` delegate here, so the
portal module keeps to inventory and actions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability
from winged_monkey.catalog import AccountCatalog, CatalogItem, LaunchRequest
from winged_monkey.errors import ActionNotAllowed, ConfigError, InvalidRequest, WMError
from winged_monkey.models import Instance, InstanceState
from winged_monkey.portal import ActionUpdate, Portal, _Account
from winged_monkey.ranking import Ranked, SizeSpec, find_size, rank, shortfall
from winged_monkey.streams import merge

#: A catalog is kept this long; a launch drops its account's copy (its quota use changed).
CATALOG_TTL_S = 300.0
#: A launch checks quota against a catalog at most this old (a summary just shown).
QUOTA_FRESH_S = 30.0


@dataclass(frozen=True)
class CatalogUpdate:
    """One account's answer to a catalog fan-out: its catalog, or why there is none."""

    account: str
    catalog: AccountCatalog | None = None
    error: str | None = None


class Launcher:
    """Catalog cache and launches for one portal (created by the portal on first use)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self._cache: dict[str, tuple[float, AccountCatalog]] = {}

    # -- catalog ----------------------------------------------------------------------

    def cached(self, account: str) -> AccountCatalog | None:
        kept = self._cache.get(account)
        if kept is None or time.monotonic() - kept[0] > CATALOG_TTL_S:
            return None
        return kept[1]

    def forget(self, account: str | None = None) -> None:
        if account is None:
            self._cache.clear()
        else:
            self._cache.pop(account, None)

    def catalog_accounts(self) -> list[str]:
        """Accounts whose backend may have a catalog (known without a network call; once
        built, a backend may narrow it: libvirt through libcloud has none)."""
        return [
            name
            for name in self.portal.account_names
            if Capability.CATALOG in self.portal.capabilities(name)
        ]

    async def catalog(self, account: str, *, refresh: bool = False) -> AccountCatalog:
        if not refresh and (kept := self.cached(account)) is not None:
            return kept
        holder, backend = await self._open(account)
        if Capability.CATALOG not in backend.capabilities:
            raise ActionNotAllowed(
                f"{holder.config.backend} accounts have no catalog", account=account
            )
        found = await self.portal._within(holder, backend.catalog())
        self._cache[account] = (time.monotonic(), found)
        return found

    async def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        """The catalog of each account in `names` (default: `catalog_accounts()`), each as
        soon as it arrives; a failing account is an update with its error and the others
        carry on; an account whose provider has no catalog after all is left out."""
        targets = list(names) if names is not None else self.catalog_accounts()

        async def one(name: str) -> CatalogUpdate | None:
            try:
                _, backend = await self._open(name)
                if Capability.CATALOG not in backend.capabilities:
                    return None  # this provider has none (libvirt): nothing to say
                return CatalogUpdate(name, await self.catalog(name, refresh=refresh))
            except WMError as exc:
                return CatalogUpdate(name, error=exc.message)
            except Exception as exc:  # a plugin bug must not take the other accounts down
                return CatalogUpdate(name, error=f"unexpected {type(exc).__name__}: {exc}")

        for next_done in asyncio.as_completed([one(n) for n in targets]):
            update = await next_done
            if update is not None:
                yield update

    async def search_images(self, account: str, query: str, limit: int = 50) -> list[CatalogItem]:
        if not query.strip():
            raise InvalidRequest("say what to search for (a word of the image's name)")
        holder, backend = await self._open(account)
        return await self.portal._within(holder, backend.search_images(query.strip(), limit))

    async def where(
        self,
        spec: SizeSpec | str,
        *,
        item: str | None = None,
        count: int = 1,
        names: Sequence[str] | None = None,
    ) -> tuple[list[Ranked], list[CatalogUpdate]]:
        """Accounts ranked for `count` x `spec`, and the accounts that could not answer."""
        found: list[AccountCatalog] = []
        failed: list[CatalogUpdate] = []
        async for update in self.catalogs(names):
            if update.catalog is not None:
                found.append(update.catalog)
            else:
                failed.append(update)
        refused = {
            c.account: "the account is read-only"
            for c in found
            if self.portal.account_config(c.account).read_only
        }
        return rank(found, spec, item=item, count=count, refused=refused), failed

    # -- launch -----------------------------------------------------------------------

    async def launch(
        self,
        account: str,
        request: LaunchRequest,
        *,
        follow: bool = True,
        user: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        if request.kind == "template":
            text = await asyncio.to_thread(_read_template, request.item, account)
            async for update in self.portal.launch_app(
                account, text, request.name, request.parameters, follow=follow, user=user
            ):
                yield update
            self.forget(account)
            return
        holder, backend = await self._open(account)
        if holder.config.read_only:
            raise ActionNotAllowed(f"account {account} is read-only", account=account)
        if Capability.LAUNCH not in backend.capabilities:
            raise ActionNotAllowed(
                f"{holder.config.backend}/{holder.config.provider} accounts cannot launch "
                "instances here",
                account=account,
            )
        size, where = None, (holder.config.provider or holder.config.backend, holder.config.region)
        if Capability.CATALOG in backend.capabilities:
            # Recent quota: a stale one could let through a launch the cloud then refuses.
            kept = self._cache.get(account)
            fresh = kept is not None and time.monotonic() - kept[0] < QUOTA_FRESH_S
            catalog = await self.catalog(account, refresh=not fresh)
            size = find_size(catalog, request.size) if request.size else None
            where = (catalog.provider, catalog.region)
            blocked = shortfall(catalog.quotas, size, request.count)
            if blocked:
                raise InvalidRequest(
                    blocked + "; ask for a higher limit or launch fewer", account=account
                )
        portal, at, started = self.portal, self.portal.clock(), time.monotonic()
        try:
            ids = await portal._within(holder, backend.launch(request))
        except WMError as exc:
            failed = _row(account, request.name, request, where, "launch refused")
            update = ActionUpdate(Action.START, failed, "failed", exc.message)
            portal._record(update, "launch", exc.message, at, time.monotonic() - started, user)
            raise
        finally:
            self.forget(account)
        rows = [_row(account, i, request, where, "launch requested") for i in ids]
        if size is not None:
            rows = [r.model_copy(update={"price_hourly": size.price_hourly}) for r in rows]
        finals: dict[str, ActionUpdate] = {}
        for row in rows:
            holder.instances[row.id] = row
            portal._in_flight.add(row.key)
            finals[row.id] = ActionUpdate(
                Action.START, row, "requested", f"{row.name} launch requested"
            )
        try:
            for row in rows:
                yield finals[row.id]
            if not follow:
                finals = {k: replace(u, phase="done") for k, u in finals.items()}
                return
            streams = [
                portal._follow(backend, Action.START, row, holder.config.timeout) for row in rows
            ]
            async for update in merge(streams):
                if update.phase == "done":  # "started" is a start's word; say what happened
                    update = replace(update, message=f"{update.instance.name} launched, running")
                holder.instances[update.instance.id] = update.instance
                finals[update.instance.id] = update
                yield update
        finally:
            for row in rows:
                portal._in_flight.discard(row.key)
                final = finals[row.id]
                if not final.finished:
                    final = replace(final, phase="failed", message="stopped following (cancelled)")
                portal._record(final, "launch", final.message, at, time.monotonic() - started, user)

    async def _open(self, account: str) -> tuple[_Account, Backend]:
        holder = self.portal._accounts.get(account)
        if holder is None:
            self.portal.config.account(account)  # raises ConfigError naming the known ones
            raise ConfigError(f"no account {account!r}")
        backend = await asyncio.to_thread(self.portal._backend, holder)
        return holder, backend


def _row(
    account: str, ident: str, request: LaunchRequest, where: tuple[str, str | None], raw: str
) -> Instance:
    """The row shown until the first poll of the new instance answers."""
    return Instance(
        account=account,
        id=ident,
        name=request.name,
        state=InstanceState.PENDING,
        raw_state=raw,
        provider=where[0],
        region=where[1],
        size=request.size,
        image=request.item,
    )


def _read_template(path: str, account: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(
            f"cannot read template {path}: {exc.strerror or exc}", account=account
        ) from None
