"""Three `wm serve` replicas on one PostgreSQL database over the real moto: each account
polled by one replica (moto's request log, one access key per replica), takeover after
`kill -9` within two poll intervals, the same inventory from every replica, a token
revoked through one refused by all, one rate limit across them."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import psycopg
import pytest
from click.testing import CliRunner

from tests.aggregator.server import (
    ACCOUNTS,
    KEY,
    AggregatorProcess,
    Role,
    seed,
    server_env,
    write_config,
)
from tests.conftest import wait_until
from tests.faultproxy import Fault, FaultProxy
from tests.postgres import PostgresCluster
from winged_monkey.cli.main import main
from winged_monkey.demo.server import MotoServer
from winged_monkey.errors import ConfigError
from winged_monkey.serve.settings import load_server_config
from winged_monkey.serve.shared_state import SharedTokenStore
from winged_monkey.serve.tokens import TokenError
from winged_monkey.store.postgres import PostgresStore

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

POLL_S = 1.5
RARE = 0.01  # a rate (requests per second) that refills nothing within a test
PASSWORD_ENV = "WM_PG_TEST_PASSWORD"
V1 = "/api/v1"


def replica_key(n: int) -> str:
    """Each replica signs with its own access key (moto serves any key the same account),
    so moto's request log tells which replica asked."""
    return f"AKIATESTREPLICA{n:05d}"


@dataclass
class Replicas:
    processes: list[AggregatorProcess]
    store: PostgresStore
    moto: MotoServer
    ids: dict[tuple[str, str], str]

    def mint(self, user: str = "alice", role: Role = "viewer") -> tuple[str, str]:
        """(token id, token) issued in the shared database."""
        record, token = SharedTokenStore(self.store).create(user, role)
        return record.id, token

    def client(self, n: int, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.processes[n].url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            trust_env=False,
        )

    def ec2(self, account: str) -> EC2Client:
        import boto3

        return boto3.client(
            "ec2",
            endpoint_url=self.moto.url,
            region_name=ACCOUNTS[account][0],
            aws_access_key_id=KEY,
            aws_secret_access_key="x",
        )

    def cloud_state_of(self, account: str, instance_id: str) -> str:
        """The instance's state as moto says (a witness independent of the servers)."""
        reply = self.ec2(account).describe_instances(InstanceIds=[instance_id])
        return reply["Reservations"][0]["Instances"][0]["State"]["Name"]

    def pollers(self, region: str) -> set[str]:
        """The access keys that listed this region's instances since the log was cleared."""
        return {
            c.access_key or ""
            for c in self.moto.calls
            if c.action == "DescribeInstances" and c.region == region
        }

    def listed(self, n: int, token: str) -> set[tuple[str, str, str]]:
        with self.client(n, token) as client:
            reply = client.get(f"{V1}/instances")
        if reply.status_code != 200:
            return set()
        return {(i["account"], i["id"], i["state"]) for i in reply.json()}


@contextmanager
def started_replicas(
    moto: MotoServer,
    cluster: PostgresCluster,
    workdir: Path,
    intervals: list[float],
    cloud_ports: dict[int, int] | None = None,
    rate: float = 2,
) -> Iterator[Replicas]:
    """A replica per poll interval, started in order (the first takes every account),
    on a fresh database; each one's first answer waited for. `cloud_ports`: replica ->
    the port it reaches moto on; `rate`: each token's requests per second (burst 10)."""
    ids = seed(moto)
    url = cluster.new_database()
    store = PostgresStore.connect(url, cluster.password)
    processes: list[AggregatorProcess] = []
    try:
        for n, interval in enumerate(intervals):
            serve = (
                f'poll_interval = {interval}\nrate = {rate}\nburst = 10\ndatabase = "{url}"\n'
                f'database_credentials = {{ secret_env = "{PASSWORD_ENV}" }}'
            )
            port = (cloud_ports or {}).get(n, moto.port)  # a fault proxy in front of moto
            config = write_config(workdir / f"replica{n}", port, serve)
            config.write_text(config.read_text().replace(KEY, replica_key(n)))
            env = server_env(workdir / f"replica{n}", {PASSWORD_ENV: cluster.password})
            processes.append(AggregatorProcess(workdir / f"replica{n}", config, env).start())
        running = Replicas(processes, store, moto, ids)
        for n in range(len(intervals)):
            # A token per try: a low rate is not spent here.
            wait_until(
                lambda n=n: len(running.listed(n, running.mint("setup")[1])) == len(ids),  # type: ignore[misc]
                timeout=60,
                step=0.1,
            )
        yield running
    finally:
        for process in processes:
            process.stop()
        store.close()


