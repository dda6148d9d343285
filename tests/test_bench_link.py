"""The slow-link benchmark runs at a smoke size (no figure asserted, only that each one was
measured for both apps on a real terminal), so it cannot rot between the runs that quote it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_slow_link_benchmark_counts_each_figure_at_a_smoke_size() -> None:
    bench = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_link.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bench.returncode == 0, bench.stdout + bench.stderr
    lines = bench.stdout.splitlines()
    assert lines[0].startswith("# tmux 80x24, 6 instances over 3 accounts on moto")
    for figure in ("idle 2 s", "cursor down, per key", "one row changed"):
        (row,) = [line for line in lines if line.startswith(figure)]
        _, bare, wm, _ = re.split(r"\s{2,}", row.strip())
        if not figure.startswith("idle"):  # a key and a change are drawn by both
            assert int(bare) > 0, row
            assert int(wm) > 0, row
