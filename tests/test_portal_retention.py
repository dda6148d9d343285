"""The portal applies the event log's retention after a refresh, off the event loop, hourly."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from winged_monkey.engine import inventory
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Event, EventSource
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import Config, EventsConfig

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def event(key: str, age: timedelta) -> Event:
    return Event(
        key=key, at=NOW - age, source=EventSource.OBSERVED, kind="state", account="a", target="i"
    )


def refresh(portal: Portal) -> None:
    async def run() -> None:
        async for _ in portal.refresh():
            pass

    asyncio.run(run())


def test_old_events_are_pruned_after_a_refresh_at_most_hourly() -> None:
    store = Store.memory()
    config = Config(events=EventsConfig(max_age_days=7, max_count=0))
    portal = Portal(config, store, clock=lambda: NOW)
    store.append_events([event("old", timedelta(days=8)), event("new", timedelta(days=1))])

    refresh(portal)
    assert [e.key for e in store.events()] == ["new"]

    store.append_events([event("old-again", timedelta(days=30))])
    refresh(portal)  # within the hour: no second pass
    assert [e.key for e in store.events()] == ["new", "old-again"]


def test_a_years_backlog_is_pruned_a_little_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first `wm ls` on a log of a year (750,000 events past the default 90 days)
    printed nothing for 139 s, deleting them all before it ended; the TUI's poll of the
    account that started it stopped as long. Each pass now stops after its budget (here
    50 ms) and the next ones go on until the backlog is gone."""
    monkeypatch.setattr(inventory, "RETENTION_BUDGET_S", 0.05)
    store = Store.open(tmp_path / "wm.sqlite3")
    old = [event(f"old-{n}", timedelta(days=100, seconds=n)) for n in range(60_000)]
    store.append_events([*old, event("new", timedelta(days=1))])
    config = Config(events=EventsConfig(max_age_days=90, max_count=0))
    portal = Portal(config, store, clock=lambda: NOW)

    began = time.monotonic()
    refresh(portal)
    assert time.monotonic() - began < 1.0
    left = store.count_events()
    assert 1 < left < len(old) + 1  # some pruned, not all
    deadline = time.monotonic() + 60
    while store.count_events() > 1:  # each later refresh takes more, until none is left
        assert time.monotonic() < deadline, store.count_events()
        refresh(portal)
    assert [e.key for e in store.events()] == ["new"]
    store.close()
