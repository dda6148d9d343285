"""One account's blocking calls, isolated from the others and abandonable at their deadline.

A blocking library (libcloud over requests, pyvmomi over http.client, libvirt in C) cannot be
cancelled: `asyncio.wait_for` stops awaiting it, but the call goes on in its thread. In
asyncio's shared default executor such calls pile up until they hold every worker (six
dripping connections starved every other account) and `asyncio.run` waits for them at exit.

So each account (each Backend) has its own `Lane`:

- Every call runs in a new daemon thread of its own, never a shared pool: a stuck call holds
  no worker another account needs, and neither `asyncio.run`'s executor shutdown nor the
  interpreter's exit waits for it. Threads are cheap next to a network round trip.
- When the awaiting coroutine is cancelled (the portal's deadline), the call is abandoned:
  the sockets its thread created or connected are shut down, so a thread blocked in `recv`
  wakes with an error and ends by itself, and the server sees the connection close.
  Sockets are found by one process-wide audit hook (PEP 578, installed on the first call,
  never at import) on "socket.__new__" and "socket.connect", which records each socket,
  weakly, as the call's whose thread is running. That covers any pure-Python client,
  including TLS ones (ssl wraps a connected socket into a new socket object). Keep-alive
  sockets of calls that ended go too (the abandoned call may be blocked on one it took from
  the pool, and no event tells which): the pool is reset and the next call reconnects. The
  sockets of the lane's other calls still running are left alone: a listing that hangs does
  not take a stop that is being answered down with it.
- Bounded: a call blocked in C code (a libvirt call, a sleep) cannot be woken. At most
  `max_stuck` abandoned calls of one lane may still be alive; past that a call fails at once
  with an error that says so, without starting a thread. A provider that never answers holds
  at most `max_stuck` threads, forever, and the account recovers once they end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from winged_monkey.errors import UnreachableError

T = TypeVar("T")

_current = threading.local()  # .call: the _Call this thread runs
_hook_lock = threading.Lock()
_hook_installed = False
_EVENTS = frozenset({"socket.__new__", "socket.connect"})


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Called for every audited event in the process: the cheap test comes first.
    if event in _EVENTS:
        call = getattr(_current, "call", None)
        if call is not None:
            call.lane._track(call, args[0])


def _install_hook() -> None:
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # cannot be removed: installed once, on first use
            _hook_installed = True


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # abandoned: nobody waits for this result any more
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class _Call:
    """One call of a lane: the sockets its thread opened, while it runs."""

    __slots__ = ("__weakref__", "lane", "sockets")

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()


class Lane:
    """The blocking calls of one account (one per Backend): each in its own daemon thread,
    abandoned with its connections when the awaiting coroutine is cancelled."""

    def __init__(self, account: str, max_stuck: int = 2) -> None:
        self.account = account
        self.max_stuck = max_stuck
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._running: set[_Call] = set()  # calls not ended and not abandoned
        self._abandoned: list[threading.Thread] = []

    @property
    def stuck(self) -> int:
        """Abandoned calls whose thread is still alive."""
        with self._lock:
            self._abandoned = [thread for thread in self._abandoned if thread.is_alive()]
            return len(self._abandoned)

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in a new daemon thread; its result or exception. Cancelling the caller
        abandons the call and shuts down the lane's sockets. Raises UnreachableError at once
        when `max_stuck` earlier calls are still stuck."""
        _install_hook()
        stuck = self.stuck
        if stuck >= self.max_stuck:
            calls = f"{stuck} earlier calls" if stuck != 1 else "an earlier call"
            verb = "are" if stuck != 1 else "is"
            raise UnreachableError(
                f"{calls} to this account {verb} still stuck (the provider has not answered); "
                "waiting for them to end",
                account=self.account,
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        this = _Call(self)
        with self._lock:
            self._running.add(this)

        def call() -> None:
            _current.call = this
            outcome: tuple[bool, object]
            try:
                outcome = (True, fn())
            except BaseException as exc:  # handed to the caller, never lost in the thread
                outcome = (False, exc)
            with self._lock:
                self._running.discard(this)
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, future, *outcome)

        thread = threading.Thread(target=call, name=f"wm-lane:{self.account}", daemon=True)
        thread.start()
        try:
            return await future
        except asyncio.CancelledError:
            if thread.is_alive():
                with self._lock:
                    self._abandoned.append(thread)
                    self._running.discard(this)
                self._shut_down(self._not_running())
            raise

    def close(self) -> None:
        """Shut down every socket the lane's calls opened (a blocked call then ends)."""
        with self._lock:
            sockets = list(self._sockets)
            self._sockets = weakref.WeakSet()
        self._shut_down(sockets)

    def _not_running(self) -> list[socket.socket]:
        """The lane's sockets but those of its calls still running, forgotten by the lane."""
        with self._lock:
            spared: set[socket.socket] = set()
            for running in self._running:
                spared.update(running.sockets)
            sockets = [sock for sock in self._sockets if sock not in spared]
            for sock in sockets:
                self._sockets.discard(sock)
        return sockets

    @staticmethod
    def _shut_down(sockets: list[socket.socket]) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed, detached or never connected
                sock.shutdown(socket.SHUT_RDWR)

    def _track(self, call: _Call, sock: object) -> None:
        if isinstance(sock, socket.socket):  # a bare _socket.socket cannot be referenced weakly
            with self._lock:
                self._sockets.add(sock)
                call.sockets.add(sock)


class DaemonThreads(concurrent.futures.ThreadPoolExecutor):  # the type asyncio insists on
    """The default executor of the loops wm runs accounts on: each job in a daemon thread of
    its own. asyncio's own pool has min(32, CPUs + 4) workers (6 on two cores), shared by
    every account: a host name that takes 30 s to resolve (httpx resolves through it) held
    a worker per lookup, so the healthy accounts' store reads queued behind it, and
    `asyncio.run` and the exit waited for the lookups. Nothing waits for these threads."""

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # handed to the awaiting coroutine
                future.set_exception(exc)

        threading.Thread(target=run, name="wm-blocking", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: an abandoned lookup ends by itself, or with the process."""


_given: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def daemon_threads_by_default() -> None:
    """Make DaemonThreads the running loop's default executor (once per loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _given:
        loop.set_default_executor(DaemonThreads())
        _given.add(loop)
