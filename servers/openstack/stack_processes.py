"""Process control for the test OpenStack (stack.py): each service is its own process
group, recorded in DIR/pids.json; start, wait for, stop and measure them."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Self

from stack_helpers import HERE, StackError

SYSTEM_PYTHON = "/usr/bin/python3"
#: Services that ignore SIGTERM (heat-engine waits for its green threads): killed at once.
KILL_AT_ONCE = frozenset({"heat-engine"})


class Processes:
    """The stack's folders, state and process groups; the services' mixins build on it."""

    @classmethod
    def attach(cls, root: Path) -> Self:
        """The running stack whose `start` wrote root/stack.json."""
        stack = cls(root)
        stack.state = json.loads(stack.state_file.read_text())
        return stack

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.etc, self.log, self.run = self.root / "etc", self.root / "log", self.root / "run"
        self.state_file = self.root / "stack.json"
        self.pids_file = self.root / "pids.json"
        self.state: dict[str, Any] = {}

    # paths and URLs
    def url(self, service: str) -> str:
        port = self.state["ports"][service]
        suffix = {"nova": "/v2.1", "placement": "", "glance": "", "keystone": "/v3"}.get(
            service, ""
        )
        return f"http://127.0.0.1:{port}{suffix}"

    def db(self, name: str) -> str:
        sock = self.run / "mysqld.sock"
        return f"mysql+pymysql://root@localhost/{name}?unix_socket={sock}&charset=utf8"

    # processes
    def _pids(self) -> list[dict[str, Any]]:
        if not self.pids_file.exists():
            return []
        loaded: list[dict[str, Any]] = json.loads(self.pids_file.read_text())
        return loaded

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> int:
        logfile = (self.log / f"{name}.out").open("ab")
        process = subprocess.Popen(
            command,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=self.root,
            start_new_session=True,
        )
        logfile.close()
        pids = self._pids()
        pids.append({"name": name, "pid": process.pid})
        self.pids_file.write_text(json.dumps(pids, indent=1))
        return process.pid

    def alive(self, name: str) -> bool:
        for entry in self._pids():
            if entry["name"] == name:
                try:
                    os.kill(entry["pid"], 0)
                except ProcessLookupError:
                    return False
                # a zombie child of ours counts as dead
                try:
                    done, _ = os.waitpid(entry["pid"], os.WNOHANG)
                except ChildProcessError:
                    return True
                return done == 0
        return False

    def wait_until(self, what: str, check: Any, timeout: float, service: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if service and not self.alive(service):
                raise StackError(f"{service} exited while waiting for {what}; {self.tail(service)}")
            try:
                if check():
                    return
            except (OSError, StackError):
                pass
            time.sleep(0.25)
        raise StackError(f"timed out after {timeout:g} s waiting for {what}; {self.tail(service)}")

    def tail(self, service: str | None) -> str:
        if not service:
            return f"logs in {self.log}"
        text = ""
        for path in sorted(self.log.glob(f"{service}*")):
            text += path.read_text(errors="replace")[-1500:]
        return f"end of {self.log}/{service}*:\n{text}"

    def manage(self, target: str, prog: str, *args: str, conf: Path | None = None) -> str:
        command = [SYSTEM_PYTHON, str(HERE / "run_service.py"), target, prog]
        if conf is not None:
            command += ["--config-file", str(conf)]
        command += list(args)
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)
        with (self.log / f"{prog}.out").open("a") as log:
            log.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise StackError(f"{prog} {' '.join(args)} failed ({done.returncode}):\n{tail}")
        return done.stdout + done.stderr

    def service(self, name: str, target: str, conf: Path, *extra: str) -> None:
        self.spawn(
            name,
            [
                SYSTEM_PYTHON,
                str(HERE / "run_service.py"),
                target,
                name,
                "--config-file",
                str(conf),
                "--log-file",
                str(self.log / f"{name}.log"),
                *extra,
            ],
        )

    def uwsgi(self, name: str, wsgi: str, port: int, env: dict[str, str]) -> None:
        wsgi_file = self.etc / f"{name}-wsgi.py"
        wsgi_file.write_text(wsgi)
        binary = shutil.which("uwsgi") or shutil.which("uwsgi-core") or "/usr/bin/uwsgi-core"
        command = [binary, "--plugin", "python3", "--http-socket", f"127.0.0.1:{port}"]
        command += ["--wsgi-file", str(wsgi_file), "--master", "--die-on-term"]
        command += ["--processes", "2", "--threads", "2", "--lazy-apps", "--need-app"]
        command += ["--add-header", "Connection: close", "--buffer-size", "65535"]
        command += ["--hook-master-start", "unix_signal:15 gracefully_kill_them_all"]
        for key, value in env.items():
            command += ["--env", f"{key}={value}"]
        self.spawn(name, command)

    # -- stop ---------------------------------------------------------------------------

    def stop(self, grace: float = 10.0) -> list[str]:
        """End every process group this stack started, newest first; return their names."""
        entries = list(reversed(self._pids()))
        for entry in entries:
            kill = entry["name"] in KILL_AT_ONCE
            _signal(entry["pid"], signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + grace
        for entry in entries:
            _end_group(entry["pid"], deadline)
        if self.pids_file.exists():
            self.pids_file.write_text("[]")
        return [str(e["name"]) for e in entries]

    def stop_service(self, name: str) -> None:
        """Stop one service (e.g. "keystone") and forget it."""
        for entry in self._pids():
            if entry["name"] == name:
                _signal(entry["pid"], signal.SIGTERM)
                _end_group(entry["pid"], time.monotonic() + 10)
        self.pids_file.write_text(json.dumps([e for e in self._pids() if e["name"] != name]))


def _end_group(pgid: int, deadline: float) -> None:
    """Wait for a signalled process group to exit; SIGKILL it at the deadline and wait
    until every member is gone (its sockets closed), so nothing half-dead answers."""
    while _group_alive(pgid) and time.monotonic() < deadline:
        _reap(pgid)
        time.sleep(0.1)
    if _group_alive(pgid):
        _signal(pgid, signal.SIGKILL)
        until = time.monotonic() + 10
        while _group_alive(pgid) and time.monotonic() < until:
            _reap(pgid)
            time.sleep(0.05)
    _reap(pgid)


def _signal(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Only zombies left (children of ours not reaped yet) do not count.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def rss_mb(root: Path) -> dict[str, float]:
    """Resident memory (MB) of each process group the stack at `root` started."""
    pids = json.loads((root / "pids.json").read_text()) if (root / "pids.json").exists() else []
    groups = {int(e["pid"]): str(e["name"]) for e in pids}
    found: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pgid, rss_pages = int(fields[2]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        if pgid in groups:
            name = groups[pgid]
            found[name] = found.get(name, 0.0) + rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return {name: round(mb, 1) for name, mb in sorted(found.items())}
