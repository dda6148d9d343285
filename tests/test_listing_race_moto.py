"""A listing sent before an action's outcome was read answers from an earlier moment: when
it arrives after the outcome, the row keeps the outcome (the newest word), against a real
moto server. Before, the older listing put "stopping" back over "stopped" until the next
poll (seen on a wm serve account, whose listing carries the server's row mid-action)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tests.conftest import Cloud
from winged_monkey.actions import Action
from winged_monkey.engine.inventory import AccountUpdate
from winged_monkey.models import Instance, InstanceState


async def test_a_listing_older_than_an_outcome_does_not_put_the_old_state_back(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud.launch(cloud.ec2(), "web")
    portal = cloud.portal(cloud.account("dev"))
    async for _ in portal.refresh():
        pass
    (web,) = portal.instances()
    backend = await portal.backend("dev")
    real = backend.list_instances
    listed, release = asyncio.Event(), asyncio.Event()

    async def answered_then_held() -> Sequence[Instance]:
        rows = await real()  # the cloud answers now: web is still running
        listed.set()
        await release.wait()  # ... and the answer arrives after the stop's outcome
        return rows

    monkeypatch.setattr(backend, "list_instances", answered_then_held)
    updates: list[AccountUpdate] = []

    async def poll() -> None:
        async for update in portal.refresh():
            updates.append(update)

    polling = asyncio.create_task(poll())
    await asyncio.wait_for(listed.wait(), 10)
    outcomes = [u async for u in portal.run_action(Action.STOP, web)]
    assert outcomes[-1].phase == "done"
    assert outcomes[-1].instance.state is InstanceState.STOPPED
    release.set()
    await asyncio.wait_for(polling, 10)

    (row,) = portal.instances()
    assert row.state is InstanceState.STOPPED
    (shown,) = [u.instances for u in updates if u.instances is not None]
    assert [i.state for i in shown] == [InstanceState.STOPPED]
    await portal.close()


async def test_an_outcome_read_while_a_listing_is_being_kept_is_not_lost(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing's answer (web running) is in; while it is saved to the store (a thread
    hop, slow on a loaded machine) a stop's follow reads web stopped. The listing then showed
    its own rows over the one just read, and, looking the read row up among those, kept
    "running" until the next poll (seen as a launch settled "running" whose row stayed
    pending, through wm serve)."""
    cloud.launch(cloud.ec2(), "web")
    portal = cloud.portal(cloud.account("dev"))
    async for _ in portal.refresh():
        pass
    (web,) = portal.instances()
    real = portal.recorder.save_snapshot
    saving, release = asyncio.Event(), asyncio.Event()
    held = False

    async def held_once(snapshot: object) -> None:
        nonlocal held
        if not held:
            held = True
            saving.set()
            await release.wait()
        await real(snapshot)  # type: ignore[arg-type]

    monkeypatch.setattr(portal.recorder, "save_snapshot", held_once)

    async def poll() -> None:
        async for _ in portal.refresh():
            pass

    polling = asyncio.create_task(poll())
    await asyncio.wait_for(saving.wait(), 10)
    outcomes = [u async for u in portal.run_action(Action.STOP, web)]
    assert outcomes[-1].instance.state is InstanceState.STOPPED
    release.set()
    await asyncio.wait_for(polling, 10)

    (row,) = portal.instances()
    assert row.state is InstanceState.STOPPED
    await portal.close()


async def test_an_action_cancelled_while_its_request_is_logged_leaves_the_row_free(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intent is logged before the call is sent; an action cancelled during that write
    (the TUI quitting, a `wm serve` request given up) sent nothing, yet its row stayed "in
    flight" and every later action on it was refused ("web already has an action in
    flight") until wm (or wm serve) restarted. The write is held here: a store slow to take
    it (another process's transaction) does so on a loaded machine."""
    cloud.launch(cloud.ec2(), "web")
    portal = cloud.portal(cloud.account("dev"))
    async for _ in portal.refresh():
        pass
    (web,) = portal.instances()
    real = portal.recorder.append
    writing, never = asyncio.Event(), asyncio.Event()
    held = False

    async def held_once(events: Sequence[object]) -> int:
        nonlocal held
        if not held:
            held = True
            writing.set()
            await never.wait()  # cancelled here
        return await real(events)  # type: ignore[arg-type]

    monkeypatch.setattr(portal.recorder, "append", held_once)

    async def stop() -> None:
        async for _ in portal.run_action(Action.STOP, web):
            pass

    first = asyncio.create_task(stop())
    await asyncio.wait_for(writing.wait(), 10)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert cloud.state_of(cloud.ec2(), web.id) == "running"  # nothing was sent
    outcomes = [u async for u in portal.run_action(Action.STOP, web)]
    assert outcomes[-1].phase == "done", outcomes[-1]
    assert outcomes[-1].instance.state is InstanceState.STOPPED
    await portal.close()
