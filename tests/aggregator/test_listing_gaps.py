"""A listing that lacks some accounts' rows, or holds them as last seen, says which in its
headers: a script counting rows must not read a part as the whole. Its own server over
moto, one account behind the fault proxy (it reseeds moto: not beside a module's server)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.aggregator.server import account_toml, two_pool_aggregator
from tests.conftest import wait_until
from tests.faultproxy import PASS, Fault, FaultProxy
from winged_monkey.demo.server import MotoServer

V1 = "/api/v1"


def test_a_listing_names_the_accounts_whose_rows_are_as_last_seen(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """An account listed, then failing: its rows stay in the listing as last seen (each
    row's `stale` says why), and the listing's header names it for a script that counts."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = PASS
    flaky = account_toml("team-flaky", "us-east-1", "gamma", proxy.port)
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=flaky
    ) as agg:
        agg.wait_listed(6)
        with agg.client(agg.mint("ada", "viewer")) as client:
            assert "X-WM-Stale" not in client.get(f"{V1}/instances").headers
            proxy.fault = Fault("status", status=503)
            wait_until(lambda: "X-WM-Stale" in client.get(f"{V1}/instances").headers, timeout=20)
            reply = client.get(f"{V1}/instances")
    assert reply.headers["X-WM-Stale"] == "team-flaky"
    assert "X-WM-Not-Listed" not in reply.headers
    assert {r["account"] for r in reply.json() if r["stale"]} == {"team-flaky"}
