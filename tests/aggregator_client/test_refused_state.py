"""A stop `wm serve` refuses as sent (its 409: another user stopped web since this client
listed it running) is logged by the client as refused with no new state. Real `wm serve`
over moto. Before: `wm events` said `→ running  refused ... web is already stopped`, a state
the refusal itself contradicts."""

from __future__ import annotations

import pytest

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.conftest import wait_until
from winged_monkey.actions import Action
from winged_monkey.models import EventSource


async def test_a_stop_refused_as_sent_logs_no_state_on_the_client(
    team: RunningAggregator, portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = portals(
        aggregator_account("team", team.url, team.mint("olga", "operator"), monkeypatch)
    )
    await refresh(portal)
    web = next(i for i in portal.instances() if i.id == f"team-a/{team.ids['team-a', 'web']}")
    with team.client(team.mint("ada", "admin")) as admin:
        assert admin.post(f"/api/v1/instances/{web.id}/stop").status_code == 202

        def stopped() -> bool:  # the server's own stop has ended there
            row = admin.get(f"/api/v1/instances/{web.id}").json()
            return bool(row["state"] == "stopped" and row["requested"] is None)

        wait_until(stopped, timeout=20)
    updates = [u async for u in portal.run_action(Action.STOP, web)]
    assert updates[-1].refused, updates[-1]
    (outcome,) = [
        e
        for e in portal.store.events(account="team")
        if e.source is EventSource.ACTION and e.outcome == "refused"
    ]
    assert "already stopped" in (outcome.detail or ""), outcome
    assert outcome.new_state is None, outcome  # it said "running"
