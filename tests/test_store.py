from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.postgres import PostgresCluster
from winged_monkey.engine.observe import diff_inventories, explained
from winged_monkey.errors import StoreError
from winged_monkey.models import AccountSnapshot, Event, EventSource, Instance, InstanceState
from winged_monkey.store.sqlite import MIGRATIONS, SCHEMA_VERSION, Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def inst(instance_id: str, state: InstanceState, name: str = "web") -> Instance:
    return Instance(
        account="dev", id=instance_id, name=name, state=state, raw_state=str(state), provider="ec2"
    )


def snapshot(at: datetime, *instances: Instance) -> AccountSnapshot:
    return AccountSnapshot(account="dev", fetched_at=at, instances=instances)


Opener = Callable[[], Store]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the test's store again (another process) on each implementation: a SQLite
    file, or a fresh database of the suite's PostgreSQL cluster."""
    opened: list[Store] = []
    if request.param == "sqlite":
        path = tmp_path / "wm.sqlite3"

        def open_store() -> Store:
            return Store.open(path)
    else:
        from winged_monkey.store.postgres import PostgresStore

        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = cluster.new_database()

        def open_store() -> Store:
            store = PostgresStore.connect(url, cluster.password)
            opened.append(store)
            return store

    yield open_store
    for store in opened:
        store.close()


def test_inventory_and_events_survive_a_restart(opener: Opener) -> None:
    store = opener()
    store.save_snapshot(snapshot(T0, inst("i-1", InstanceState.RUNNING)))
    event = Event(
        key="k1", at=T0, source=EventSource.ACTION, kind="stop", account="dev", target="i-1"
    )
    assert store.append_events([event]) == 1
    store.close()

    again = opener()
    assert again.load_snapshots()["dev"].instances[0].id == "i-1"
    assert again.events() == [event]


def test_the_saved_inventory_s_time_tells_whether_one_in_hand_is_still_the_store_s(
    opener: Opener,
) -> None:
    first, second = opener(), opener()
    assert first.snapshot_time("dev") is None
    held = snapshot(T0 + timedelta(microseconds=123457), inst("i-1", InstanceState.RUNNING))
    first.save_snapshot(held)
    assert second.snapshot_time("dev") == held.fetched_at  # to the microsecond
    second.save_snapshot(snapshot(T0 + timedelta(seconds=15)))
    assert first.snapshot_time("dev") != held.fetched_at


def test_events_are_deduplicated_by_key_across_processes(opener: Opener) -> None:
    first, second = opener(), opener()
    event = Event(
        key="same", at=T0, source=EventSource.OBSERVED, kind="state", account="dev", target="i"
    )
    assert first.append_events([event]) == 1
    assert second.append_events([event]) == 0
    assert len(first.events()) == 1


def test_observed_diff_has_stable_keys(opener: Opener) -> None:
    before = snapshot(T0, inst("i-1", InstanceState.RUNNING), inst("i-2", InstanceState.RUNNING))
    now = {
        i.id: i for i in (inst("i-1", InstanceState.STOPPED), inst("i-3", InstanceState.PENDING))
    }
    events = diff_inventories("dev", before, now, T0 + timedelta(seconds=15))
    kinds = sorted((e.kind, e.target, e.old_state, e.new_state) for e in events)
    assert kinds == [
        ("appeared", "i-3", None, "pending"),
        ("state", "i-1", "running", "stopped"),
        ("vanished", "i-2", "running", None),
    ]
    # A second process diffing the same pair (later) records nothing new.
    store = opener()
    assert store.append_events(events) == 3
    assert (
        store.append_events(diff_inventories("dev", before, now, T0 + timedelta(seconds=20))) == 0
    )


