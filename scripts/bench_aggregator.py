"""Benchmark of the team aggregator (`wm serve`), against baselines run in the same invocation.

    .venv/bin/python scripts/bench_aggregator.py [--clients 100] [--instances 1000]

A moto EC2 server in this process (its recorder counts every call it receives) holds the
instances of one account; `wm serve` runs as its own process over it. Then:

1. Cloud calls: one client, then `--clients` clients, GET the instance list back to back
   through the aggregator while it polls `--polls` times (counted from the end of one
   poll to the end of the last, seen in the account's fetched_at); the calls moto received
   are compared (the promise: the same). For scale, what that many clients polling the
   cloud directly would cost, from one measured refresh.
2. Latency of GET /api/v1/instances at `--instances` rows (served from the cache; the
   server does not poll during this part) with one client and with all clients at once:
   p50/p99, against GET /api/v1/whoami and a direct DescribeInstances at moto.

Client, server and moto share this machine's cores: the many-client figures include the
benchmark's own client work. Every request goes to 127.0.0.1; each loop stops at its
window's end or its request cap.
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
from pathlib import Path

import httpx

from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.serve.tokens import TokenStore
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import parse_config

AMI = "ami-1e749f67"
KEY = "AKIABENCHAGGREGATOR1"
SECRET = "bench-secret"  # noqa: S105 (moto accepts any secret)
MAX_REQUESTS_PER_CLIENT = 10_000
#: Requests that got no answer (a connection reset under load), reported at the end.
ERRORS: list[str] = []


def seed(moto: MotoServer, count: int) -> None:
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    left = count
    while left:
        batch = min(left, 250)
        ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=batch, MaxCount=batch)
        left -= batch


def write_config(workdir: Path, moto: MotoServer, interval: float) -> Path:
    path = workdir / "config.toml"
    path.write_text(
        f"[serve]\npoll_interval = {interval}\nrate = 100000\nburst = 100000\n"
        f'tokens = "{workdir / "tokens.sqlite3"}"\n\n'
        '[[accounts]]\nname = "fleet"\nprovider = "ec2"\nregion = "us-east-1"\ntimeout = 60\n'
        f'endpoint = {{ host = "127.0.0.1", port = {moto.port}, secure = false }}\n'
        f'credentials = {{ key = "{KEY}", keyring = false, secret_env = "WM_BENCH_SECRET" }}\n',
        encoding="utf-8",
    )
    return path


def start_server(
    workdir: Path, config: Path, port: int, pythonpath: str | None = None
) -> subprocess.Popen[bytes]:
    """`wm serve` of `config`; `pythonpath` puts a plugin on its path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WM_"))}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    env.update(
        WM_BENCH_SECRET=SECRET,
        WM_DATA_DIR=str(workdir / "data"),
        HOME=str(workdir),
        NO_PROXY="127.0.0.1",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    command = [sys.executable, "-c", "from winged_monkey.cli.main import main; main()", "serve"]
    command += ["--config", str(config), "--port", str(port), "--log-level", "warning"]
    log = (workdir / "serve.log").open("wb")
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_rows(url: str, token: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, headers=_auth(token), trust_env=False, timeout=60) as client:
        while time.monotonic() < deadline:
            try:
                reply = client.get("/api/v1/instances")
                if reply.status_code == 200 and len(reply.json()) >= count:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise SystemExit(f"the aggregator did not list {count} instances in {timeout:g} s")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def poll(
    url: str,
    token: str,
    clients: int,
    window: float,
    path: str = "/api/v1/instances",
    stop: asyncio.Event | None = None,
) -> list[float]:
    """`clients` keep-alive connections each GET `path` back to back (gzip accepted, as
    httpx asks) until the window ends; returns every request's latency in seconds.

    A bare HTTP/1.1 client on asyncio streams: an httpx client at this concurrency spends
    more CPU than the server does, and would measure itself."""
    port = int(url.rsplit(":", 1)[1])
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    end = time.monotonic() + window

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= end or (stop is not None and stop.is_set()):
                    return
                start = time.perf_counter()
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    raise SystemExit(f"GET {path}: HTTP {status}")
        except (ConnectionError, asyncio.IncompleteReadError):
            ERRORS.append(path)
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


def cloud_calls(moto: MotoServer) -> int:
    return sum(1 for c in moto.calls if c.access_key == KEY)


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def direct_refresh_calls(moto: MotoServer, config_path: Path) -> int:
    """The cloud calls one direct client (a TUI's refresh) costs, measured once."""
    import tomllib

    data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    data.pop("serve")
    config = parse_config(data, source=str(config_path))
    os.environ["WM_BENCH_SECRET"] = SECRET
    store = Store.memory()
    portal = Portal(config, store, user="bench")

    async def refresh() -> None:
        try:
            async for _update in portal.refresh(native_events=False):
                pass
        finally:
            await portal.close()

    asyncio.run(refresh())  # builds the backend (and its price table) once
    portal = Portal(config, store, user="bench")
    before = cloud_calls(moto)
    asyncio.run(refresh())
    store.close()
    return cloud_calls(moto) - before


def direct_latency(moto: MotoServer, runs: int) -> list[float]:
    import boto3

    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
    )
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        ec2.describe_instances()
        samples.append(time.perf_counter() - start)
    return samples


