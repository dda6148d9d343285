"""The TUI at fleet scale, each figure beside a bare Textual DataTable of the same rows.

    .venv/bin/python scripts/bench_scale.py [SIZE ...] [--accounts 50] [--timeout 600]
    .venv/bin/python scripts/bench_scale.py --smoke        # CI: a small size, no goal checked

SIZE rows (default 1000 10000; 50000 is worth a run) over `--accounts` accounts of the
example backend in `examples/winged-monkey-synthetic` (installed into a temporary
directory when it is not installed already). Each size runs in a child process per app
(the real `wm` TUI through Pilot at 80x24, and a bare DataTable app), so RSS is the app's:

- first paint: from starting the app to the table drawn with every row, from the cache
  (a store holding every account's last snapshot; the accounts' polls run behind it);
- burst: `R`, every account answering at once, until the table is drawn again; with the
  table's renders and sorts in that time;
- sort: `o`/`O` (by state, account, reverse), keystroke to repaint, the slowest;
- age refresh: the age column's periodic update, to repaint;
- filter: `/` then `running` and `web-12` typed one key at a time, keystroke to repaint,
  the slowest; clear: `escape` to the full table drawn again;
- handler: the UI thread's longest single callback (its CPU time) over the burst, sorts,
  age refresh and filters; stall: the event loop's worst lateness then (wall, 5 ms ticker);
  gc_full: one full garbage collection of the app's heap (Python runs them by itself, in
  whichever callback allocates past its threshold: a floor under "handler");
- RSS once the first polls are drawn.

"Keystroke to repaint" ends at the first table render after the change was applied. Each
time is wall clock, and `_cpu` beside it is the UI thread's CPU time over the same span:
on a busy machine the wall time also holds other processes' turns, the CPU time does not.

The baseline does the same with a bare DataTable: add_rows of the rows sorted by name;
sort by the column; a filter as clear() + add_rows of the matching rows. A figure a child
did not reach within `--timeout` seconds is shown as `>T`. Times in ms, RSS in MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for scripts.bench_scale_children

from scripts.bench_scale_children import FREEZE, run_bare, run_wm

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "examples" / "winged-monkey-synthetic"
SMOKE_SIZE, SMOKE_ACCOUNTS = 200, 20

#: (figure, goal against the baseline or absolute, unit) in print order.
FIGURES = (
    ("first_paint", "<= 1.5 x baseline", "ms"),
    ("first_paint_cpu", "", "ms"),
    ("rss", "<= 200 MB at 10k, 600 at 50k", "MB"),
    ("burst", "", "ms"),
    ("burst_cpu", "", "ms"),
    ("burst_renders", "", ""),
    ("burst_sorts", "1", ""),
    ("sort", "<= 100 ms", "ms"),
    ("sort_cpu", "", "ms"),
    ("age_refresh", "<= 50 ms", "ms"),
    ("age_refresh_cpu", "", "ms"),
    ("filter_key", "<= 50 ms", "ms"),
    ("filter_key_cpu", "", "ms"),
    ("filter_clear", "<= 50 ms", "ms"),
    ("filter_clear_cpu", "", "ms"),
    ("handler", "<= 50 ms", "ms"),
    ("stall", "", "ms"),
    ("gc_full", "", "ms"),
)


@contextmanager
def plugin_path() -> Iterator[str]:
    """A PYTHONPATH on which the synthetic backend's entry point is found."""
    from importlib.metadata import entry_points

    extra = os.environ.get("PYTHONPATH", "")
    if any(ep.name == "synthetic" for ep in entry_points(group="winged_monkey.backends")):
        yield extra
        return
    with tempfile.TemporaryDirectory(prefix="wm-synthetic-") as target:
        install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        install += ["--target", target, str(PLUGIN)]
        subprocess.run(install, check=True)
        yield os.pathsep.join(p for p in (extra, target) if p)


def measure(
    app: str, size: int, accounts: int, timeout: float, path: str, freeze: bool
) -> dict[str, float]:
    """Run one child; the figures it printed before it ended or ran out of time."""
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, __file__, "--child", app, str(size), "--accounts", str(accounts)]
    command += [FREEZE] if freeze else []
    figures: dict[str, float] = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as child:
        assert child.stdout is not None
        deadline = time.monotonic() + timeout
        with suppress(subprocess.TimeoutExpired):
            out, _ = child.communicate(timeout=max(0.0, deadline - time.monotonic()))
            figures.update(_parse(out))
            if child.returncode != 0:
                print(f"{app} at {size} rows exited with {child.returncode}", file=sys.stderr)
            return figures
        child.kill()
        out, _ = child.communicate()
        figures.update(_parse(out))
        figures["timeout"] = timeout
    return figures


def _parse(out: str) -> dict[str, float]:
    figures = {}
    for line in out.splitlines():
        with suppress(ValueError, KeyError):
            record = json.loads(line)
            figures[record["figure"]] = float(record["value"])
    return figures


def show(value: float | None, unit: str, timeout: float | None) -> str:
    if value is None:
        return f">{timeout:.0f}s" if timeout else "-"
    if unit == "ms":
        return f"{value * 1000:.0f}"
    if unit == "MB":
        return f"{value / 2**20:.0f}"
    return f"{value:.0f}"


def report(size: int, accounts: int, wm: dict[str, float], bare: dict[str, float]) -> None:
    print(f"\n{size:,} rows over {accounts} accounts (ms, MB)")
    print(f"{'figure':<18}{'wm':>10}{'DataTable':>11}{'ratio':>8}  goal")
    for figure, goal, unit in FIGURES:
        ours, base = wm.get(figure), bare.get(figure)
        ratio = f"{ours / base:.2f}" if ours is not None and base else ""
        cells = show(ours, unit, wm.get("timeout")), show(base, unit, bare.get("timeout"))
        print(f"{figure:<18}{cells[0]:>10}{cells[1]:>11}{ratio:>8}  {goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, help="rows (default 1000 10000)")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per child")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_SIZE} rows, for CI")
    parser.add_argument("--child", choices=("wm", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("wm", "bare"), help="run one app, not both")
    parser.add_argument(
        FREEZE,
        action="store_true",
        help="gc.freeze() once the first polls are drawn: the full collections Python runs "
        "by itself then skip the loaded fleet (shows what of 'handler' is the collector)",
    )
    args = parser.parse_args()
    if args.child:
        run = run_wm if args.child == "wm" else run_bare
        asyncio.run(run(args.sizes[0], args.accounts))
        return 0
    sizes = [SMOKE_SIZE] if args.smoke else args.sizes or [1000, 10000]
    accounts = SMOKE_ACCOUNTS if args.smoke else args.accounts
    with plugin_path() as path:
        for size in sizes:
            apps = [args.only] if args.only else ["wm", "bare"]
            got = {
                app: measure(app, size, accounts, args.timeout, path, args.gc_freeze)
                for app in apps
            }
            report(size, accounts, got.get("wm", {}), got.get("bare", {}))
            if "wm" in got and "first_paint" not in got["wm"]:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
