"""Events from a real cloud: moto's server changes between refreshes, `wm events` shows it,
and no secret ever reaches the store file or an export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from tests.conftest import Cloud
from tests.processes import free_port
from winged_monkey.actions import Action
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Event, EventSource, Instance, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.user import paths

CANARY = "wm-canary-5ecret-Q7vX2pLk9"


async def refresh(portal: Portal) -> None:
    async for _update in portal.refresh():
        pass


def wm_events(*args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["events", "--json", *args], catch_exceptions=False)
    assert result.exit_code == ExitCode.OK, result.output
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


async def test_changes_on_the_server_between_refreshes_appear_in_wm_events(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    stays, stops, goes = (cloud.launch(ec2, n) for n in ("stays", "stops", "goes"))
    portal = cloud.portal(cloud.account("dev"), store=paths.store_path())
    await refresh(portal)
    assert wm_events() == []  # a first inventory is not a change

    ec2.stop_instances(InstanceIds=[stops])
    ec2.terminate_instances(InstanceIds=[goes])
    new = cloud.launch(ec2, "new")
    assert cloud.state_of(ec2, stops) == "stopped"
    await refresh(portal)
    await portal.close()

    seen = {(e["target"], e["kind"], e["old_state"], e["new_state"]) for e in wm_events()}
    assert seen == {
        (stops, "state", "running", "stopped"),
        (goes, "state", "running", "terminated"),
        (new, "appeared", None, "running"),
    }
    assert stays not in {e["target"] for e in wm_events()}
    (only,) = wm_events("--target", stops, "--since", "1h")
    assert only["source"] == "observed"
    assert only["account"] == "dev"
    assert only["target_name"] == "stops"


async def test_a_poll_after_another_wm_polled_diffs_against_what_that_one_saw(cloud: Cloud) -> None:
    """Two `wm` on one store take turns polling an account: each poll's changes are counted
    from the store's last inventory, whoever saved it, not from the one this process had in
    hand (kept so that a poll needs no second copy of every row)."""
    ec2 = cloud.ec2()
    cloud.launch(ec2, "stays")
    first = cloud.portal(cloud.account("dev"), store=paths.store_path())
    second = cloud.portal(cloud.account("dev"), store=paths.store_path())
    await refresh(first)
    brief = cloud.launch(ec2, "brief")
    await refresh(second)  # saw it appear
    ec2.terminate_instances(InstanceIds=[brief])
    assert cloud.state_of(ec2, brief) == "terminated"
    await refresh(first)  # saw it end: since the second's inventory, not its own first
    await first.close()
    await second.close()

    seen = {(e["kind"], e["old_state"], e["new_state"]) for e in wm_events("--target", brief)}
    assert seen == {("appeared", None, "running"), ("state", "running", "terminated")}


def files_containing(needle: bytes, *paths_: Path) -> list[str]:
    return [p.name for p in paths_ if needle in p.read_bytes()]


def test_the_canary_check_finds_a_leak_when_there_is_one(tmp_path: Path) -> None:
    """The control: the byte search does see text stored in an event."""
    path = tmp_path / "leaky.sqlite3"
    store = Store.open(path)
    store.append_events(
        [
            Event(
                key="k",
                at=datetime.now(UTC),
                source=EventSource.ACTION,
                kind="stop",
                account="a",
                target="i",
                detail=f"boom {CANARY}",
            )
        ]
    )
    store.close()
    assert files_containing(CANARY.encode(), path) == ["leaky.sqlite3"]


async def test_no_secret_reaches_the_store_or_an_export(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    target = cloud.launch(ec2, "web")
    good = cloud.account("canary", secret=CANARY)
    broken = cloud.account("canary-broken", secret=CANARY, port=free_port(), timeout=3)
    portal = cloud.portal(good, broken, store=paths.store_path())

    await refresh(portal)  # canary-broken fails: its error must not carry the secret either
    assert portal.status("canary").phase == "ok"
    assert portal.status("canary-broken").phase == "failed"
    instance = portal.instance(f"canary/{target}")
    assert instance is not None
    ok = [u async for u in portal.run_action(Action.STOP, instance)]
    assert ok[-1].phase == "done"
    ghost = Instance(
        account="canary-broken",
        id="i-0123456789abcdef0",
        name="ghost",
        state=InstanceState.RUNNING,
        raw_state="running",
        provider="ec2",
    )
    failed = [u async for u in portal.run_action(Action.STOP, ghost)]
    assert failed[-1].phase == "failed"
    await refresh(portal)  # observed: the stop, as the inventory saw it
    ec2.start_instances(InstanceIds=[target])
    await refresh(portal)  # and a start from outside the portal
    await portal.close()

    outcomes = {(e["kind"], e["outcome"]) for e in wm_events()}
    assert {("stop", "ok"), ("stop", "failed"), ("state", None)} <= outcomes
    failure = next(e for e in wm_events() if e["outcome"] == "failed")
    assert failure["detail"]  # the provider's reason is kept...
    json_export = CliRunner().invoke(main, ["events", "--json"]).stdout
    csv_export = CliRunner().invoke(main, ["events", "--csv"]).stdout
    table = CliRunner().invoke(main, ["events"]).stdout
    assert "canary-broken" in csv_export
    assert "canary-broken" in table
    # ...but the secret is nowhere: not in the SQLite file, its WAL, nor any export.
    store_files = sorted(paths.store_path().parent.glob("wm.sqlite3*"))
    assert paths.store_path() in store_files
    assert files_containing(CANARY.encode(), *store_files) == []
    for export in (json_export, csv_export, table):
        assert CANARY not in export


async def test_a_change_found_after_hours_unlisted_says_when_it_was_last_seen(
    cloud: Cloud,
) -> None:
    """Listed at 08:00, not again until 17:30 (the account failing its polls, or no wm
    running): the change was logged at 17:30 as if it happened then; it happened some time
    in between. A change found at the usual pace says nothing of the kind."""
    from datetime import timedelta

    from winged_monkey.user.config import Config

    ec2 = cloud.ec2()
    web, db = cloud.launch(ec2, "web"), cloud.launch(ec2, "db")
    now = [datetime(2026, 3, 2, 8, 0, tzinfo=UTC)]
    store = Store.open(paths.store_path())
    cloud.stores.append(store)
    portal = Portal(
        Config(accounts=(cloud.account("dev"),), refresh_interval=15),
        store,
        clock=lambda: now[0],
        user="tester",
    )
    await refresh(portal)
    ec2.stop_instances(InstanceIds=[web])
    now[0] += timedelta(hours=9, minutes=30)
    await refresh(portal)
    ec2.stop_instances(InstanceIds=[db])
    now[0] += timedelta(seconds=15)
    await refresh(portal)
    await portal.close()

    found = {e["target"]: e for e in wm_events() if e["kind"] == "state"}
    assert found[web]["detail"] == (
        "not listed for 9 h 30 min before this (last listed 2026-03-02 08:00 UTC): changed "
        "some time between"
    )
    assert found[db]["detail"] is None
    # A script reads when it was last listed, not only the words: from then to the
    # change its state is unknown.
    assert found[web]["since"] == "2026-03-02T08:00:00+00:00"
    assert found[web]["at"] == "2026-03-02T17:30:00+00:00"
    assert found[db]["since"] is None
