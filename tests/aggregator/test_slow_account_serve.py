"""A real `wm serve` with one account behind a proxy that drips moto's replies a byte every
0.5 s: a healthy account's read and an operator's action on it are answered at once, and
the action reaches the cloud, while the other account drips."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.aggregator.server import RunningAggregator, account_toml, two_pool_aggregator
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.demo.server import MotoServer
from winged_monkey.serve.launches import CATALOG_WAIT_S

#: The issue asks for 1 s; a loaded 2-core machine gets more, and each figure is printed.
BOUND_S = 3.0
SLOW_TIMEOUT = 3
T = TypeVar("T")


@pytest.fixture
def dripping(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[tuple[RunningAggregator, FaultProxy]]:
    """The two pools' accounts direct, and "team-slow" (pool gamma) behind a dripping proxy."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("drip", interval=0.5)
    slow = account_toml("team-slow", "us-west-2", "gamma", proxy.port).replace(
        "timeout = 10", f"timeout = {SLOW_TIMEOUT}"
    )
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=slow
    ) as running:
        yield running, proxy


def timed(proxy: FaultProxy, call: Callable[[], T]) -> tuple[T, float]:
    """`call` and its seconds, sent while the slow account's reply is dripping."""
    wait_until(lambda: proxy.open_connections >= 1, timeout=2 * SLOW_TIMEOUT)
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def timed_call(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_healthy_accounts_read_and_action_are_answered_while_another_drips(
    dripping: tuple[RunningAggregator, FaultProxy],
) -> None:
    agg, proxy = dripping
    web = agg.ids["team-a", "web"]
    with agg.client(agg.mint("ada", "admin")) as admin:

        def slow_status() -> dict[str, object]:
            accounts = {a["id"]: a for a in admin.get("/api/v1/provider-accounts").json()}
            status: dict[str, object] = accounts["team-slow"]["status"]
            return status

        # The slow account has failed at its deadline at least once: it is dripping for real.
        wait_until(lambda: slow_status()["phase"] == "failed", timeout=4 * SLOW_TIMEOUT)
        assert f"no answer within {SLOW_TIMEOUT} s" in str(slow_status()["error"])

    with agg.client(agg.mint("otto", "operator", pool="alpha")) as client:
        reads = []
        for _ in range(5):
            reply, took = timed(proxy, lambda: client.get(f"/api/v1/instances/team-a/{web}"))
            assert reply.status_code == 200, reply.text
            reads.append(took)
        listing, list_took = timed(proxy, lambda: client.get("/api/v1/instances"))
        assert {r["account"] for r in listing.json()} == {"team-a"}
        accepted, act_took = timed(
            proxy, lambda: client.post(f"/api/v1/instances/team-a/{web}/stop")
        )
        print(
            f"wm serve while team-slow drips: GET instance {max(reads):.3f} s at most "
            f"(of 5), GET instances {list_took:.3f} s, POST stop {act_took:.3f} s"
        )
        assert accepted.status_code == 202, accepted.text
        assert max(reads) < BOUND_S
        assert list_took < BOUND_S
        assert act_took < BOUND_S
        # The action reached the cloud (moto says) and the server shows it, dripping or not.
        wait_until(lambda: agg.cloud_state("team-a", "web") == "stopped", timeout=10)
        wait_until(
            lambda: client.get(f"/api/v1/instances/team-a/{web}").json()["state"] == "stopped",
            timeout=10,
        )


@pytest.fixture
def hung_in_alpha(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[RunningAggregator]:
    """Pool alpha holds team-a and "team-hung", whose cloud never answers, at the default
    timeout (20 s) as a user's account has it."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("hang")
    hung = account_toml("team-hung", "us-west-2", "alpha", proxy.port).replace("timeout = 10\n", "")
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=hung
    ) as running:
        yield running


def test_a_pools_catalog_is_answered_while_one_of_its_accounts_hangs(
    hung_in_alpha: RunningAggregator,
) -> None:
    """GET /catalogs waited for every account's catalog: one hung cloud held each reply for
    its 20 s, as long as a client's own default timeout, so the team's whole catalog (team-a's
    images too) failed for every user of the pool. The reply now waits CATALOG_WAIT_S at
    most, says which account has not answered yet, and the read goes on: once it ends (here
    at the hung account's deadline), that account's words are its failure."""
    agg = hung_in_alpha
    with agg.client(agg.mint("otto", "operator", pool="alpha")) as client:
        started = time.monotonic()
        reply = client.get("/api/v1/catalogs")
        took = time.monotonic() - started
        print(f"GET /catalogs with team-hung hanging: {took:.2f} s")
        assert reply.status_code == 200, reply.text
        (alpha,) = reply.json()
        assert took < CATALOG_WAIT_S + BOUND_S
        assert {d["item"]["account"] for d in alpha["deployables"]} == {"team-a"}
        assert "has not answered yet" in alpha["errors"]["team-hung"]
        assert "team-a" not in alpha["errors"]

        again, again_took = timed_call(lambda: client.get("/api/v1/catalogs"))
        assert again_took < CATALOG_WAIT_S + BOUND_S
        assert {d["item"]["account"] for d in again.json()[0]["deployables"]} == {"team-a"}
