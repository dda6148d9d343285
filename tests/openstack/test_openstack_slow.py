"""An OpenStack account (libcloud's driver) on a slow link: the real Keystone or Nova behind the
fault proxy, its reply dripped a byte at a time (each byte well within the socket's timeout,
so only the account's deadline can end the call) or never sent. The other account lists; the
slow one fails in its timeout, saying so, with no rows it did not see; it recovers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.faultproxy import Fault, FaultProxy
from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    account,
    boot,
    make_portal,
    passwords,
)
from tests.slow_link import Poll, fails_alone_and_recovers
from winged_monkey.engine.portal import AccountUpdate, Portal

pytestmark = pytest.mark.timeout(420)
TIMEOUT = 3


def poll(portal: Portal) -> Poll:
    async def run() -> dict[str, AccountUpdate]:
        return {u.status.name: u async for u in portal.refresh() if not u.status.refreshing}

    return run


@pytest.mark.parametrize("link", ["keystone", "nova"])
@pytest.mark.parametrize(
    "fault", [Fault("drip", interval=0.2), Fault("hang")], ids=lambda f: f.kind
)
async def test_a_slow_keystone_or_nova_fails_its_account_alone_in_its_timeout(
    openstack: OpenStack,
    fault_proxy: Callable[[int], FaultProxy],
    tmp_path: Path,
    link: str,
    fault: Fault,
) -> None:
    openstack.delete_all_servers()
    boot(openstack, "alpha", "alpha-1")
    boot(openstack, "beta", "beta-1")
    slow = account(openstack, "slow", "beta")
    if link == "keystone":  # the sign-in: the account's first call, before any token
        url = urlsplit(openstack.auth_url)
        key = "ex_force_auth_url"
    else:  # the listing, once signed in
        url = urlsplit(openstack.compute_url)
        key = "ex_force_base_url"
    proxy = fault_proxy(url.port or 80)
    through = f"http://127.0.0.1:{proxy.port}{url.path}"
    slow = slow.model_copy(update={"driver": {**slow.driver, key: through}, "timeout": TIMEOUT})
    portal = make_portal(tmp_path, account(openstack, "fast", "alpha"), slow)
    try:
        if link == "nova":  # signed in, a kept-alive connection to Nova through the proxy
            assert (await poll(portal)())["slow"].status.phase == "ok"
        fast, healed = await fails_alone_and_recovers(
            poll(portal), proxy, fault, slow="slow", healthy="fast", within=TIMEOUT
        )
        assert [i.name for i in fast.instances or []] == ["alpha-1"]
        assert [i.name for i in healed.instances or []] == ["beta-1"]
    finally:
        await portal.close()
