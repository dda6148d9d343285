"""The portal applies the event log's retention after a refresh, off the event loop, hourly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

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
