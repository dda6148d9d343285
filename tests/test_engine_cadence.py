"""Each account on its own cadence: with one account hung and one dripping behind a fault
proxy in front of the real moto, the healthy account is polled every interval, the slow
ones fail with their deadline every time, and each recovers at its next poll once its
fault clears. A throttled account (429 with Retry-After) waits as long as it was asked."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from tests.conftest import Cloud
from tests.faultproxy import PASS, Fault, FaultProxy
from winged_monkey import faultwords
from winged_monkey.engine.inventory import AccountUpdate
from winged_monkey.engine.poller import Poller
from winged_monkey.engine.portal import Portal

INTERVAL = 1.0  # cloud.portal's refresh_interval
TIMEOUT = 4.0
#: The issue's bound: the next poll of a healthy account starts within 1.2 x the interval
#: of the end of its last one, whatever another account does.
CADENCE = 1.2 * INTERVAL


@dataclass
class Poll:
    start: float
    end: float
    phase: str
    error: str


@dataclass
class Witness:
    """Every account's polls as a subscriber sees them (loop time of start and answer)."""

    loop: asyncio.AbstractEventLoop
    polls: dict[str, list[Poll]] = field(default_factory=dict)
    _started: dict[str, float] = field(default_factory=dict)

    def __call__(self, update: AccountUpdate) -> None:
        status, now = update.status, self.loop.time()
        if status.refreshing:
            self._started[status.name] = now
            return
        start = self._started.pop(status.name, None)  # the poll's answer: its listing or error
        if start is not None:
            poll = Poll(start, now, status.phase, status.error or "")
            self.polls.setdefault(status.name, []).append(poll)

    def of(self, name: str) -> list[Poll]:
        return self.polls.get(name, [])

    def started(self, name: str) -> float | None:
        """When the account's poll under way started (None between polls)."""
        return self._started.get(name)


