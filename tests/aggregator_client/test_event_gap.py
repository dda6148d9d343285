"""A change the server found after its account went unlisted keeps when its target was last
listed (`since`), through the real `wm serve`'s events API and into the client's log, so the
client's timeline draws that time as unknown too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from winged_monkey.models import Event, EventSource
from winged_monkey.store.sqlite import Store

#: Within the log's retention, which reads a server's history again at each start.
LISTED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)
FOUND = LISTED + timedelta(hours=9, minutes=30)


async def test_the_servers_gap_reaches_the_client(
    team: RunningAggregator, portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = team.ids["team-a", "web"]
    server = Store.open(team.store_path)  # as the server's own poll would record it
    try:
        server.append_events(
            [
                Event(
                    key=f"observed:team-a:{web}:state:running>stopped:gap",
                    at=FOUND,
                    source=EventSource.OBSERVED,
                    kind="state",
                    account="team-a",
                    target=web,
                    old_state="running",
                    new_state="stopped",
                    since=LISTED,
                )
            ]
        )
    finally:
        server.close()

    token = team.mint("olga", "operator", pool="alpha")
    with team.client(token) as http:
        page = http.get("/api/v1/events", params={"account": "team-a", "target": web}).json()
    (said,) = [e for e in page["events"] if e["key"].endswith(":gap")]
    assert datetime.fromisoformat(said["since"]) == LISTED

    portal = portals(aggregator_account("team", team.url, token, monkeypatch))
    target = f"team-a/{web}"

    async def kept() -> bool:
        await refresh(portal)
        return any(e.since for e in portal.store.events(account="team", target=target))

    await until("the server's change in the local log", kept)
    (event,) = [e for e in portal.store.events(account="team", target=target) if e.since]
    assert (event.since, event.at, event.old_state) == (LISTED, FOUND, "running")
