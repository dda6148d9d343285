"""What each role may do really happens on the cloud, and the log names who asked."""

from __future__ import annotations

from typing import Any

import httpx

from tests.aggregator.server import RunningAggregator
from tests.conftest import wait_until

V1 = "/api/v1"


def action_events(client: httpx.Client, target: str) -> set[tuple[str, str, str]]:
    page = client.get(f"{V1}/events", params={"target": target}).json()
    return {(e["kind"], e["outcome"], e["user"]) for e in page["events"] if e["source"] == "action"}


def test_admin_destroys_in_own_pool(fresh_aggregator: RunningAggregator) -> None:
    agg = fresh_aggregator
    web = agg.ids["team-a", "web"]
    with agg.client(agg.mint("ada", "admin", pool="alpha")) as client:
        reply = client.delete(f"{V1}/instances/team-a/{web}")
        assert reply.status_code == 202, reply.text
        assert reply.json()["action"] == "destroy"
        wait_until(lambda: agg.cloud_state("team-a", "web") == "terminated")
        wait_until(lambda: ("destroy", "ok", "ada") in action_events(client, web), timeout=30)
        assert ("destroy", "requested", "ada") in action_events(client, web)
        row = client.get(f"{V1}/instances/team-a/{web}").json()
        assert row["state"] == "terminated"
        assert row["links"] == {}
    assert agg.cloud_state("team-b", "web") == "running"


def test_unscoped_operator_acts_in_every_pool(fresh_aggregator: RunningAggregator) -> None:
    agg = fresh_aggregator
    with agg.client(agg.mint("olga", "operator")) as client:
        batch_b = agg.ids["team-b", "batch"]
        assert client.post(f"{V1}/instances/team-b/{batch_b}/start").status_code == 202
        wait_until(lambda: agg.cloud_state("team-b", "batch") == "running")
        web_a = agg.ids["team-a", "web"]
        assert client.post(f"{V1}/instances/team-a/{web_a}/reboot").status_code == 202
        wait_until(lambda: ("reboot", "ok", "olga") in action_events(client, web_a), timeout=30)


def test_operator_launches_a_deployable_of_own_pool(fresh_aggregator: RunningAggregator) -> None:
    agg = fresh_aggregator
    with agg.client(agg.mint("lena", "operator", pool="alpha")) as client:
        (catalog,) = client.get(f"{V1}/catalogs").json()
        assert catalog["errors"] == {}
        deployable = next(d for d in catalog["deployables"] if d["item"]["id"] == "ami-1e749f67")
        assert [a["account"] for a in catalog["accounts"]] == ["team-a"]
        sizes = {s["id"] for s in catalog["accounts"][0]["sizes"]}
        assert "t3.micro" in sizes
        body: dict[str, Any] = {
            "deployable": deployable["id"],
            "name": "newbie",
            "size": "t3.micro",
        }
        reply = client.post(f"{V1}/pools/alpha/launches", json=body)
        assert reply.status_code == 202, reply.text
        (new_id,) = reply.json()["ids"]
        assert reply.json()["account"] == "team-a"

        def listed() -> bool:
            rows = client.get(f"{V1}/instances", params={"account": "team-a"}).json()
            return any(r["id"] == new_id and r["name"] == "newbie" for r in rows)

        wait_until(listed, timeout=30)
        assert ("launch", "requested", "lena") in action_events(client, "ami-1e749f67")
        # The same deployable is not launchable into the other pool.
        other = client.post(f"{V1}/pools/beta/launches", json=body)
        assert other.status_code == 403
        # A launch the cloud rejects says why, as a 422.
        bad = client.post(f"{V1}/pools/alpha/launches", json={**body, "size": None})
        assert bad.status_code == 422
        assert "size" in bad.json()["error"]["message"]
    reservations = agg.ec2("team-a").describe_instances(InstanceIds=[new_id])["Reservations"]
    assert reservations[0]["Instances"][0]["InstanceType"] == "t3.micro"
