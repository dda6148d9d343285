"""Heat's own stack events in the portal's event log, against the real standalone Heat."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.faultproxy import Fault, FaultProxy
from tests.heat.conftest import SLOW, SMALL, Projects, heat_account, make_portal, refresh
from winged_monkey.backend import NativeEvents
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import UnreachableError
from winged_monkey.models import Event, EventSource, Instance
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import Config, EventsConfig
from winged_monkey_heat import HeatBackend
from winged_monkey_heat.models import StackEvent
from winged_monkey_heat.stacks import EVENT_PAGE


def native(store: Store, account: str) -> list[Event]:
    return store.events(account=account, sources=[EventSource.NATIVE])


def heat_event_ids(heat: Projects, account: str, stack_name: str, stack_id: str) -> list[str]:
    """The witness: every event Heat holds for the stack, through plain httpx."""
    reply = heat.witness(account, "GET", f"/stacks/{stack_name}/{stack_id}/events")
    assert reply.status_code == 200, reply.text
    return [str(e["id"]) for e in reply.json()["events"]]


def watch_markers(backend: HeatBackend, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The marker of each events read the backend makes from now on, in order (a witness
    only: the real call goes to the real Heat)."""
    markers: list[str | None] = []
    real = backend.stacks.events  # what every part of the backend reads events through

    async def watched(
        stack_id: str, marker: str | None = None, limit: int = 100, *, newest_first: bool = False
    ) -> list[StackEvent]:
        markers.append(marker)
        return await real(stack_id, marker, limit, newest_first=newest_first)

    monkeypatch.setattr(backend.stacks, "events", watched)
    return markers


