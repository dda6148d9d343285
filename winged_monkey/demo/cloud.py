"""`wm --demo`'s cloud: moto in a child process that starts while the TUI paints.

The child starts first, on a socket this process binds and hands to it, then the config is
written for that port, so the TUI opens at once; the child imports moto, seeds the fleet
and says so on its stdout (prod's STS credentials, the instances' ids), on a core of its
own; the first poll starts the moment that line comes. Quitting terminates the child:
nothing waits for moto. `running_demo` (seed.py) is the in-process demo for tests and scripts.

The child is in a session of its own, off wm's terminal: ctrl+c typed while wm is suspended
for ssh (`e`) is for ssh, and the terminal's hangup is for wm. It reads its stdin, a pipe
from wm, to the end: when wm ends without stopping it (SIGHUP, SIGTERM, SIGKILL: no cleanup
ran), the child removes the run's directory (its config, store and log) and ends.

    python -m winged_monkey.demo.cloud FD DIR    # the child: serve on FD, seed, print, wait
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

from winged_monkey.demo.seed import (
    DEMO_IMAGE,
    LAUNCHED_AGO,
    STORE_NAME,
    export_prod,
    plan_demo,
    record_history,
    seed_cloud,
)
from winged_monkey.demo.shared_models import share_parsed_models
from winged_monkey.errors import ConfigError, WMError

if TYPE_CHECKING:  # the child needs no config: it starts without pydantic's models
    from winged_monkey.user.config import Config

HOST = "127.0.0.1"
NOTE = "Starting the demo cloud (moto, on this machine)…"
STARTUP_TIMEOUT = 120.0  # seconds: moto's import and seeding on a slow, busy machine
LOG_NAME = "demo-cloud.log"


class DemoCloud:
    """`config = cloud.start(workdir)`, then `await cloud.ready()`; `cloud.stop()`."""

    note = NOTE

    def __init__(self) -> None:
        self._child: subprocess.Popen[bytes] | None = None
        self._done = threading.Event()
        self._error: str | None = None
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def start(self, workdir: Path) -> Config:
        """Start the child on a port bound here, then write the config for that port (the
        child imports moto meanwhile); return at once."""
        workdir.mkdir(parents=True, exist_ok=True)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((HOST, 0))
        listener.listen(64)  # connections wait in the backlog until the child serves
        port = listener.getsockname()[1]
        try:
            with (workdir / LOG_NAME).open("wb") as log:
                self._child = subprocess.Popen(
                    [sys.executable, "-m", __name__, str(listener.fileno()), str(workdir)],
                    stdin=subprocess.PIPE,  # closed when this process ends: the child ends
                    stdout=subprocess.PIPE,
                    stderr=log,
                    pass_fds=[listener.fileno()],
                    start_new_session=True,  # no key typed at the terminal signals it
                )
        finally:
            listener.close()  # the child holds its own copy
        threading.Thread(target=self._read, args=(workdir,), name="demo-cloud", daemon=True).start()
        try:
            config = plan_demo(workdir, HOST, port)
        except BaseException:
            self.stop()
            raise
        return config

    def _read(self, workdir: Path) -> None:
        """The child's one line: prod's credentials and the fleet's ids (then the history)."""
        assert self._child is not None
        assert self._child.stdout is not None
        try:
            line = self._child.stdout.readline()
            if not line:
                log = (workdir / LOG_NAME).read_text(errors="replace").strip().splitlines()
                self._error = "the demo cloud did not start" + (f": {log[-1]}" if log else "")
                return
            answer = json.loads(line)
            export_prod(answer["prod"])
            seeded = {(a, name): ident for a, name, ident in answer["seeded"]}
            record_history(workdir / STORE_NAME, seeded)
        except Exception as exc:  # said in the view, not lost in a thread
            self._error = f"the demo cloud did not start: {type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._done.set()
                waiters, self._waiters = self._waiters, []
            for loop, future in waiters:
                with contextlib.suppress(RuntimeError):  # its loop ended: no one waits
                    loop.call_soon_threadsafe(_resolve, future)

    def wait(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Block until the cloud is seeded (for commands that need it before anything)."""
        if not self._done.wait(timeout):
            raise WMError(f"the demo cloud did not start within {timeout:.0f} s")
        if self._error is not None:
            raise ConfigError(self._error)

    async def ready(self) -> None:
        """Wait on the event loop until the cloud is seeded; raises if it did not start.
        No thread is parked on it: quitting never waits for it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if not self._done.is_set():
                self._waiters.append((loop, future))
            else:
                future.set_result(None)
        await asyncio.wait_for(future, STARTUP_TIMEOUT)
        self.wait(0)

    def stop(self) -> None:
        """End the child now (it holds nothing worth a clean shutdown); the process
        that quits does not wait for it to be gone (a busy machine may take a while)."""
        child, self._child = self._child, None
        if child is None:
            return
        child.terminate()
        try:
            child.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            child.kill()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


def _serve(fd: int, workdir: Path, out: IO[str]) -> None:
    """The child: moto on the inherited socket, seeded; one line on `out`; then serve
    until the parent terminates us, or ends without doing so (our stdin closes)."""
    # moto gives each region's first call thousands of images (seconds of CPU); the demo
    # offers one. Read when moto is imported, so set first.
    images = workdir / "amis.json"
    images.write_text(json.dumps([DEMO_IMAGE]), encoding="utf-8")
    os.environ["MOTO_AMIS_PATH"] = str(images)
    # From the start: the parent may go while moto imports or seeds.
    threading.Thread(target=_end_with_parent, args=(workdir,), name="parent", daemon=True).start()
    share_parsed_models()  # before moto: its import parses EC2's model several times
    from winged_monkey.demo.server import MotoServer, documentation_addresses, launched_ago

    with documentation_addresses(), MotoServer(fd=fd) as server:
        server.seed(42)  # a fresh process: nothing to reset
        # Launched before the history the parent records (record_history); the user's
        # launches later are now's.
        with launched_ago(LAUNCHED_AGO):
            prod, seeded = seed_cloud(server.url)
        answer = {"prod": prod, "seeded": [[a, n, i] for (a, n), i in seeded.items()]}
        out.write(json.dumps(answer) + "\n")
        out.flush()
        threading.Event().wait()  # serving, until _end_with_parent or a signal ends us


def _end_with_parent(workdir: Path) -> None:
    """Read our stdin to its end: the parent closes it when it stops us (and has killed us
    by then), or by ending without stopping us; then its directory goes with it, and we go.
    Only the parent holds the pipe's other end (it is close-on-exec there)."""
    while sys.stdin.buffer.read(4096):
        pass
    shutil.rmtree(workdir, ignore_errors=True)
    os._exit(0)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a waiter that gave up (its view closed) is left alone
        future.set_result(None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), Path(sys.argv[2]), sys.stdout)
