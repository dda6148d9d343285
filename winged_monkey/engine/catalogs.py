"""Catalogs: each account's catalog (kept `CATALOG_TTL_S`), fanned out across accounts
as each answers, image search, and the accounts ranked for a size (`wm where`).

The launcher (winged_monkey.engine.launching) extends it: a launch checks quota against
the cached catalog and drops its account's copy, whose quota use it changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from winged_monkey import plugins
from winged_monkey.backend import Backend, Capability
from winged_monkey.catalog import AccountCatalog, CatalogItem
from winged_monkey.engine.accounts import Account, Accounts
from winged_monkey.engine.ranking import Ranked, SizeSpec, rank
from winged_monkey.errors import ActionNotAllowed, InvalidRequest, WMError, describe

#: A catalog is kept this long; a launch drops its account's copy (its quota use changed).
CATALOG_TTL_S = 300.0
#: Public images a search shows per account (one more is asked for, to tell there are more:
#: "ubuntu" matches tens of thousands of AMIs on AWS).
SEARCH_SHOWN = 50


def more_found(query: str) -> str:
    """What to say of a search cut at SEARCH_SHOWN images."""
    return (
        f"more than {SEARCH_SHOWN} public images match {query!r}, the newest {SEARCH_SHOWN} "
        "found shown: search for more of the name (ubuntu-noble-24.04-arm64)"
    )


@dataclass(frozen=True)
class CatalogUpdate:
    """One account's answer to a catalog fan-out: its catalog, or why there is none."""

    account: str
    catalog: AccountCatalog | None = None
    error: str | None = None


class Catalogs:
    """Each account's catalog, cached."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self._cache: dict[str, tuple[float, AccountCatalog]] = {}

    # -- catalog ----------------------------------------------------------------------

    def cached(self, account: str, max_age: float = CATALOG_TTL_S) -> AccountCatalog | None:
        """The account's catalog if one no older than `max_age` seconds is kept."""
        kept = self._cache.get(account)
        if kept is None or time.monotonic() - kept[0] > max_age:
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
            for name in self.accounts.names
            if Capability.CATALOG in self.accounts.capabilities(name)
        ]

    async def catalog(self, account: str, *, refresh: bool = False) -> AccountCatalog:
        if not refresh and (kept := self.cached(account)) is not None:
            return kept
        _, backend = await self._open(account)
        if Capability.CATALOG not in backend.capabilities:
            raise ActionNotAllowed(f"no catalog: {backend.NO_CATALOG}", account=account)
        found = await self.accounts.within(account, backend.catalog())
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
            except Exception as exc:
                return CatalogUpdate(name, error=describe(exc))

        for next_done in asyncio.as_completed([one(n) for n in targets]):
            update = await next_done
            if update is not None:
                yield update

    def no_catalog_known(self, name: str) -> str | None:
        """Why the account has no catalog, as known without a network call: its backend as
        built, else its class (None: it may have one). A view counts every account with it."""
        account = self.accounts.get(name)
        if account.backend is not None:
            backend = account.backend
            return None if Capability.CATALOG in backend.capabilities else backend.NO_CATALOG
        try:
            cls = plugins.load(account.config.backend)
        except WMError:
            return "its backend did not load (wm accounts says why)"
        return None if Capability.CATALOG in cls.CAPABILITIES else cls.NO_CATALOG

    async def no_catalog(self, account: str) -> str | None:
        """Why the account has no catalog (None: it has one), said to whoever asked for it."""
        _, backend = await self._open(account)
        return None if Capability.CATALOG in backend.capabilities else backend.NO_CATALOG

    async def search_images(self, account: str, query: str, limit: int = 50) -> list[CatalogItem]:
        if not query.strip():
            raise InvalidRequest("say what to search for (a word of the image's name)")
        _, backend = await self._open(account)
        return await self.accounts.within(account, backend.search_images(query.strip(), limit))

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
            if self.accounts.get(c.account).config.read_only
        }
        return rank(found, spec, item=item, count=count, refused=refused), failed

    async def _open(self, account: str) -> tuple[Account, Backend]:
        return self.accounts.get(account), await self.accounts.backend(account)