def test_a_change_an_action_had_seen_end_is_linked_to_it_and_no_other() -> None:
    """A listing's changes, beside the log's action outcomes since the last listing: a stop
    that ended stopped explains i-1's stop and a destroy i-2's vanishing (linked to their
    intents); a stop whose instance the listing found terminated (someone else's destroy
    since) explains nothing, nor does a stop that failed."""
    before = snapshot(T0, *(inst(i, InstanceState.RUNNING) for i in ("i-1", "i-2", "i-3", "i-4")))
    now = {
        "i-1": inst("i-1", InstanceState.STOPPED),
        "i-3": inst("i-3", InstanceState.TERMINATED),
        "i-4": inst("i-4", InstanceState.STOPPED),
    }
    changes = diff_inventories("dev", before, now, T0 + timedelta(seconds=30))

    def outcome(target: str, kind: str, state: str, result: str) -> Event:
        return Event(
            key=f"action:dev:{target}:{kind}:outcome",
            at=T0 + timedelta(seconds=10),
            source=EventSource.ACTION,
            kind=kind,
            account="dev",
            target=target,
            new_state=state,
            outcome=result,
            cause=f"action:dev:{target}:{kind}",
        )

    outcomes = [
        outcome("i-1", "stop", "stopped", "ok"),
        outcome("i-2", "destroy", "terminated", "ok"),
        outcome("i-3", "stop", "stopped", "ok"),
        outcome("i-4", "stop", "running", "failed"),
    ]
    linked = {e.target: e.cause for e in explained(changes, outcomes)}
    assert linked == {
        "i-1": "action:dev:i-1:stop",
        "i-2": "action:dev:i-2:destroy",
        "i-3": None,
        "i-4": None,
    }


def test_a_change_found_after_a_gap_keeps_when_it_was_last_listed(opener: Opener) -> None:
    """Listed at 12:00, next at 21:30: the stop's `since` (12:00) is stored and read back
    by another process; a change found at the usual pace has none."""
    before = snapshot(T0, inst("i-1", InstanceState.RUNNING), inst("i-2", InstanceState.RUNNING))
    late = T0 + timedelta(hours=9, minutes=30)
    now = {"i-1": inst("i-1", InstanceState.STOPPED)}
    opener().append_events(diff_inventories("dev", before, now, late, gap=60))
    opener().append_events(
        diff_inventories("dev", snapshot(late, *now.values()), {}, late + timedelta(seconds=15))
    )
    found = {(e.kind, e.target): e for e in opener().events()}
    assert found["state", "i-1"].since == T0
    assert found["state", "i-1"].at == late
    assert found["vanished", "i-2"].since == T0
    assert found["vanished", "i-1"].since is None


def test_event_filters(opener: Opener) -> None:
    store = opener()
    store.append_events(
        Event(
            key=f"k{n}",
            at=T0 + timedelta(hours=n),
            source=EventSource.OBSERVED,
            kind="state",
            account="dev" if n % 2 else "prod",
            target=f"i-{n}",
            target_name="web" if n < 3 else "i-1",  # a name that is another's id
        )
        for n in range(6)
    )
    assert [e.key for e in store.events(limit=2)] == ["k5", "k4"]
    assert [e.key for e in store.events(since=T0 + timedelta(hours=3))] == ["k5", "k4", "k3"]
    assert [e.key for e in store.events(account="prod")] == ["k4", "k2", "k0"]
    assert [e.key for e in store.events(target="i-1")] == ["k1"]  # an id: that one only
    assert [e.key for e in store.events(target_or_name="web")] == ["k2", "k1", "k0"]
    assert [e.key for e in store.events(target_or_name="i-1")] == ["k5", "k4", "k3", "k1"]
    found = store.events(target_or_name="web", account="prod", since=T0 + timedelta(hours=1))
    assert [e.key for e in found] == ["k2"]


def test_the_accounts_the_history_knows(opener: Opener) -> None:
    """`wm events --account` takes an account removed from the config while its history
    is still here: its events, or only its last inventory."""
    store = opener()
    assert store.accounts() == []
    store.append_events(ev(n, account=name) for n, name in enumerate(["prod", "dev", "prod"]))
    store.save_snapshot(AccountSnapshot(account="lab", fetched_at=T0, instances=()))
    store.save_snapshot(AccountSnapshot(account="dev", fetched_at=T0, instances=()))
    assert store.accounts() == ["dev", "lab", "prod"]


def test_a_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(path) in str(info.value)
    assert "without history" in str(info.value)


