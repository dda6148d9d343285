"""One launch through an aggregator account is one row, against the real `wm serve`: the
local launch intent, its outcome and our listing's sight of the new instance, and the
server's record of the request, its own launch and its observation, are parts of the local
intent (the client sends its intent's key with the launch); someone else's launch through
the server stays their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aggregator.server import RunningAggregator
from tests.aggregator.test_pools import MISSING_AMI, synthetic_cloud
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from tests.aggregator_client.test_one_change import root
from tests.ui.conftest import settle, wait_for
from tests.ui.test_events import open_events
from winged_monkey.catalog import LaunchRequest
from winged_monkey.cli.main import main
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Event, EventSource
from winged_monkey.terminal.history import folded
from winged_monkey.ui.app import WMApp
from winged_monkey.wire import CLIENT_CAUSE, EventPage


def golden_image(team: RunningAggregator) -> str:
    """An image of team-a's own (the catalog offers owned images), as a deployable id."""
    ec2 = team.ec2("team-a")
    image = ec2.create_image(InstanceId=team.ids["team-a", "web"], Name="golden-web")["ImageId"]
    return f"alpha/team-a:image:{image}"


async def launch_and_observe(portal: Portal, item: str, name: str) -> tuple[str, str]:
    """Launch `item` as `name` on the team account, follow it until it runs, and poll until
    both sides saw the new instance (our listing, and the server's observation among its
    events); (the intent's key, the new row's id)."""
    request = LaunchRequest(item=item, kind="deployable", name=name, size="t3.micro")
    updates = [u async for u in portal.launch("team", request)]
    assert updates[-1].phase == "done", updates[-1].message
    new = updates[-1].instance.id

    def seen(source: EventSource) -> bool:
        return bool(portal.store.events(account="team", target=new, sources=[source]))

    async def both_saw_it() -> bool:
        await refresh(portal)
        return seen(EventSource.OBSERVED) and any(
            e.kind in ("appeared", "state")
            for e in portal.store.events(account="team", target=new, sources=[EventSource.NATIVE])
        )

    await until(f"both sides to observe {name}", both_saw_it)
    return updates[-1].intent, new


def parts_of(events: list[Event], intent: str) -> list[Event]:
    return [e for e in events if root(events, e) == intent]


async def test_a_launch_through_the_aggregator_is_one_change_with_its_parts(
    team: RunningAggregator, portals: Portals, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    item = golden_image(team)
    token = team.mint("olga", "operator", pool="alpha")
    portal = portals(aggregator_account("team", team.url, token, monkeypatch))
    await refresh(portal)
    intent, new = await launch_and_observe(portal, item, "new-web")

    events = portal.store.events(account="team", limit=1000)
    parts = parts_of(events, intent)
    # Everything about the new instance, on either side, is part of the launch.
    assert {e.key for e in events if e.target == new} <= {e.key for e in parts}
    ours = {(e.source, e.kind, e.outcome) for e in parts if not e.key.startswith("aggregator:")}
    launched = {
        (EventSource.ACTION, "launch", "requested"),
        (EventSource.ACTION, "launch", "ok"),
        (EventSource.OBSERVED, "appeared", None),
    }
    assert launched <= ours <= launched | {(EventSource.OBSERVED, "state", None)}  # pending->
    theirs = [e for e in parts if e.source is EventSource.NATIVE]
    assert {(e.kind, e.user, e.outcome) for e in theirs} >= {
        ("launch", "olga", "requested"),  # the server's record of the request, then its launch
        ("launch", "olga", "ok"),
    }
    assert any(e.kind == "appeared" and e.user is None for e in theirs)  # the server's poll
    rows = [r for r in folded(events) if r.key == intent or r.key in {e.key for e in parts}]
    assert [r.key for r in rows] == [intent]
    assert rows[0].detail is not None
    assert rows[0].detail.endswith(f"{len(parts)} parts")

    # The server's own log names the client's intent as the request's cause.
    with team.client(token) as http:
        page = EventPage.model_validate(
            http.get("/api/v1/events", params={"account": "team-a", "limit": 1000}).json()
        )
    (request,) = [e for e in page.events if e.kind == "launch" and e.key.startswith("request:")]
    assert request.cause == CLIENT_CAUSE + intent

    # `wm events`: one line for the launch; --parts lists each.
    env = {"WM_DATA_DIR": str(tmp_path)}
    table = CliRunner().invoke(main, ["events", "--account", "team"], env=env)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert len(lines) == 1 + len(folded(events)), table.stdout
    assert [line for line in lines if f"{len(parts)} parts" in line]
    assert not [line for line in lines[1:] if "new-web" in line and "parts" not in line]
    every = CliRunner().invoke(main, ["events", "--account", "team", "--parts"], env=env)
    assert len(every.stdout.splitlines()) == 1 + len(events)

    # The events view: one row for the launch; `f` shows every part.
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        keys = {e.key for e in parts}
        assert [e.key for e in screen.table.shown if e.key in keys] == [intent]
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: len([e for e in screen.table.shown if e.key in keys]) == len(parts),
            "every part of the launch",
        )


