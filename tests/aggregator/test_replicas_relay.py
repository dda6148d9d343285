"""Two `wm serve` replicas on one PostgreSQL database whose one account is another `wm
serve` (an aggregator account), that one unable to list one of its accounts: the replica
that does not poll the account answers from what the polling one saved, and says that
account is missing as the polling one does."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.aggregator.replica_set import PASSWORD_ENV, V1, Replicas
from tests.aggregator.server import AggregatorProcess, RunningAggregator, server_env
from tests.aggregator_client.test_stale_rows import FLAKY, _phase, never_listed  # noqa: F401
from tests.conftest import wait_until
from tests.postgres import PostgresCluster
from winged_monkey.store.postgres import PostgresStore


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
    url = postgres_cluster.new_database()
    store = PostgresStore.connect(url, postgres_cluster.password)
    processes: list[AggregatorProcess] = []
    try:
        for n in range(2):
            workdir = tmp_path / f"replica{n}"
            workdir.mkdir(parents=True)
            config = workdir / "config.toml"
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
                workdir,
                {
                    PASSWORD_ENV: postgres_cluster.password,
                    "WM_UPSTREAM_TOKEN": upstream.mint(f"replica{n}", "viewer"),
                },
            )
            processes.append(AggregatorProcess(workdir, config, env).start())
        replicas = Replicas(processes, store, upstream.moto, {})
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
    finally:
        for process in processes:
            process.stop()
        store.close()
    for n in range(2):
        assert answers[n].headers.get("X-WM-Not-Listed") == f"upstream/{FLAKY}", n
        assert answers[n + 2].status_code == 503, (n, answers[n + 2].text)
