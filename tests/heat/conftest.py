"""A real standalone OpenStack Heat for the Heat backend's tests, started once per session.

The Heat venv is installed (or found in the cache) right after collection, outside
any test's timeout, and only when Heat tests were selected. If it cannot be
installed the Heat tests fail with the reason; they never skip silently.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.heat.heatserver import HeatServer, HeatUnavailable, default_cache, install
from winged_monkey.config import AccountConfig, Config, Credentials
from winged_monkey.portal import Portal
from winged_monkey.store import Store

HERE = Path(__file__).resolve().parent
#: Read before the autouse fixture points HOME at a temporary directory.
CACHE = default_cache()
_install: dict[str, Any] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.option.collectonly or not any(HERE in Path(i.path).parents for i in items):
        return
    started = time.monotonic()
    try:
        _install["python"] = install(CACHE)
    except HeatUnavailable as exc:
        _install["error"] = str(exc)
    _install["seconds"] = time.monotonic() - started


@pytest.fixture(scope="session")
def heat_python() -> Path:
    """The Heat venv's python; fails (not skips) when it could not be installed."""
    if "python" not in _install:  # e.g. a test selected in a way the hook did not see
        try:
            _install["python"] = install(CACHE)
        except HeatUnavailable as exc:
            _install["error"] = str(exc)
    if "error" in _install:
        pytest.fail(_install["error"], pytrace=False)
    path: Path = _install["python"]
    return path


@pytest.fixture(scope="session")
def heat_server(
    heat_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeatServer]:
    server = HeatServer(heat_python, tmp_path_factory.mktemp("heat"))
    try:
        server.start()
    except HeatUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


def heat_account(name: str, url: str, project: str | None = None, **extra: Any) -> AccountConfig:
    """A Heat account on a direct endpoint (standalone Heat: no Keystone, any token)."""
    settings: dict[str, Any] = {"endpoint_url": url, "project": project or name}
    settings.update(extra)
    return AccountConfig(
        name=name,
        backend="heat",
        credentials=Credentials(keyring=False),
        timeout=10,
        **settings,
    )


def make_portal(tmp_path: Path, *accounts: AccountConfig) -> tuple[Portal, Store]:
    config = Config(
        accounts=accounts,
        refresh_interval=1,
        busy_refresh_interval=0.1,
        action_poll_interval=0.1,
        action_timeout=60,
    )
    store = Store.open(tmp_path / "wm.sqlite3")
    return Portal(config, store, user="tester"), store
