"""A pool deployable in the TUI at 80x24 against the real `wm serve` (three moto accounts):
`:catalog` shows it with the server's choice, the wizard asks only a name and count, shows
the server's placement on the summary, and the launch lands where the server said."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.aggregator.test_pools import named, run_instances, synthetic_cloud
from tests.aggregator_client.conftest import aggregator_account
from tests.ui.conftest import wait_for
from tests.ui.on_screen import shows
from tests.ui.test_catalog import open_catalog
from tests.ui.test_launch_wizard import step, type_into
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.launch import LaunchWizard
from winged_monkey.user.config import Config


async def test_the_wizard_launches_a_pool_deployable_with_no_account_step(
    moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with synthetic_cloud(moto_server, tmp_path / "agg") as agg:
        token = agg.mint("olga", "operator")
        # The server reads its three accounts' catalogs once (slow on a loaded machine).
        assert agg.client(token).get("/api/v1/catalogs").status_code == 200
        config = Config(
            refresh_interval=600,
            busy_refresh_interval=0.2,
            action_poll_interval=0.05,
            action_timeout=30,
            accounts=(aggregator_account("team", agg.url, token, monkeypatch),),
        )
        store = Store.open(tmp_path / "wm.sqlite3")
        portal = Portal(config, store, user="tester")
        app = WMApp(portal, config, title_suffix="test")
        try:
            async with app.run_test(size=(80, 24)) as pilot:
                catalog = await open_catalog(pilot)
                offered = [r.item.id for r in catalog.rows if r.item is not None]
                at = offered.index("synth/web")
                item = catalog.rows[at].item
                assert item is not None
                assert "the server's choice now: east: the best score" in item.description
                catalog.table.move_cursor(row=at)
                await pilot.press("l")
                await wait_for(pilot, lambda: shows(app, LaunchWizard), "the wizard")
                wizard = app.screen
                assert isinstance(wizard, LaunchWizard)
                await pilot.pause()
                assert wizard.steps == ["name", "summary"]
                assert step(wizard) == "name"
                await type_into(pilot, "ui-web")
                await pilot.press("enter")
                await type_into(pilot, "1")
                await pilot.press("enter")
                assert step(wizard) == "summary"
                placement = [
                    str(row[1])
                    for row in zip(*(c.cells for c in wizard.plan.summary().columns), strict=True)
                    if str(row[0]) == "placement"
                ]
                assert "(pool synth, the server's choice now: east: the best score;" in placement[0]
                await pilot.press("enter")

                def launched() -> list[InstanceState]:
                    return [i.state for i in portal.instances() if i.name == "ui-web"]

                def seen() -> object:  # what the app knew instead, should it time out
                    recent = store.events(limit=6)
                    notes = [(e.kind, e.outcome, e.new_state, e.detail) for e in recent]
                    return launched(), portal.statuses(), notes

                # Generous: on a loaded machine the server's launch and its next poll queue
                # behind every other test's servers (a CI run once took over 20 s).
                await wait_for(
                    pilot,
                    lambda: launched() == [InstanceState.RUNNING],
                    "it runs",
                    within=60,
                    seen=seen,
                )
                (row,) = [i for i in portal.instances() if i.name == "ui-web"]
                assert row.id == f"east/{named(moto_server, 'east', 'ui-web')[0]}"
                assert run_instances(moto_server) == {"us-east-1": 1}
        finally:
            await portal.close()
            store.close()
