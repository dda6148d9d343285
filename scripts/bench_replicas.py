"""Benchmark of `wm serve` replicas on PostgreSQL: cloud calls with 1 and 3 replicas, the
latency of 100 clients spread over them, and the failover time after `kill -9`.

    .venv/bin/python scripts/bench_replicas.py [--clients 100] [--seconds 10] [--rows 200]

Moto (in this process, its recorder counting every call), a throwaway PostgreSQL cluster
(tests/postgres.py: initdb/pg_ctl on loopback) and the replicas (each its own `wm serve`
process, each signing with its own access key so moto's log tells who asked) share this
machine's cores. Two accounts ("team-a", "team-b", the suite's fixtures) poll every
`--interval` seconds.

1. Cloud calls: DescribeInstances received by moto in `--seconds` while the clients read
   through the replicas, with 1 replica and with 3.
2. Latency of GET /api/v1/instances (`--rows` instances): `--clients` clients at once,
   spread round-robin over the replicas, each sending back to back for `--seconds`.
3. Failover: the replica polling team-a is killed with SIGKILL; the time until another
   replica's first DescribeInstances for team-a reaches moto, `--failovers` times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers

from tests.aggregator.server import (
    ACCOUNTS,
    AMI,
    KEY,
    SECRET,
    AggregatorProcess,
    seed,
    server_env,
    write_config,
)
from tests.postgres import PostgresCluster
from winged_monkey.demo.server import MotoServer
from winged_monkey.serve.shared_state import SharedTokenStore
from winged_monkey.serve.tokens import TokenStore
from winged_monkey.store.postgres import PostgresStore

PASSWORD_ENV = "WM_PG_BENCH_PASSWORD"  # noqa: S105 (a variable name)
#: Requests that got no answer (a connection reset under load), reported at the end.
ERRORS: list[str] = []


def replica_key(n: int) -> str:
    return f"AKIABENCHREPLICA{n:04d}"


def add_rows(moto: MotoServer, rows: int) -> None:
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto.url,
        region_name=ACCOUNTS["team-a"][0],
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    left = rows
    while left > 0:
        batch = min(left, 100)
        ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=batch, MaxCount=batch)
        left -= batch


def start(
    moto: MotoServer, cluster: PostgresCluster, root: Path, count: int, interval: float
) -> tuple[list[AggregatorProcess], str, PostgresStore | None]:
    """`count` replicas on a fresh database; `count` 0: one server on SQLite (the default)."""
    store = None
    serve = f"poll_interval = {interval}\nrate = 100000\nburst = 100000"
    if count:
        url = cluster.new_database()
        store = PostgresStore.connect(url, cluster.password)
        serve += f'\ndatabase = "{url}"\ndatabase_credentials = {{ secret_env = "{PASSWORD_ENV}" }}'
    processes = []
    for n in range(max(count, 1)):
        workdir = root / f"r{count}-{n}"
        config = write_config(workdir, moto.port, serve)
        config.write_text(config.read_text().replace(KEY, replica_key(n)))
        env = server_env(workdir, {PASSWORD_ENV: cluster.password})
        processes.append(AggregatorProcess(workdir, config, env).start())
    if store is not None:
        _, token = SharedTokenStore(store).create("bench", "viewer")
    else:
        tokens = TokenStore(root / f"r{count}-0" / "tokens.sqlite3")
        _, token = tokens.create("bench", "viewer")
        tokens.close()
    return processes, token, store


def wait_rows(processes: list[AggregatorProcess], token: str, rows: int) -> None:
    deadline = time.monotonic() + 120
    for process in processes:
        while True:
            reply = httpx.get(
                f"{process.url}/api/v1/instances",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            if reply.status_code == 200 and len(reply.json()) >= rows:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{process.url} never listed {rows} rows")
            time.sleep(0.2)


async def read_load(
    processes: list[AggregatorProcess], token: str, clients: int, seconds: float
) -> list[float]:
    """Latencies (s) of `clients` clients reading back to back, spread over the replicas."""
    samples: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(headers=headers, timeout=60, limits=limits) as http:
        end = time.monotonic() + seconds

        async def client(n: int) -> None:
            url = f"{processes[n % len(processes)].url}/api/v1/instances"
            while time.monotonic() < end:
                started = time.perf_counter()
                try:
                    reply = await http.get(url)
                except httpx.TransportError as exc:  # a reset under load: counted, reported
                    ERRORS.append(f"{url}: {type(exc).__name__}")
                    continue
                samples.append(time.perf_counter() - started)
                if reply.status_code != 200:
                    raise SystemExit(f"{url}: {reply.status_code} {reply.text[:200]}")

        await asyncio.gather(*(client(n) for n in range(clients)))
    return samples


def describe_calls(moto: MotoServer) -> int:
    return sum(1 for c in moto.calls if c.action == "DescribeInstances")


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def pollers(moto: MotoServer, region: str) -> set[str]:
    return {
        c.access_key or ""
        for c in moto.calls
        if c.action == "DescribeInstances" and c.region == region
    }


def failover(moto: MotoServer, processes: list[AggregatorProcess]) -> float:
    """Kill the replica polling team-a; seconds until another one polls it."""
    region = ACCOUNTS["team-a"][0]
    moto.clear_calls()
    deadline = time.monotonic() + 60
    while not pollers(moto, region):
        if time.monotonic() > deadline:
            raise SystemExit("nobody polls team-a")
        time.sleep(0.01)
    (leader_key,) = pollers(moto, region)
    leader = next(p for n, p in enumerate(processes) if replica_key(n) == leader_key)
    process = leader._process
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    leader._process = None
    killed = time.monotonic()
    moto.clear_calls()
    while not (pollers(moto, region) - {leader_key}):
        if time.monotonic() > killed + 60:
            raise SystemExit("no replica took team-a over in 60 s")
        time.sleep(0.005)
    return time.monotonic() - killed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--failovers", type=int, default=3)
    args = parser.parse_args()

    cluster = PostgresCluster.start()
    try:
        with MotoServer() as moto, tempfile.TemporaryDirectory() as tmp:
            seed(moto)
            add_rows(moto, args.rows - 4)
            print(
                f"| replicas | DescribeInstances in {args.seconds:g} s | p50 ms | p99 ms | reads |"
            )
            print("| --- | --- | --- | --- | --- |")
            for count in (0, 1, 3):  # 0: SQLite, the single-server default
                processes, token, store = start(moto, cluster, Path(tmp), count, args.interval)
                try:
                    wait_rows(processes, token, args.rows)
                    moto.clear_calls()
                    samples = asyncio.run(read_load(processes, token, args.clients, args.seconds))
                    calls = describe_calls(moto)
                    print(
                        f"| {count or '1 (SQLite)'} | {calls} | {pct(samples, 0.5):.1f} | "
                        f"{pct(samples, 0.99):.1f} | {len(samples)} |",
                        flush=True,
                    )
                finally:
                    for process in processes:
                        process.stop()
                    if store is not None:
                        store.close()

            times = []
            for _ in range(args.failovers):
                processes, token, store = start(moto, cluster, Path(tmp), 3, args.interval)
                try:
                    wait_rows(processes, token, args.rows)
                    times.append(failover(moto, processes))
                finally:
                    for process in processes:
                        process.stop()
                    if store is not None:
                        store.close()
            if ERRORS:
                print(f"\n{len(ERRORS)} requests got no answer, e.g. {ERRORS[0]}")
            print(
                f"\nfailover after kill -9 (poll interval {args.interval:g} s): "
                + ", ".join(f"{t:.2f} s" for t in times)
                + f"; median {statistics.median(times):.2f} s"
            )
    finally:
        cluster.close()


if __name__ == "__main__":
    main()