@pytest.fixture
def replicas(
    moto_server: MotoServer, postgres_cluster: PostgresCluster, tmp_path: Path
) -> Iterator[Replicas]:
    with started_replicas(moto_server, postgres_cluster, tmp_path, [POLL_S] * 3) as running:
        yield running


def test_one_poller_per_account_and_a_takeover_after_kill_9(replicas: Replicas) -> None:
    replicas.moto.clear_calls()
    regions = {account: region for account, (region, _pool) in ACCOUNTS.items()}
    # Several intervals: every replica has had its turn at every account.
    wait_until(
        lambda: all(
            sum(
                1
                for c in replicas.moto.calls
                if c.action == "DescribeInstances" and c.region == region
            )
            >= 4
            for region in regions.values()
        ),
        timeout=60,
    )
    for region in regions.values():
        assert len(replicas.pollers(region)) == 1, replicas.moto.calls

    # kill -9 the replica polling team-a: another takes it within two poll intervals.
    (leader_key,) = replicas.pollers(regions["team-a"])
    leader = [replica_key(n) for n in range(3)].index(leader_key)
    process = replicas.processes[leader]._process
    assert process is not None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    killed_at = time.monotonic()
    replicas.moto.clear_calls()
    wait_until(lambda: bool(replicas.pollers(regions["team-a"])), timeout=2 * POLL_S + 10)
    took = time.monotonic() - killed_at
    (successor,) = replicas.pollers(regions["team-a"])
    assert successor != leader_key
    assert took <= 2 * POLL_S, f"takeover after {took:.2f} s"  # the bound

    # The survivors serve the same inventory, including a change only the new poller saw.
    web = replicas.ids["team-a", "web"]
    replicas.ec2("team-a").stop_instances(InstanceIds=[web])
    survivors = [n for n in range(3) if n != leader]

    def stopped_everywhere() -> bool:
        _, token = replicas.mint("bob")  # a token per try: the rate limit is low here
        return all(("team-a", web, "stopped") in replicas.listed(n, token) for n in survivors)

    wait_until(stopped_everywhere, timeout=30, step=0.2)
    _, token = replicas.mint("carol")
    assert replicas.listed(survivors[0], token) == replicas.listed(survivors[1], token)