async def test_refresh_records_each_heat_event_once(heat: Projects) -> None:
    web = heat.create("ev", "web", SMALL)
    assert heat.wait("ev", web) == "CREATE_COMPLETE"
    portal = heat.portal("ev")
    store = heat.stores[-1]

    updates = await refresh(portal)
    assert updates["ev"].status.phase == "ok"
    recorded = native(store, "ev")
    witness = heat_event_ids(heat, "ev", "web", web)
    assert len(recorded) == len(witness) >= 4  # stack + secret + group, in progress and done
    assert {e.key for e in recorded} == {f"heat:ev:{web}:{i}" for i in witness}
    stack_done = [e for e in recorded if e.detail == "Stack CREATE completed successfully"]
    assert [(e.kind, e.target, e.target_name) for e in stack_done] == [("create", web, "web")]
    assert stack_done[0].new_state == "CREATE_COMPLETE"
    # A resource's event names it in the target (`web/group`), its reason in the detail.
    assert any((e.target_name, e.detail) == ("web/group", "state changed") for e in recorded)

    # A second refresh adds nothing, and says so (no update carrying events).
    again = [u async for u in portal.refresh()]
    assert not any(u.events for u in again)
    assert len(native(store, "ev")) == len(witness)

    # A suspend is read from the marker on: only its own events are new.
    reply = heat.witness("ev", "POST", f"/stacks/web/{web}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("ev", web) == "SUSPEND_COMPLETE"
    await refresh(portal)
    after = native(store, "ev")
    assert len(after) == len(heat_event_ids(heat, "ev", "web", web))
    new = {e.key for e in after} - {e.key for e in recorded}
    assert new
    assert {e.kind for e in after if e.key in new} == {"suspend"}
    # The suspend, done behind the portal's back, is also an observed change of the app.
    observed = store.events(target=web, sources=[EventSource.OBSERVED])
    assert [(e.kind, e.old_state, e.new_state) for e in observed] == [
        ("state", "running", "suspended")
    ]

    # Another portal on the same log (its markers start empty): re-reading duplicates nothing.
    fresh, _ = make_portal(heat.tmp_path / "again", heat.account("ev"))
    fresh.store.close()
    fresh.store = store
    await refresh(fresh)
    assert len(native(store, "ev")) == len(after)
    await fresh.close()
    await portal.close()


async def test_a_stack_in_progress_is_followed_by_marker(heat: Projects) -> None:
    slow = heat.create("prog", "slowpoke", SLOW, wait=2)
    portal = heat.portal("prog")
    store = heat.stores[-1]
    await refresh(portal)
    first = {e.new_state for e in native(store, "prog")}
    assert "CREATE_IN_PROGRESS" in first
    assert "CREATE_COMPLETE" not in first
    assert heat.wait("prog", slow) == "CREATE_COMPLETE"
    await refresh(portal)
    states = [e.new_state for e in native(store, "prog")]
    assert states.count("CREATE_COMPLETE") == 2  # the resource and the stack, once each
    assert states.count("CREATE_IN_PROGRESS") == 2
    assert len(states) == len(heat_event_ids(heat, "prog", "slowpoke", slow))
    await portal.close()


async def test_events_failing_never_fails_the_listing(
    heat: Projects, monkeypatch: pytest.MonkeyPatch
) -> None:
    heat.wait("flaky", heat.create("flaky", "app"))

    async def broken(
        self: HeatBackend, instances: Sequence[Instance], markers: Mapping[str, str]
    ) -> NativeEvents:
        raise UnreachableError("cannot connect to Heat (injected)", account="flaky")

    portal = heat.portal("flaky")
    store = heat.stores[-1]
    with monkeypatch.context() as patch:
        patch.setattr(HeatBackend, "native_events", broken)
        updates = await refresh(portal)
    assert updates["flaky"].status.phase == "ok"
    assert [i.name for i in updates["flaky"].instances or ()] == ["app"]
    assert portal.native_events_error("flaky") == "events: cannot connect to Heat (injected)"
    assert native(store, "flaky") == []

    # The next poll reads them (the failed one advanced no marker) and clears the error.
    await refresh(portal)
    assert portal.native_events_error("flaky") is None
    assert len(native(store, "flaky")) >= 2
    await portal.close()


async def test_app_detail_read_again_asks_only_for_newer_events(
    heat: Projects, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detail view re-reads an app while it is in progress: the events come from the
    marker of the newest one shown, never the whole history again, and none is lost."""
    shop = heat.create("detail", "shop", SMALL)
    assert heat.wait("detail", shop) == "CREATE_COMPLETE"
    backend = heat.backend("detail")
    (row,) = await backend.list_instances()
    markers = watch_markers(backend, monkeypatch)
    first = await backend.app_detail(row)
    assert first.events[0].detail == "Stack CREATE completed successfully"
    oldest_shown = first.events[-1].key.rsplit(":", 1)[-1]
    assert markers == [None, oldest_shown]  # the newest page, then none older: all read

    reply = heat.witness("detail", "POST", f"/stacks/shop/{shop}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("detail", shop) == "SUSPEND_COMPLETE"
    markers.clear()
    again = await backend.app_detail(row)
    newest_shown = first.events[0].key.rsplit(":", 1)[-1]
    newest_now = again.events[0].key.rsplit(":", 1)[-1]
    assert markers == [newest_shown, newest_now]  # what came after, then nothing more
    everything = heat_event_ids(heat, "detail", "shop", shop)
    assert len(again.events) == len(everything)  # the old ones kept, the new ones on top
    assert again.events[0].detail == "Stack SUSPEND completed successfully"
    assert again.events[len(again.events) - len(first.events) :] == first.events
    await backend.close()


async def test_a_new_process_reuses_member_counts_of_unchanged_stacks(
    heat: Projects, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wm ls` is a new process each time: member counts of stacks unchanged since the
    stored listing are not asked again; a stack that changed is."""
    web = heat.create("recall", "web", SMALL)
    db = heat.create("recall", "db", SMALL)
    assert heat.wait("recall", web) == heat.wait("recall", db) == "CREATE_COMPLETE"
    first, store = make_portal(tmp_path, heat.account("recall"))
    await refresh(first)
    counted = {i.name: i.members for i in first.instances()}
    assert counted == {"web": 2, "db": 2}
    await first.close()
    store.close()
    reply = heat.witness("recall", "POST", f"/stacks/db/{db}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("recall", db) == "SUSPEND_COMPLETE"

    second, store = make_portal(tmp_path, heat.account("recall"))
    backend = await second.backend("recall")
    assert isinstance(backend, HeatBackend)
    asked: list[str] = []
    real = backend.client.request

    async def watched(method: str, path: str, **kwargs: Any) -> Any:
        asked.append(path)  # a witness only: the call goes to the real Heat
        return await real(method, path, **kwargs)

    monkeypatch.setattr(backend.client, "request", watched)
    await refresh(second)
    assert {i.name: i.members for i in second.instances()} == counted
    assert [p for p in asked if p.endswith("/resources")] == [f"/stacks/db/{db}/resources"]
    await second.close()
    store.close()


async def test_a_new_process_asks_heat_only_for_events_after_the_last_read(
    heat: Projects, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each `wm` start read every stack's whole event history again (its markers were in
    memory): over a slow link, pages of events the log already holds. A new process on
    the same store asks from the marker the last one read to, and still records what
    happened between the two."""
    web = heat.create("marked", "web", SMALL)
    assert heat.wait("marked", web) == "CREATE_COMPLETE"
    first, store = make_portal(tmp_path, heat.account("marked"))
    await refresh(first)
    await refresh(first)  # the listing after the events were read keeps their markers
    recorded = len(native(store, "marked"))
    assert recorded >= 4
    await first.close()
    store.close()
    reply = heat.witness("marked", "POST", f"/stacks/web/{web}/actions", json={"suspend": None})
    assert reply.status_code == 200, reply.text
    assert heat.wait("marked", web) == "SUSPEND_COMPLETE"

    second, store = make_portal(tmp_path, heat.account("marked"))
    backend = await second.backend("marked")
    assert isinstance(backend, HeatBackend)
    markers = watch_markers(backend, monkeypatch)
    await refresh(second)
    assert markers, "no events were read"
    assert None not in markers  # never the whole history again
    after = native(store, "marked")
    assert len(after) == len(heat_event_ids(heat, "marked", "web", web)) > recorded
    assert any(e.kind == "suspend" for e in after)
    await second.close()
    store.close()


async def test_heat_events_past_the_retention_are_not_recorded(heat: Projects) -> None:
    """Markers live in memory: each start of the TUI reads every stack's whole history
    from Heat, and events older than max_age_days, which retention had pruned, came back
    as new: `wm events --follow` in another terminal printed months-old stack events, and
    the events view showed them, until the next pruning. (Here wm's clock runs 91 days
    ahead of Heat's, as a stack made 91 days ago would be read.)"""
    web = heat.create("aged", "web", SMALL)
    assert heat.wait("aged", web) == "CREATE_COMPLETE"
    store = Store.open(heat.tmp_path / "aged.sqlite3")
    later = datetime.now(UTC) + timedelta(days=91)
    config = Config(accounts=(heat.account("aged"),), events=EventsConfig(max_age_days=90))
    portal = Portal(config, store, user="tester", clock=lambda: later)
    first = store.last_seq()

    updates = [u async for u in portal.refresh()]
    assert updates[-1].status.phase == "ok"
    carried = [e for u in updates for e in u.events if e.source is EventSource.NATIVE]
    assert carried == []
    recorded = [e for _, e in store.events_after(first) if e.source is EventSource.NATIVE]
    assert recorded == []  # what --follow reads: not even for a moment
    await portal.close()

    current = heat.portal("aged")  # the same stack, read with the clocks agreeing
    await refresh(current)
    assert len(native(heat.stores[-1], "aged")) == len(heat_event_ids(heat, "aged", "web", web))
    store.close()


async def test_every_event_is_read_when_heat_answers_short_pages(
    heat: Projects, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """A Heat (or a proxy before it) may answer fewer events than a page asks while more
    remain: paging stopped at the first short page, and the log and the app's detail had
    the first events only. The proxy lowers each page's limit; the real Heat pages."""
    shop = heat.create("short", "shop", SMALL)
    assert heat.wait("short", shop) == "CREATE_COMPLETE"
    everything = heat_event_ids(heat, "short", "shop", shop)
    assert len(everything) >= 4
    proxy = fault_proxy(heat.server.port)
    proxy.fault = Fault("rewrite", find=f"limit={EVENT_PAGE}".encode(), instead=b"limit=2")
    url = f"http://127.0.0.1:{proxy.port}/v1"
    portal, store = make_portal(heat.tmp_path, heat_account("short", url, heat.project("short")))
    heat.stores.append(store)

    await refresh(portal)
    assert portal.native_events_error("short") is None
    assert {e.key for e in native(store, "short")} == {f"heat:short:{shop}:{i}" for i in everything}
    pages = [line for line in proxy.request_lines if "/events?" in line]
    assert len(pages) == -(-len(everything) // 2) + 1, pages  # 2 a page, then an empty one

    (app,) = portal.instances()
    detail = await portal.app_detail(app, events=EVENT_PAGE)
    assert len(detail.events) == len(everything)
    assert detail.events[0].detail == "Stack CREATE completed successfully"  # newest first
    await portal.close()