def test_a_newer_schema_is_refused_not_clobbered(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer Winged Monkey"):
        Store.open(path)


# -- the events API the views use ---------------------------------------------


def ev(n: int, **fields: object) -> Event:
    data: dict[str, object] = {
        "key": f"k{n}",
        "at": T0 + timedelta(hours=n),
        "source": EventSource.OBSERVED,
        "kind": "state",
        "account": "dev",
        "target": f"i-{n}",
    }
    data.update(fields)
    return Event.model_validate(data)


def test_window_kind_and_source_filters(opener: Opener) -> None:
    store = opener()
    store.append_events(
        [
            ev(0),
            ev(1, kind="stop", source=EventSource.ACTION, outcome="ok"),
            ev(2, kind="appeared"),
            ev(3, kind="stop", source=EventSource.ACTION, outcome="failed"),
            ev(4, kind="CREATE_COMPLETE", source=EventSource.NATIVE),
        ]
    )
    since, until = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    assert [e.key for e in store.events(since=since, until=until)] == ["k2", "k1"]  # until excl.
    assert [e.key for e in store.events(kinds={"stop"})] == ["k3", "k1"]
    assert [e.key for e in store.events(kinds=["stop", "appeared"], since=since, until=until)] == [
        "k2",
        "k1",
    ]
    assert [e.key for e in store.events(sources=[EventSource.NATIVE])] == ["k4"]
    assert store.events(kinds=[]) == []  # nothing ticked, nothing shown
    assert [e.key for e in store.events(until=T0 + timedelta(hours=1))] == ["k0"]


def test_events_after_pages_oldest_first_from_last_seq(opener: Opener) -> None:
    store = opener()
    assert store.last_seq() == 0
    store.append_events([ev(0), ev(1)])
    mark = store.last_seq()
    assert store.events_after(mark) == []
    other = opener()  # another process appends
    other.append_events([ev(5), ev(2), ev(1)])  # k1 is a duplicate: not seen again
    got = store.events_after(mark)
    assert [e.key for _, e in got] == ["k5", "k2"]  # in recording order, not by time
    assert got[-1][0] == store.last_seq() > mark
    assert [e.key for _, e in store.events_after(0, limit=2)] == ["k0", "k1"]


def test_events_caused_after_reads_one_causes_events_alone(opener: Opener) -> None:
    """wm serve's `/events?cause=` (an action's 202 leads there): its outcome, by index."""
    store = opener()
    store.append_events([ev(0), ev(1, cause="a:1"), ev(2), ev(3, cause="a:2"), ev(4, cause="a:1")])
    got = store.events_caused_after("a:1", 0)
    assert [e.key for _, e in got] == ["k1", "k4"]
    assert [e.key for _, e in store.events_caused_after("a:1", got[0][0])] == ["k4"]
    assert store.events_caused_after("a:1", 0, limit=1)[0][1].key == "k1"
    assert store.events_caused_after("nothing", 0) == []


def test_a_refused_outcome_is_kept_and_settles_its_intent(opener: Opener) -> None:
    """An action refused as sent once its intent was logged: its outcome reads back as
    `refused` from another process, and the intent is settled (not left open for a poll to
    settle as failed after action_timeout), with no migration: the outcome is free text."""
    intent_key = "action:dev:i-1:stop:1.0"
    intent = Event(
        key=intent_key,
        at=T0,
        source=EventSource.ACTION,
        kind="stop",
        account="dev",
        target="i-1",
        outcome="requested",
    )
    refused = intent.model_copy(
        update={
            "key": f"{intent_key}:outcome",
            "at": T0 + timedelta(seconds=1),
            "outcome": "refused",
            "detail": "the aggregator refused: web is locked",
            "cause": intent_key,
        }
    )
    store = opener()
    store.append_events([intent, refused])
    store.close()
    again = opener()
    assert [(e.outcome, e.cause) for e in again.events()] == [  # newest first
        ("refused", intent_key),
        ("requested", None),
    ]
    assert again.open_intents("dev") == []


def test_the_store_serves_several_threads(opener: Opener) -> None:
    store = opener()
    errors: list[BaseException] = []

    def writer(base: int) -> None:
        try:
            for n in range(base, base + 50):
                store.append_events([ev(n, key=f"t{n}")])
                store.events(limit=5)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(b,)) for b in (0, 1000, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert store.count_events() == 150


# -- migrations --------------------------------------------------------------


def _schema(path: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    db.close()
    return [(name, " ".join(sql.split())) for name, sql in rows]


def _old_store(path: Path, version: int) -> None:
    """A file as a Winged Monkey of schema `version` left it, with one event and one snapshot."""
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version}")
    db.execute(
        "INSERT INTO events (key, at, source, kind, account, target) "
        "VALUES ('old', ?, 'observed', 'state', 'dev', 'i-1')",
        (T0.timestamp(),),
    )
    db.execute(
        "INSERT INTO inventory VALUES ('dev', ?, ?)",
        (T0.isoformat(), snapshot(T0, inst("i-1", InstanceState.RUNNING)).model_dump_json()),
    )
    db.commit()
    db.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION + 1))
