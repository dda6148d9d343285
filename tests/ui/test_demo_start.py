"""`wm --demo` paints before its cloud is up: the accounts load under a note that says the
demo cloud is starting, and the rows come once it is (moto in a child process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.ui.conftest import settle, wait_for
from tests.ui.on_screen import Notes
from winged_monkey.demo.cloud import NOTE, DemoCloud
from winged_monkey.demo.seed import STORE_NAME
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp


@pytest.fixture
def cloud() -> Iterator[DemoCloud]:
    started = DemoCloud()
    yield started
    started.stop()


async def test_the_view_paints_first_then_shows_the_demo_fleet(
    cloud: DemoCloud, tmp_path: Path
) -> None:
    config = cloud.start(tmp_path)  # returns at once: the child seeds behind the view
    portal = Portal(config, Store.open(tmp_path / STORE_NAME), user="tester")
    app = WMApp(portal, config, title_suffix="demo", starting=cloud)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.main_screen
        note = screen.query_one("#starting", Static)
        assert [s.name for s in portal.statuses()] == ["dev", "dev-eu", "prod"]
        if screen.poller is None:  # the cloud may be quick: the note only while it starts
            assert note.display
            assert NOTE in str(note.render())
        await wait_for(pilot, lambda: screen.poller is not None, "the demo cloud", 120)
        await settle(pilot)
        await wait_for(pilot, lambda: screen.table.total_count >= 12, "the demo fleet", 60)
        assert not note.display
        names = {i.name for i in portal.instances()}
        assert {"web-1", "eu-web", "prod-db"} <= names
        assert {s.phase for s in portal.statuses()} == {"ok"}
        # Its history (the demo's story) happened to instances launched before it.
        launched = {(i.account, i.id): i.created_at for i in portal.instances()}
        story = [e for e in portal.store.events() if e.key.startswith("demo:")]
        assert story
        for event in story:
            created = launched[(event.account, event.target)]
            assert created is not None
            assert created <= event.at, (event.target_name, created, event.at)
    await portal.close()


async def test_a_cloud_that_cannot_start_says_why(tmp_path: Path) -> None:
    cloud = DemoCloud()
    config = cloud.start(tmp_path)
    cloud.stop()  # the child ends before it says anything: as if moto failed to start
    portal = Portal(config, Store.open(tmp_path / STORE_NAME), user="tester")
    app = WMApp(portal, config, title_suffix="demo", starting=cloud)
    notes = Notes()
    async with app.run_test(size=(80, 24), message_hook=notes) as pilot:
        await wait_for(pilot, lambda: bool(notes.find("did not start")), "the error's note")
        assert app.main_screen.poller is None  # no poll of a cloud that is not there
    await portal.close()
