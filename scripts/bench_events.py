"""Event store speed at scale, reported as ratios against baselines run in the same invocation.

    .venv/bin/python scripts/bench_events.py [--events 1000000] [--days 365] [--runs 15]

Builds a store of N events (spread over D days, 5 accounts, 2,000 instances) in a
temporary directory with one bulk transaction, then times the queries the events
view and `wm events` make through the real `Store` API (rows decoded into Events),
each as the median of R runs. Baselines, measured on the same file:

- scan: `SELECT count(*) FROM events NOT INDEXED`, a full table scan;
- unindexed: the same one-day window query with `NOT INDEXED` (what the query
  would cost without the migration-2 indexes).

Absolute milliseconds depend on the machine; the ratios less so.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from winged_monkey.models import EventSource
from winged_monkey.store.sqlite import Store

KINDS = ("state", "state", "state", "appeared", "vanished", "start", "stop", "reboot")
STATES = ("running", "stopped", "pending", "stopping", "terminated")


def build(path: Path, count: int, days: int, end: datetime) -> float:
    """A migrated store filled with `count` events in one transaction; returns seconds."""
    Store.open(path).close()
    rng = random.Random(5)  # noqa: S311 - test data, not secrets
    span = days * 86400.0
    start = end.timestamp() - span

    def rows() -> Iterator[tuple[object, ...]]:
        step = span / count
        for n in range(count):
            kind = KINDS[n % len(KINDS)]
            source = EventSource.OBSERVED if kind in ("state", "appeared", "vanished") else "action"
            account = f"acct-{rng.randrange(5)}"
            yield (
                f"bench:{n}",
                start + n * step + rng.random() * step,
                str(source),
                kind,
                account,
                f"i-{rng.randrange(2000):05d}",
                f"web-{n % 97}",
                rng.choice(STATES),
                rng.choice(STATES),
                "ok" if source == "action" else None,
                "bench" if source == "action" else None,
                None,
                None,
            )

    began = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO events (key, at, source, kind, account, target, target_name, old_state, "
        "new_state, outcome, user, detail, duration) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows(),
    )
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - began


def median_ms(call: Callable[[], object], runs: int) -> tuple[float, object]:
    result = call()  # warm the page cache once, as a live view would be
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    end = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="wm-bench-") as tmp:
        path = Path(tmp) / "wm.sqlite3"
        seconds = build(path, args.events, args.days, end)
        size_mb = path.stat().st_size / 1e6
        print(f"built {args.events:,} events over {args.days} days in {seconds:.1f} s "
              f"({size_mb:.0f} MB); medians of {args.runs} runs, page cache warm")  # fmt: skip

        store = Store.open(path)
        raw = sqlite3.connect(path)
        day_start = end - timedelta(days=args.days // 2)
        day_end = day_start + timedelta(days=1)
        window = (day_start.timestamp(), day_end.timestamp())
        window_sql = (
            "SELECT * FROM events {hint} WHERE at >= ? AND at < ? "
            "ORDER BY at DESC, seq DESC LIMIT 1000"
        )
        last = store.last_seq()

        scan, _ = median_ms(
            lambda: raw.execute("SELECT count(*) FROM events NOT INDEXED").fetchone(), args.runs
        )
        unindexed, _ = median_ms(
            lambda: raw.execute(window_sql.format(hint="NOT INDEXED"), window).fetchall(),
            args.runs,
        )
        cases: list[tuple[str, Callable[[], object]]] = [
            (
                "day window, SQL only",
                lambda: raw.execute(window_sql.format(hint=""), window).fetchall(),
            ),
            ("day window", lambda: store.events(since=day_start, until=day_end)),
            (
                "day window + account",
                lambda: store.events(since=day_start, until=day_end, account="acct-3"),
            ),
            (
                "day window + kinds stop,start",
                lambda: store.events(since=day_start, until=day_end, kinds={"stop", "start"}),
            ),
            (
                "day window + source action",
                lambda: store.events(since=day_start, until=day_end, sources={EventSource.ACTION}),
            ),
            ("one target, all time", lambda: store.events(target="i-00042")),
            (
                "one target, day window",
                lambda: store.events(target="i-00042", since=day_start, until=day_end),
            ),
            ("newest 100 (live view)", lambda: store.events(limit=100)),
            ("events_after(last - 100)", lambda: store.events_after(last - 100)),
            ("last_seq", store.last_seq),
        ]
        print(f"{'baseline: full scan count(*)':34} {scan:9.2f} ms")
        print(f"{'baseline: day window NOT INDEXED':34} {unindexed:9.2f} ms")
        print(f"{'query':34} {'median':>9}    {'rows':>5}  {'vs scan':>8}  {'vs unindexed':>12}")
        for name, call in cases:
            ms, result = median_ms(call, args.runs)
            rows = len(result) if isinstance(result, list) else 1
            print(f"{name:34} {ms:9.2f} ms {rows:5d}  {ms / scan:8.3f}  {ms / unindexed:12.3f}")
        store.close()
        raw.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