def run_phase(
    moto: MotoServer, workdir: Path, instances: int, interval: float
) -> tuple[subprocess.Popen[bytes], str, str]:
    """Seed, start `wm serve`, wait for its first poll: (process, url, token)."""
    moto.reset()
    seed(moto, instances)
    workdir.mkdir()
    config = write_config(workdir, moto, interval)
    tokens = TokenStore(workdir / "tokens.sqlite3")
    _record, token = tokens.create("bench", "viewer")
    tokens.close()
    port = free_port()
    server = start_server(workdir, config, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_rows(url, token, instances)
    except BaseException:
        stop(server)
        raise
    return server, url, token


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


async def fetched_at(client: httpx.AsyncClient) -> str:
    reply = await client.get("/api/v1/provider-accounts")
    reply.raise_for_status()
    return str(reply.json()[0]["status"]["fetched_at"])


async def calls_over_polls(
    moto: MotoServer, url: str, token: str, clients: int, polls: int
) -> tuple[int, int, float]:
    """The cloud calls of exactly `polls` server polls while `clients` clients GET the
    instance list back to back: counted from the end of one poll (its fetched_at changes)
    to the end of the `polls`-th after it. Returns (calls, GETs, seconds)."""
    stop = asyncio.Event()
    async with httpx.AsyncClient(
        base_url=url, headers=_auth(token), trust_env=False, timeout=60
    ) as watch:

        async def next_poll(after: str) -> str:
            deadline = time.monotonic() + 120
            while (now := await fetched_at(watch)) == after:
                if time.monotonic() > deadline:
                    raise SystemExit("the aggregator stopped polling")
                await asyncio.sleep(0.01)
            return now

        load = asyncio.create_task(poll(url, token, clients, 600, stop=stop))
        mark = await next_poll(await fetched_at(watch))
        before, started = cloud_calls(moto), time.monotonic()
        for _ in range(polls):
            mark = await next_poll(mark)
        calls, seconds = cloud_calls(moto) - before, time.monotonic() - started
        stop.set()
        requests = len(await load)
    return calls, requests, seconds


def bench_calls(moto: MotoServer, workdir: Path, args: argparse.Namespace) -> None:
    server, url, token = run_phase(moto, workdir / "calls", args.call_instances, args.interval)
    try:
        per_refresh = direct_refresh_calls(moto, workdir / "calls" / "config.toml")
        counted = {
            c: asyncio.run(calls_over_polls(moto, url, token, c, args.polls))
            for c in (1, args.clients)
        }
    finally:
        stop(server)
    print(
        f"1. Cloud calls over {args.polls} server polls ({args.call_instances} instances, "
        f"a poll every {args.interval:g} s after the last one ended), counted at moto:"
    )
    one = counted[1][0]
    for clients, (calls, requests, seconds) in counted.items():
        print(
            f"   {clients:3d} client(s) through the aggregator   {calls:4d} calls   "
            f"({seconds:.1f} s; {requests} GETs in the run)   ratio {calls / max(one, 1):.2f}"
        )
    print(
        f"   {args.clients} clients polling the cloud directly  "
        f"{args.clients * per_refresh * args.polls} calls   "
        f"(computed: {per_refresh} calls per refresh, measured, x clients x polls)"
    )


def bench_latency(moto: MotoServer, workdir: Path, args: argparse.Namespace) -> None:
    # A poll interval longer than the run: the figures are the aggregator's own, not
    # moto's (which shares this process) answering its next poll.
    server, url, token = run_phase(moto, workdir / "latency", args.instances, 3600)
    try:
        rows = {c: asyncio.run(poll(url, token, c, args.window)) for c in (1, args.clients)}
        whoami = asyncio.run(poll(url, token, 1, 2, path="/api/v1/whoami"))
    finally:
        stop(server)
    direct = direct_latency(moto, 3)
    print(f"2. GET /api/v1/instances with {args.instances} rows, from the server's cache:")
    for clients, samples in rows.items():
        print(
            f"   {clients:3d} client(s)   p50 {pct(samples, 0.5) * 1000:8.1f} ms   "
            f"p99 {pct(samples, 0.99) * 1000:8.1f} ms   ({len(samples) / args.window:.0f} req/s)"
        )
    print(
        f"   baselines: GET /api/v1/whoami p50 {pct(whoami, 0.5) * 1000:.1f} ms; "
        f"DescribeInstances of the same {args.instances} at moto p50 "
        f"{statistics.median(direct) * 1000:.0f} ms "
        f"(ratio {statistics.median(direct) / pct(rows[1], 0.5):.0f}x slower than the cache)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=1000, help="For the latency part.")
    parser.add_argument("--call-instances", type=int, default=50, help="For the calls part.")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0, help="Seconds per measurement.")
    parser.add_argument("--interval", type=float, default=1.0, help="Server poll interval.")
    parser.add_argument("--polls", type=int, default=5, help="Server polls to count calls over.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MotoServer() as moto:
        bench_calls(moto, Path(tmp), args)
        bench_latency(moto, Path(tmp), args)
    if ERRORS:
        print(f"   ({len(ERRORS)} requests got no answer: connection reset under load)")


if __name__ == "__main__":
    main()
