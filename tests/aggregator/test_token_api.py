"""Token admin over the API: admins only; an admin of one pool manages that pool's tokens."""

from __future__ import annotations

from typing import Any

import pytest

from tests.aggregator.server import RunningAggregator
from winged_monkey.store.sqlite import Store

V1 = "/api/v1"


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_only_admins_manage_tokens(aggregator: RunningAggregator, role: Any) -> None:
    victim = aggregator.mint("victim", "viewer", pool="alpha")
    with aggregator.client(aggregator.mint("nosy", role)) as client:
        victim_id = victim.split("_")[1]
        for reply in (
            client.get(f"{V1}/tokens"),
            client.post(f"{V1}/tokens", json={"user": "x", "role": "admin"}),
            client.delete(f"{V1}/tokens/{victim_id}"),
        ):
            assert reply.status_code == 403, reply.text
            assert reply.json()["error"]["code"] == "forbidden"
    with aggregator.client(victim) as client:
        assert client.get(f"{V1}/whoami").status_code == 200


def test_an_admin_of_one_pool_manages_that_pool_only(aggregator: RunningAggregator) -> None:
    other = aggregator.mint("bea", "viewer", pool="beta")
    with aggregator.client(aggregator.mint("ann", "admin", pool="alpha")) as client:
        made = client.post(f"{V1}/tokens", json={"user": "al", "role": "operator", "pool": "alpha"})
        assert made.status_code == 201, made.text
        issued, record = made.json()["token"], made.json()["record"]
        assert (record["user"], record["role"], record["pool"]) == ("al", "operator", "alpha")
        assert all(t["pool"] == "alpha" for t in client.get(f"{V1}/tokens").json())
        assert record["id"] in {t["id"] for t in client.get(f"{V1}/tokens").json()}
        assert issued not in client.get(f"{V1}/tokens").text
        for body in (
            {"user": "b", "role": "admin"},
            {"user": "b", "role": "admin", "pool": "beta"},
        ):
            assert client.post(f"{V1}/tokens", json=body).status_code == 403
        assert client.delete(f"{V1}/tokens/{other.split('_')[1]}").status_code == 403
        with aggregator.client(issued) as new:
            assert new.get(f"{V1}/whoami").json()["pools"] == ["alpha"]
        revoked = client.delete(f"{V1}/tokens/{record['id']}")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"]
        assert client.delete(f"{V1}/tokens/{record['id']}").status_code == 409
        assert client.delete(f"{V1}/tokens/ffffffff").status_code == 404
        with aggregator.client(issued) as new:
            assert new.get(f"{V1}/whoami").json()["error"]["code"] == "token_revoked"
    with aggregator.client(other) as client:
        assert client.get(f"{V1}/whoami").status_code == 200
    # Both changes are in the server's event log, by their admin, without the token itself.
    store = Store.open(aggregator.store_path)
    try:
        logged = store.events(account="wm-serve", target=record["id"])
    finally:
        store.close()
    assert {(e.kind, e.user, e.target, e.target_name) for e in logged} == {
        ("token-create", "ann", record["id"], "al"),
        ("token-revoke", "ann", record["id"], "al"),
    }
    assert not [e for e in logged if issued in (e.detail or "")]


def test_a_body_field_the_api_does_not_take_is_refused_not_ignored(
    aggregator: RunningAggregator,
) -> None:
    """`{"expires": "1h"}` (the CLI's --expires) made a token for 90 days, the default of
    `expires_days`, and said nothing; a launch's `instance_type` was dropped the same way."""
    with aggregator.client(aggregator.mint("ann", "admin")) as client:
        before = {t["id"] for t in client.get(f"{V1}/tokens").json()}
        body = {"user": "tmp", "role": "viewer", "expires": "1h"}
        reply = client.post(f"{V1}/tokens", json=body)
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["message"] == (
            "expires: not a field of this body; it takes expires_days, pool, role, user"
        )
        assert {t["id"] for t in client.get(f"{V1}/tokens").json()} == before  # none made
        launch = {"deployable": "team-a:image:ami-1e749f67", "name": "w", "instance_type": "x"}
        reply = client.post(f"{V1}/pools/alpha/launches", json=launch)
        assert reply.status_code == 422, reply.text
        said = reply.json()["error"]["message"]
        assert said.startswith("instance_type: not a field of this body; it takes count, "), said
        assert "size" in said
