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
import json
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

# libcloud's EC2 driver with the one fix a moto listing needs (see that script).
LIBCLOUD_BASELINE = Path(__file__).with_name("libcloud_ls.py")


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
    plan = []
    for account in config.accounts:
        creds = account.credentials
        plan.append(
            {"key": creds.key, "secret_env": creds.secret_env, "region": account.region}
            | ({"token_env": creds.token_env} if creds.token_env else {})
        )
    env = {**os.environ, "WM_CONFIG": str(config_path)}
    with tempfile.TemporaryDirectory() as data:
        env["WM_DATA_DIR"] = data
        wm = [str(Path(sys.executable).parent / "wm"), "ls", "--json"]
        base = [
            sys.executable,
            str(LIBCLOUD_BASELINE),
            endpoint.host,
            str(endpoint.port),
            json.dumps(plan),
        ]

        def run(cmd: list[str]) -> Callable[[], object]:
            return lambda: subprocess.run(cmd, env=env, check=True, capture_output=True)

        # Both must list the same instances, or the ratio compares different work.
        listed = int(subprocess.run(base, env=env, check=True, capture_output=True).stdout)
        answer = subprocess.run(wm, env=env, check=True, capture_output=True).stdout
        ours = len(json.loads(answer)["instances"])
        assert listed == ours > 0, f"libcloud listed {listed} instances, wm ls {ours}"

        python = median_seconds(run([sys.executable, "-c", "pass"]), runs)
        baseline = median_seconds(run(base), runs)
        measured = median_seconds(run(wm), runs)
    print(f"python start                  {python:6.3f} s")
    print(f"libcloud list_nodes script    {baseline:6.3f} s   (baseline, {listed} instances)")
    print(f"wm ls --json                  {measured:6.3f} s   ratio {measured / baseline:.2f}")


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
            # The poller runs as long as the app: wait for every account's answer instead.
            deadline = start + 120
            while not all(s.phase == "ok" for s in app.portal.statuses()):
                assert time.perf_counter() < deadline, "accounts not all live after 120 s"
                await pilot.pause(0.01)
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
