"""`wm --demo` as a newcomer sees it: time to the first instance row, and `q` to exit.

    .venv/bin/python scripts/bench_demo.py [--runs N]

Each run starts a fresh process in a tmux pane of 80x24 (a real terminal) and reads the
screen every 10 ms: first the baseline, a bare Textual app showing one DataTable row, then
`wm --demo` until its first paint (the title) and until a seeded instance's row is on
screen. Then `q`: the time until the
terminal is back (tmux's alternate screen off) and until the process has ended.
Figures are medians of N runs; the ratio is against the bare app of the same invocation.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WM = Path(sys.executable).parent / "wm"
BARE = """\
from textual.app import App
from textual.widgets import DataTable


class Bare(App[None]):
    def compose(self):
        yield DataTable()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("name", "state")
        table.add_row("web-1", "running")


Bare().run()
"""
#: A row of the demo's fleet in the table (the strip names accounts, never these).
DEMO_ROW = re.compile(r"\b(web-1|api|eu-web|prod-db)\b")
EXITED = "wm-bench-exited"
POLL = 0.01
_PANES = itertools.count()


class Pane:
    """One tmux server of its own with one 80x24 window."""

    def __init__(self) -> None:
        # A socket per pane: a new server on the last one's socket races its kill-server.
        self.socket = f"wm-bench-{os.getpid()}-{next(_PANES)}"

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout

    def start(self, command: str, env: dict[str, str]) -> float:
        # The shell prints a marker once the command has ended: the exit's moment on screen.
        wrapped = f"{command}; echo {EXITED}; sleep 600"
        started = time.perf_counter()
        session = ["new-session", "-d", "-s", "b", "-x", "80", "-y", "24", wrapped]
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *session],
            env=env,
            check=True,
            timeout=30,
        )
        return started

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "b")

    def alternate(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "b", "#{alternate_on}").strip() == "1"

    def until(self, what: Callable[[], bool], timeout: float = 60) -> float:
        deadline = time.perf_counter() + timeout
        while not what():
            if time.perf_counter() > deadline:
                raise TimeoutError(f"not on screen in {timeout} s:\n{self.screen()}")
            time.sleep(POLL)
        return time.perf_counter()

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def first_rows(command: str, env: dict[str, str]) -> float:
    pane = Pane()
    try:
        started = pane.start(command, env)
        return pane.until(lambda: DEMO_ROW.search(pane.screen()) is not None) - started
    finally:
        pane.stop()


def demo_run(env: dict[str, str]) -> tuple[float, float, float, float]:
    """(first paint, first row, q to terminal restored, q to process ended), in seconds."""
    pane = Pane()
    try:
        started = pane.start(f"{shlex.quote(str(WM))} --demo", env)
        shown = pane.until(lambda: "Winged Monkey" in pane.screen()) - started
        painted = pane.until(lambda: DEMO_ROW.search(pane.screen()) is not None) - started
        pane.tmux("send-keys", "-t", "b", "q")
        pressed = time.perf_counter()
        restored = pane.until(lambda: not pane.alternate()) - pressed
        ended = pane.until(lambda: EXITED in pane.screen()) - pressed
        return shown, painted, restored, ended
    finally:
        pane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE, encoding="utf-8")
        # The user's own config and store stay out of it (the demo uses neither anyway).
        env = {**os.environ, "TERM": "xterm-256color", "WM_CONFIG": str(Path(tmp) / "none")}
        env["WM_DATA_DIR"] = str(Path(tmp) / "data")
        base = [first_rows(f"{shlex.quote(sys.executable)} {bare}", env) for _ in range(args.runs)]
        runs = [demo_run(env) for _ in range(args.runs)]
    baseline = statistics.median(base)
    shown, painted, restored, ended = (statistics.median(r[i] for r in runs) for i in range(4))
    print(f"# tmux 80x24, median of {args.runs} runs (each a fresh process)")
    print(f"bare Textual app, first row   {baseline:6.3f} s   (baseline)")
    print(f"wm --demo, first paint        {shown:6.3f} s   ratio {shown / baseline:.2f}")
    print(f"wm --demo, first instance row {painted:6.3f} s   ratio {painted / baseline:.2f}")
    print(f"q to terminal restored        {restored:6.3f} s")
    print(f"q to process ended            {ended:6.3f} s")


if __name__ == "__main__":
    main()
