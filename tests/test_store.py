from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from winged_monkey.errors import StoreError
from winged_monkey.models import AccountSnapshot, Event, EventSource, Instance, InstanceState
from winged_monkey.observe import diff_inventories
from winged_monkey.store import SCHEMA_VERSION, Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def inst(instance_id: str, state: InstanceState, name: str = "web") -> Instance:
    return Instance(
        account="dev", id=instance_id, name=name, state=state, raw_state=str(state), provider="ec2"
    )


def snapshot(at: datetime, *instances: Instance) -> AccountSnapshot:
    return AccountSnapshot(account="dev", fetched_at=at, instances=instances)


def test_inventory_and_events_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    store = Store.open(path)
    store.save_snapshot(snapshot(T0, inst("i-1", InstanceState.RUNNING)))
    event = Event(
        key="k1", at=T0, source=EventSource.ACTION, kind="stop", account="dev", target="i-1"
    )
    assert store.append_events([event]) == 1
    store.close()

    again = Store.open(path)
    assert again.load_snapshots()["dev"].instances[0].id == "i-1"
    assert again.events() == [event]


def test_events_are_deduplicated_by_key_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "wm.sqlite3"
    first, second = Store.open(path), Store.open(path)
    event = Event(
        key="same", at=T0, source=EventSource.OBSERVED, kind="state", account="dev", target="i"
    )
    assert first.append_events([event]) == 1
    assert second.append_events([event]) == 0
    assert len(first.events()) == 1


def test_observed_diff_has_stable_keys(tmp_path: Path) -> None:
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
    store = Store.open(tmp_path / "wm.sqlite3")
    assert store.append_events(events) == 3
    assert (
        store.append_events(diff_inventories("dev", before, now, T0 + timedelta(seconds=20))) == 0
    )


def test_event_filters(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "wm.sqlite3")
    store.append_events(
        Event(
            key=f"k{n}",
            at=T0 + timedelta(hours=n),
            source=EventSource.OBSERVED,
            kind="state",
            account="dev" if n % 2 else "prod",
            target=f"i-{n}",
        )
        for n in range(6)
    )
    assert [e.key for e in store.events(limit=2)] == ["k5", "k4"]
    assert [e.key for e in store.events(since=T0 + timedelta(hours=3))] == ["k5", "k4", "k3"]
    assert [e.key for e in store.events(account="prod")] == ["k4", "k2", "k0"]
    assert [e.key for e in store.events(target="i-1")] == ["k1"]


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
