"""A listing that lacks some accounts' rows, or holds them as last seen, says which in its
headers: a script counting rows must not read a part as the whole. Its own server over
moto, one account behind the fault proxy (it reseeds moto: not beside a module's server)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.aggregator.server import account_toml, two_pool_aggregator
from tests.conftest import wait_until
from tests.faultproxy import PASS, Fault, FaultProxy
from tests.processes import free_port
from winged_monkey.demo.server import MotoServer

V1 = "/api/v1"


def test_a_listing_names_the_accounts_whose_rows_are_as_last_seen_or_unknown(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """An account listed, then failing: its rows stay in the listing as last seen (each
    row's `stale` says why), and the listing's header names it for a script that counts;
    a pool of a listed account and a dead one answers the listed one's rows, naming the
    dead one, or 503 with ?complete=true. A token of one pool hears of its pool alone."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = PASS
    flaky = account_toml("team-flaky", "us-east-1", "gamma", proxy.port)
    dead = account_toml("team-dead", "us-east-1", "alpha", free_port())
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=flaky + dead
    ) as agg:
        agg.wait_listed(6)
        with agg.client(agg.mint("ada", "viewer")) as client:
            assert "X-WM-Stale" not in client.get(f"{V1}/instances").headers
            proxy.fault = Fault("status", status=503)
            wait_until(lambda: "X-WM-Stale" in client.get(f"{V1}/instances").headers, timeout=20)
            reply = client.get(f"{V1}/instances")
            alpha = client.get(f"{V1}/instances", params={"pool": "alpha"})
            alpha_all = client.get(f"{V1}/instances", params={"pool": "alpha", "complete": "true"})
        with agg.client(agg.mint("bo", "viewer", pool="beta")) as client:
            beta = client.get(f"{V1}/instances")
    assert reply.headers["X-WM-Stale"] == "team-flaky"
    assert reply.headers["X-WM-Not-Listed"] == "team-dead"
    assert {r["account"] for r in reply.json() if r["stale"]} == {"team-flaky"}
    assert alpha.status_code == 200
    assert {r["account"] for r in alpha.json()} == {"team-a"}
    assert alpha.headers["X-WM-Not-Listed"] == "team-dead"
    assert "X-WM-Stale" not in alpha.headers
    assert alpha_all.status_code == 503
    assert alpha_all.json()["error"]["message"].startswith(
        "the instances of team-dead are unknown, not none: the aggregator cannot list team-dead: "
    )
    assert beta.status_code == 200
    assert "X-WM-Not-Listed" not in beta.headers  # team-dead is alpha's: not this token's
    assert "X-WM-Stale" not in beta.headers
