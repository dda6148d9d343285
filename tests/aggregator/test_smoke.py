"""The aggregator answers a viewer with the cached instances of its pools."""

from __future__ import annotations

from tests.aggregator.server import RunningAggregator


def test_viewer_of_one_pool_sees_only_that_pool(aggregator: RunningAggregator) -> None:
    token = aggregator.mint("vera", "viewer", pool="alpha")
    with aggregator.client(token) as client:
        me = client.get("/api/v1/whoami").json()
        listed = client.get("/api/v1/instances").json()
    assert me == {
        "user": "vera",
        "role": "viewer",
        "pools": ["alpha"],
        "expires_at": me["expires_at"],
    }
    assert sorted((r["account"], r["name"], r["state"]) for r in listed) == [
        ("team-a", "batch", "stopped"),
        ("team-a", "web", "running"),
    ]
    assert all(r["links"] == {} for r in listed)


def test_the_listing_is_the_same_gzipped_or_not(aggregator: RunningAggregator) -> None:
    token = aggregator.mint("vera", "operator")
    with aggregator.client(token) as client:
        plain = client.get("/api/v1/instances", headers={"Accept-Encoding": "identity"})
        packed = client.get("/api/v1/instances", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.json() == plain.json()
    assert len(plain.json()) == 4