async def test_someone_elses_launch_through_the_server_stays_their_own(
    team: RunningAggregator, portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = golden_image(team)
    mine = portals(
        aggregator_account("team", team.url, team.mint("olga", "operator", "alpha"), monkeypatch)
    )
    await refresh(mine)
    launch, _ = await launch_and_observe(mine, item, "olgas-web")
    before = mine.store.events(account="team", limit=1000)

    # Otto's own wm (its own log, the same local account name) launches another.
    otto = team.mint("otto", "operator", pool="alpha")
    theirs = portals(aggregator_account("team", team.url, otto, monkeypatch), name="otto")
    await refresh(theirs)
    _, other = await launch_and_observe(theirs, item, "ottos-web")

    def saw_otto() -> bool:
        found = mine.store.events(account="team", sources=[EventSource.NATIVE], limit=1000)
        return ("launch", "otto", "ok") in {(e.kind, e.user, e.outcome) for e in found} and any(
            e.target == other and e.kind in ("appeared", "state") for e in found
        )

    async def mine_saw_otto() -> bool:
        await refresh(mine)
        return saw_otto()

    await until("otto's launch in my log", mine_saw_otto)
    events = mine.store.events(account="team", limit=1000)
    new = [e for e in events if e.key not in {b.key for b in before}]
    others = [e for e in new if e.user == "otto" or e.target == other]
    assert [e for e in others if e.user == "otto"]
    assert all(root(events, e) != launch for e in others)
    assert [e for e in new if e.source is EventSource.OBSERVED and e.target == other]
    rows = folded(events)
    assert [r.key for r in rows].count(launch) == 1
    assert len(rows) > 1


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto refuses an image it does not have, as AWS does (read on every call)."""
    from moto import settings

    monkeypatch.setattr(settings, "ENABLE_AMI_VALIDATION", True)


async def test_a_pool_launch_that_fails_over_is_one_change_with_every_try(
    moto_server: MotoServer,
    tmp_path: Path,
    strict: None,
    portals: Portals,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # east (the cheapest with room) lacks the image: the server tries it, then west.
    with synthetic_cloud(moto_server, tmp_path / "agg", east_image=MISSING_AMI, quality=2) as agg:
        token = agg.mint("olga", "operator")
        portal = portals(aggregator_account("pooled", agg.url, token, monkeypatch))
        await refresh(portal)
        request = LaunchRequest(item="synth/web", kind="deployable", name="w1")
        updates = [u async for u in portal.launch("pooled", request)]
        assert updates[-1].phase == "done", updates[-1].message
        intent = updates[-1].intent

        def native() -> set[tuple[str, str | None]]:
            found = portal.store.events(account="pooled", sources=[EventSource.NATIVE])
            return {(e.kind, e.outcome) for e in found}

        async def imported() -> bool:
            await refresh(portal)
            return native() >= {
                ("pool-launch", "failed"),  # east's try and its settling
                ("pool-launch", "ok"),
                ("launch", "failed"),  # the server's own launch on east, then on west
                ("launch", "ok"),
            }

        await until("both tries in my log", imported)
        events = portal.store.events(account="pooled", limit=1000)
        tries = [e for e in events if e.kind == "pool-launch"]
        assert len(tries) == 4  # each try's request and its outcome
        assert {root(events, e) for e in tries} == {intent}
        server_launches = [
            e for e in events if e.source is EventSource.NATIVE and e.kind == "launch"
        ]
        assert {root(events, e) for e in server_launches} == {intent}
        assert {e.target.split("/")[0] for e in tries} == {"east", "west"}  # where each went
        olgas = [r for r in folded(events) if r.user == "olga" or r.key == intent]
        assert [r.key for r in olgas] == [intent]
