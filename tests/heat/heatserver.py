"""Install and run the project's standalone Heat (servers/heat/) for the tests.

The Heat venv is built by `servers/heat/install.sh` into a cache dir and reused;
each `HeatServer` is one launcher process (engine + heat-api) on a free loopback
port with its own SQLite state, stopped by killing its process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = ROOT / "servers" / "heat"
INSTALL = SERVER_DIR / "install.sh"
LAUNCHER = SERVER_DIR / "launcher.py"
INSTALL_TIMEOUT = 900.0
START_TIMEOUT = 60.0
STOP_GRACE = 3.0


class HeatUnavailable(RuntimeError):
    """The Heat venv could not be installed or the server did not come up."""


def default_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("WM_CACHE") or Path(xdg) / "winged-monkey")


def install(cache: Path) -> Path:
    """Run the idempotent install script; return the Heat venv's python."""
    env = dict(os.environ, WM_CACHE=str(cache))
    try:
        done = subprocess.run(
            ["bash", str(INSTALL)],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise HeatUnavailable(
            f"{INSTALL} took longer than {INSTALL_TIMEOUT:.0f} s (slow or no package index?)"
        ) from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise HeatUnavailable(
            f"{INSTALL} failed (exit {done.returncode}); the Heat tests need the standalone "
            f"Heat venv (openstack-heat from PyPI). Its output ends with:\n{tail}"
        )
    return Path(lines[-1])


class HeatServer:
    """One standalone Heat on 127.0.0.1; `with HeatServer(...) as heat:` starts and stops it."""

    def __init__(
        self, python: Path, state_dir: Path, port: int | None = None, *, convergence: bool = False
    ) -> None:
        self.python = python
        #: Heat's convergence engine (real clouds' default) instead of the legacy one.
        self.convergence = convergence
        self.state_dir = state_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None

    @property
    def url(self) -> str:
        """The Heat endpoint without the project, e.g. http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def log(self) -> Path:
        return self.state_dir / "heat.log"

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with (self.state_dir / "launcher.out").open("wb") as out:
            self.process = subprocess.Popen(
                [
                    str(self.python),
                    str(LAUNCHER),
                    "--port",
                    str(self.port),
                    "--state-dir",
                    str(self.state_dir),
                    *(["--convergence"] if self.convergence else []),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, killed as one
            )
        deadline = started + START_TIMEOUT
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self.process.poll() is not None:
                    raise HeatUnavailable(
                        f"standalone Heat exited with {self.process.returncode} while "
                        f"starting:\n{self.tail()}"
                    )
                try:
                    if client.get(f"http://127.0.0.1:{self.port}/").status_code < 400:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise HeatUnavailable(
                        f"standalone Heat did not answer on port {self.port} within "
                        f"{START_TIMEOUT:.0f} s:\n{self.tail()}"
                    )
                time.sleep(0.05)
        self.start_seconds = time.monotonic() - started

    def stop(self) -> None:
        """TERM the process group, KILL it after a grace period (heat-engine may ignore TERM)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_GRACE)
        except ProcessLookupError:
            pass

    def tail(self, lines: int = 25) -> str:
        """The end of the launcher's output and Heat's log, for failure messages."""
        parts = []
        for path in (self.state_dir / "launcher.out", self.log):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                parts.append(f"--- {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(parts) or "(no output)"

    def __enter__(self) -> HeatServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
