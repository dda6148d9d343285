"""The team's aggregator on a slow link: the real `wm serve` behind the fault proxy, its
reply dripped a byte at a time (each byte well within httpx's read timeout, so only the
account's deadline can end the call) or never sent. The other account lists; the
aggregator's says so in its timeout; the abandoned call's connection is closed; the account
recovers on the next poll."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.conftest import Cloud, eventually
from tests.faultproxy import Fault, FaultProxy

TIMEOUT = 2


@pytest.mark.parametrize(
    "fault", [Fault("drip", interval=0.2), Fault("hang")], ids=lambda f: f.kind
)
async def test_a_slow_aggregator_fails_in_its_timeout_and_recovers(
    cloud: Cloud,
    team: RunningAggregator,
    portals: Portals,
    fault_proxy: Callable[[int], FaultProxy],
    fault: Fault,
) -> None:
    cloud.launch(cloud.ec2(), "web")
    proxy = fault_proxy(urlsplit(team.url).port or 0)
    token = team.mint("vera", "viewer")
    url = f"http://127.0.0.1:{proxy.port}"
    portal = portals(
        cloud.account("direct"),
        aggregator_account("team", url, token, cloud.monkeypatch, timeout=TIMEOUT),
    )
    team.wait_listed(4)
    first = await refresh(portal)  # through the healthy proxy: a kept-alive connection
    assert first["team"].status.phase == "ok", first["team"].status.error

    proxy.fault = fault
    started = time.monotonic()
    last = await refresh(portal)
    took = time.monotonic() - started
    assert last["direct"].status.phase == "ok"
    assert "web" in [i.name for i in last["direct"].instances or []]
    status = last["team"].status
    assert status.phase == "failed"
    assert (status.error or "").startswith("no answer"), status.error
    assert took < TIMEOUT + 3, f"the poll took {took:.1f} s"
    assert last["team"].instances is None  # nothing reported that was not observed
    await eventually(lambda: proxy.answering == 0, within=5)  # the abandoned calls' closed

    proxy.fault = Fault("pass")
    last = await refresh(portal)
    assert last["team"].status.phase == "ok", last["team"].status.error
    assert (last["team"].status.count or 0) >= (first["team"].status.count or 0)
