"""`wm serve` never lists a row older than it serves the same row alone.

Its listings are serialised once per change of the rows, for every client; a row served
alone is read from the engine's memory. The engine changes a row before it tells anyone:
an action's follow reads the instance, then records the outcome (an await) before it
yields it; a poll keeps the new rows while it links their events. A client following its
own launch through the server read the row running, and its next listing, serialised
before that read, put it back to pending, where it stayed until the next poll (a flaky
wizard-launch test in CI). The server and its portal run in this process, over moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import Cloud
from winged_monkey.models import InstanceState
from winged_monkey.serve.service import Aggregator
from winged_monkey.serve.settings import ServerConfig, ServeSettings
from winged_monkey.serve.tokens import TokenRecord


async def test_a_listing_is_never_older_than_a_row_served_alone(
    cloud: Cloud, tmp_path: Path
) -> None:
    ec2 = cloud.ec2()
    cloud.launch(ec2, "web-1")
    portal = cloud.portal(cloud.account("team-a"))
    server = Aggregator(ServerConfig(portal.config, ServeSettings()), portal)
    token = TokenRecord("t1", "olga", "viewer", None, datetime.now(UTC), None, None)
    try:
        async for _ in portal.refresh():
            pass
        server.changed()  # as the poller's subscription does after a poll

        def listed() -> dict[str, str]:
            rows = json.loads(server.resources_json(token, "instance"))
            return {row["id"]: row["state"] for row in rows}

        (row,) = portal.instances()
        assert listed() == {row.id: "running"}
        # What an action's follow does before it yields (and the server hears of it).
        portal.accounts.get("team-a").read(row.model_copy(update={"state": InstanceState.STOPPED}))

        alone = server.find(token, "instance", "team-a", row.id)
        assert alone.state is InstanceState.STOPPED
        assert listed() == {row.id: "stopped"}
    finally:
        await portal.close()
