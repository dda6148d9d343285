"""Two `wm serve` replicas on one PostgreSQL database whose one account is another `wm
serve` (an aggregator account), that one unable to list one of its accounts: the replica
that does not poll the account answers from what the polling one saved, and names that
account in its listings' headers as the polling one does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.aggregator.replica_set import PASSWORD_ENV, V1, Replicas
from tests.aggregator.server import FLAKY, AggregatorProcess, RunningAggregator, server_env
from tests.aggregator_client.test_stale_rows import (  # noqa: F401 (fixtures)
    _phase,
    _rows,
    flaky,
    never_listed,
)
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from tests.postgres import PostgresCluster
from winged_monkey.store.postgres import PostgresStore


@contextmanager
def replicas_over(
    upstream: RunningAggregator, cluster: PostgresCluster, workdir: Path
) -> Iterator[Replicas]:
    """Two replicas whose one account, "upstream" (pool "relay"), is `upstream`; the first
    started polls it, the second follows it through the database."""
    url = cluster.new_database()
    store = PostgresStore.connect(url, cluster.password)
    processes: list[AggregatorProcess] = []
    try:
        for n in range(2):
            folder = workdir / f"replica{n}"
            folder.mkdir(parents=True)
            config = folder / "config.toml"
            config.write_text(
                f'[serve]\npoll_interval = 0.5\ndatabase = "{url}"\n'
                f'database_credentials = {{ secret_env = "{PASSWORD_ENV}" }}\n'
                "rate = 1000\nburst = 1000\n\n"
                '[[accounts]]\nname = "upstream"\nbackend = "aggregator"\npool = "relay"\n'
                f'url = "{upstream.url}"\n'
                'credentials = { keyring = false, secret_env = "WM_UPSTREAM_TOKEN" }\n',
                encoding="utf-8",
            )
            env = server_env(
                folder,
                {
                    PASSWORD_ENV: cluster.password,
                    "WM_UPSTREAM_TOKEN": upstream.mint(f"replica{n}", "viewer"),
                },
            )
            processes.append(AggregatorProcess(folder, config, env).start())
        yield Replicas(processes, store, upstream.moto, {})
    finally:
        for process in processes:
            process.stop()
        store.close()


def _listings(replicas: Replicas) -> dict[int, httpx.Response]:
    """Each replica's listing once it has rows (what the listing lacked comes with them: one
    snapshot), and its answer to ?complete=true (as 2 + the replica's number)."""
    _, token = replicas.mint("vera")
    answers: dict[int, httpx.Response] = {}
    for n in range(2):
        with replicas.client(n, token) as client:

            def listed(client: httpx.Client = client) -> bool:
                reply = client.get(f"{V1}/instances")
                return reply.status_code == 200 and bool(reply.json())

            wait_until(listed, timeout=30, step=0.1)
            answers[n] = client.get(f"{V1}/instances")
            answers[n + 2] = client.get(f"{V1}/instances", params={"complete": "true"})
    return answers


def test_every_replica_names_the_accounts_its_upstream_cannot_list(
    never_listed: RunningAggregator,  # noqa: F811 (the fixture)
    postgres_cluster: PostgresCluster,
    tmp_path: Path,
) -> None:
    """The replica that followed the account read its rows from the database and nothing of
    what that listing lacked: its listings had no X-WM-Not-Listed, and ?complete=true
    answered 200 without FLAKY's rows, where the polling replica's said upstream/FLAKY."""
    upstream = never_listed
    with upstream.client(upstream.mint("ada", "admin")) as admin:
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
    with replicas_over(upstream, postgres_cluster, tmp_path) as replicas:
        answers = _listings(replicas)
    for n in range(2):
        assert answers[n].headers.get("X-WM-Not-Listed") == f"upstream/{FLAKY}", n
        assert answers[n + 2].status_code == 503, (n, answers[n + 2].text)


def test_every_replica_names_the_accounts_its_upstream_serves_as_last_seen(
    flaky: tuple[RunningAggregator, FaultProxy],  # noqa: F811 (the fixture)
    postgres_cluster: PostgresCluster,
    tmp_path: Path,
) -> None:
    """The follower counted none of the account's rows as last seen (its status had no
    `stale`), so its listings had no X-WM-Stale for them, and /provider-accounts no
    upstream/FLAKY, where the polling replica's said both."""
    upstream, proxy = flaky
    with upstream.client(upstream.mint("ada", "admin")) as admin:
        wait_until(lambda: {r["account"] for r in _rows(admin)} >= {FLAKY}, timeout=20)
        proxy.fault = Fault("status", status=503)  # the cloud behind FLAKY fails now
        wait_until(lambda: _phase(admin, FLAKY) == "failed", timeout=20)
    with replicas_over(upstream, postgres_cluster, tmp_path) as replicas:
        answers = _listings(replicas)
        _, token = replicas.mint("vera")
        accounts = {}
        for n in range(2):
            with replicas.client(n, token) as client:
                found = client.get(f"{V1}/provider-accounts").json()
                accounts[n] = sorted(a["id"] for a in found)
    for n in range(2):
        assert answers[n].headers.get("X-WM-Stale") == f"upstream/{FLAKY}", n
        assert accounts[n] == ["upstream", f"upstream/{FLAKY}"], n
