"""`wm agent` and the `wm` launcher, as real processes against the suite's moto server.

A command handed to the agent must be the same command run without it: the client's
arguments, environment, directory, streams and exit code, the same rows. What the
agent cannot do faithfully (ask at a terminal, run changed code) goes back to the
client, which runs the command itself.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DEV_KEY, Cloud, wait_until
from winged_monkey import launcher
from winged_monkey.models import Event, EventSource
from winged_monkey.store import Store

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

LAUNCH = "from winged_monkey.launcher import main; main()"
SECRET_VAR = "WM_AGENT_TEST_SECRET"
SECRET = {SECRET_VAR: "moto-accepts-any"}


@dataclass
class Agents:
    """The agent's directory and config of one test, and ways to run `wm` against them."""

    tmp: Path
    moto_port: int
    processes: list[subprocess.Popen[str]]
    dir: Path

    @property
    def config(self) -> Path:
        return self.tmp / "config.toml"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != SECRET_VAR}
        env.update(WM_AGENT_DIR=str(self.dir), WM_CONFIG=str(self.config))
        env.update(WM_DATA_DIR=str(self.tmp / "data"), **extra)
        return env

    def spawn(
        self, *args: str, env: dict[str, str] | None = None, **popen: Any
    ) -> subprocess.Popen[str]:
        """`wm ARGS` in the background, its output piped (unless `popen` says otherwise);
        stopped at the end of the test."""
        streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, *args],
            env=self.env(**(env or {})),
            cwd=self.tmp,
            text=True,
            **streams,
        )
        self.processes.append(process)
        return process

    def start(self, *, idle: float = 120, **env: str) -> subprocess.Popen[str]:
        """`wm agent start --foreground`, once it listens (its first line says so)."""
        process = self.spawn("agent", "start", "--foreground", "--idle", str(idle), env=env)
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "wm agent: ready (pid" in first, process.communicate(timeout=10)
        return process

    def wm(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", LAUNCH, *args],
            env=self.env(**(env or {})),
            cwd=cwd or self.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def status(self) -> dict[str, Any] | None:
        from winged_monkey import agent

        path = str(self.dir / Path(launcher.socket_path()).name)
        return agent.request("status", path)


@pytest.fixture
def agents(cloud: Cloud, tmp_path: Path) -> Iterator[Agents]:
    ec2 = cloud.ec2()
    cloud.launch(ec2, "web-1")
    cloud.launch(ec2, "db-1", state="stopped")
    helper = Agents(tmp_path, cloud.server.port, [], tmp_path / "agent")
    helper.config.write_text(
        '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\ntimeout = 10\n'
        f'endpoint = {{ host = "127.0.0.1", port = {cloud.server.port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", secret_env = "{SECRET_VAR}", keyring = false }}\n'
    )
    yield helper
    from winged_monkey import agent

    agent.request("stop", str(helper.dir / Path(launcher.socket_path()).name))  # a background one
    for process in reversed(helper.processes):  # clients first: an agent waits for theirs
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _rows(out: str) -> list[tuple[str, str, str]]:
    data = json.loads(out)
    return sorted((i["name"], i["id"], i["state"]) for i in data["instances"])


def test_a_command_through_the_agent_is_the_command_without_it(agents: Agents) -> None:
    agents.start()  # without the secret: the client's environment brings it
    here = agents.wm("ls", "--json", env={**SECRET, "WM_AGENT": "off"})
    served = agents.wm("ls", "--json", env=SECRET)
    assert here.returncode == served.returncode == 0, served.stderr
    assert _rows(served.stdout) == _rows(here.stdout)
    assert {name for name, _, _ in _rows(served.stdout)} >= {"web-1", "db-1"}
    status = agents.status()
    assert status is not None
    assert status["served"] == 1

    # The same failure, the same words and code, when the client has no secret.
    missing = agents.wm("ls", "--json")
    missing_here = agents.wm("ls", "--json", env={"WM_AGENT": "off"})
    assert missing.returncode == missing_here.returncode == 3  # credentials wrong
    assert missing.stderr == missing_here.stderr
    assert "dev: no secret found" in missing.stderr

    # Its directory: a config named relative to where the client runs.
    (agents.tmp / "sub").mkdir()
    relative = agents.wm("--config", "../config.toml", "ls", cwd=agents.tmp / "sub", env=SECRET)
    assert relative.returncode == 0, relative.stderr
    assert "web-1" in relative.stdout
    status = agents.status()
    assert status is not None
    assert status["served"] == 3  # the local runs (WM_AGENT=off) did not count


def test_commands_that_change_things_never_go_to_the_agent(agents: Agents) -> None:
    agents.start()
    for args in (["accounts"], ["start", "nothing-by-that-name"], ["--help"]):
        agents.wm(*args, env=SECRET)
    status = agents.status()
    assert status is not None
    assert status["served"] == 0


def _record(agents: Agents, key: str) -> None:
    """An event in the store the clients use, as another `wm` process would record it."""
    store = Store.open(agents.tmp / "data" / "wm.sqlite3")
    event = Event(
        key=key,
        at=datetime.now(UTC),
        source=EventSource.ACTION,
        kind="stop",
        account="dev",
        target="i-agent",
        outcome="ok",
    )
    try:
        store.append_events([event])
    finally:
        store.close()


def test_a_followed_log_streams_and_ends_on_ctrl_c(agents: Agents) -> None:
    agents.start()
    _record(agents, "agent-test-before")
    follow = ["events", "--follow", "--json", "--since", "1h", "--interval", "0.05"]
    follower = agents.spawn(*follow)
    assert follower.stdout is not None
    # The window's events come first: once this one is out, the child is following.
    assert json.loads(follower.stdout.readline())["key"] == "agent-test-before"
    _record(agents, "agent-test-after")
    assert json.loads(follower.stdout.readline())["key"] == "agent-test-after"
    status = agents.status()
    assert status is not None
    assert status["running"] == 1
    follower.send_signal(signal.SIGINT)  # what Ctrl-C does to the foreground process
    assert follower.wait(20) == 0
    wait_until(lambda: (agents.status() or {}).get("running") == 0, timeout=20)


def test_an_agent_declines_and_leaves_once_installed_code_changed(agents: Agents) -> None:
    extra = agents.tmp / "site"  # stands for a site-packages directory
    extra.mkdir()
    path = os.pathsep.join(filter(None, [str(extra), os.environ.get("PYTHONPATH")]))
    process = agents.start(PYTHONPATH=path)
    (extra / "newly_installed.py").write_text("")
    result = agents.wm("ls", "--json", env=SECRET)
    assert result.returncode == 0, result.stderr  # run by the client itself
    assert "web-1" in result.stdout
    assert "changed since the agent started" in result.stderr
    assert process.wait(20) == 0
    assert agents.status() is None


def test_a_command_that_must_ask_for_a_secret_asks_at_the_clients_terminal(
    agents: Agents,
) -> None:
    """The child asks on the client's terminal (its standard input), with echo off, and
    never on a terminal of the agent's."""
    agents.config.write_text(
        agents.config.read_text().replace(f'secret_env = "{SECRET_VAR}", ', "")
    )
    agents.start()
    controller, terminal = pty.openpty()
    try:
        client = agents.spawn(
            "ls",
            "--json",
            stdin=terminal,
            stderr=terminal,
            preexec_fn=_own_terminal,  # the pty is its terminal, not the test runner's
        )
        seen = b""
        deadline = time.monotonic() + 30
        # click writes the question, then getpass turns echo off and writes a space.
        while not (b"kept in memory only" in seen and seen.endswith(b": ")):
            assert time.monotonic() < deadline, seen
            seen += os.read(controller, 1024)
        os.write(controller, b"moto-accepts-any\n")
        out, _ = client.communicate(timeout=30)
        seen += _drain(controller)
    finally:
        os.close(controller)
        os.close(terminal)
    assert b"moto-accepts-any" not in seen  # not echoed: asked with the terminal's echo off
    assert b"may be echoed" not in seen
    assert client.returncode == 0
    assert "web-1" in out
    status = agents.status()
    assert status is not None
    assert status["served"] == 1


def _drain(fd: int) -> bytes:
    os.set_blocking(fd, False)
    found = b""
    try:
        while chunk := os.read(fd, 1024):
            found += chunk
    except (BlockingIOError, OSError):  # nothing more, or the terminal's other end closed
        pass
    return found


def _own_terminal() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_no_agent_a_dead_one_or_an_open_directory_means_running_here(agents: Agents) -> None:
    ok = SECRET
    assert agents.wm("ls", env=ok).returncode == 0  # no directory at all
    agents.dir.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(agents.dir / Path(launcher.socket_path()).name))
    dead.close()  # its file stays: connecting is refused
    assert agents.wm("ls", env=ok).returncode == 0
    agents.dir.chmod(0o755)  # anyone may enter: its socket could be anyone's
    assert agents.wm("ls", env=ok).returncode == 0
    refused = agents.wm("agent", "start", "--foreground")
    assert refused.returncode == 1
    assert "not a directory only you may enter" in refused.stderr


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to connect as another user")
def test_a_connection_from_another_user_is_closed_unanswered(agents: Agents) -> None:
    reachable = Path(tempfile.mkdtemp(prefix="wm-agent-test-"))  # pytest's tmp is 0700
    reachable.chmod(0o711)
    agents.dir = reachable / "agent"
    agents.start()
    agents.dir.chmod(0o711)  # let the other user reach the socket: the agent still refuses
    sock = agents.dir / Path(launcher.socket_path()).name
    sock.chmod(0o777)
    probe = textwrap.dedent(
        """
        import socket, sys
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(sys.argv[1])
        try:
            s.sendall(b'{"op": "status"}' + bytes([10]))
            print(repr(s.recv(100)))
        except (BrokenPipeError, ConnectionResetError):
            print(repr(b""))
        """
    )
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    nobody = subprocess.run(
        [*as_nobody, sys.executable, "-c", probe, str(sock)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert nobody.returncode == 0, nobody.stderr
    assert nobody.stdout.strip() == "b''"  # closed without a word
    agents.dir.chmod(0o700)
    assert agents.status() is not None  # and still serving its own user
    agents.processes[-1].terminate()
    agents.processes[-1].wait(10)
    shutil.rmtree(reachable)


def test_start_status_stop_and_idle(agents: Agents) -> None:
    assert agents.wm("agent", "status").returncode == 1
    started = agents.wm("agent", "start", "--idle", "600")
    assert started.returncode == 0, started.stderr
    assert "started (pid" in started.stdout
    pid = int(started.stdout.split("pid ")[1].split(")")[0])
    assert "already running" in agents.wm("agent", "start").stdout
    status = agents.wm("agent", "status")
    assert status.returncode == 0
    assert f"pid {pid}" in status.stdout
    assert "stopping" in agents.wm("agent", "stop").stdout
    wait_until(lambda: agents.status() is None, timeout=20)
    assert agents.wm("agent", "status").returncode == 1
    wait_until(lambda: not list(agents.dir.glob("*.sock")), timeout=20)

    idle = agents.start(idle=1)
    assert idle.wait(30) == 0  # left by itself
    assert not list(agents.dir.glob("*.sock"))
