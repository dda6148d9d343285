"""One poll loop per account, shared by every view: the TUI and `wm serve` subscribe to
its updates and never poll themselves.

Each account's next poll is counted from the end of its own last one, so a slow or dead
account delays nobody else, and polls of one account never overlap. A throttled account
waits as long as its provider asked (Retry-After). Polling pauses while a view says so
(a dialog is open) and resumes where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from winged_monkey.engine.inventory import AccountUpdate, Inventory

log = logging.getLogger("winged_monkey.engine.poller")
Listener = Callable[[AccountUpdate], object]


class PollGate(Protocol):
    """Asked before each poll whether this process polls the account now (`wm serve`
    replicas: one per account); when not, `follow` gives what the one that does found."""

    async def may_poll(self, name: str) -> bool: ...

    async def follow(self, name: str) -> AccountUpdate | None: ...


class Poller:
    """Polls every account of an inventory on its own cadence while `run` runs."""

    def __init__(
        self,
        inventory: Inventory,
        interval: Callable[[str], float],
        *,
        native_events: bool = True,
    ) -> None:
        self.inventory = inventory
        #: Seconds between the end of an account's poll and the start of its next.
        self.interval = interval
        self.native_events = native_events
        self._listeners: list[Listener] = []
        self._running = asyncio.Event()
        self._running.set()
        self._signals: dict[str, asyncio.Event] = {}
        self._now: set[str] = set()
        self._ended: dict[str, float] = {}
        self._polling: set[str] = set()
        #: Polls finished per account since `run` started.
        self.polls: dict[str, int] = dict.fromkeys(inventory.accounts.names, 0)
        #: None: every account is polled here (the TUI, a single `wm serve`).
        self.gate: PollGate | None = None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every update, on the loop; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def poll_now(self, names: Iterable[str] | None = None) -> None:
        """Poll these accounts (default: all) as soon as each one's current poll ends."""
        for name in self.inventory.accounts.names if names is None else names:
            self._now.add(name)
            self._wake(name)

    def reschedule(self, names: Iterable[str] | None = None) -> None:
        """The interval may have changed (an action started): count it again."""
        for name in self.inventory.accounts.names if names is None else names:
            self._wake(name)

    def pause(self) -> None:
        """Start no new poll until `resume` (a poll under way finishes)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def settled(self) -> bool:
        """Every account has been polled since `run` started, and none is being polled."""
        return not self._polling and all(self.polls.values())

    async def run(self) -> None:
        """Poll until cancelled: every account at once, then each on its own cadence."""
        names = self.inventory.accounts.names
        self._signals = {name: asyncio.Event() for name in names}
        async with asyncio.TaskGroup() as group:
            for name in names:
                group.create_task(self._loop(name), name=f"wm-poll-{name}")

    def _wake(self, name: str) -> None:
        signal = self._signals.get(name)
        if signal is not None:
            signal.set()

    async def _loop(self, name: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._running.wait()
            self._now.discard(name)
            self._polling.add(name)
            try:
                if self.gate is not None and not await self.gate.may_poll(name):
                    if (followed := await self.gate.follow(name)) is not None:
                        self._publish(followed)
                else:
                    async for update in self.inventory.poll(name, native_events=self.native_events):
                        self._publish(update)
                    await self.inventory.maintain()
            except Exception:  # a bug in one poll must not end this account's polling
                log.exception("poll of %s failed", name)
            finally:
                self._polling.discard(name)
            self.polls[name] = self.polls.get(name, 0) + 1
            self._ended[name] = loop.time()
            await self._sleep(name)

    def _delay(self, name: str) -> float:
        retry = self.inventory.accounts.get(name).retry_after
        return max(self.interval(name), retry or 0.0)

    async def _sleep(self, name: str) -> None:
        loop, signal = asyncio.get_running_loop(), self._signals[name]
        while True:
            # Polling now skips the interval, never the provider's Retry-After (asking a
            # throttled provider again sooner only earns another 429).
            retry = self.inventory.accounts.get(name).retry_after or 0.0
            wait = retry if name in self._now else self._delay(name)
            remaining = self._ended[name] + wait - loop.time()
            if remaining <= 0:
                return
            signal.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    def _publish(self, update: AccountUpdate) -> None:
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # one view's bug must not stop the others' updates
                log.exception("a listener failed on %s", update.status.name)
