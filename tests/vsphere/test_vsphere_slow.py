"""A vSphere account whose vCenter stops answering mid-session: its pyvmomi call is abandoned
at the account's timeout with its connections (the proxy in front of vcsim is the witness),
and the next poll after the fault clears is ok, not a failure on a dead pooled connection."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from tests.vsphere.accounts import account, make_portal
from tests.vsphere.vcsim import CA, CERTS, Vcsim
from winged_monkey.engine.portal import Portal
from winged_monkey.models import AccountStatus
from winged_monkey.user.config import Endpoint

TIMEOUT = 2


@pytest.fixture
def proxy(sim: Vcsim) -> Iterator[FaultProxy]:
    """vcsim speaks only TLS: the proxy shows vcsim's own certificate and trusts its CA."""
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ssl.load_cert_chain(CERTS / "server.pem", CERTS / "server.key")
    upstream_ssl = ssl.create_default_context(cafile=str(CA))
    with FaultProxy(
        ("127.0.0.1", sim.port), server_ssl=server_ssl, upstream_ssl=upstream_ssl
    ) as running:
        yield running


async def poll(portal: Portal) -> AccountStatus:
    """One refresh: the account's final status."""
    return [u.status async for u in portal.refresh()][-1]


@pytest.mark.parametrize(
    "fault",
    [Fault("hang"), Fault("drip", interval=0.5), Fault("drip_body", interval=0.5)],
    ids=lambda f: f.kind,
)
async def test_a_stuck_vsphere_call_is_abandoned_and_the_next_healthy_poll_is_ok(
    sim: Vcsim,
    proxy: FaultProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fault: Fault,
) -> None:
    lab = account(sim, monkeypatch).model_copy(
        update={"endpoint": Endpoint(host="127.0.0.1", port=proxy.port), "timeout": TIMEOUT}
    )
    portal = make_portal(tmp_path, lab)
    try:
        assert (await poll(portal)).phase == "ok"  # logged in, a connection kept alive

        proxy.fault = fault
        failed = await poll(portal)
        assert failed.phase == "failed"
        # The portal's deadline and the backend's own socket timeout are both TIMEOUT:
        # whichever ends the call first says so, each as no answer in time.
        said = (
            f"no answer within {TIMEOUT} s (timeout)",
            f"no answer from 127.0.0.1:{proxy.port} in time (timeout)",
        )
        assert any(words in (failed.error or "") for words in said), failed.error
        wait_until(lambda: proxy.open_connections == 0, timeout=5)
        lane = (await portal.backend("lab")).lane
        wait_until(lambda: lane.stuck == 0, timeout=5)

        proxy.fault = Fault("pass")
        recovered = await poll(portal)
        assert recovered.phase == "ok", recovered.error
        assert recovered.count == 4  # vcsim's VMs, read again through the same session
    finally:
        await portal.close()
        portal.store.close()


async def test_leaving_two_hung_vcenters_waits_for_neither(
    sim: Vcsim, proxy: FaultProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wm ls` closes the portal before it prints: each vSphere account's close logged out
    over the hung link and waited 2 s for it, one account after the other, so two hung
    vCenters added 4 s to an answer due at the deadline. A vCenter that has not answered
    is not asked to log out, and the accounts close together."""
    through = Endpoint(host="127.0.0.1", port=proxy.port)
    labs = [
        account(sim, monkeypatch, name=name).model_copy(
            update={"endpoint": through, "timeout": TIMEOUT}
        )
        for name in ("lab-a", "lab-b")
    ]
    portal = make_portal(tmp_path, *labs)
    try:
        phases = {u.status.name: u.status.phase async for u in portal.refresh()}
        assert phases == {"lab-a": "ok", "lab-b": "ok"}  # both logged in

        proxy.fault = Fault("hang")
        started = time.monotonic()
        phases = {u.status.name: u.status.phase async for u in portal.refresh()}
        assert phases == {"lab-a": "failed", "lab-b": "failed"}
        closing = time.monotonic()
        await portal.close()
        ended = time.monotonic()
        print(
            f"two hung vCenters: failed in {closing - started:.1f} s, closed in "
            f"{ended - closing:.2f} s"
        )
        assert ended - closing < 1.0
        assert ended - started < TIMEOUT + 1.5
    finally:
        await portal.close()
        portal.store.close()
