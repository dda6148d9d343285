"""The slow-link check every backend over HTTP shares: one account's link faulted (dripped or
hung) by the fault proxy, polled beside a healthy account."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from tests.conftest import eventually
from tests.faultproxy import PASS, Fault, FaultProxy
from winged_monkey.engine.portal import AccountUpdate

Poll = Callable[[], Awaitable[dict[str, AccountUpdate]]]


async def fails_alone_and_recovers(
    poll: Poll, proxy: FaultProxy, fault: Fault, *, slow: str, healthy: str, within: float
) -> tuple[AccountUpdate, AccountUpdate]:
    """With `fault` on `slow`'s link, `healthy` lists while `slow` fails within its timeout
    (`within`, seconds), reporting no rows it did not observe, and the connections of its
    abandoned calls are closed; with the link healed, `slow` lists again. Returns
    (healthy's update under the fault, slow's update once healed)."""
    proxy.fault = fault
    started = time.monotonic()
    faulted = await poll()
    took = time.monotonic() - started
    assert faulted[healthy].status.phase == "ok", faulted[healthy].status.error
    status = faulted[slow].status
    assert status.phase == "failed"
    assert (status.error or "").startswith("no answer"), status.error
    assert took < within + 3, f"the poll took {took:.1f} s"
    assert faulted[slow].instances is None  # nothing reported that was not observed
    await eventually(lambda: proxy.answering == 0, within=5)  # the abandoned calls' closed

    proxy.fault = PASS
    healed = await poll()
    assert healed[slow].status.phase == "ok", healed[slow].status.error
    return faulted[healthy], healed[slow]
