"""An aggregator account in the TUI at 80x24 against the real `wm serve`: beside a direct
moto account a viewer's rows offer no stop key and an operator's do (the stop reaches moto);
the aggregator's deployables in the catalog view, launched through the wizard."""

from __future__ import annotations

from pathlib import Path

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import aggregator_account
from tests.conftest import Cloud
from tests.ui.conftest import settle, wait_for
from tests.ui.on_screen import shows
from tests.ui.test_catalog import open_catalog
from tests.ui.test_launch_wizard import step, type_into
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.user.config import Config

SIZE = (80, 24)
SLOW = 600.0  # polls only when the test asks


async def test_viewer_rows_offer_no_stop_key_beside_a_direct_account(
    team: RunningAggregator, cloud: Cloud, tmp_path: Path
) -> None:
    cloud.launch(cloud.ec2("ap-southeast-2"), "direct-web")
    monkeypatch = cloud.monkeypatch
    config = Config(
        refresh_interval=SLOW,
        busy_refresh_interval=0.2,
        action_poll_interval=0.05,
        action_timeout=30,
        accounts=(
            cloud.account("direct", region="ap-southeast-2"),
            aggregator_account("team", team.url, team.mint("vera", "viewer"), monkeypatch),
            aggregator_account(
                "team-ops", team.url, team.mint("olga", "operator", pool="alpha"), monkeypatch
            ),
        ),
    )
    store = Store.open(tmp_path / "wm.sqlite3")
    portal = Portal(config, store, user="tester")
    app = WMApp(portal, config, title_suffix="test")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MainScreen)
            table = screen.table
            await wait_for(pilot, lambda: table.total_count == 1 + 4 + 2, "every account's rows")

            def row(account: str, name: str, where: str | None = None) -> Instance:
                found = [
                    i
                    for i in table.shown
                    if (i.account, i.name) == (account, name) and where in (None, i.where)
                ]
                assert len(found) == 1, [(i.account, i.name, i.where) for i in table.shown]
                return found[0]

            def keys() -> set[str]:
                return {ab.binding.description for ab in screen.active_bindings.values()}

            viewed = row("team", "web", "ec2/team-a:us-east-1")
            # At 80 columns `where` is off screen: the account column names the team's account.
            assert str(table.cell(viewed.key, "account")) == "team/team-a"
            assert str(table.cell(row("direct", "direct-web").key, "account")) == "direct"
            table.select(viewed.key)
            await pilot.pause()
            assert "stop" not in keys()
            assert "reboot" not in keys()
            await pilot.press("x")  # pressed anyway: nothing is asked, nothing is sent
            assert isinstance(app.screen, MainScreen)
            assert team.cloud_state("team-a", "web") == "running"

            table.select(row("direct", "direct-web").key)
            await pilot.pause()
            assert "stop" in keys()

            operated = row("team-ops", "web")
            table.select(operated.key)
            await pilot.pause()
            assert "stop" in keys()
            await pilot.press("x")
            await wait_for(pilot, lambda: shows(app, ConfirmScreen), "the question")
            await pilot.press("y")

            def stopped() -> bool:
                fresh = table.instance(operated.key)
                return fresh is not None and fresh.state is InstanceState.STOPPED

            await wait_for(pilot, stopped, "the operator's row to reach stopped")
            assert team.cloud_state("team-a", "web") == "stopped"
    finally:
        await portal.close()
        store.close()


async def test_the_aggregators_deployables_in_the_catalog_and_a_wizard_launch(
    team: RunningAggregator, cloud: Cloud, tmp_path: Path
) -> None:
    ec2 = team.ec2("team-a")
    image = ec2.create_image(InstanceId=team.ids["team-a", "web"], Name="golden-web")["ImageId"]
    token = team.mint("olga", "operator", pool="alpha")
    config = Config(
        refresh_interval=SLOW,
        busy_refresh_interval=0.2,
        action_poll_interval=0.05,
        action_timeout=30,
        accounts=(aggregator_account("team", team.url, token, cloud.monkeypatch),),
    )
    store = Store.open(tmp_path / "wm.sqlite3")
    portal = Portal(config, store, user="tester")
    app = WMApp(portal, config, title_suffix="test")
    try:
        async with app.run_test(size=SIZE) as pilot:
            catalog = await open_catalog(pilot)
            offered = [(r.account, r.item.id) for r in catalog.rows if r.item is not None]
            golden = ("team", f"alpha/team-a:image:{image}")
            assert golden in offered
            assert not [o for o in offered if not o[1].startswith("alpha/team-a:")]  # its pool
            at = offered.index(golden)
            assert str(catalog.table.get_row_at(at)[1]) == "deploy"  # fits its 8 columns
            catalog.table.move_cursor(row=at)
            await pilot.press("l")
            await wait_for(pilot, lambda: shows(app, LaunchWizard), "the wizard")
            wizard = app.screen
            assert isinstance(wizard, LaunchWizard)
            await pilot.pause()
            await type_into(pilot, "t3.micro")
            await pilot.press("enter")  # the only account: team
            while step(wizard) in ("size", "location", "access"):
                await pilot.press("enter")  # the ranked size and the defaults
            assert step(wizard) == "name"
            await type_into(pilot, "agg-box")
            await pilot.press("enter")
            await type_into(pilot, "1")
            await pilot.press("enter")
            assert step(wizard) == "summary"
            await pilot.press("enter")

            def launched() -> list[InstanceState]:
                return [i.state for i in portal.instances() if i.name == "agg-box"]

            def events() -> object:  # the launch's outcome, should it fail
                return launched(), [(e.kind, e.outcome, e.detail) for e in store.events(limit=3)]

            await wait_for(
                pilot, lambda: launched() == [InstanceState.RUNNING], "agg-box runs", seen=events
            )
            (row,) = [i for i in portal.instances() if i.name == "agg-box"]
            assert row.account == "team"
            assert row.id.startswith("team-a/i-")
            witness = ec2.describe_instances(InstanceIds=[row.id.removeprefix("team-a/")])
            found = witness["Reservations"][0]["Instances"][0]
            assert (found["ImageId"], found["State"]["Name"]) == (image, "running")
    finally:
        await portal.close()
        store.close()
