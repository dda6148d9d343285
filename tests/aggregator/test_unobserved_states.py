"""An action's outcome in the server's events says a new state only when one was observed.
Real `wm serve` over moto (one account behind the fault proxy). Before: a stop on an account
whose cloud stopped answering was logged `failed` with `new_state: running` (its detail said
the state was unknown), and a launch refused before any instance existed (no size) was
logged with `new_state: pending`, which `wm events` and the events view showed as
`→ running` and `pending→pending`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.aggregator.server import (
    AMI,
    FLAKY,
    RunningAggregator,
    flaky_aggregator,
    two_pool_aggregator,
)
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.demo.server import MotoServer


@pytest.fixture
def flaky(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[tuple[RunningAggregator, FaultProxy]]:
    proxy = fault_proxy(moto_server.port)
    with flaky_aggregator(moto_server, tmp_path / "agg", proxy) as running:
        yield running, proxy


def _outcome(client: httpx.Client, href: str, within: float = 30) -> dict[str, Any]:
    """The action event of `href` (an outcome_href) whose outcome is known."""
    deadline = time.monotonic() + within
    while True:
        reply = client.get(href)
        assert reply.status_code == 200, reply.text
        known = [
            e
            for e in reply.json()["events"]
            if e["source"] == "action" and e["outcome"] != "unknown"
        ]
        if known:
            return dict(known[0])
        assert time.monotonic() < deadline, reply.text
        time.sleep(0.05)


def test_a_failed_stop_on_an_account_that_cannot_be_listed_says_no_state(
    flaky: tuple[RunningAggregator, FaultProxy],
) -> None:
    agg, proxy = flaky
    with agg.client(agg.mint("olga", "operator")) as client:
        rows = client.get("/api/v1/instances", params={"account": FLAKY}).json()
        web = next(r for r in rows if r["name"] == "web" and r["state"] == "running")
        proxy.fault = Fault("status", status=503)  # the cloud behind team-flaky fails now

        def failed() -> bool:
            accounts = client.get("/api/v1/provider-accounts").json()
            return any(a["id"] == FLAKY and a["status"]["phase"] == "failed" for a in accounts)

        wait_until(failed, timeout=20)
        reply = client.post(f"{web['href']}/stop")
        assert reply.status_code == 202, reply.text
        outcome = _outcome(client, reply.json()["outcome_href"])
    assert outcome["outcome"] == "failed", outcome
    assert "state now is unknown" in outcome["detail"], outcome
    assert outcome["new_state"] is None, outcome  # it said "running": not seen since


def test_a_launch_refused_before_any_instance_says_no_state(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    with (
        two_pool_aggregator(moto_server, tmp_path / "agg", serve="rate = 1000") as agg,
        agg.client(agg.mint("olga", "operator", "alpha")) as client,
    ):
        body = {"deployable": f"team-a:image:{AMI}", "name": "no-size"}
        reply = client.post("/api/v1/pools/alpha/launches", json=body)
        assert reply.status_code == 422, reply.text
        events = client.get("/api/v1/events", params={"account": "team-a"}).json()["events"]
    (outcome,) = [e for e in events if e["kind"] == "launch" and e["key"].endswith(":outcome")]
    assert outcome["outcome"] == "failed", outcome
    assert outcome["new_state"] is None, outcome  # it said "pending": no instance was seen
