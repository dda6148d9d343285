"""The main screen against the real moto demo cloud, driven by keys at 80x24: stop,
start and destroy as asked and confirmed, the actions a row and account allow, and
marked rows some of which are refused."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.conftest import Cloud
from tests.ui.conftest import Live, live_portal, running, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, text_of
from winged_monkey.demo.server import MotoServer
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.user.config import Config


async def test_stop_asks_and_names_targets(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        live.server.clear_calls()  # the demo's own seeding stopped some
        table = main_of(app).table
        web1 = by_name(table, "web-1")
        table.select(web1.key)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        dialog = text_of(app.screen)
        assert "Stop 1 instance in 1 account?" in dialog
        assert "web-1" in dialog
        assert "dev" in dialog
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert table.instance(web1.key) == web1  # nothing happened
        assert not [c for c in live.server.calls if c.action == "StopInstances"]

        await pilot.press("x", "y")
        await pilot.pause()
        moving = table.instance(web1.key)
        assert moving is not None
        assert moving.state in (InstanceState.STOPPING, InstanceState.STOPPED)
        await settle(pilot)
        stopped = table.instance(web1.key)
        assert stopped is not None
        assert stopped.state is InstanceState.STOPPED
        assert notes.find("web-1 stopped")
        assert [c for c in live.server.calls if c.action == "StopInstances"]


async def test_start_runs_without_asking_and_notifies(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        batch = by_name(table, "batch")
        table.select(batch.key)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await wait_for(
            pilot,
            lambda: (
                (i := table.instance(batch.key)) is not None and i.state is InstanceState.RUNNING
            ),
            "batch to run",
        )
        await settle(pilot)
        done = notes.find("batch started")
        assert done
        assert done[0].severity == "information"


async def test_destroy_several_needs_the_count(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        live.server.clear_calls()  # the demo's own seeding terminated one
        table = main_of(app).table
        targets = [by_name(table, "web-1"), by_name(table, "web-2")]
        for target in targets:
            table.select(target.key)
            await pilot.press("space")
        await pilot.press("D")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.count_required
        assert confirm.targets == targets
        await pilot.press("y")  # not enough for several
        assert app.screen is confirm
        count = confirm.query_one(Input)
        await pilot.press("3", "enter")  # the wrong count
        assert app.screen is confirm
        assert count.value == ""
        await pilot.press("2", "enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        terminated = [c for c in live.server.calls if c.action == "TerminateInstances"]
        assert len(terminated) == 2
        for target in targets:
            row = table.instance(target.key)
            assert row is None or row.state is InstanceState.TERMINATED
        assert table.marked == []


async def test_actions_follow_state_and_account(
    moto: MotoServer, demo_config: Config, tmp_path: Path, cloud: Cloud
) -> None:
    readonly = cloud.account("dev-ro", read_only=True)  # the same machines, read-only
    portal = live_portal(demo_config, tmp_path, readonly)
    app = WMApp(portal, portal.config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_of(app)
        table = screen.table

        def keys() -> set[str]:
            return {ab.binding.description for ab in app.screen.active_bindings.values()}

        table.select(by_name(table, "batch", "dev").key)  # stopped
        await pilot.pause()
        assert screen.check_action("act", ("stop",)) is False
        assert "stop" not in keys()
        assert "start" in keys()
        assert "reboot" not in keys()

        table.select(by_name(table, "api", "dev").key)  # running
        await pilot.pause()
        assert "stop" in keys()
        assert "reboot" in keys()
        assert "start" not in keys()

        table.select(by_name(table, "api", "dev-ro").key)
        await pilot.pause()
        assert not {"start", "stop", "reboot", "destroy"} & keys()
        await pilot.press("x")  # pressed anyway: nothing is asked, nothing is sent
        assert isinstance(app.screen, MainScreen)


async def test_marked_rows_some_refused_are_explained(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        live.server.clear_calls()
        table = main_of(app).table
        for name in ("api", "batch"):  # running, stopped
            table.select(by_name(table, name).key)
            await pilot.press("space")
        await pilot.press("b")  # reboot: only api can
        await settle(pilot)
        skipped = notes.find("1 of 2 skipped")
        assert skipped
        assert "batch is stopped" in skipped[0].message
        assert [c for c in live.server.calls if c.action == "RebootInstances"]
