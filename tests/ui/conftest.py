"""Fixtures for the TUI tests: the real moto demo cloud, and a deterministic cached portal.

Two kinds of portal:
- `live`: the demo fleet on a real moto server (ids and addresses seeded), plus the
  accounts a test adds (read-only, unreachable). For behaviour.
- `cached_portal`: a store pre-filled with fixed snapshots whose accounts point at a
  closed loopback port, with a fixed clock: the screen is the honest "cached, then
  failed" state and is the same on every run. For snapshots.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from tests.ui.on_screen import SIZE, Notes, by_name, main_of
from winged_monkey.demo.seed import build_demo
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountSnapshot, Event, EventSource, Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.timeline import TimelineScreen
from winged_monkey.user.config import AccountConfig, Config

FIXED_NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
#: Port 9 (discard) is closed on a loopback without inetd: a fixed, deterministic refusal.
CLOSED_PORT = 9
SECRET_ENV = "WM_UI_TEST_SECRET"
SLOW = 600.0  # a poll interval no test waits for


def fixed_clock() -> datetime:
    return FIXED_NOW


@pytest.fixture(autouse=True)
def _utc_display() -> Iterator[None]:
    """Views show local times: make local UTC so the screens read the same everywhere."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def ec2_account(name: str, port: int, **extra: Any) -> AccountConfig:
    return AccountConfig.model_validate(
        {
            "name": name,
            "backend": "libcloud",
            "provider": "ec2",
            "region": "us-east-1",
            "timeout": 5.0,
            "endpoint": {"host": "127.0.0.1", "port": port, "secure": False},
            "credentials": {"key": "AKIAUITEST", "keyring": False, "secret_env": SECRET_ENV},
            **extra,
        }
    )


@dataclass
class Live:
    server: MotoServer
    config: Config
    portal: Portal

    def app(self) -> WMApp:
        return WMApp(self.portal, self.config, title_suffix="test")


@pytest.fixture
def demo_config(moto: MotoServer, tmp_path: Path) -> Config:
    """The demo fleet (tests/conftest.py's `moto`: emptied and seeded), polled only on demand."""
    config = build_demo(moto, tmp_path / "demo")
    return config.model_copy(
        update={
            "refresh_interval": SLOW,
            "busy_refresh_interval": SLOW,
            "action_poll_interval": 0.05,
            "action_timeout": 20.0,
        }
    )


def live_portal(config: Config, tmp_path: Path, *extra: AccountConfig) -> Portal:
    config = config.model_copy(update={"accounts": (*config.accounts, *extra)})
    return Portal(config, Store.open(tmp_path / "wm.sqlite3"), user="tester")


@pytest.fixture
def live(moto: MotoServer, demo_config: Config, tmp_path: Path) -> Live:
    portal = live_portal(demo_config, tmp_path)
    return Live(moto, portal.config, portal)


