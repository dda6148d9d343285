"""The catalog's title while loading with many accounts says it is loading, at 80 columns:
with 12 accounts `… · 7 of 12 accounts · loading…` did not fit, and the header gave up
`loading…` first, so a half-loaded catalog read as whole. It reads `7 of 12 accounts,
5 loading`, before the item count."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.ui.conftest import (
    CLOSED_PORT,
    SECRET_ENV,
    SLOW,
    ec2_account,
    finish_workers,
    fixed_clock,
    wait_for,
)
from tests.ui.on_screen import shows
from tests.ui.test_catalog_snapshots import CATALOGS
from winged_monkey.catalog import AccountCatalog
from winged_monkey.engine.catalogs import CatalogUpdate
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.catalog import CatalogScreen
from winged_monkey.user.config import Config

ACCOUNTS = [f"team-{n:02}" for n in range(1, 13)]
CACHED = ACCOUNTS[:7]  # the others' catalogs are still on their way


class HalfLoaded(Portal):
    """Seven accounts' catalogs cached; the other five never arrive (a slow cloud)."""

    def catalog_accounts(self) -> list[str]:
        return list(ACCOUNTS)

    def cached_catalog(self, account: str) -> AccountCatalog | None:
        if account not in CACHED:
            return None
        return CATALOGS["dev"].model_copy(update={"account": account})

    def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        async def never() -> AsyncIterator[CatalogUpdate]:
            await asyncio.Event().wait()  # cancelled with the view's worker
            yield CatalogUpdate("", None)

        return never()


async def test_the_catalog_says_it_is_loading_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-a-secret")
    accounts = tuple(ec2_account(name, CLOSED_PORT) for name in ACCOUNTS)
    config = Config(refresh_interval=SLOW, busy_refresh_interval=SLOW, accounts=accounts)
    portal = HalfLoaded(config, Store.open(tmp_path / "wm.sqlite3"), clock=fixed_clock)
    app = WMApp(portal, config, clock=fixed_clock, title_suffix="demo")
    async with app.run_test(size=(80, 24)) as pilot:
        await finish_workers(app)
        await pilot.press("colon", *"catalog", "enter")
        await wait_for(pilot, lambda: shows(app, CatalogScreen), "the catalog")
        screen = app.screen
        title = screen.query_one("HeaderTitle", Static)

        def drawn() -> str:
            return title.render_line(0).text.strip()

        await wait_for(pilot, lambda: "catalog" in drawn(), "the catalog's title", seen=drawn)
        assert "catalog · 7 of 12 accounts, 5 loading" in drawn(), drawn()
        assert "…" not in drawn(), drawn()  # no word cut
