"""While an action is under way at a `wm serve`, its rows say the state last observed and the
action as requested, never the state the action should lead to. Real `wm serve` over moto,
one account behind the fault proxy, which holds its StopInstances call: the cloud has not
stopped anything, and nobody has seen the instance stopping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.aggregator.server import RunningAggregator, account_toml, two_pool_aggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.aggregator_client.test_stale_rows import relaying
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.actions import Action
from winged_monkey.demo.server import MotoServer
from winged_monkey.models import EventSource, InstanceState

HELD = "team-held"  # us-east-1 as team-a: it lists team-a's web and batch


@pytest.fixture
def held(
    moto_server: MotoServer, tmp_path: Path, fault_proxy: Callable[[int], FaultProxy]
) -> Iterator[tuple[RunningAggregator, FaultProxy]]:
    """The server's HELD account reaches moto through a proxy that holds every stop (its
    call hangs until the account's timeout; the server ends with it)."""
    proxy = fault_proxy(moto_server.port)
    proxy.fault = Fault("hang", match=b"StopInstances")
    toml = account_toml(HELD, "us-east-1", "gamma", proxy.port).replace(
        "timeout = 10", "timeout = 60"
    )
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000", accounts=toml
    ) as running:
        yield running, proxy


def _held(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """HELD's rows as the server serves them, by name."""
    reply = client.get("/api/v1/instances", params={"account": HELD})
    assert reply.status_code == 200, reply.text
    return {r["name"]: r for r in reply.json()}


async def test_a_stop_held_at_the_cloud_is_requested_not_observed_stopping(
    held: tuple[RunningAggregator, FaultProxy], portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> None:
    agg, proxy = held
    with agg.client(agg.mint("vera", "viewer")) as viewer:
        wait_until(lambda: "web" in _held(viewer), timeout=20)
        assert _held(viewer)["web"]["state"] == "running"
        assert _held(viewer)["web"]["requested"] is None

        # Another operator's wm, through the server, lists the row before the stop.
        token = agg.mint("bob", "operator")
        portal = portals(aggregator_account("team", agg.url, token, monkeypatch))
        await refresh(portal)
        (web,) = [i for i in portal.instances() if i.id.startswith(f"{HELD}/") and i.name == "web"]
        assert web.state is InstanceState.RUNNING

        # otto stops it; the cloud's call is held at the proxy.
        asked = datetime.now(UTC)
        with agg.client(agg.mint("otto", "operator", pool="gamma")) as otto:
            accepted = otto.post(_held(otto)["web"]["links"]["stop"]["href"])
        assert accepted.status_code == 202, accepted.text
        wait_until(lambda: proxy.faulted >= 1, timeout=20)

        # The server: the state last observed, and the stop as requested (by whom, when).
        # Nothing more to offer while it runs but a poweroff (its guest may ignore the
        # stop), to an operator.
        for served, offered in (
            (accepted.json()["resource"], {"poweroff"}),
            (_held(viewer)["web"], set()),
        ):
            assert served["state"] == "running", served
            assert set(served["links"]) == offered, served
            requested = served["requested"]
            assert (requested["action"], requested["user"]) == ("stop", "otto"), served
            at = datetime.fromisoformat(requested["at"])
            assert asked - timedelta(seconds=1) <= at <= datetime.now(UTC), served
    assert agg.cloud_state("team-a", "web") == "running"  # the witness: moto (HELD's region)

    # The other wm lists during it: running, otto's stop shown as under way, and nothing in
    # its log says it saw the instance stopping.
    await refresh(portal)
    row = portal.instance(web.key)
    assert row is not None
    assert row.state is InstanceState.RUNNING
    said = row.extra.get("requested")
    assert isinstance(said, str), row.extra
    assert said.startswith("stop requested by otto at "), said
    assert said.endswith(" UTC, under way at the aggregator"), said
    observed = portal.store.events(account="team", target=web.id, sources=[EventSource.OBSERVED])
    assert observed == [], observed
    # Its own stop is refused, saying why (the server offers none while otto's runs).
    refusal = portal.refusal(Action.STOP, row)
    assert refusal == f"web: {said}; stop once it ends", refusal


def test_a_relay_serves_the_action_its_upstream_has_under_way(
    held: tuple[RunningAggregator, FaultProxy], tmp_path: Path
) -> None:
    """A wm serve whose account is another: otto's stop under way upstream was `requested:
    null` in the relay's rows (only its own actions counted), so a script or dashboard
    reading the relay took the row as idle; now it is the upstream's, as the upstream says."""
    agg, proxy = held
    with agg.client(agg.mint("otto", "operator", pool="gamma")) as otto:
        wait_until(lambda: "web" in _held(otto), timeout=20)
        upstream = otto.post(_held(otto)["web"]["links"]["stop"]["href"]).json()["resource"]
    wait_until(lambda: proxy.faulted >= 1, timeout=20)
    with relaying(agg, tmp_path / "relay") as relay, relay.client(relay.mint("vera")) as client:

        def relayed() -> dict[str, Any]:
            rows = client.get("/api/v1/instances").json()
            return next(r for r in rows if r["id"] == f"{HELD}/{upstream['id']}")

        wait_until(lambda: any(r["account"] == "upstream" for r in _rows(client)), timeout=20)
        row = relayed()
    assert row["state"] == "running", row
    assert row["requested"] == upstream["requested"], row
    assert (row["requested"]["action"], row["requested"]["user"]) == ("stop", "otto")
    assert agg.cloud_state("team-a", "web") == "running"


def _rows(client: httpx.Client) -> list[dict[str, Any]]:
    reply = client.get("/api/v1/instances")
    return list(reply.json()) if reply.status_code == 200 else []
