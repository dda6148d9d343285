"""An account's blocking calls (winged_monkey.blocking.Lane): isolated, abandoned at the
deadline with their connections, bounded when stuck in C code, never waited for at exit."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import wait_until
from winged_monkey.blocking import Lane
from winged_monkey.errors import UnreachableError


@pytest.fixture
def silent() -> Iterator[socket.socket]:
    """A real TCP server that accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def accepted(server: socket.socket) -> socket.socket:
    conn, _ = server.accept()
    conn.settimeout(10)
    return conn


async def test_a_call_returns_its_result_from_a_daemon_thread_of_its_own() -> None:
    lane = Lane("acct")
    ran_in = await lane.run(threading.current_thread)
    assert ran_in is not threading.main_thread()
    assert ran_in.daemon
    assert ran_in.name == "wm-lane:acct"


async def test_a_call_raises_its_own_exception() -> None:
    def fail() -> None:
        raise ValueError("the provider said no")

    with pytest.raises(ValueError, match="the provider said no"):
        await Lane("acct").run(fail)


async def test_a_cancelled_call_is_abandoned_and_its_connection_closed(
    silent: socket.socket,
) -> None:
    lane = Lane("acct")
    threads: list[threading.Thread] = []

    def wait_for_answer() -> bytes:
        threads.append(threading.current_thread())
        with socket.create_connection(silent.getsockname()) as client:
            return client.recv(1)  # no timeout: only the abandon wakes it

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(lane.run(wait_for_answer), 0.3)
    server_side = accepted(silent)
    assert server_side.recv(1) == b""  # the server saw the client close its connection
    wait_until(lambda: not threads[0].is_alive(), timeout=5)
    assert lane.stuck == 0


async def test_an_abandon_wakes_a_tls_handshake_too(silent: socket.socket) -> None:
    """ssl wraps the connected socket into a new object: that one is shut down as well."""
    lane = Lane("acct")
    threads: list[threading.Thread] = []
    context = ssl.create_default_context()

    def handshake() -> None:
        threads.append(threading.current_thread())
        with socket.create_connection(silent.getsockname()) as raw:
            context.wrap_socket(raw, server_hostname="127.0.0.1")  # never gets a ServerHello

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(lane.run(handshake), 0.3)
    wait_until(lambda: not threads[0].is_alive(), timeout=5)


async def test_an_abandon_also_closes_the_lanes_kept_alive_connections(
    silent: socket.socket,
) -> None:
    lane = Lane("acct")
    kept = await lane.run(lambda: socket.create_connection(silent.getsockname()))
    idle_server_side = accepted(silent)

    def hang() -> bytes:
        with socket.create_connection(silent.getsockname()) as client:
            return client.recv(1)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(lane.run(hang), 0.3)
    assert idle_server_side.recv(1) == b""  # the earlier call's connection went with it
    kept.close()


async def test_an_abandon_leaves_the_lanes_other_running_calls_their_connections(
    silent: socket.socket,
) -> None:
    """A listing that hangs past its deadline while a stop on the same account is being
    answered: giving up on the listing must not cut the stop's connection."""
    lane = Lane("acct")
    connected = threading.Event()

    def answered_later() -> bytes:
        with socket.create_connection(silent.getsockname()) as client:
            connected.set()
            return client.recv(5)

    def hang() -> bytes:
        connected.wait(5)
        with socket.create_connection(silent.getsockname()) as client:
            return client.recv(1)

    stop = asyncio.ensure_future(lane.run(answered_later))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(lane.run(hang), 0.5)
    stop_side, hang_side = accepted(silent), accepted(silent)
    assert hang_side.recv(1) == b""  # the abandoned call's connection was closed
    stop_side.sendall(b"done!")  # the other call's answer comes after the abandon
    assert await asyncio.wait_for(stop, 5) == b"done!"
    stop_side.close()
    hang_side.close()


async def test_calls_stuck_in_c_code_are_bounded_and_the_lane_recovers_when_they_end() -> None:
    lane, other = Lane("stuck", max_stuck=2), Lane("healthy")
    release = threading.Event()
    for _ in range(2):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(lane.run(release.wait), 0.1)  # no socket to shut down
    assert lane.stuck == 2
    before = threading.active_count()
    started = time.monotonic()
    with pytest.raises(UnreachableError) as refused:
        await lane.run(lambda: "never runs")
    assert time.monotonic() - started < 1
    assert threading.active_count() == before  # refused without a thread
    assert refused.value.account == "stuck"
    assert "2 earlier calls to this account are still stuck" in refused.value.message
    assert await other.run(lambda: "answered") == "answered"  # no other account waits

    release.set()  # the C calls return at last
    wait_until(lambda: lane.stuck == 0, timeout=5)
    assert await lane.run(lambda: "answered") == "answered"


def test_the_process_does_not_wait_for_an_abandoned_call_at_exit() -> None:
    script = textwrap.dedent(
        """
        import asyncio, time
        from winged_monkey.blocking import Lane

        async def main():
            try:
                await asyncio.wait_for(Lane("acct").run(lambda: time.sleep(3600)), 0.1)
            except TimeoutError:
                print("abandoned", flush=True)

        asyncio.run(main())
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - started
    print(f"exited after {elapsed:.2f} s")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "abandoned\n"
    assert elapsed < 5


def test_importing_installs_no_audit_hook() -> None:
    script = (
        "import sys, winged_monkey.blocking as b; "
        "sys.exit(1 if b._hook_installed else 0)"  # the hook comes with the first call
    )
    assert subprocess.run([sys.executable, "-c", script], timeout=60).returncode == 0
