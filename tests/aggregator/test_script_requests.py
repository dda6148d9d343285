"""Requests shaped like a team's own scripts (curl in cron, requests, a dashboard) against a
real `wm serve`: a mistake is refused saying what to send, never answered with a guess."""

from __future__ import annotations

from tests.aggregator.server import RunningAggregator

V1 = "/api/v1"


def test_a_mistyped_filter_is_refused_not_answered_with_every_account(
    aggregator: RunningAggregator,
) -> None:
    """A nightly job listing `?acount=team-a` to stop what it finds must not get team-b's
    machines too."""
    with aggregator.client(aggregator.mint("cron", "operator")) as client:
        reply = client.get(f"{V1}/instances", params={"acount": "team-a"})
        events = client.get(f"{V1}/events", params={"targte": "i-0abc"})
        whoami = client.get(f"{V1}/whoami", params={"pool": "alpha"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == {
        "code": "invalid",
        "message": "unknown query parameter 'acount' (did you mean 'account'?); "
        "/api/v1/instances takes account, pool",
    }
    assert events.status_code == 422
    assert "'targte' (did you mean 'target'?)" in events.json()["error"]["message"]
    assert whoami.status_code == 422
    assert whoami.json()["error"]["message"].endswith("/api/v1/whoami takes no query parameters")
