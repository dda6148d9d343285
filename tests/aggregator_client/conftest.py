"""Helpers for the aggregator client's tests: accounts of kind aggregator, their token in an
environment variable as a user would keep it, and portals over a store in tmp_path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aggregator.server import RunningAggregator, two_pool_aggregator
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import AccountUpdate, Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials


def aggregator_account(
    name: str,
    url: str,
    token: str | None,
    monkeypatch: pytest.MonkeyPatch,
    **extra: Any,
) -> AccountConfig:
    """An account `backend = "aggregator"`; its token (the secret) in WM_AGG_<NAME>."""
    var = "WM_AGG_" + name.upper().replace("-", "_")
    if token is None:
        monkeypatch.delenv(var, raising=False)
    else:
        monkeypatch.setenv(var, token)
    return AccountConfig.model_validate(
        {
            "name": name,
            "backend": "aggregator",
            "url": url,
            "timeout": extra.pop("timeout", 10.0),
            "credentials": Credentials(keyring=False, secret_env=var),
            **extra,
        }
    )


class Portals:
    """Portals over store files in tmp_path, polling actions fast; closed at the end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.opened: list[tuple[Portal, Store]] = []

    def __call__(self, *accounts: AccountConfig, name: str = "wm") -> Portal:
        config = Config(
            accounts=accounts,
            refresh_interval=1,
            busy_refresh_interval=0.1,
            action_poll_interval=0.05,
            action_timeout=30,
        )
        store = Store.open(self.tmp_path / f"{name}.sqlite3")
        portal = Portal(config, store, user="local-tester")
        self.opened.append((portal, store))
        return portal


@pytest.fixture
async def portals(tmp_path: Path) -> AsyncIterator[Portals]:
    made = Portals(tmp_path)
    yield made
    for portal, store in made.opened:
        await portal.close()
        store.close()


async def refresh(portal: Portal) -> dict[str, AccountUpdate]:
    """Each account's last update of one poll (events included)."""
    last: dict[str, AccountUpdate] = {}
    async for update in portal.refresh():
        last[update.status.name] = update
    return last


@pytest.fixture
def team(moto: MotoServer, tmp_path: Path) -> Iterator[RunningAggregator]:
    """A real `wm serve` of the test's own over moto (two accounts in two pools, see
    tests/aggregator/server.py). `moto` runs first, so `cloud` may be used beside it."""
    with two_pool_aggregator(moto, tmp_path / "agg", serve="rate = 1000\nburst = 1000") as agg:
        yield agg


async def until(what: str, check: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Run `check` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
