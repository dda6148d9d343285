"""scripts/soak_session.py runs at its smoke size: the TUI over churning synthetic clouds,
with a line per interval. What it checks is what a person would see (the table holds the
rows the clouds list, destroyed ones gone; the event log one event per change, two per
start); no figure of time or memory is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_soak_runs_at_its_smoke_size_and_the_table_and_log_match_the_clouds() -> None:
    soak = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "soak_session.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert soak.returncode == 0, soak.stdout + soak.stderr
    lines = soak.stdout.splitlines()
    header = next(n for n, line in enumerate(lines) if line.split()[:1] == ["rounds"])
    columns = lines[header].split()
    rows = [dict(zip(columns, line.split(), strict=True)) for line in lines[header + 1 :][:3]]
    assert all(int(row["rounds"]) >= n for row, n in zip(rows, (20, 40, 60), strict=True))
    for row in rows:
        assert row["table"] == row["live"]
        assert row["diff"] == "0"
        assert int(row["act_ev"]) == 2 * int(row["starts"])
    assert int(rows[-1]["starts"]) > 0
    assert "last interval against the first" in soak.stdout
