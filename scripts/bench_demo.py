"""`wm --demo` as a newcomer sees it: time to the first instance row, and `q` to exit.

    .venv/bin/python scripts/bench_demo.py [--runs N]

Each run starts a fresh process in a tmux pane of 80x24 (a real terminal) and reads the
screen every 10 ms: first the baseline, a bare Textual app showing one DataTable row, then
`wm --demo` until its first paint (the title) and until a seeded instance's row is on
screen. Then `q`: the time until the
terminal is back (tmux's alternate screen off) and until the process has ended.
Beside each moment's wall time, the CPU time its processes had used by then (the pane's
process tree, read from /proc: wm and the demo cloud's child), the honest figure on a
loaded machine. Figures are medians of N runs after one uncounted run of each (which
warms the bytecode cache); ratios are against the bare app of the same invocation.
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
TICKS = os.sysconf("SC_CLK_TCK")
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

    def cpu(self) -> float:
        """CPU seconds (user + system) used so far by the pane's processes, all alive."""
        root = int(self.tmux("display-message", "-p", "-t", "b", "#{pane_pid}"))
        parents: dict[int, int] = {}
        times: dict[int, float] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # ended meanwhile
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
        tree, grew = {root}, True
        while grew:
            more = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= more
            grew = bool(more)
        return sum(times.get(pid, 0.0) for pid in tree)

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


def first_rows(command: str, env: dict[str, str]) -> tuple[float, float]:
    """(first row, its CPU), in seconds."""
    pane = Pane()
    try:
        started = pane.start(command, env)
        row = pane.until(lambda: DEMO_ROW.search(pane.screen()) is not None) - started
        return row, pane.cpu()
    finally:
        pane.stop()


def demo_run(env: dict[str, str]) -> tuple[float, ...]:
    """(first paint, its CPU, first row, its CPU, q to terminal restored, q to process
    ended), in seconds."""
    pane = Pane()
    try:
        started = pane.start(f"{shlex.quote(str(WM))} --demo", env)
        shown = pane.until(lambda: "Winged Monkey" in pane.screen()) - started
        shown_cpu = pane.cpu()
        painted = pane.until(lambda: DEMO_ROW.search(pane.screen()) is not None) - started
        painted_cpu = pane.cpu()
        pane.tmux("send-keys", "-t", "b", "q")
        pressed = time.perf_counter()
        restored = pane.until(lambda: not pane.alternate()) - pressed
        ended = pane.until(lambda: EXITED in pane.screen()) - pressed
        return shown, shown_cpu, painted, painted_cpu, restored, ended
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
        # Bytecode as an installed copy has it: this machine sets PYTHONDONTWRITEBYTECODE,
        # so wm (and the bare script) would compile their modules on every run.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        bare_command = f"{shlex.quote(sys.executable)} {bare}"
        first_rows(bare_command, env), demo_run(env)  # the uncounted runs
        base = [first_rows(bare_command, env) for _ in range(args.runs)]
        runs = [demo_run(env) for _ in range(args.runs)]
    baseline, base_cpu = (statistics.median(b[i] for b in base) for i in range(2))
    shown, shown_cpu, painted, painted_cpu, restored, ended = (
        statistics.median(r[i] for r in runs) for i in range(6)
    )
    print(f"# tmux 80x24, median of {args.runs} runs (each a fresh process); CPU: user + system")
    print(f"{'':30} {'wall':>8}  {'ratio':>5}  {'CPU':>7}  {'ratio':>5}")
    bare_name = "bare Textual app, first row"
    print(f"{bare_name:30} {baseline:6.3f} s  {'1':>5}  {base_cpu:5.2f} s  {'1':>5}")
    for name, wall, cpu in (
        ("wm --demo, first paint", shown, shown_cpu),
        ("wm --demo, first instance row", painted, painted_cpu),
    ):
        print(
            f"{name:30} {wall:6.3f} s  {wall / baseline:5.2f}  {cpu:5.2f} s  {cpu / base_cpu:5.2f}"
        )
    print(f"{'q to terminal restored':30} {restored:6.3f} s")
    print(f"{'q to process ended':30} {ended:6.3f} s")


if __name__ == "__main__":
    main()
