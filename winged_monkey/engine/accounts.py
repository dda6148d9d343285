"""The configured accounts as the engine holds them: each one's backend (built on first
use), last status and rows, and the deadline every call to it runs under.

The deadline is the account's `timeout`, total: `within` cancels the backend's coroutine
when it passes, and a backend that blocks (libcloud, pyvmomi, libvirt) runs its calls in
its own lane (`winged_monkey.blocking`), where a cancelled call is abandoned and its
connection closed, so nothing of it holds a worker another account needs.

Building a backend (its credentials: a keyring, a secret_command, botocore's
credential_process or assumed role) runs under the same deadline, in a daemon thread of its
own: a credential source that never answers fails its account in time, holds no shared
worker, and never keeps the process from ending. A person answering a prompt is not timed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Awaitable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from winged_monkey import blocking, faultwords, plugins
from winged_monkey.backend import Backend, Capability
from winged_monkey.errors import ConfigError, DeadlineError, PluginBug, WMError, describe
from winged_monkey.models import AccountStatus, Instance
from winged_monkey.user.config import AccountConfig, BrokenAccount, Config
from winged_monkey.user.credentials import CredentialResolver

T = TypeVar("T")
CLOSE_WITHIN_S = 2.0


@dataclass
class Account:
    """One account's state in the engine."""

    config: AccountConfig
    backend: Backend | None = None
    status: AccountStatus = field(init=False)
    #: The rows last listed (or being followed), by instance id.
    instances: dict[str, Instance] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The backend's event markers (target id -> last native event read); kept with each
    #: listing's snapshot, where a new process takes them up.
    markers: dict[str, str] = field(default_factory=dict)
    native_events_error: str | None = None
    #: Seconds the provider asked us to wait before the next poll (HTTP 429 Retry-After).
    retry_after: float | None = None
    #: What an action last read of each row, and when (instance id -> (time.monotonic(),
    #: the row)): a listing that began before that reading answers from an earlier moment
    #: and must not put it back. The row is kept here, not looked up in `instances`, which
    #: the listing itself may have overwritten while the read came in.
    read_at: dict[str, tuple[float, Instance]] = field(default_factory=dict)
    #: The backend being built, in its own thread; every use awaits this one build.
    building: concurrent.futures.Future[Backend] | None = None
    #: Counts every change to `instances` (`put`, `show`, `read`): `wm serve` keeps its
    #: serialised listing while this stays, so that no listing it serves is older than a
    #: row it serves alone (a client following a launch read it running, then a listing
    #: serialised before that read put it back to pending).
    version: int = 0

    def __post_init__(self) -> None:
        self.status = AccountStatus(name=self.config.name, phase="loading")

    def put(self, instance: Instance) -> None:
        """`instance` is the row to show now."""
        self.instances[instance.id] = instance
        self.version += 1

    def show(self, rows: Iterable[Instance]) -> dict[str, Instance]:
        """`rows` are the account's rows now (a listing's); the dict they are kept in."""
        self.instances = {i.id: i for i in rows}
        self.version += 1
        return self.instances

    def read(self, instance: Instance) -> None:
        """An action's follow read `instance` just now: the newest word on its row."""
        self.put(instance)
        self.read_at[instance.id] = (time.monotonic(), instance)

    def newest(self, listed: Sequence[Instance], began: float) -> tuple[Instance, ...]:
        """A listing begun at `began` (time.monotonic()), with each row an action read after
        that moment in place of the listing's older view of it."""
        later = {i: row for i, (at, row) in self.read_at.items() if at > began}
        return tuple(later.get(row.id, row) for row in listed)

    def forget_reads(self, before: float) -> None:
        """Drop what actions read before `before`: every listing from then on is newer."""
        self.read_at = {i: (at, row) for i, (at, row) in self.read_at.items() if at > before}

    @property
    def name(self) -> str:
        return self.config.name


