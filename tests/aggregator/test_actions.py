"""Actions through the aggregator reach the cloud, show in later reads, and are logged by user."""

from __future__ import annotations

from tests.aggregator.server import RunningAggregator
from tests.conftest import wait_until


def test_operator_stops_and_starts_in_own_pool(fresh_aggregator: RunningAggregator) -> None:
    agg = fresh_aggregator
    token = agg.mint("otto", "operator", pool="alpha")
    web = agg.ids["team-a", "web"]
    with agg.client(token) as client:
        row = client.get(f"/api/v1/instances/team-a/{web}").json()
        assert set(row["links"]) == {"stop", "reboot", "poweroff"}
        accepted = client.post(row["links"]["stop"]["href"])
        assert accepted.status_code == 202, accepted.text
        # In flight: nothing more to offer but a poweroff, for a stop its guest ignores.
        assert set(accepted.json()["resource"]["links"]) == {"poweroff"}
        wait_until(lambda: agg.cloud_state("team-a", "web") == "stopped")
        wait_until(
            lambda: client.get(f"/api/v1/instances/team-a/{web}").json()["state"] == "stopped"
        )

        def logged() -> list[dict[str, object]]:
            page = client.get("/api/v1/events", params={"target": web}).json()
            return [e for e in page["events"] if e["source"] == "action"]

        wait_until(lambda: any(e["outcome"] == "ok" for e in logged()))
        assert {(e["kind"], e["outcome"], e["user"]) for e in logged()} == {
            ("stop", "requested", "otto"),
            ("stop", "ok", "otto"),
        }
        wait_until(lambda: "start" in client.get(f"/api/v1/instances/team-a/{web}").json()["links"])
        assert client.post(f"/api/v1/instances/team-a/{web}/start").status_code == 202
        wait_until(lambda: agg.cloud_state("team-a", "web") == "running")
