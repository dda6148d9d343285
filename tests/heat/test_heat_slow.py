"""A Heat endpoint on a slow link: the real standalone Heat behind the fault proxy, its reply
dripped a byte at a time (each byte well within httpx's read timeout, so only the account's
deadline can end the call) or never sent. The other account lists; the slow one says so in
its timeout; the abandoned call's connection is closed; the account recovers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.faultproxy import Fault, FaultProxy
from tests.heat.conftest import Projects, make_portal, refresh
from tests.slow_link import fails_alone_and_recovers
from winged_monkey.user.config import AccountConfig, Credentials

TIMEOUT = 2


def account(heat: Projects, name: str, url: str, timeout: float) -> AccountConfig:
    return AccountConfig(
        name=name,
        backend="heat",
        credentials=Credentials(keyring=False),
        timeout=timeout,
        endpoint_url=url,
        project=heat.project(name),
    )


@pytest.mark.parametrize(
    "fault",
    [Fault("drip", interval=0.2), Fault("drip_body", interval=0.2), Fault("hang")],
    ids=lambda f: f.kind,
)
async def test_a_slow_heat_fails_in_its_timeout_and_recovers(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy], fault: Fault
) -> None:
    for name in ("fast", "slow"):
        assert heat.wait(name, heat.create(name, f"{name}-app")) == "CREATE_COMPLETE"
    proxy = fault_proxy(heat.server.port)
    portal, store = make_portal(
        heat.tmp_path,
        account(heat, "fast", heat.server.url, timeout=20),
        account(heat, "slow", f"http://127.0.0.1:{proxy.port}/v1", timeout=TIMEOUT),
    )
    heat.stores.append(store)
    try:
        # A first poll through the healthy proxy: the client holds a kept-alive connection.
        assert (await refresh(portal))["slow"].status.phase == "ok"
        fast, healed = await fails_alone_and_recovers(
            lambda: refresh(portal), proxy, fault, slow="slow", healthy="fast", within=TIMEOUT
        )
        assert [i.name for i in fast.instances or []] == ["fast-app"]
        assert [i.name for i in healed.instances or []] == ["slow-app"]
    finally:
        await portal.close()
