"""`wm ls --cached` (for scripts and status lines) at fleet scale, beside a bare reading of
the same store.

    .venv/bin/python scripts/bench_cached.py [SIZE ...] [--accounts 20] [--runs 7]

SIZE rows (default 100 1000 10000) over `--accounts` accounts of the example backend in
`examples/winged-monkey-synthetic` (installed into a temporary directory when it is not
installed already). A live `wm ls --json` fills a fresh store first; then each command runs
`--runs` times as a fresh process, and the median wall time is printed:

- `wm ls --cached` (the table, `--width 0`) and `wm ls --cached --json`, through the
  console script's own entry point (`winged_monkey.cli.entry`, so a PYTHONPATH pointing at
  another checkout measures that one);
- the baseline: Python opening the store read-only, decoding every account's snapshot and
  printing the row count: what any reader of the cache does at least.

The goal (issue 13) is ≤ 100 ms wall for `wm ls --cached`. Times in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for scripts.bench_scale

from scripts.bench_scale import plugin_path

WM = [sys.executable, "-c", "from winged_monkey.cli.entry import main; main()"]
BASELINE = """
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
rows = [json.loads(p) for (p,) in db.execute("SELECT payload FROM inventory")]
print(sum(len(r["instances"]) for r in rows))
"""


def config(accounts: int, rows: int) -> str:
    each = rows // accounts
    return "\n".join(
        f'[[accounts]]\nname = "synth-{n:02d}"\nbackend = "synthetic"\ninstances = {each}\n'
        for n in range(accounts)
    )


def median_ms(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, help="rows (default 100 1000 10000)")
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"# median of {args.runs} fresh processes, ms; {args.accounts} synthetic accounts")
    print(f"{'rows':>7}  {'--cached':>9}  {'--json':>9}  {'baseline':>9}  ratio  (goal ≤ 100 ms)")
    with plugin_path() as path, tempfile.TemporaryDirectory(prefix="wm-bench-") as tmp:
        for size in args.sizes or (100, 1000, 10000):
            work = Path(tmp) / str(size)
            work.mkdir()
            (work / "config.toml").write_text(config(args.accounts, size), encoding="utf-8")
            env = {**os.environ, "PYTHONPATH": path, "WM_DATA_DIR": str(work / "data")}
            env["WM_CONFIG"] = str(work / "config.toml")
            subprocess.run([*WM, "ls", "--json"], env=env, check=True, stdout=subprocess.DEVNULL)
            table = median_ms([*WM, "ls", "--cached", "--width", "0"], env, args.runs)
            as_json = median_ms([*WM, "ls", "--cached", "--json"], env, args.runs)
            store = work / "data" / "wm.sqlite3"
            base = median_ms([sys.executable, "-c", BASELINE, str(store)], env, args.runs)
            print(f"{size:>7}  {table:>9.0f}  {as_json:>9.0f}  {base:>9.0f}  {table / base:>5.2f}")


if __name__ == "__main__":
    main()