def test_a_revoked_token_is_refused_by_every_replica_and_the_rate_is_shared(
    moto_server: MotoServer, postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    # One request back every 100 s: a token gets its burst of 10 and nothing more however
    # slowly a loaded machine sends the requests (at 2/s, 18 sent over 4 s all passed).
    with started_replicas(
        moto_server, postgres_cluster, tmp_path, [POLL_S] * 3, rate=RARE
    ) as replicas:
        _, admin = replicas.mint("root", "admin")
        victim_id, victim = replicas.mint("mallory", "viewer")
        for n in range(3):
            with replicas.client(n, victim) as client:
                assert client.get(f"{V1}/instances").status_code == 200
        with replicas.client(0, admin) as client:
            assert client.delete(f"{V1}/tokens/{victim_id}").status_code == 200
        revoked_at = time.monotonic()
        with replicas.client(0, victim) as client:  # where it was revoked: at once
            assert client.get(f"{V1}/instances").status_code == 401

        accepted_late: list[float] = []

        def refused(n: int) -> bool:
            sent = time.monotonic() - revoked_at
            with replicas.client(n, victim) as client:
                reply = client.get(f"{V1}/instances")
            if reply.status_code == 200 and sent > 1.0:
                accepted_late.append(sent)
            return reply.status_code == 401 and reply.json()["error"]["code"] == "token_revoked"

        # The others within the 1 s (they re-read a token after 0.25 s): no request
        # sent later than that is served, however long a loaded machine takes to send it.
        for n in (1, 2):
            wait_until(lambda n=n: refused(n), timeout=30, step=0.1)  # type: ignore[misc]
        assert not accepted_late, f"served {accepted_late} s after the revocation"

        # Burst 10: 6 requests to each replica stay under one replica's own burst, so only
        # a limit counted across replicas refuses some of the 18.
        _, token = replicas.mint("dave")
        started = time.monotonic()
        codes = []
        for _ in range(6):
            for n in range(3):
                with replicas.client(n, token) as client:
                    codes.append(client.get(f"{V1}/provider-accounts").status_code)
        elapsed = time.monotonic() - started
        assert set(codes) <= {200, 429}
        assert codes.count(200) <= 10 + RARE * elapsed + 1, (codes, elapsed)
        assert 429 in codes


def test_a_database_url_with_a_password_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text('[serve]\ndatabase = "postgresql://wm:hunter2@db.example/wm"\n')
    with pytest.raises(ConfigError, match="never in the config file") as info:
        load_server_config(path)
    assert "hunter2" not in str(info.value)


def test_a_change_reaches_the_other_replicas_before_their_own_interval(
    moto_server: MotoServer, postgres_cluster: PostgresCluster, tmp_path: Path
) -> None:
    """The poller's save is NOTIFYed: replicas that poll every minute show it at once."""
    with started_replicas(moto_server, postgres_cluster, tmp_path, [1.0, 60, 60]) as running:
        running.moto.clear_calls()  # the session's moto: earlier tests' calls are in it
        web = running.ids["team-b", "web"]
        running.ec2("team-b").stop_instances(InstanceIds=[web])

        def stopped_everywhere() -> bool:
            _, token = running.mint("erin")
            return all(("team-b", web, "stopped") in running.listed(n, token) for n in range(3))

        wait_until(stopped_everywhere, timeout=20, step=0.2)  # well inside the 60 s interval
        assert running.pollers(ACCOUNTS["team-b"][0]) <= {replica_key(0)}


def test_the_database_stopped_and_started_under_load(
    replicas: Replicas, postgres_cluster: PostgresCluster
) -> None:
    """Reads keep answering from memory, accounts turn stale, changes get a 503 that says
    why; all of it comes back by itself when the database does."""
    readers = [replicas.mint(f"reader{n}")[1] for n in range(3)]
    _, operator = replicas.mint("olga", "operator")
    for n in range(3):  # each replica has seen these tokens
        assert replicas.listed(n, readers[n])
        with replicas.client(n, operator) as client:
            assert client.get(f"{V1}/whoami").status_code == 200
    before = replicas.listed(0, readers[0])

    answers: list[tuple[int, float]] = []
    stop = threading.Event()

    def load() -> None:  # each reader on its replica, under its rate of 2 a second
        while not stop.is_set():
            for n in range(3):
                started = time.monotonic()
                with replicas.client(n, readers[n]) as client:
                    status = client.get(f"{V1}/instances").status_code
                answers.append((status, time.monotonic() - started))
            stop.wait(0.6)

    def phases(n: int) -> set[str]:
        with replicas.client(n, operator) as client:
            reply = client.get(f"{V1}/provider-accounts")
        return {a["status"]["phase"] for a in reply.json()} if reply.status_code == 200 else set()

    loader = threading.Thread(target=load)
    loader.start()
    web = replicas.ids["team-a", "web"]
    try:
        postgres_cluster.pg_ctl_stop("fast")
        try:
            for n in range(3):
                wait_until(lambda n=n: phases(n) == {"stale"}, timeout=30, step=0.5)  # type: ignore[misc]
                assert replicas.listed(n, readers[n]) == before
                with replicas.client(n, operator) as client:
                    reply = client.post(f"{V1}/instances/team-a/{web}/stop")
                assert reply.status_code == 503
                assert reply.json()["error"]["code"] == "database_unavailable"
                assert "database is unreachable" in reply.json()["error"]["message"]
            assert replicas.cloud_state_of("team-a", web) == "running"
        finally:
            postgres_cluster.pg_ctl_start()
        for n in range(3):
            wait_until(lambda n=n: phases(n) == {"ok"}, timeout=60, step=0.5)  # type: ignore[misc]

        def accepted() -> bool:
            with replicas.client(1, operator) as client:
                return client.post(f"{V1}/instances/team-a/{web}/stop").status_code == 202

        wait_until(accepted, timeout=30, step=0.5)
        wait_until(lambda: replicas.cloud_state_of("team-a", web) == "stopped", timeout=30)
    finally:
        stop.set()
        loader.join(timeout=60)
    assert answers
    assert {status for status, _ in answers} == {200}, answers
    assert max(took for _, took in answers) < 10, answers  # never held past the pool's timeout


@pytest.mark.parametrize(
    ("actor", "witness"), [(0, 1), (1, 0)], ids=["the-poller-dies", "another-replica-dies"]
)
def test_an_action_whose_replica_dies_is_settled_by_another(
    moto_server: MotoServer,
    postgres_cluster: PostgresCluster,
    tmp_path: Path,
    actor: int,
    witness: int,
) -> None:
    """A replica accepts a stop, sends it (moto stops the instance), and is killed before
    the answer reaches it: the replica polling team-a (the one that takes it over, or the
    one that had it) finds the intent in the database and records its outcome from what
    it observes. Replica 0 starts first and polls both accounts."""
    with (
        FaultProxy(("127.0.0.1", moto_server.port)) as proxy,
        started_replicas(
            moto_server, postgres_cluster, tmp_path, [1.0, 1.0], {actor: proxy.port}
        ) as running,
    ):
        web = running.ids["team-a", "web"]
        _, operator = running.mint("olga", "operator")
        proxy.fault = Fault("drip", interval=3600, match=b"StopInstances")  # it never hears back
        running.moto.clear_calls()
        with running.client(actor, operator) as client:
            assert client.post(f"{V1}/instances/team-a/{web}/stop").status_code == 202
        wait_until(
            lambda: any(
                c.action == "StopInstances" and c.access_key == replica_key(actor)
                for c in running.moto.calls
            ),
            timeout=30,
        )
        process = running.processes[actor]._process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert running.cloud_state_of("team-a", web) == "stopped"

        def outcome() -> list[dict[str, object]]:
            with running.client(witness, operator) as client:
                reply = client.get(f"{V1}/events", params={"target": web, "limit": 50})
            if reply.status_code != 200:
                return []
            return [
                e
                for e in reply.json()["events"]
                if e["source"] == "action" and e["cause"] and e["outcome"] != "requested"
            ]

        wait_until(lambda: bool(outcome()), timeout=30, step=0.5)
        (settled,) = outcome()  # the engine's intent (the API's audit line stays as it is)
        assert str(settled["cause"]).startswith("action:")
        assert settled["outcome"] == "ok"
        assert str(settled["key"]).endswith(":settled")  # observed, not answered
        assert "observed stopped" in str(settled["detail"])


def test_token_commands_work_on_the_shared_database(
    postgres_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wm serve token create|list|revoke` with a `database` config: the replicas' tokens,
    the password from its environment variable."""
    url = postgres_cluster.new_database()
    config = tmp_path / "serve.toml"
    config.write_text(
        f'[serve]\ndatabase = "{url}"\n'
        f'database_credentials = {{ secret_env = "{PASSWORD_ENV}" }}\n\n'
        '[[accounts]]\nname = "prod"\nprovider = "ec2"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv(PASSWORD_ENV, postgres_cluster.password)
    runner = CliRunner()
    base = ["serve", "--config", str(config), "token"]
    created = runner.invoke(main, [*base, "create", "--user", "ann", "--role", "viewer"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    store = PostgresStore.connect(url, postgres_cluster.password)
    try:
        assert SharedTokenStore(store).authenticate(token).user == "ann"
        (row,) = json.loads(runner.invoke(main, [*base, "list", "--json"]).stdout)
        assert runner.invoke(main, [*base, "revoke", row["id"]]).exit_code == 0
        with pytest.raises(TokenError, match="revoked"):
            SharedTokenStore(store).authenticate(token)
    finally:
        store.close()

    monkeypatch.delenv(PASSWORD_ENV)
    refused = runner.invoke(main, [*base, "list"])
    assert refused.exit_code != 0
    assert "unreachable" in refused.stderr
    assert postgres_cluster.password not in refused.output


def test_a_catalog_is_fetched_once_for_all_replicas(replicas: Replicas) -> None:
    _, token = replicas.mint("cat")
    replicas.moto.clear_calls()
    with replicas.client(0, token) as client:
        first = client.get(f"{V1}/catalogs")
    assert first.status_code == 200
    assert any(c.access_key == replica_key(0) for c in replicas.moto.calls)  # it asked
    assert any(pool["deployables"] for pool in first.json())
    for n in (1, 2):
        with replicas.client(n, token) as client:
            reply = client.get(f"{V1}/catalogs")
        assert reply.status_code == 200
        assert reply.json() == first.json()
    # Polling aside (one replica per account), the others asked the cloud nothing.
    asked = {
        (c.access_key, c.action)
        for c in replicas.moto.calls
        if c.access_key in (replica_key(1), replica_key(2)) and c.action != "DescribeInstances"
    }
    assert asked == set()


def test_a_slow_database_delays_a_request_by_at_most_its_short_timeout(
    replicas: Replicas, postgres_cluster: PostgresCluster
) -> None:
    """The token's rate-limit row is held locked by another session (a slow database
    for that statement): the token's requests still answer, each within about the
    request path's 0.5 s statement timeout (not the store's 10 s)."""
    token_id, token = replicas.mint("slow")
    with replicas.client(0, token) as client:
        assert client.get(f"{V1}/whoami").status_code == 200  # its bucket row exists
    with psycopg.connect(replicas.store.url, password=postgres_cluster.password) as db:
        db.execute("SELECT * FROM rate_buckets WHERE key = %s FOR UPDATE", (token_id,))
        for _ in range(3):
            started = time.monotonic()
            with replicas.client(0, token) as client:
                reply = client.get(f"{V1}/whoami")
            assert reply.status_code == 200
            assert time.monotonic() - started < 3.0  # generous over 0.5 s, far under 10 s
        db.rollback()
