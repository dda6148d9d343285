"""Three `wm serve` replicas on one PostgreSQL database over the real moto: a token
revoked through one refused by all, one rate limit across them, the tokens' commands
on the shared database, the database stopped or slow under load, and a database URL
with a password refused."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from tests.aggregator.replica_set import PASSWORD_ENV, POLL_S, RARE, V1, Replicas, started_replicas
from tests.conftest import wait_until
from tests.postgres import PostgresCluster
from winged_monkey.cli.main import main
from winged_monkey.demo.server import MotoServer
from winged_monkey.errors import ConfigError
from winged_monkey.serve.settings import load_server_config
from winged_monkey.serve.shared_state import SharedTokenStore
from winged_monkey.serve.tokens import TokenError
from winged_monkey.store.postgres import PostgresStore


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
