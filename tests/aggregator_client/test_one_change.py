"""One change through an aggregator account is one row, against the real `wm serve`: the
local action, the server's record of the request, its own action and both sides'
observations are parts of the local intent (the client sends its intent's key with the
request); a change someone else made through the server stays their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh, until
from tests.ui.conftest import settle, wait_for
from tests.ui.test_events import open_events
from winged_monkey.actions import Action
from winged_monkey.cli.main import main
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Event, EventSource
from winged_monkey.terminal.history import folded
from winged_monkey.ui.app import WMApp
from winged_monkey.wire import CLIENT_CAUSE, EventPage


def root(events: list[Event], event: Event) -> str:
    """The key the event's `cause` chain ends at among `events`."""
    by_key = {e.key: e for e in events}
    while event.cause in by_key:
        event = by_key[event.cause]
    return event.key


async def act_and_observe(portal: Portal, action: Action, name: str, state: str) -> str:
    """Run `action` on the team row `name` and poll until both sides saw it reach `state`
    (our listing, and the server's own observation among its events); the intent's key."""
    row = next(i for i in portal.instances() if i.account == "team" and i.name == name)
    updates = [u async for u in portal.run_action(action, row)]
    assert updates[-1].phase == "done", updates[-1].message

    def seen(source: EventSource) -> bool:
        found = portal.store.events(account="team", target=row.id, sources=[source])
        return any(e.kind == "state" and e.new_state == state for e in found)

    async def both_saw_it() -> bool:
        await refresh(portal)
        return seen(EventSource.OBSERVED) and seen(EventSource.NATIVE)

    await until(f"both sides to observe {name} {state}", both_saw_it)
    return updates[-1].intent


async def test_a_stop_through_the_aggregator_is_one_change_with_its_parts(
    team: RunningAggregator, portals: Portals, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = team.mint("olga", "operator", pool="alpha")
    portal = portals(aggregator_account("team", team.url, token, monkeypatch))
    await refresh(portal)
    target = f"team-a/{team.ids['team-a', 'web']}"
    intent = await act_and_observe(portal, Action.STOP, "web", "stopped")

    events = portal.store.events(account="team", target=target)
    assert {root(events, e) for e in events} == {intent}
    ours = {(e.source, e.kind, e.outcome) for e in events if not e.key.startswith("aggregator:")}
    assert ours == {
        (EventSource.ACTION, "stop", "requested"),
        (EventSource.ACTION, "stop", "ok"),
        (EventSource.OBSERVED, "state", None),
    }
    theirs = [e for e in events if e.source is EventSource.NATIVE]
    assert {(e.kind, e.user, e.outcome) for e in theirs} >= {
        ("stop", "olga", "requested"),  # the server's record of the request, then its action
        ("stop", "olga", "ok"),
        ("state", None, None),  # what the server's poll observed
    }
    (row,) = folded(events)
    assert row.key == intent
    assert row.detail is not None
    assert row.detail.endswith(f"{len(events)} parts")

    # The server's own log still holds its events, the request naming the client's intent.
    with team.client(token) as http:
        page = EventPage.model_validate(
            http.get(
                "/api/v1/events",
                params={"account": "team-a", "target": team.ids["team-a", "web"], "limit": 1000},
            ).json()
        )
    server = list(page.events)
    assert len(server) == len(theirs)
    (request,) = [e for e in server if e.key.startswith("request:")]
    assert request.cause == CLIENT_CAUSE + intent
    assert {root(server, e) for e in server} == {request.key}  # one change there too

    # `wm events`: one line for the change; --parts lists each.
    env = {"WM_DATA_DIR": str(tmp_path)}
    table = CliRunner().invoke(main, ["events", "--target", target], env=env)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert len(lines) == 2, table.stdout  # the header and the change
    assert f"{len(events)} parts" in lines[1]
    every = CliRunner().invoke(main, ["events", "--target", target, "--parts"], env=env)
    assert len(every.stdout.splitlines()) == 1 + len(events)

    # The events view: one row; `f` shows every part.
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        shown = [e for e in screen.table.shown if e.target == target]
        assert [e.key for e in shown] == [intent]
        await pilot.press("f")
        await wait_for(
            pilot,
            lambda: len([e for e in screen.table.shown if e.target == target]) == len(events),
            "every part of the change",
        )


async def test_someone_elses_change_through_the_server_stays_their_own(
    team: RunningAggregator, portals: Portals, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = portals(
        aggregator_account("team", team.url, team.mint("olga", "operator", "alpha"), monkeypatch)
    )
    await refresh(mine)
    target = f"team-a/{team.ids['team-a', 'web']}"
    stop = await act_and_observe(mine, Action.STOP, "web", "stopped")
    before = mine.store.events(account="team", target=target)

    # Otto's own wm (its own log, the same local account name) starts it again.
    otto = team.mint("otto", "operator", pool="alpha")
    theirs = portals(aggregator_account("team", team.url, otto, monkeypatch), name="otto")
    await refresh(theirs)
    await act_and_observe(theirs, Action.START, "web", "running")

    def saw_otto() -> bool:
        found = mine.store.events(account="team", target=target, sources=[EventSource.NATIVE])
        started = {(e.kind, e.user, e.outcome) for e in found}
        observed = any(e.kind == "state" and e.new_state == "running" for e in found)
        return ("start", "otto", "ok") in started and observed

    async def mine_saw_otto() -> bool:
        await refresh(mine)
        return saw_otto()

    await until("otto's start in my log", mine_saw_otto)
    events = mine.store.events(account="team", target=target)
    new = [e for e in events if e.key not in {b.key for b in before}]
    assert new
    assert all(root(events, e) != stop for e in new)
    assert {root(events, e) for e in before} == {stop}
    ours = [e for e in new if e.source is EventSource.OBSERVED]  # my poll saw it run again
    assert ours
    assert all(e.cause is None for e in ours)
    rows = folded(events)
    assert [r.key for r in rows].count(stop) == 1
    assert len(rows) > 1
