"""`wm serve` on a shared bastion: its files are its user's alone, a user name cannot carry
control characters into logs and terminals, and a client dripping its headers or its body
is dropped."""

from __future__ import annotations

import http.client
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aggregator.server import RunningAggregator, server_env, two_pool_aggregator
from tests.conftest import wait_until
from winged_monkey.cli.main import main
from winged_monkey.demo.server import MotoServer
from winged_monkey.serve.tokens import TokenStore

V1 = "/api/v1"
HEADER_TIMEOUT = 2.0  # the [serve] setting (10 s by default), short so the test is too
MARGIN = 3.0
BAD_NAMES = ["al\x00ice", "al\nice", "alice\r\nroot", "\x1b[2Jroot", "al\u2028ice", "al\x7fice"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(mask: int) -> Iterator[None]:
    """The umask the server process inherits when it starts in this block."""
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(scope="module")
def server(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningAggregator]:
    """A `wm serve` started with umask 000 (nothing masked) and a 2 s header deadline."""
    workdir = tmp_path_factory.mktemp("hygiene")
    settings = f"rate = 1000\nburst = 1000\nheader_timeout = {HEADER_TIMEOUT}"
    with ExitStack() as stack:
        with umask(0o000):
            running = stack.enter_context(two_pool_aggregator(moto_server, workdir, serve=settings))
        yield running


def test_the_servers_store_and_tokens_are_its_users_alone_even_with_umask_000(
    server: RunningAggregator,
) -> None:
    data = server.store_path.parent
    assert mode(data) == 0o700
    # Open and written to (its first poll is stored): the WAL files exist beside both.
    files = sorted(data.glob("wm.sqlite3*")) + sorted(
        server.tokens_path.parent.glob("tokens.sqlite3*")
    )
    names = {path.name for path in files}
    assert {"wm.sqlite3", "wm.sqlite3-wal", "wm.sqlite3-shm", "tokens.sqlite3"} <= names
    for path in files:
        assert mode(path) == 0o600, path


@pytest.mark.parametrize("mask", [0o022, 0o000])
def test_token_create_makes_the_token_file_beside_the_store_private(
    tmp_path: Path, mask: int
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "prod"\nprovider = "ec2"\n', encoding="utf-8")
    env = server_env(tmp_path)  # WM_DATA_DIR: tmp_path/data, which does not exist yet
    done = subprocess.run(
        [sys.executable, "-c", "from winged_monkey.cli.main import main; main()", "serve",
         "--config", str(config), "token", "create", "--user", "alice", "--role", "admin"],
        env=env, capture_output=True, text=True, timeout=60, umask=mask, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = Path(env["WM_DATA_DIR"])
    assert mode(data) == 0o700
    assert mode(data / "tokens.sqlite3") == 0o600
    assert all(mode(path) == 0o600 for path in data.iterdir())


def test_the_api_refuses_control_characters_in_a_user_name(server: RunningAggregator) -> None:
    with server.client(server.mint("root-admin", "admin")) as client:
        for name in BAD_NAMES:
            reply = client.post(f"{V1}/tokens", json={"user": name, "role": "viewer"})
            assert reply.status_code == 422, (name, reply.text)
            error = reply.json()["error"]
            assert error["code"] == "invalid"
            assert "user" in error["message"]
            assert "control characters or line breaks" in error["message"]
        nul = client.post(f"{V1}/tokens", json={"user": "al\x00ice", "role": "viewer"})
        assert "U+0000 at character 3" in nul.json()["error"]["message"]
        fine = client.post(f"{V1}/tokens", json={"user": "Zoë Ødegård", "role": "viewer"})
        assert fine.status_code == 201, fine.text
        users = {token["user"] for token in client.get(f"{V1}/tokens").json()}
    assert "Zoë Ødegård" in users
    assert not users & set(BAD_NAMES)


def test_token_create_refuses_control_characters_as_bad_arguments(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.sqlite3"
    config = tmp_path / "server.toml"
    config.write_text(
        f'[serve]\ntokens = "{tokens}"\n\n[[accounts]]\nname = "prod"\nprovider = "ec2"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    for name in BAD_NAMES:
        done = runner.invoke(
            main,
            ["serve", "--config", str(config), "token", "create", "--user", name,
             "--role", "viewer"],
        )  # fmt: skip
        assert done.exit_code == 2, (name, done.output)  # README: 2, bad arguments
        assert "--user" in done.stderr
        assert "control characters or line breaks" in done.stderr
        assert not done.stdout.strip()  # no token printed
    store = TokenStore(tokens)
    try:
        assert store.list() == []
    finally:
        store.close()


def drip(sock: socket.socket, head: bytes, sent: threading.Event, limit: float) -> float:
    """Send `head`, then header bytes forever, one a second, until the server closes the
    connection; the seconds that took. `sent` is set once two bytes are out."""
    sock.settimeout(1.0)  # the pace: wait a second for the server's close, then one byte more
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < limit:
        byte = head[count : count + 1] or b"a"
        try:
            sock.sendall(byte)
            count += 1
            if count == 2:
                sent.set()
            while sock.recv(4096):  # a 4xx before the close is fine: read on to the end
                pass
            return time.monotonic() - started
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    raise AssertionError(f"the server still held a dripping client after {limit:g} s")


def test_a_client_dripping_its_headers_is_dropped_while_others_are_answered(
    server: RunningAggregator,
) -> None:
    token = server.mint("bob", "viewer")
    head = b"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    sent = threading.Event()
    with (
        socket.create_connection(("127.0.0.1", server.process.port)) as slow,
        ThreadPoolExecutor(1) as pool,
    ):
        dropped_after = pool.submit(drip, slow, head, sent, HEADER_TIMEOUT + MARGIN)
        wait_until(sent.is_set)
        with server.client(token) as client:
            reply = client.get(f"{V1}/whoami")
        assert reply.status_code == 200
        assert not dropped_after.done()  # answered while the slow one was still held
        assert dropped_after.result() < HEADER_TIMEOUT + MARGIN


def test_a_client_dripping_its_body_without_a_token_is_dropped_while_others_are_answered(
    server: RunningAggregator,
) -> None:
    """FastAPI reads a body before it checks the token: a client with none held a connection
    for good, sending its body a byte a second (one past the header deadline: the head was
    whole)."""
    head = (
        b"POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    sent = threading.Event()
    with (
        socket.create_connection(("127.0.0.1", server.process.port)) as slow,
        ThreadPoolExecutor(1) as pool,
    ):
        slow.sendall(head)
        dropped_after = pool.submit(drip, slow, b"", sent, HEADER_TIMEOUT + MARGIN)
        wait_until(sent.is_set)
        with server.client(server.mint("bob", "viewer")) as client:
            reply = client.get(f"{V1}/whoami")
        assert reply.status_code == 200
        assert not dropped_after.done()  # answered while the slow one was still held
        assert dropped_after.result() < HEADER_TIMEOUT + MARGIN


def test_a_kept_alive_connection_dripping_its_next_request_is_dropped(
    server: RunningAggregator,
) -> None:
    with socket.create_connection(("127.0.0.1", server.process.port)) as conn:
        conn.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += conn.recv(4096)
        assert reply.startswith(b"HTTP/1.1 401")  # answered; the connection stays open
        with ThreadPoolExecutor(1) as pool:
            dropped_after = pool.submit(
                drip, conn, b"GET / HTTP/1.1\r\n", threading.Event(), HEADER_TIMEOUT + MARGIN
            )
            assert dropped_after.result() < HEADER_TIMEOUT + MARGIN


def test_an_idle_connection_is_kept_past_the_clients_own_keep_alive(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """httpx keeps an idle connection for 5 s, as uvicorn did: a request sent on one just as
    the server closed it met a broken pipe, or (an action) no answer. The server now keeps
    it until its header deadline (here 7 s), so a client's pool lets it go first."""
    with two_pool_aggregator(moto_server, tmp_path, serve="header_timeout = 7") as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.process.port, timeout=15)
        try:
            connection.request("GET", f"{V1}/whoami")  # no token: a 401, and kept alive
            reply = connection.getresponse()
            reply.read()
            assert reply.status == 401
            assert reply.getheader("connection", "").lower() != "close"
            idle_since = time.monotonic()
            assert connection.sock is not None
            assert connection.sock.recv(1) == b""  # blocks until the server closes it
            idle = time.monotonic() - idle_since
        finally:
            connection.close()
    assert idle > 6.5, f"closed after {idle:.1f} s idle"
