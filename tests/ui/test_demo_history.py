"""The demo's log starts with a few past events, so its events view shows what it is for."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import settle
from tests.ui.test_events import open_events
from winged_monkey.demo.seed import running_demo
from winged_monkey.engine.portal import Portal
from winged_monkey.models import EventSource
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp


async def test_the_demo_events_view_opens_on_a_short_story(tmp_path: Path) -> None:
    with running_demo(tmp_path / "demo") as (config, store_path, _server):
        store = Store.open(store_path)
        for account in ("dev", "prod"):
            assert store.open_intents(account) == []  # every seeded action has its outcome
        portal = Portal(config, store, user="tester")
        app = WMApp(portal, config, title_suffix="demo")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            screen = await open_events(pilot)
            shown = screen.table.shown
            names = {e.target_name for e in shown}
            assert {"batch", "old-ci", "eu-worker", "prod-db", "prod-report"} <= names
            assert {e.source for e in shown} >= {EventSource.ACTION, EventSource.OBSERVED}
            refused = [e for e in shown if e.outcome == "failed"]
            assert refused
            assert "InsufficientInstanceCapacity" in (refused[0].detail or "")
            # one row per change: each action with its outcome; `f` shows every part
            assert len(shown) == 5
            (stop,) = [e for e in shown if e.target_name == "batch"]
            assert (stop.old_state, stop.new_state, stop.outcome) == ("running", "stopped", "ok")
            assert "2 parts" in (stop.detail or "")
            await pilot.press("f")
            await pilot.pause()
            parts = screen.table.shown
            assert len(parts) == 9
            keys = {e.key for e in parts}
            assert all(e.cause in keys for e in parts if e.cause)
        await portal.close()
