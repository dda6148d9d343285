"""A client's event loop while it reads a large listing from the team aggregator.

    .venv/bin/python scripts/bench_aggregator_client.py [--instances 10000] [--accounts 20]

`wm serve` runs as its own process over `--accounts` accounts of the example backend in
`examples/winged-monkey-synthetic` (`--instances` rows in all). In this process, on one
event loop as the TUI's:

- wm: the aggregator backend's `list_instances`, as each poll of the TUI runs it;
- bare: the same two GETs with httpx, each body read with `json.loads` on the loop (what a
  minimal client does), the baseline.

For each, over `--runs` listings: the loop's longest callback (the thread's CPU time; while
it runs, the TUI handles no key and paints nothing; the goal of issue 13 is ≤ 50 ms at
10,000 rows), the loop's worst lateness (wall, a 5 ms ticker), and a listing's wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for scripts.*

from scripts.bench_aggregator import free_port, start_server, stop, wait_for_rows
from scripts.bench_scale import plugin_path
from scripts.bench_scale_children import Stall
from winged_monkey.account import Secrets
from winged_monkey.serve.tokens import TokenStore
from winged_monkey.user.config import parse_config


def write_config(workdir: Path, instances: int, accounts: int) -> Path:
    """`accounts` synthetic accounts of `instances` rows in all; no poll during the run."""
    lines = [f'[serve]\npoll_interval = 3600\ntokens = "{workdir / "tokens.sqlite3"}"\n']
    for n in range(accounts):
        count = instances // accounts + (n < instances % accounts)
        lines.append(f'[[accounts]]\nname = "synth-{n:02d}"\nbackend = "synthetic"\n')
        lines.append(f"instances = {count}\n")
    path = workdir / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


async def measured(listing: Callable[[], Awaitable[int]], runs: int) -> dict[str, float]:
    await listing()  # connections, adapters and imports warmed, as after a TUI's first poll
    stall = Stall()
    stall.start()
    walls = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            await listing()
            walls.append(time.perf_counter() - start)
    finally:
        stall.stop()
    return {"longest": stall.longest, "late": stall.worst, "wall": min(walls)}


async def wm_listings(url: str, token: str, runs: int) -> dict[str, float]:
    from winged_monkey_aggregator.backend import AggregatorBackend

    config = parse_config(
        {"accounts": [{"name": "team", "backend": "aggregator", "url": url}]}, source="bench"
    )
    backend = AggregatorBackend(config.accounts[0], Secrets(account="team", secret=token))

    async def listing() -> int:
        return len(await backend.list_instances())

    try:
        return await measured(listing, runs)
    finally:
        await backend.close()


async def bare_listings(url: str, token: str, runs: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, trust_env=False) as client:

        async def get(path: str) -> int:
            reply = await client.get(path, timeout=60)
            reply.raise_for_status()
            return len(json.loads(reply.content))

        async def listing() -> int:
            counts = await asyncio.gather(get("/api/v1/instances"), get("/api/v1/deployments"))
            return sum(counts)

        return await measured(listing, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-bench-") as tmp, plugin_path() as extra:
        workdir = Path(tmp)
        config = write_config(workdir, args.instances, args.accounts)
        tokens = TokenStore(workdir / "tokens.sqlite3")
        _record, token = tokens.create("bench", "viewer")
        tokens.close()
        port = free_port()
        server = start_server(workdir, config, port, pythonpath=extra)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_rows(url, token, args.instances)
            wm = asyncio.run(wm_listings(url, token, args.runs))
            bare = asyncio.run(bare_listings(url, token, args.runs))
        finally:
            stop(server)
    print(f"A client reading {args.instances} rows from `wm serve`, over {args.runs} listings:")
    print(f"{'':10s}{'longest callback':>18s}{'loop late':>12s}{'listing (best)':>16s}")
    for name, figures in (("wm", wm), ("bare", bare)):
        print(
            f"{name:10s}{figures['longest'] * 1000:15.1f} ms{figures['late'] * 1000:9.1f} ms"
            f"{figures['wall'] * 1000:13.0f} ms"
        )
    ratio = wm["longest"] / bare["longest"]
    print(f"longest callback: wm / bare = {ratio:.2f}  (goal: ≤ 50 ms at 10,000 rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