def test_every_older_schema_is_upgraded_and_keeps_its_data(tmp_path: Path, version: int) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    Store.open(fresh).close()
    path = tmp_path / "old.sqlite3"
    _old_store(path, version)

    store = Store.open(path)
    (upgraded,) = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()
    assert upgraded == SCHEMA_VERSION
    assert _schema(path) == _schema(fresh)  # stepwise upgrade == a new file
    assert [e.key for e in store.events()] == ["old"]
    assert store.load_snapshots()["dev"].instances[0].id == "i-1"
    store.append_events([ev(1)])
    assert [e.key for e in store.events()] == ["k1", "old"]


def test_first_schema_gets_the_filter_indexes(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    _old_store(path, 1)
    assert "events_kind_at" not in dict(_schema(path))
    Store.open(path).close()
    indexes = dict(_schema(path))
    for name in ("events_at", "events_account_at", "events_target_at", "events_kind_at"):
        assert name in indexes


def test_the_previous_schema_finds_a_target_by_name_after_its_upgrade(tmp_path: Path) -> None:
    """A file the previous version wrote (schema 3): opened by this one, it gets the name's
    index and answers a name."""
    path = tmp_path / "v3.sqlite3"
    _old_store(path, 3)
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO events (key, at, source, kind, account, target, target_name) "
        "VALUES ('named', ?, 'observed', 'state', 'dev', 'i-2', 'web')",
        (T0.timestamp() + 60,),
    )
    db.commit()
    db.close()
    store = Store.open(path)
    assert [e.key for e in store.events(target_or_name="web")] == ["named"]
    assert [e.key for e in store.events(target_or_name="i-1")] == ["old"]
    store.close()
    assert "events_target_name_at" in dict(_schema(path))


def test_the_last_release_s_file_opens_and_keeps_a_gap_s_start(tmp_path: Path) -> None:
    """A file the last release wrote (schema 4): opened by this one, its events read as
    before (seen, no gap) and a change found after a gap keeps when it was last listed."""
    path = tmp_path / "v4.sqlite3"
    _old_store(path, 4)
    store = Store.open(path)
    assert [(e.key, e.since) for e in store.events()] == [("old", None)]
    store.append_events([ev(1, since=T0 - timedelta(hours=9))])
    store.close()
    assert [(e.key, e.since) for e in Store.open(path).events()] == [
        ("k1", T0 - timedelta(hours=9)),
        ("old", None),
    ]


@pytest.mark.parametrize(
    ("where", "index"),
    [
        ("target = ? OR target_name = ?", "events_target_name_at"),
        ("at >= ? AND at < ?", "events_at"),
        ("at >= ? AND at < ? AND account = ?", "events_account_at"),
        ("target = ?", "events_target_at"),
        ("kind = ? AND at >= ?", "events_kind_at"),
    ],
)
def test_filters_are_served_by_an_index(tmp_path: Path, where: str, index: str) -> None:
    store = Store.open(tmp_path / "wm.sqlite3")
    store.close()
    db = sqlite3.connect(tmp_path / "wm.sqlite3")
    params = ("x",) * where.count("?")
    plan = " ".join(
        row[-1]
        for row in db.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM events WHERE {where} "  # noqa: S608
            "ORDER BY at DESC, seq DESC LIMIT 10",
            params,
        )
    )
    assert f"USING INDEX {index}" in plan, plan


