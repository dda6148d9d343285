"""The big-account benchmark runs at a smoke size (no figure asserted, only that each mode
polled every instance and printed its peak memory), so it cannot rot between the runs
that quote it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_big_account_benchmark_runs_each_mode_at_a_smoke_size() -> None:
    bench = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "bench_big_account.py"),
            *("--instances", "12", "--per-call", "5", "--polls", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bench.returncode == 0, bench.stdout + bench.stderr
    lines = bench.stdout.splitlines()
    assert lines[0] == "# one EC2 account of 12 instances (5 a reservation) on moto, 1 poll"
    for mode in ("CPython's default", "wm's policy", "listing alone"):
        (row,) = [line for line in lines if line.startswith(mode)]
        rss = float(re.findall(r"([\d.]+)MB$", row)[0])
        assert 20 < rss < 1000, row  # this process's own peak, in MB
    assert "peak RSS (policy / listing alone)" in lines[-1]
