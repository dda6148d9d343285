"""Benchmarks, each reported as a ratio against a baseline run in the same invocation.

    .venv/bin/python scripts/bench.py [--runs N]

1. `wm ls --json` on the demo cloud against a bare libcloud `list_nodes` script
   over the same accounts (both are fresh processes talking to one moto server).
2. Start-up to first paint of the TUI (rows from the cache on screen) and to all
   accounts loaded, against a bare Textual app showing a DataTable of the same rows.

Figures are medians of N runs; absolute seconds depend on the machine, ratios less so.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from winged_monkey.demo.seed import running_demo
from winged_monkey.user.config import Config

LIBCLOUD_BASELINE = """
import sys
from libcloud.compute.drivers.ec2 import EC2NodeDriver
import os
host, port = sys.argv[1], int(sys.argv[2])
for key, secret_env, token_env, region in [
    ("{dev_key}", "WM_DEMO_DEV_SECRET", None, "us-east-1"),
    ("{dev_key}", "WM_DEMO_DEV_SECRET", None, "eu-west-1"),
    ("{prod_key}", "WM_DEMO_PROD_SECRET", "WM_DEMO_PROD_TOKEN", "us-east-1"),
]:
    driver = EC2NodeDriver(key, os.environ[secret_env], secure=False, host=host, port=port,
                           region=region, signature_version="4",
                           token=os.environ[token_env] if token_env else None)
    print(len(driver.list_nodes()))
"""


def median_seconds(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_ls(config: Config, config_path: Path, runs: int) -> None:
    endpoint = config.accounts[0].endpoint
    assert endpoint is not None
    assert endpoint.port is not None
    keys = {a.name: a.credentials.key for a in config.accounts}
    script = LIBCLOUD_BASELINE.format(dev_key=keys["dev"], prod_key=keys["prod"])
    env = {**os.environ, "WM_CONFIG": str(config_path)}
    with tempfile.TemporaryDirectory() as data:
        env["WM_DATA_DIR"] = data
        wm = [str(Path(sys.executable).parent / "wm"), "ls", "--json"]
        base = [sys.executable, "-c", script, endpoint.host, str(endpoint.port)]

        def run(cmd: list[str]) -> Callable[[], object]:
            return lambda: subprocess.run(cmd, env=env, check=True, capture_output=True)

        python = median_seconds(run([sys.executable, "-c", "pass"]), runs)
        baseline = median_seconds(run(base), runs)
        ours = median_seconds(run(wm), runs)
    print(f"python start                  {python:6.3f} s")
    print(f"libcloud list_nodes script    {baseline:6.3f} s   (baseline)")
    print(f"wm ls --json                  {ours:6.3f} s   ratio {ours / baseline:.2f}")


def bench_first_paint(config: Config, store_path: Path, runs: int) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from winged_monkey.engine.portal import Portal
    from winged_monkey.store.sqlite import Store
    from winged_monkey.terminal.render import HEADER, instance_row
    from winged_monkey.ui.app import WMApp

    # Fill the cache once so first paint has rows, as a returning user's would.
    async def warm() -> None:
        portal = Portal(config, Store.open(store_path))
        async for _ in portal.refresh():
            pass
        await portal.close()

    asyncio.run(warm())
    cached = Store.open(store_path).load_snapshots()
    now = datetime.now(UTC)
    rows = [instance_row(i, now) for snap in cached.values() for i in snap.instances]

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*HEADER)
            table.add_rows(rows)

    async def bare() -> float:
        start = time.perf_counter()
        async with Bare().run_test(size=(80, 24)) as pilot:
            await pilot.pause()
        return time.perf_counter() - start

    async def ours() -> tuple[float, float]:
        start = time.perf_counter()
        app = WMApp(portal=Portal(config, Store.open(store_path)), config=config)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            painted = time.perf_counter() - start
            await app.workers.wait_for_complete()
            await pilot.pause()
            loaded = time.perf_counter() - start
        return painted, loaded

    base = statistics.median(asyncio.run(bare()) for _ in range(runs))
    results = [asyncio.run(ours()) for _ in range(runs)]
    painted = statistics.median(r[0] for r in results)
    loaded = statistics.median(r[1] for r in results)
    print(f"bare Textual DataTable app    {base:6.3f} s   (baseline, start to first paint)")
    print(f"wm first paint (cached rows)  {painted:6.3f} s   ratio {painted / base:.2f}")
    print(f"wm all accounts live          {loaded:6.3f} s   ratio {loaded / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with running_demo() as (config, store_path, _server):
        config_path = store_path.parent / "config.toml"
        print(f"# {len(config.accounts)} accounts on one moto server, median of {args.runs} runs")
        bench_ls(config, config_path, args.runs)
        bench_first_paint(config, store_path, args.runs)


if __name__ == "__main__":
    main()