# -- retention ---------------------------------------------------------------


def test_prune_by_age_and_count_in_small_batches(opener: Opener) -> None:
    store = opener()
    store.append_events(ev(n) for n in range(100))
    deleted = store.prune_events(before=T0 + timedelta(hours=30), batch=7)
    assert deleted == 30
    assert store.count_events() == 70
    assert min(e.at for e in store.events(limit=1000)) == T0 + timedelta(hours=30)
    assert store.prune_events(keep=25, batch=7) == 45
    assert [e.key for e in store.events(limit=1000)] == [f"k{n}" for n in range(99, 74, -1)]
    assert store.prune_events(before=T0, keep=25) == 0  # nothing left to do


def test_prune_can_be_cancelled_between_batches(opener: Opener) -> None:
    store = opener()
    store.append_events(ev(n) for n in range(100))
    calls = iter([False, False, True])
    assert store.prune_events(keep=0, batch=10, cancelled=lambda: next(calls)) == 20


def test_prune_in_a_thread_while_the_portal_writes(opener: Opener) -> None:
    """Retention runs beside the UI: appends and queries keep working and nothing new is lost."""
    store = opener()
    store.append_events(ev(n, at=T0 - timedelta(days=365)) for n in range(5000))
    pruned: list[int] = []
    thread = threading.Thread(
        target=lambda: pruned.append(store.prune_events(before=T0, batch=100))
    )
    thread.start()
    for n in range(200):
        store.append_events([ev(n, key=f"new{n}")])
        assert store.events(since=T0, limit=1)
    thread.join(timeout=60)
    assert pruned == [5000]
    assert store.count_events() == 200


def test_memory_store_prunes_too() -> None:
    store = Store.memory()
    store.append_events(ev(n) for n in range(10))
    assert store.prune_events(keep=3, batch=2) == 7
    assert [e.key for e in store.events()] == ["k9", "k8", "k7"]


# -- unusable files ------------------------------------------------------------


def test_a_read_only_store_reads_but_refuses_writes_clearly(tmp_path: Path) -> None:
    """`Store.open(read_only=True)` (SQLite `mode=ro`): reads work, writes are a StoreError.

    The file-permission path (a file this user may not write) is tested in
    test_events_reliability with an unprivileged child process.
    """
    path = tmp_path / "wm.sqlite3"
    writer = Store.open(path)
    writer.append_events([ev(0)])
    reader = Store.open(path, read_only=True)
    assert [e.key for e in reader.events()] == ["k0"]
    with pytest.raises(StoreError, match="read-only"):
        reader.append_events([ev(1)])
    with pytest.raises(StoreError, match="read-only"):
        reader.prune_events(keep=0)
    writer.append_events([ev(2)])  # a writer elsewhere: the reader sees it
    assert [e.key for _, e in reader.events_after(1)] == ["k2"]
    with pytest.raises(StoreError, match="no history yet"):
        Store.open(tmp_path / "missing.sqlite3", read_only=True)


def test_a_truncated_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    store = Store.open(path)
    store.append_events(ev(n, detail="x" * 500) for n in range(200))
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 4096 + data[4196:])  # header kept, pages smashed

    def use() -> None:
        s = Store.open(path)
        s.events(limit=1000)
        s.append_events([ev(999)])

    with pytest.raises(StoreError) as info:
        use()
    assert str(path) in str(info.value)


def test_damage_found_while_reading_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    store = Store.open(path)
    store.append_events(ev(n, detail="x" * 500) for n in range(400))
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    data[page * 20 : page * 40] = b"\x0d" * (page * 20)  # events pages, schema page intact
    path.write_bytes(bytes(data))
    opened = Store.open(path)
    with pytest.raises(StoreError, match=r"cannot read \(database disk image is malformed"):
        opened.events(limit=1000)
