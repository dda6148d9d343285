"""One EC2 account of thousands of instances, polled by wm's portal: how long the event loop
(the TUI's, wm serve's) stood still, with CPython's collector as it comes and with the console
script's policy (winged_monkey.cli.entry.collect_less_often), and its peak memory beside the
account's listing alone, in the same run.

    .venv/bin/python scripts/bench_big_account.py [--instances 5000] [--polls 2]
        [--per-call 1000]

moto's EC2 server on loopback holds the instances (launched `--per-call` a call, each call a
reservation: 1 is the shape of a fleet launched one by one, many DescribeInstances pages
deep); each mode is a fresh process that polls the account `--polls` times while a 10 ms
ticker on the same loop records every late tick. Printed per mode: the longest stall, the
stalls over 50 ms summed, the full (oldest-generation) collections, the wall time of the
polls, and the peak RSS. The baseline for memory, "listing alone", is the backend's
listing run as many times with the last one kept (what any view must hold), wm's
collector policy, no portal, no store.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REGION = "ap-southeast-2"
KEY, SECRET = "AKIABENCHBIGACCOUNT1", "bench-big-account-secret"


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries it across
    exec, so a child spawned by this bench's parent (boto3 and ten thousand launches, 200 MB
    and more) reported the parent's peak as its own."""
    import resource

    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):  # not Linux: macOS counts bytes, and spawns afresh
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def child(port: int, polls: int, mode: str, store: Path) -> None:
    """One mode's polls, in a process of its own; prints its figures as JSON. `mode`: 0 the
    portal with CPython's collector, 1 with wm's policy, bare the listing alone."""
    import asyncio
    import gc
    import time

    from winged_monkey.cli.entry import collect_less_often
    from winged_monkey.engine.portal import Portal
    from winged_monkey.store.sqlite import Store
    from winged_monkey.user.config import AccountConfig, Config, Credentials, Endpoint

    if mode != "0":
        collect_less_often()
    full: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            full.append(1)

    gc.callbacks.append(count)
    account = AccountConfig(
        name="big",
        provider="ec2",
        region=REGION,
        timeout=600,
        endpoint=Endpoint(host="127.0.0.1", port=port, secure=False),
        credentials=Credentials.model_validate(
            {"key": KEY, "keyring": False, "secret_env": "BENCH_SECRET"}
        ),
    )

    async def run() -> dict[str, float]:
        portal = Portal(Config(accounts=[account]), Store.open(store), user="bench")
        stalls: list[float] = []
        done = asyncio.Event()

        async def tick() -> None:
            last = time.monotonic()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.monotonic()
                stalls.append(now - last - 0.01)
                last = now

        ticker = asyncio.create_task(tick())
        started, found = time.monotonic(), 0
        if mode == "bare":
            backend, kept = await portal.inventory.accounts.backend("big"), []
            for _ in range(polls):
                kept = await backend.list_instances()
                found = len(kept)
        for _ in range(0 if mode == "bare" else polls):
            async for update in portal.refresh(native_events=False):
                if not update.status.refreshing:
                    assert update.status.phase == "ok", update.status.error
                    found = update.status.count
        wall = time.monotonic() - started
        done.set()
        await ticker
        await portal.close()
        return {
            "count": found,
            "wall": wall,
            "longest": max(stalls),
            "stalled": sum(s for s in stalls if s > 0.05),
            "full": len(full),
            "rss": peak_rss_mb(),
        }

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=5000)
    parser.add_argument("--polls", type=int, default=2)
    parser.add_argument("--per-call", type=int, default=1000, help="instances per reservation")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # PORT MODE STORE
    args = parser.parse_args()
    if args.child:
        port, mode, store = args.child
        child(int(port), args.polls, mode, Path(store))
        return

    import boto3

    from winged_monkey.demo.server import MotoServer

    with MotoServer() as moto, tempfile.TemporaryDirectory() as tmp:
        ec2 = boto3.client(
            "ec2",
            endpoint_url=moto.url,
            region_name=REGION,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
        )
        for left in range(args.instances, 0, -args.per_call):
            batch = min(left, args.per_call)
            ec2.run_instances(
                ImageId="ami-1e749f67", InstanceType="t3.micro", MinCount=batch, MaxCount=batch
            )
        env = {**os.environ, "BENCH_SECRET": SECRET}
        print(
            f"# one EC2 account of {args.instances} instances ({args.per_call} a reservation) "
            f"on moto, {args.polls} poll{'s' if args.polls != 1 else ''}"
        )
        print(f"{'collector':<22} {'longest':>8} {'stalled':>8} {'full':>5} {'wall':>7} {'rss':>7}")
        found = {}
        modes = (("CPython's default", "0"), ("wm's policy", "1"), ("listing alone", "bare"))
        for label, mode in modes:
            store = Path(tmp) / f"bench-{mode}.sqlite3"
            command = [sys.executable, __file__, "--polls", str(args.polls), "--child"]
            done = subprocess.run(
                [*command, str(moto.port), mode, str(store)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise SystemExit(f"{label}: the poll failed:\n{done.stderr[-3000:]}")
            run = found[label] = json.loads(done.stdout)
            assert run["count"] == args.instances, run
            print(
                f"{label:<22} {run['longest']:7.2f}s {run['stalled']:7.2f}s {run['full']:5d} "
                f"{run['wall']:6.1f}s {run['rss']:5.0f}MB"
            )
        base, ours, bare = (found[label] for label, _ in modes)
        print(
            f"ratio (policy / default): longest stall {ours['longest'] / base['longest']:.2f}, "
            f"wall {ours['wall'] / base['wall']:.2f}; "
            f"peak RSS (policy / listing alone): {ours['rss'] / bare['rss']:.2f}"
        )


if __name__ == "__main__":
    main()
