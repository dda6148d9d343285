"""The team's aggregator on a slow link: the real `wm serve` behind the fault proxy, its
reply dripped a byte at a time (each byte well within httpx's read timeout, so only the
account's deadline can end the call) or never sent. The other account lists; the
aggregator's says so in its timeout; the abandoned call's connection is closed; the account
recovers on the next poll."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.conftest import Cloud
from tests.faultproxy import Fault, FaultProxy
from tests.slow_link import fails_alone_and_recovers

TIMEOUT = 2


@pytest.mark.parametrize(
    "fault",
    [Fault("drip", interval=0.2), Fault("drip_body", interval=0.2), Fault("hang")],
    ids=lambda f: f.kind,
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

    direct, healed = await fails_alone_and_recovers(
        lambda: refresh(portal), proxy, fault, slow="team", healthy="direct", within=TIMEOUT
    )
    assert "web" in [i.name for i in direct.instances or []]
    assert healed.status.count >= first["team"].status.count