async def wait_for(
    pilot: Pilot[Any],
    condition: Callable[[], bool],
    what: str,
    within: float = 20.0,
    seen: Callable[[], object] | None = None,
) -> None:
    """Let the app run until `condition` holds; fail after `within` seconds, saying what
    `seen` returns then (what the app did instead)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            instead = f"; saw {seen()!r}" if seen is not None else ""
            raise AssertionError(f"timed out waiting for {what}{instead}")
        await pilot.pause(0.05)


async def open_timeline(pilot: Pilot[Any], app: WMApp, name: str) -> TimelineScreen:
    """`t` on the main screen's row named `name`: its timeline, once loaded."""
    table = main_of(app).table
    table.select(by_name(table, name).key)
    await pilot.press("t")
    timeline = app.screen
    assert isinstance(timeline, TimelineScreen)
    await wait_for(pilot, lambda: timeline.loaded, "the timeline")
    return timeline


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for every worker (actions, views) to end, for every account to have been polled
    with no poll under way (the poller runs for the app's life), and for their messages."""
    await pilot.pause()
    await finish_workers(pilot.app)
    poller = pilot.app.main_screen.poller if isinstance(pilot.app, WMApp) else None
    if poller is not None:
        await wait_for(pilot, lambda: poller.settled, "every account's poll")
    await pilot.pause()


@asynccontextmanager
async def running(app: WMApp) -> AsyncIterator[tuple[Pilot[None], Notes]]:
    """`app` at 80x24 with its notifications caught, once it has settled (`settle`)."""
    notes = Notes()
    async with app.run_test(size=SIZE, message_hook=notes) as pilot:
        await settle(pilot)
        yield pilot, notes


async def finish_workers(app: App[Any]) -> None:
    """Wait for the app's workers except the poller, which runs as long as the app."""
    others = [w for w in app.workers if w.group != "poller"]
    if others:  # (an empty list would mean every worker)
        await app.workers.wait_for_complete(others)


# -- the deterministic cached portal ---------------------------------------------------------

_SIZES = (("t3.micro", 0.0104), ("t3.small", 0.0208), ("m5.large", 0.096), ("r5.xlarge", None))
_STATES = (
    InstanceState.RUNNING,
    InstanceState.RUNNING,
    InstanceState.STOPPED,
    InstanceState.RUNNING,
    InstanceState.PENDING,
    InstanceState.ERROR,
    InstanceState.SUSPENDED,
    InstanceState.TERMINATED,
)


def fixed_instances(account: str, names: list[str], region: str, net: int) -> list[Instance]:
    found = []
    for n, name in enumerate(names):
        state = _STATES[n % len(_STATES)]
        size, price = _SIZES[n % len(_SIZES)]
        running = state is InstanceState.RUNNING
        found.append(
            Instance(
                account=account,
                id=f"i-{net:02x}{n:015x}",
                name=name,
                state=state,
                raw_state=str(state),
                provider="ec2",
                region=region,
                size=size,
                image="ami-1e749f67",
                public_ips=(f"54.{net}.{n}.{10 + n}",) if running else (),
                private_ips=(f"10.{net}.0.{10 + n}",),
                created_at=FIXED_NOW - timedelta(minutes=37 * n * n + 5),
                price_hourly=price,
                extra={"tags": {"Name": name, "team": "web"}, "key_name": "ops"},
            )
        )
    return found


FLEET = {
    "dev": (
        "us-east-1",
        ["web-1", "web-2", "api", "batch", "ci-runner", "queue", "cache", "old-ci", "bastion"],
    ),
    "prod": ("us-east-1", ["prod-web-1", "prod-web-2", "prod-db", "prod-report", "prod-api"]),
    "lab": ("eu-west-1", ["lab-gpu", "lab-k8s-1", "lab-k8s-2", "lab-k8s-3"]),
}


@pytest.fixture
def cached_portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Portal:
    monkeypatch.setenv(SECRET_ENV, "not-a-secret")
    store = Store.open(tmp_path / "cached.sqlite3")
    accounts = []
    for net, (name, (region, names)) in enumerate(FLEET.items(), start=1):
        accounts.append(ec2_account(name, CLOSED_PORT, region=region, read_only=name == "prod"))
        store.save_snapshot(
            AccountSnapshot(
                account=name,
                fetched_at=FIXED_NOW - timedelta(hours=2, minutes=net),
                instances=tuple(fixed_instances(name, names, region, net)),
            )
        )
    config = Config(refresh_interval=SLOW, busy_refresh_interval=SLOW, accounts=tuple(accounts))
    return Portal(config, store, clock=fixed_clock, user="tester")


def cached_app(portal: Portal) -> WMApp:
    return WMApp(portal, portal.config, clock=fixed_clock, title_suffix="demo")


# -- a fixed event log over the cached fleet -------------------------------------------------

OBS, ACT = EventSource.OBSERVED, EventSource.ACTION


def fleet_id(account: str, name: str) -> str:
    """The id `fixed_instances` gives `name` (or would give a name past the list)."""
    names = FLEET[account][1]
    net = list(FLEET).index(account) + 1
    n = names.index(name) if name in names else len(names)
    return f"i-{net:02x}{n:015x}"


def _event(
    source: EventSource,
    kind: str,
    account: str,
    name: str,
    ago: timedelta,
    old: str | None = None,
    new: str | None = None,
    **extra: Any,
) -> Event:
    at = FIXED_NOW - ago
    target = fleet_id(account, name)
    return Event(
        key=f"{source}:{account}:{target}:{kind}:{old}>{new}:{at.timestamp():.0f}",
        at=at,
        source=source,
        kind=kind,
        account=account,
        target=target,
        target_name=name,
        old_state=old,
        new_state=new,
        **extra,
    )


def _h(hours: float, minutes: float = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes)


def fixed_events() -> list[Event]:
    """A day of a small team's activity, consistent with the cached fleet's states."""
    ok = {"outcome": "ok"}
    return [
        _event(OBS, "appeared", "prod", "prod-web-1", timedelta(days=3), None, "running"),
        _event(
            ACT,
            "start",
            "dev",
            "web-1",
            _h(22),
            None,
            "running",
            user="alice",
            **ok,
            detail="web-1 started",
            duration=35.0,
        ),
        _event(OBS, "state", "dev", "web-1", _h(21, 59), "stopped", "running"),
        _event(OBS, "state", "prod", "prod-db", _h(18), "running", "stopped"),
        _event(
            ACT,
            "start",
            "dev",
            "batch",
            _h(15),
            None,
            "stopped",
            user="bob",
            outcome="failed",
            detail="InsufficientInstanceCapacity: no t3.small in us-east-1a",
            duration=2.1,
        ),
        _event(
            ACT,
            "start",
            "dev",
            "batch",
            _h(14),
            None,
            "running",
            user="bob",
            **ok,
            detail="batch started",
            duration=41.0,
        ),
        _event(OBS, "state", "dev", "batch", _h(13, 59), "stopped", "running"),
        _event(
            ACT,
            "stop",
            "lab",
            "lab-k8s-2",
            _h(12),
            None,
            "stopped",
            user="carol",
            **ok,
            detail="lab-k8s-2 stopped",
            duration=62.0,
        ),
        _event(OBS, "state", "lab", "lab-k8s-2", _h(11, 58), "running", "stopped"),
        _event(
            ACT,
            "stop",
            "dev",
            "api",
            _h(10),
            None,
            "stopped",
            user="tester",
            **ok,
            detail="api stopped",
            duration=30.0,
        ),
        _event(OBS, "state", "dev", "api", _h(9, 59), "running", "stopped"),
        _event(OBS, "vanished", "lab", "lab-k8s-4", _h(9), "running", None),
        _event(
            ACT,
            "destroy",
            "dev",
            "old-ci",
            _h(8),
            None,
            "terminated",
            user="alice",
            **ok,
            detail="old-ci destroyed",
            duration=48.0,
        ),
        _event(OBS, "state", "dev", "old-ci", _h(7, 59), "stopped", "terminated"),
        _event(
            ACT,
            "reboot",
            "dev",
            "web-1",
            _h(6),
            None,
            "running",
            user="alice",
            **ok,
            detail="web-1 rebooted",
            duration=20.0,
        ),
        _event(OBS, "state", "dev", "queue", _h(5), "running", "error"),
        _event(
            ACT,
            "stop",
            "dev",
            "queue",
            _h(4),
            None,
            "error",
            user="bob",
            outcome="timeout",
            detail="queue still error after 300 s",
            duration=300.0,
        ),
        _event(
            ACT,
            "stop",
            "dev",
            "web-1",
            _h(3),
            None,
            "stopped",
            user="bob",
            **ok,
            detail="web-1 stopped",
            duration=31.0,
        ),
        _event(OBS, "state", "dev", "web-1", _h(2, 59), "running", "stopped"),
        _event(OBS, "appeared", "lab", "lab-gpu", _h(2), None, "running"),
        _event(
            ACT,
            "start",
            "dev",
            "web-1",
            _h(1),
            None,
            "running",
            user="alice",
            **ok,
            detail="web-1 started",
            duration=38.0,
        ),
        _event(OBS, "state", "dev", "web-1", _h(0, 59), "stopped", "running"),
        _event(OBS, "state", "prod", "prod-api", _h(0, 45), "stopped", "pending"),
        _event(OBS, "appeared", "dev", "ci-runner", _h(0, 30), None, "pending"),
    ]


@pytest.fixture
def events_portal(cached_portal: Portal) -> Portal:
    """The cached fleet with `fixed_events` in its log."""
    cached_portal.store.append_events(fixed_events())
    return cached_portal