class Accounts:
    """Every configured account, in config order."""

    def __init__(self, config: Config, resolver: CredentialResolver) -> None:
        self.config = config
        self.resolver = resolver
        self._all = {a.name: Account(a) for a in config.accounts}

    def __iter__(self) -> Iterator[Account]:
        return iter(self._all.values())

    def __contains__(self, name: object) -> bool:
        return name in self._all

    @property
    def names(self) -> list[str]:
        return list(self._all)

    def get(self, name: str) -> Account:
        """The account called `name` (ConfigError naming the configured ones otherwise)."""
        found = self._all.get(name)
        if found is None:
            self.config.account(name)  # raises ConfigError naming the known ones
            raise ConfigError(f"no account {name!r}")
        return found

    def find(self, name: str) -> Account | None:
        return self._all.get(name)

    async def backend(self, name: str) -> Backend:
        """The account's backend, built on first use (see the module's doc), within the
        account's timeout but for the time a person takes to answer a prompt. A build that
        runs out of time goes on in its thread: the next use awaits it, never a second one."""
        account = self.get(name)
        if account.backend is not None:
            return account.backend
        if isinstance(account.config, BrokenAccount):
            raise account.config.refused()  # its table was refused: it alone fails, as one
        building = account.building
        if building is None or (building.done() and building.exception() is not None):
            building = account.building = self._start_build(account)
        timeout = account.config.timeout
        # The deadline moves on by each answer's time: the machine's own time is what counts.
        ends = time.monotonic() + timeout - self.resolver.asked(name)
        while True:
            asking = name in self.resolver.asking
            left = timeout if asking else ends + self.resolver.asked(name) - time.monotonic()
            if left <= 0:
                raise DeadlineError(
                    f"not signed in within {timeout:g} s (timeout): its credential source "
                    "(keyring, secret_command, credential_process, a role to assume, a "
                    "clouds.yaml vendor profile's URL) has not answered",
                    account=name,
                )
            with contextlib.suppress(TimeoutError):
                # Cancelling the wait leaves a running concurrent future alone.
                return await asyncio.wait_for(asyncio.wrap_future(building), left)

    def _start_build(self, account: Account) -> concurrent.futures.Future[Backend]:
        future: concurrent.futures.Future[Backend] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()  # so no waiter's cancel can cancel it

        def build() -> None:
            try:
                future.set_result(self._build(account))
            except BaseException as exc:  # handed to every waiter, never lost in the thread
                future.set_exception(exc)

        name = f"wm-build:{account.name}"
        threading.Thread(target=build, name=name, daemon=True).start()
        return future

    def _build(self, account: Account) -> Backend:
        with account.lock:  # one backend per account, even if two threads ask at once
            if account.backend is None:
                cls = plugins.load(account.config.backend)
                secrets = self.resolver.resolve(account.config)
                account.backend = cls(account.config, secrets)
            return account.backend

    def capabilities(self, name: str) -> frozenset[Capability]:
        """What the account's backend can do; before it is built, what its class declares."""
        account = self.get(name)
        if account.backend is not None:
            return account.backend.capabilities
        try:
            return plugins.load(account.config.backend).CAPABILITIES
        except WMError:
            return frozenset()

    async def within(self, name: str, call: Awaitable[T]) -> T:
        """`call` under the account's total deadline; running out is a WMError saying so
        (the call itself is cancelled, and a blocking one abandoned by its lane)."""
        account = self.get(name)
        timeout = account.config.timeout
        blocking.daemon_threads_by_default()  # a lookup left behind holds no shared worker
        try:
            return await asyncio.wait_for(call, timeout)
        except TimeoutError:
            raise DeadlineError(
                f"no answer within {timeout:g} s (timeout): {faultwords.ONLY_SLOW}", account=name
            ) from None
        except WMError as exc:
            exc.message = self._mask(account, exc.message)
            raise
        except Exception as exc:  # a backend's bug: its words, masked, in our type
            raise PluginBug(self._mask(account, describe(exc)), account=name) from exc

    @staticmethod
    def _mask(account: Account, text: str) -> str:
        """Every secret the account holds masked out of a message bound for people."""
        return account.backend.secrets.mask(text) if account.backend is not None else text

    async def close(self) -> None:
        """Release every backend's connections, all at once, each within a few seconds:
        leaving waits on no provider more than that (one after the other, a goodbye to
        each hung one added its wait to the others')."""

        async def close(backend: Backend) -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(backend.close(), CLOSE_WITHIN_S)

        built = [a.backend for a in self._all.values() if a.backend is not None]
        await asyncio.gather(*(close(backend) for backend in built))
