"""The timeline of an instance whose account went unlisted for hours: the change found at the
end of the gap was not seen when it happened, so the gap is drawn as no state's ('? not
listed'), and the state before it is timed only until it was last listed, at least that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.coordinate import Coordinate

from tests.conftest import DEV_KEY, Cloud
from tests.ui.conftest import open_timeline, settle
from tests.ui.on_screen import text_of
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.user.config import Config

SIZE = (80, 24)


async def refresh(portal: Portal) -> None:
    async for _update in portal.refresh():
        pass


async def test_the_timeline_draws_a_gap_as_not_listed(cloud: Cloud, demo_config: Config) -> None:
    """api stopped at 08:10 and started at 08:20 (each seen by the next poll); listed running
    at 08:40, then not until 18:10 (no wm ran), stopped. Not 'running 9h 50m': running at
    least 20m, 9h 30m nobody saw, stopped since 18:10."""
    config = demo_config.model_copy(
        update={"accounts": tuple(a for a in demo_config.accounts if a.name == "dev")}
    )
    now = [datetime(2026, 3, 2, 8, 0, tzinfo=UTC)]
    portal = Portal(config, Store.open(cloud.tmp_path / "gap.sqlite3"), clock=lambda: now[0])
    ec2 = cloud.ec2(key=DEV_KEY)
    await refresh(portal)
    (api,) = [i for i in portal.instances() if i.name == "api"]
    for minutes, change in ((10, ec2.stop_instances), (10, ec2.start_instances), (20, None)):
        if change is not None:
            change(InstanceIds=[api.id])
        now[0] += timedelta(minutes=minutes)
        await refresh(portal)
    ec2.stop_instances(InstanceIds=[api.id])
    now[0] += timedelta(hours=9, minutes=30)  # 18:10
    await refresh(portal)
    now[0] += timedelta(hours=1)

    app = WMApp(portal, config, clock=lambda: now[0], title_suffix="test")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            timeline = await open_timeline(pilot, app, "api")
            await pilot.pause()
            shown = text_of(timeline).splitlines()
            (title,) = [line for line in shown if line.startswith("api  dev/")]
            assert "now ■ stopped for 1h" in title, title
            states = shown[shown.index(title) + 1 :][:3]
            summary = {line.split("  ")[0].strip(): line.split() for line in states}
            assert summary["? not listed"][-3:-1] == ["9h", "30m"], shown
            assert summary["▶ running"][-2] == "20m", shown  # not 9h 50m
            assert summary["■ stopped"][-3:-1] == ["1h", "10m"], shown
            table = timeline.table
            rows = [
                [str(table.get_cell_at(Coordinate(n, c))) for c in (0, 2, 3)]
                for n in range(table.row_count)
            ]
            assert rows == [
                ["03-02 08:10", "running→stopped", "10m"],
                ["03-02 08:20", "stopped→running", "≥20m"],  # as long as it was listed
                ["03-02 08:40", "unknown", "? 9h 30m"],  # the gap: nobody saw a state
                ["03-02 18:10", "running→stopped", "1h+"],
            ], rows
    finally:
        await portal.close()
