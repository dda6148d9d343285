"""One change is one row, against the real standalone Heat: what listings see of an app
while an update or a launch of ours changes it is linked to that action, including a
listing that sees a new app before the launch's answer names it; a launch whose answer
was lost claims what appears under its name for the follow deadline only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.heat.conftest import Projects, refresh
from winged_monkey.backend import sending
from winged_monkey.engine.portal import Portal, utcnow
from winged_monkey.errors import AnswerLostError
from winged_monkey.models import Event, EventSource, InstanceState
from winged_monkey.store.sqlite import Store
from winged_monkey.terminal.history import folded
from winged_monkey.user.config import Config

#: An app whose update takes a moment (long enough for a listing to see it in progress).
STEADY = """
heat_template_version: 2018-08-31
parameters:
  word:
    type: string
    default: first
resources:
  step:
    type: OS::Heat::TestResource
    properties:
      value: {get_param: word}
      action_wait_secs: {update: 2}
"""


async def until(what: str, check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Run `check` until it holds; fail naming `what` at the deadline."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def listed_as(portal: Portal, account: str, name: str, state: InstanceState) -> Callable[[], Any]:
    """A check that lists the account and holds once it shows `name` in `state`."""

    async def check() -> bool:
        await refresh(portal)
        return any(
            i.account == account and i.name == name and i.state is state for i in portal.instances()
        )

    return check


def rows_of(portal: Portal, account: str, target: str) -> list[Event]:
    """The events view's rows (one per change) about `target`, Heat's own events (rows of
    their own, in Heat's words) left out."""
    events = portal.store.events(account=account, limit=1000)
    ours = [e for e in events if e.source is not EventSource.NATIVE]
    return [e for e in folded(ours) if e.target == target]


async def test_listings_during_an_update_are_parts_of_it(heat: Projects, tmp_path: Path) -> None:
    template = tmp_path / "steady.yaml"
    template.write_text(STEADY)
    portal = heat.portal("up")
    await refresh(portal)
    launched = [u async for u in portal.launch_app("up", str(template), "steady", {})]
    assert launched[-1].phase == "done", launched[-1].message
    app = launched[-1].instance
    await until("a listing of it running", listed_as(portal, "up", "steady", InstanceState.RUNNING))

    updates = portal.update_app(app, {"word": "second"})
    requested = await anext(updates)
    assert requested.phase == "requested"
    # The TUI's poller lists while the update runs: it sees the app go to pending and back.
    await until(
        "a listing of it updating", listed_as(portal, "up", "steady", InstanceState.PENDING)
    )
    rest = [u async for u in updates]
    assert rest[-1].phase == "done", rest[-1].message
    await until("a listing of it updated", listed_as(portal, "up", "steady", InstanceState.RUNNING))

    observed = portal.store.events(account="up", target=app.id, sources=[EventSource.OBSERVED])
    moves = {(e.old_state, e.new_state): e.cause for e in observed if e.kind == "state"}
    assert set(moves) >= {("running", "pending"), ("pending", "running")}
    assert moves[("running", "pending")] == requested.intent
    # One row for the launch, one for the update: each is its intent with its parts.
    rows = rows_of(portal, "up", app.id)
    assert [r.key for r in rows] == [requested.intent, launched[-1].intent], rows
    await portal.close()


async def test_a_listing_before_the_launch_answers_sees_the_launch(
    heat: Projects, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "steady.yaml"
    template.write_text(STEADY)
    portal = heat.portal("race")
    await refresh(portal)
    backend = await portal.backend("race")
    real = backend.launch_app

    async def answer_after_a_listing(*args: Any, **kwargs: Any) -> str:
        """Heat made the app; a listing runs before the answer reaches the engine."""
        made = await real(*args, **kwargs)
        await refresh(portal)
        return made

    monkeypatch.setattr(backend, "launch_app", answer_after_a_listing)
    updates = [u async for u in portal.launch_app("race", str(template), "early", {})]
    assert updates[-1].phase == "done", updates[-1].message
    intent, new = updates[-1].intent, updates[-1].instance.id

    (appeared,) = portal.store.events(account="race", target=new, kinds=["appeared"])
    assert appeared.cause == intent  # seen before the answer, still the launch's
    assert [r.key for r in rows_of(portal, "race", new)] == [intent]
    await portal.close()


class Clock:
    """The portal's clock, moved on by the test (the follow deadline passes at once)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def clocked_portal(heat: Projects, tmp_path: Path, name: str, clock: Clock) -> Portal:
    config = Config(accounts=[heat.account(name)], action_poll_interval=0.1, action_timeout=60)
    store = Store.open(tmp_path / f"{name}.sqlite3")
    heat.stores.append(store)
    return Portal(config, store, clock=clock, user="tester")


async def lose_the_answer(
    portal: Portal, account: str, monkeypatch: pytest.MonkeyPatch, *, made: bool
) -> None:
    """The backend's launch_app is cut before its answer, once its create went out (after
    Heat made the app when `made`)."""
    backend = await portal.backend(account)
    real = backend.launch_app

    async def cut(*args: Any, **kwargs: Any) -> str:
        if made:
            await real(*args, **kwargs)
        else:
            sending()  # the create went out; Heat made nothing of it
        raise AnswerLostError("the connection was cut", account=account)

    monkeypatch.setattr(backend, "launch_app", cut)


async def test_a_lost_launch_claims_its_app_until_the_follow_deadline(
    heat: Projects, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = tmp_path / "steady.yaml"
    template.write_text(STEADY)
    clock = Clock()

    # Within the deadline: the app Heat made is the lost launch's, appearing and running.
    portal = clocked_portal(heat, tmp_path, "lost", clock)
    await refresh(portal)
    await lose_the_answer(portal, "lost", monkeypatch, made=True)
    with pytest.raises(AnswerLostError):
        _ = [u async for u in portal.launch_app("lost", str(template), "made", {})]
    (intent,) = [e for e in portal.store.events(kinds=["launch"]) if e.outcome == "requested"]
    await until("a listing of it running", listed_as(portal, "lost", "made", InstanceState.RUNNING))
    (row,) = [i for i in portal.instances() if i.name == "made"]
    (appeared,) = portal.store.events(account="lost", target=row.id, kinds=["appeared"])
    assert appeared.cause == intent.key
    assert [r.key for r in rows_of(portal, "lost", row.id)] == [intent.key]
    await portal.close()

    # Past it: an app someone else makes later under that name appears as their own.
    other = clocked_portal(heat, tmp_path, "late", clock)
    await refresh(other)
    await lose_the_answer(other, "late", monkeypatch, made=False)
    with pytest.raises(AnswerLostError):
        _ = [u async for u in other.launch_app("late", str(template), "late-app", {})]
    clock.now += timedelta(seconds=61)
    stack = heat.create("late", "late-app", STEADY)
    await until("their app listed", listed_as(other, "late", "late-app", InstanceState.RUNNING))
    (appeared,) = other.store.events(account="late", target=stack, kinds=["appeared"])
    assert appeared.cause is None
    assert appeared.key in [r.key for r in rows_of(other, "late", stack)]  # a row of its own
    await other.close()
