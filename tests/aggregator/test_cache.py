"""Reads are served from the server's cache: clients cost the cloud nothing; the poller does."""

from __future__ import annotations

from pathlib import Path

from tests.aggregator.server import KEY, two_pool_aggregator
from winged_monkey.demo.server import MotoServer

V1 = "/api/v1"


def test_reads_cost_the_cloud_no_call(moto_server: MotoServer, tmp_path: Path) -> None:
    """With the next poll an hour away, many clients reading everything send moto nothing;
    the catalog is fetched once per account, however many ask."""
    serve = "poll_interval = 3600\nrate = 1000\nburst = 1000"
    with two_pool_aggregator(moto_server, tmp_path / "agg", serve=serve) as agg:
        tokens = [agg.mint(f"user{n}", "operator") for n in range(10)]
        moto_server.clear_calls()
        for token in tokens:
            with agg.client(token) as client:
                for path in ("instances", "deployments", "provider-accounts", "events", "pools"):
                    assert client.get(f"{V1}/{path}").status_code == 200
                web = agg.ids["team-a", "web"]
                assert client.get(f"{V1}/instances/team-a/{web}").status_code == 200
        assert [c.action for c in moto_server.calls if c.access_key == KEY] == []

        for token in tokens:
            with agg.client(token) as client:
                assert client.get(f"{V1}/catalogs").status_code == 200
        catalog_calls = [c for c in moto_server.calls if c.access_key == KEY]
        assert catalog_calls  # the first request fetched both accounts' catalogs...
        with agg.client(tokens[0]) as client:
            client.get(f"{V1}/catalogs")
        # ...and nobody after it caused another call.
        assert len([c for c in moto_server.calls if c.access_key == KEY]) == len(catalog_calls)