async def eventually(condition: Callable[[], bool], what: str, within: float) -> None:
    """Let the loop run until `condition` holds; fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def polling(portal: Portal) -> AsyncIterator[tuple[Poller, Witness]]:
    poller = portal.poller(native_events=False)
    witness = Witness(asyncio.get_running_loop())
    poller.subscribe(witness)
    task = asyncio.create_task(poller.run())
    try:
        yield poller, witness
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await portal.close()


def gaps(polls: list[Poll]) -> list[float]:
    """Seconds from the end of each poll to the start of the next."""
    return [later.start - earlier.end for earlier, later in itertools.pairwise(polls)]


@pytest.fixture
def two_instances(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    cloud.launch(ec2, "web")
    cloud.launch(ec2, "db")


async def test_a_hung_and_a_dripping_account_never_slow_the_healthy_ones(
    cloud: Cloud, two_instances: None, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    hung, dripping = fault_proxy(cloud.server.port), fault_proxy(cloud.server.port)
    hung.fault, dripping.fault = Fault("hang"), Fault("drip", interval=0.5)
    portal = cloud.portal(
        cloud.account("healthy", timeout=TIMEOUT),
        cloud.account("hung", port=hung.port, timeout=TIMEOUT),
        cloud.account("dripping", port=dripping.port, timeout=TIMEOUT),
    )
    async with polling(portal) as (poller, witness):
        # Two failed polls of each slow account: about 10 s (4 s deadline + 1 s interval).
        await eventually(
            lambda: len(witness.of("hung")) >= 2 and len(witness.of("dripping")) >= 2,
            "two polls of each slow account",
            within=4 * (TIMEOUT + INTERVAL),
        )
        healthy = list(witness.of("healthy"))
        between = gaps(healthy)
        listing = [p.end - p.start for p in healthy]
        print(
            f"healthy: {len(healthy)} polls in {healthy[-1].end - healthy[0].start:.1f} s, "
            f"gap after a poll at most {max(between):.2f} s, listing at most {max(listing):.2f} s"
        )
        # Polled every interval (one slow account would have made it 5 s, or 16 s before).
        assert len(healthy) >= 6, healthy
        assert all(p.phase == "ok" for p in healthy), healthy
        assert max(between) <= CADENCE, between
        for name in ("hung", "dripping"):
            slow = witness.of(name)
            assert all(p.phase == "failed" for p in slow), slow
            # The engine's deadline or the client's own socket timeout, whichever fires first
            # (both at the account's timeout: under load either may win); both say the same.
            assert all(f"(timeout): {faultwords.ONLY_SLOW}" in p.error for p in slow), slow
            # Each failed at its own deadline, not at another account's pace.
            assert all(p.end - p.start < TIMEOUT + 1 for p in slow), slow
        assert poller.polls["healthy"] >= len(healthy)

        # The faults clear: each slow account is ok at its next poll, with no restart.
        hung.fault = dripping.fault = PASS
        counts = {name: len(witness.of(name)) for name in ("hung", "dripping")}
        for name in ("hung", "dripping"):
            await eventually(
                lambda name=name: any(  # type: ignore[misc]
                    p.phase == "ok" for p in witness.of(name)[counts[name] :]
                ),
                f"{name} ok after its fault cleared",
                # the poll under way may still run into its deadline; the next one is ok
                within=2 * (TIMEOUT + INTERVAL) + 2,
            )
            after = witness.of(name)[counts[name] :]
            assert [p.phase for p in after][-1] == "ok"
            assert len(after) <= 2, after  # at most the poll that was under way failed
        assert portal.status("hung").count == 2
        assert portal.status("dripping").count == 2


async def test_a_throttled_account_waits_as_long_as_its_provider_asked(
    cloud: Cloud, two_instances: None, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("status", status=429, headers={"Retry-After": "3"}, body=b"slow down")
    portal = cloud.portal(
        cloud.account("healthy", timeout=TIMEOUT),
        cloud.account("throttled", port=proxy.port, timeout=TIMEOUT),
    )
    async with polling(portal) as (_poller, witness):
        await eventually(lambda: len(witness.of("throttled")) >= 1, "a throttled poll", 10)
        first = witness.of("throttled")[0]
        asked = proxy.requests
        assert first.phase == "failed"
        assert "throttling" in first.error, first.error
        assert "429" in first.error, first.error
        await eventually(lambda: len(witness.of("throttled")) >= 2, "a second poll", 10)
        second = witness.of("throttled")[1]
        waited = second.start - first.end
        healthy = [p for p in witness.of("healthy") if p.start >= first.end]
        print(f"throttled: next poll {waited:.2f} s later; healthy polled {len(healthy)} times")
        assert waited >= 3.0
        assert proxy.requests > asked  # the provider is the witness: asked again, later
        # Meanwhile the healthy account kept its own cadence.
        assert len(healthy) >= 2, healthy
        assert max(gaps(witness.of("healthy"))) <= CADENCE


async def test_polling_now_still_honours_a_throttled_accounts_retry_after(
    cloud: Cloud, two_instances: None, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = Fault("status", status=429, headers={"Retry-After": "3"}, body=b"slow down")
    portal = cloud.portal(
        cloud.account("healthy", timeout=TIMEOUT),
        cloud.account("throttled", port=proxy.port, timeout=TIMEOUT),
    )
    async with polling(portal) as (poller, witness):
        await eventually(lambda: len(witness.of("throttled")) >= 1, "a throttled poll", 10)
        first = witness.of("throttled")[0]
        healthy = len(witness.of("healthy"))
        poller.poll_now()  # R in the TUI, a launch in wm serve
        await eventually(lambda: len(witness.of("throttled")) >= 2, "a second poll", 10)
        waited = witness.of("throttled")[1].start - first.end
        print(f"poll now on a throttled account: its next poll {waited:.2f} s later")
        # The provider asked for 3 s: asking again sooner only earns another 429.
        assert waited >= 3.0
        assert len(witness.of("healthy")) > healthy  # the others polled as asked
