"""The demo's log starts with a few past events, so its events view shows what it is for."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import open_timeline, settle, wait_for
from tests.ui.on_screen import DEMO_COUNT, shows
from tests.ui.test_events import open_events
from winged_monkey.demo.seed import running_demo
from winged_monkey.engine.portal import Portal
from winged_monkey.models import EventSource
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.main import MainScreen


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


async def test_no_demo_event_comes_before_its_instance_was_launched(tmp_path: Path) -> None:
    """The demo's story happened to instances moto launched as the demo started: its
    events came before their launch, in the events view and the timeline."""
    with running_demo(tmp_path / "demo") as (config, store_path, _server):
        portal = Portal(config, Store.open(store_path), user="tester")
        app = WMApp(portal, config, title_suffix="demo")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            launched = {(i.account, i.id): i.created_at for i in portal.instances()}
            assert len(launched) == DEMO_COUNT
            screen = await open_events(pilot)
            await pilot.press("f")  # every part
            await pilot.pause()
            parts = screen.table.shown
            assert len(parts) == 9
            for event in parts:
                created = launched[(event.account, event.target)]
                assert created is not None
                assert created <= event.at, (event.target_name, event.kind, created, event.at)
            await pilot.press("escape")
            await pilot.press("colon", *"instances", "enter")
            await wait_for(pilot, lambda: shows(app, MainScreen), "the instances view")
            for name in ("batch", "prod-report"):
                timeline = await open_timeline(pilot, app, name)
                created = launched[(timeline.account, timeline.target)]
                assert created is not None
                assert timeline.events
                assert all(created <= e.at for e in timeline.events), name
                await pilot.press("escape")
                await wait_for(pilot, lambda: shows(app, MainScreen), "the instances view")
        await portal.close()
