"""A real standalone OpenStack Heat for the Heat backend's tests, started once per session.

The Heat venv is installed (or found in the cache) right after collection, outside
any test's timeout, and only when Heat tests were selected. If it cannot be
installed the Heat tests fail with the reason; they never skip silently.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.heat.heatserver import HeatServer, HeatUnavailable, default_cache, install
from winged_monkey.engine.portal import AccountUpdate, Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config, Credentials
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend

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
    yield from _running(HeatServer(heat_python, tmp_path_factory.mktemp("heat")))


@pytest.fixture(scope="session")
def heat_convergence_server(
    heat_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeatServer]:
    """A second standalone Heat, on the convergence engine real clouds run (the suite's
    own runs the legacy one, faster here): started once, only by the tests that ask."""
    here = tmp_path_factory.mktemp("heat-convergence")
    yield from _running(HeatServer(heat_python, here, convergence=True))


def _running(server: HeatServer) -> Iterator[HeatServer]:
    """`server` started for the session, and stopped after it."""
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


SMALL = """
heat_template_version: 2018-08-31
description: two members and a value
parameters:
  size:
    type: number
    default: 2
resources:
  secret:
    type: OS::Heat::RandomString
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: size}
      resource_def: {type: OS::Heat::None}
outputs:
  password:
    description: the generated secret
    value: {get_attr: [secret, value]}
"""

FAILING = """
heat_template_version: 2018-08-31
resources:
  broken:
    type: OS::Heat::TestResource
    properties:
      fail: true
      value: nope
"""

SLOW = """
heat_template_version: 2018-08-31
parameters:
  wait:
    type: number
    default: 30
resources:
  slow:
    type: OS::Heat::TestResource
    properties:
      action_wait_secs: {create: {get_param: wait}}
"""


class Projects:
    """Unique Heat projects per test, plus a plain-httpx witness of what Heat holds."""

    def __init__(self, server: HeatServer, tmp_path: Path, tag: str) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.tag = tag
        self.stores: list[Store] = []
        self.backends: list[HeatBackend] = []

    def project(self, name: str) -> str:
        return f"{self.tag}-{name}"

    def account(self, name: str, **extra: Any) -> Any:
        return heat_account(name, self.server.url, self.project(name), **extra)

    def backend(self, name: str, **extra: Any) -> HeatBackend:
        backend = HeatBackend(self.account(name, **extra), Secrets(account=name))
        self.backends.append(backend)
        return backend

    def portal(self, *names: str, **extra: Any) -> Portal:
        portal, store = make_portal(self.tmp_path, *(self.account(n, **extra) for n in names))
        self.stores.append(store)
        return portal

    def witness(self, name: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        project = self.project(name)
        return httpx.request(
            method,
            f"{self.server.url}/{project}{path}",
            headers={"X-Auth-Project": project, "X-Auth-Token": "witness"},
            follow_redirects=True,
            timeout=10,
            **kwargs,
        )

    def spy(self, *, url_of: str, header_of: str) -> httpx.Response:
        """Ask for one project's stacks while claiming to be another."""
        return httpx.get(
            f"{self.server.url}/{self.project(url_of)}/stacks",
            headers={"X-Auth-Project": self.project(header_of)},
            timeout=10,
        )

    def create(self, name: str, stack: str, template: str = SMALL, **params: Any) -> str:
        reply = self.witness(
            name,
            "POST",
            "/stacks",
            json={"stack_name": stack, "template": template, "parameters": params},
        )
        assert reply.status_code == 201, reply.text
        return str(reply.json()["stack"]["id"])

    def status(self, name: str, stack_id: str) -> str:
        reply = self.witness(name, "GET", f"/stacks/{stack_id}")
        assert reply.status_code == 200, reply.text
        return str(reply.json()["stack"]["stack_status"])

    async def close(self) -> None:
        for backend in self.backends:
            await backend.close()
        for store in self.stores:
            store.close()

    def wait(self, name: str, stack_id: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while (status := self.status(name, stack_id)).endswith("IN_PROGRESS"):
            assert time.monotonic() < deadline, f"{stack_id} still {status}"
            time.sleep(0.1)
        return status


@pytest.fixture
async def heat(
    heat_server: HeatServer, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Projects]:
    projects = Projects(heat_server, tmp_path, _tag(request))
    yield projects
    await projects.close()


@pytest.fixture
async def heat_convergence(
    heat_convergence_server: HeatServer, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Projects]:
    """`heat`, on the convergence engine."""
    projects = Projects(heat_convergence_server, tmp_path, _tag(request))
    yield projects
    await projects.close()


def _tag(request: pytest.FixtureRequest) -> str:
    name: str = request.node.name
    return name.replace("_", "-")[5:40] + f"-{time.monotonic_ns() % 10**6}"


async def refresh(portal: Portal) -> dict[str, AccountUpdate]:
    last: dict[str, AccountUpdate] = {}
    async for update in portal.refresh():
        last[update.status.name] = update
    return last


def rows(update: AccountUpdate) -> dict[str, Any]:
    assert update.instances is not None, update.status.error
    return {i.name: i for i in update.instances}
