"""`wm agent`: a per-user process that has imported wm already and forks one child per
command a `wm` client hands it (winged_monkey.launcher), the way a preloader does.

Each child is a copy of a process that holds no state of its own (no portal, no
store, no credentials, no event loop, no thread): it takes the client's arguments,
environment, working directory and standard streams, runs the command as a fresh
`wm` would, and exits; its exit code goes back to the client. So a command through
the agent reads the config, the keyring and the clouds exactly as one without it.

The socket lives in a directory only its user may enter, and a connection from
another user is closed unanswered. Once wm's code or the installed packages change,
the agent declines (the client runs the command itself) and exits, so it never runs
old code. It exits on its own after `idle` seconds without a command.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import selectors
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winged_monkey import agent_fork, launcher

log = logging.getLogger("winged_monkey.agent")

#: Idle seconds before the agent leaves by itself.
DEFAULT_IDLE = 3600.0
_MAX_REQUEST = 4 * 1024 * 1024  # arguments and environment: generous, not unbounded


class AgentError(Exception):
    """The agent cannot start here (platform, directory, another agent)."""


@dataclass
class _Served:
    conn: socket.socket
    pid: int


@dataclass
class Agent:
    """The serving loop; `run` returns when stopped, idle, or out of date."""

    path: str
    idle: float = DEFAULT_IDLE
    started: float = field(default_factory=time.time)
    served: int = 0
    _fresh: dict[str, int] = field(default_factory=dict)
    _children: dict[int, _Served] = field(default_factory=dict)
    _stopping: bool = False
    _last: float = field(default_factory=time.monotonic)  # the last command began or ended

    # -- start-up ------------------------------------------------------------------

    def preload(self) -> None:
        """Import everything the children need, once (agent_fork.preload)."""
        try:
            self._fresh = agent_fork.preload()
        except agent_fork.PreloadError as exc:
            raise AgentError(str(exc)) from None

    def listen(self) -> socket.socket:
        if _answers(self.path):
            raise AgentError(f"an agent already answers at {self.path}")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # a dead agent's socket
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(old)
        listener.listen(16)
        return listener

    # -- serving -------------------------------------------------------------------

    def run(self, listener: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, "accept")
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        signal.set_wakeup_fd(wake_w)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._stop_on_signal)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a child's end wakes the loop, to reap
        self._last = time.monotonic()
        try:
            while not (self._stopping and not self._children):
                idle_left = self._last + self.idle - time.monotonic()
                if not self._children and idle_left <= 0:
                    log.info("idle for %.0f s: leaving", self.idle)
                    break
                for key, _ in selector.select(None if self._children else idle_left):
                    if key.data == "accept" and not self._stopping:
                        self._accept(listener, selector)
                        self._last = time.monotonic()
                    elif key.data == "wake":
                        with contextlib.suppress(BlockingIOError):
                            os.read(wake_r, 512)
                    elif isinstance(key.data, _Served):
                        self._client_event(key.data, selector)
                self._reap(selector)
                if self._stopping and listener in _registered(selector):
                    selector.unregister(listener)  # no new command; the running ones end
        finally:
            signal.set_wakeup_fd(-1)
            listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            os.close(wake_r)
            os.close(wake_w)

    def _stop_on_signal(self, signum: int, _frame: object) -> None:
        self._stopping = True

    def _accept(self, listener: socket.socket, selector: selectors.BaseSelector) -> None:
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        conn.settimeout(2.0)  # a request comes in one message, right after connecting
        if _peer_uid(conn) != os.getuid():
            log.warning("refused a connection from another user")
            conn.close()
            return
        try:
            request, fds = _read_request(conn)
        except (OSError, ValueError) as exc:
            log.warning("unreadable request: %s", exc)
            conn.close()
            return
        try:
            self._handle(conn, request, fds, selector)
        except OSError as exc:  # the client left while we answered: nothing to serve
            log.warning("a client left early: %s", exc)
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def _handle(
        self,
        conn: socket.socket,
        request: dict[str, Any],
        fds: list[int],
        selector: selectors.BaseSelector,
    ) -> None:
        op = request.get("op", "run")
        if op == "status":
            _reply(conn, self.status())
            conn.close()
            return
        if op == "stop":
            self._stopping = True
            _reply(conn, {"stopping": True, "pid": os.getpid()})
            conn.close()
            return
        why = self._decline(request, fds)
        if why is not None:
            reason, say = why
            _reply(conn, {"declined": reason, "say": say})
            conn.close()
            if say:  # out of date: leave, so the next command does not come here
                self._stopping = True
            return
        if _gone(conn):  # it stopped waiting (and may have run the command itself)
            conn.close()
            return
        pid = os.fork()
        if pid == 0:  # the child: it never returns
            agent_fork.become_client(request, fds)
        self.served += 1
        log.info("%s: child %d", launcher.served_command(request["argv"]), pid)
        served = _Served(conn, pid)
        self._children[pid] = served
        try:
            _reply(conn, {"pid": pid})
        except OSError:  # gone since: nobody wants the command's output any more
            os.kill(pid, signal.SIGTERM)
            return
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ, served)  # EOF: the client went away

    def _decline(self, request: dict[str, Any], fds: list[int]) -> tuple[str, bool] | None:
        if request.get("protocol") != launcher.PROTOCOL:
            return "another version of wm", False
        if request.get("python") != sys.executable:
            return "another Python", False
        if len(fds) != 3 or not isinstance(request.get("argv"), list):
            return "a malformed request", False
        if launcher.served_command(request["argv"]) is None:
            return "not a command the agent runs", False
        changed = agent_fork.changed(self._fresh)
        if changed:
            return f"{changed} changed since the agent started; it stopped", True
        return None

    def _client_event(self, served: _Served, selector: selectors.BaseSelector) -> None:
        try:
            data = served.conn.recv(1)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client died or was killed: the command was not wanted any more
            selector.unregister(served.conn)
            with contextlib.suppress(ProcessLookupError):
                os.kill(served.pid, signal.SIGTERM)

    def _reap(self, selector: selectors.BaseSelector) -> None:
        for pid, served in list(self._children.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done == 0:
                continue
            del self._children[pid]
            self._last = time.monotonic()
            code = os.waitstatus_to_exitcode(status)
            if served.conn in _registered(selector):
                selector.unregister(served.conn)
            with contextlib.suppress(OSError):
                served.conn.setblocking(True)
                _reply(served.conn, {"exit": code})
            served.conn.close()

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started": self.started,
            "served": self.served,
            "running": len(self._children),
            "idle": self.idle,
            "python": sys.executable,
            "socket": self.path,
        }


def serve(path: str | None = None, idle: float = DEFAULT_IDLE, *, detach: bool = False) -> None:
    """Preload, listen and serve until stopped or idle. With `detach` (the background
    agent `wm agent start` launches): log to the socket's .log file, and once ready, say
    so on stdout and let go of it."""
    if not sys.platform.startswith("linux"):
        raise AgentError("the agent needs Linux (it forks a preloaded process)")
    agent = Agent(path or launcher.socket_path(), idle=idle)
    os.umask(0o077)  # its log and socket; each child takes its client's umask
    _make_private(os.path.dirname(agent.path))
    if detach:
        log_to(Path(agent.path).with_suffix(".log"))
    agent.preload()
    listener = agent.listen()
    log.info("serving at %s (pid %d)", agent.path, os.getpid())
    if detach:  # for `wm agent start`, which then lets go of our stdout
        print(json.dumps({"ready": os.getpid()}), flush=True)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    else:
        print(f"wm agent: ready (pid {os.getpid()}) at {agent.path}", flush=True)
    agent.run(listener)


def main() -> None:
    """The background agent: `python -P -c "from winged_monkey.agent import main; main()"
    [--idle SECONDS]`, started by `wm agent start` in a session of its own."""
    import argparse

    parser = argparse.ArgumentParser(prog="wm agent")
    parser.add_argument("--idle", type=float, default=DEFAULT_IDLE)
    args = parser.parse_args()
    os.chdir("/")  # hold no directory of the user's busy
    try:
        serve(idle=args.idle, detach=True)
    except AgentError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        sys.exit(1)
    except Exception as exc:
        log.exception("the agent failed")
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        sys.exit(1)


def request(op: str, path: str | None = None, timeout: float = 5.0) -> dict[str, Any] | None:
    """Ask the agent for its status or to stop; None when none answers."""
    target = path or launcher.socket_path()
    if not launcher.private_dir(os.path.dirname(target)):
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(target)
            conn.sendall(json.dumps({"protocol": launcher.PROTOCOL, "op": op}).encode() + b"\n")
            line = conn.makefile("rb").readline()
    except OSError:
        return None
    answer = json.loads(line) if line else None
    return answer if isinstance(answer, dict) else None


# -- helpers ---------------------------------------------------------------------


def _make_private(folder: str) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    if not launcher.private_dir(folder):
        raise AgentError(
            f"{folder} is not a directory only you may enter (owner, 0700, no symlink); "
            "remove it or set WM_AGENT_DIR"
        )


def _answers(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            probe.connect(path)
    except OSError:
        return False
    return True


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    """The client's request (one JSON line) and the descriptors it passed with it."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    try:
        while not data.endswith(b"\n"):
            if len(data) > _MAX_REQUEST:
                raise ValueError("request too long")
            more = conn.recv(65536)
            if not more:
                raise ValueError("request cut short")
            data += more
        found = json.loads(data)
        if not isinstance(found, dict):
            raise ValueError("request is not an object")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return found, list(fds)


def _reply(conn: socket.socket, message: dict[str, Any]) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def _gone(conn: socket.socket) -> bool:
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _registered(selector: selectors.BaseSelector) -> set[Any]:
    return {key.fileobj for key in selector.get_map().values()}


def log_to(path: Path) -> None:
    """The agent's own log (start, refusals, declines; never arguments or environment)."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
