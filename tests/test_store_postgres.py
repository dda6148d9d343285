"""The PostgreSQL store's own concerns (its shared behaviour is tests/test_store.py, run on
both implementations): migrations from empty and from every older schema, replicas
migrating at once, a newer schema refused, an unreachable database said plainly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.postgres import PostgresCluster
from winged_monkey.errors import StoreError
from winged_monkey.models import Event, EventSource
from winged_monkey.store.postgres import MIGRATIONS, SCHEMA_VERSION, PostgresStore

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HOURS_9 = timedelta(hours=9)


def _versions(url: str, password: str) -> list[int]:
    with psycopg.connect(url, password=password) as db:
        rows = db.execute("SELECT version FROM wm_schema_migrations ORDER BY version").fetchall()
    return [int(r[0]) for r in rows]


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_an_older_schema_is_upgraded_and_keeps_its_events(
    postgres_cluster: PostgresCluster, version: int
) -> None:
    url, password = postgres_cluster.new_database(), postgres_cluster.password
    with psycopg.connect(url, password=password, autocommit=True) as db:
        db.execute(
            "CREATE TABLE wm_schema_migrations (version INTEGER PRIMARY KEY, applied_at "
            "TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for n, script in enumerate(MIGRATIONS[:version], start=1):
            db.execute(script)
            db.execute("INSERT INTO wm_schema_migrations (version) VALUES (%s)", (n,))
        db.execute(
            "INSERT INTO events (key, at, source, kind, account, target, target_name) "
            "VALUES ('old', %s, 'observed', 'state', 'dev', 'i-1', 'web')",
            (T0.timestamp(),),
        )
    store = PostgresStore.connect(url, password)
    try:
        assert _versions(url, password) == list(range(1, SCHEMA_VERSION + 1))
        assert [e.key for e in store.events()] == ["old"]
        assert [e.key for e in store.events(target_or_name="web")] == ["old"]
        assert store.events()[0].since is None  # seen, as it was
        late = Event(
            key="late",
            at=T0,
            source=EventSource.OBSERVED,
            kind="state",
            account="dev",
            target="i-2",
            since=T0 - HOURS_9,
        )
        store.append_events([late])
        assert store.events(target="i-2")[0].since == T0 - HOURS_9
    finally:
        store.close()
    with psycopg.connect(url, password=password) as db:
        indexes = {r[0] for r in db.execute("SELECT indexname FROM pg_indexes").fetchall()}
    assert "events_target_name_at" in indexes  # `wm events --target NAME` stays an index read


def test_replicas_starting_together_migrate_once(postgres_cluster: PostgresCluster) -> None:
    url, password = postgres_cluster.new_database(), postgres_cluster.password
    opened: list[PostgresStore] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresStore.connect(url, password))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _versions(url, password) == list(range(1, SCHEMA_VERSION + 1))
    event = Event(key="k", at=T0, source=EventSource.ACTION, kind="stop", account="a", target="i")
    assert [s.append_events([event]) for s in opened] == [1, 0, 0, 0]
    for store in opened:
        store.close()


def test_a_newer_schema_is_refused(postgres_cluster: PostgresCluster) -> None:
    url, password = postgres_cluster.new_database(), postgres_cluster.password
    PostgresStore.connect(url, password).close()
    with psycopg.connect(url, password=password, autocommit=True) as db:
        db.execute("INSERT INTO wm_schema_migrations (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer Winged Monkey"):
        PostgresStore.connect(url, password)


def test_an_unreachable_database_is_a_clear_error_without_the_password(
    postgres_cluster: PostgresCluster,
) -> None:
    wrong = f"postgresql://wm@127.0.0.1:{postgres_cluster.port}/no_such_db"
    with pytest.raises(StoreError, match="unreachable") as info:
        PostgresStore.connect(wrong, postgres_cluster.password, timeout=2)
    assert postgres_cluster.password not in str(info.value)
    assert "no_such_db" in str(info.value)
