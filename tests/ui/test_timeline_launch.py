"""The timeline times the state before its first event from the launch: prod-db, up 3 h
and rebooted 20 min ago, read `now ▶ running for 20m` (its first event, the reboot). With
no launch time known, the state held before the first event is `≥` that long, and said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.ui.conftest import Live, open_timeline, settle, wait_for
from tests.ui.on_screen import by_name, main_of, text_of
from winged_monkey.models import Event, EventSource
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.timeline import TimelineScreen

SIZE = (80, 24)


def reboot(account: str, target: str, name: str, at: datetime) -> list[Event]:
    """carol's reboot at `at`: asked (running→), then done a minute later (→running)."""
    common = {
        "source": EventSource.ACTION,
        "kind": "reboot",
        "account": account,
        "target": target,
        "target_name": name,
        "user": "carol",
    }
    return [
        Event(key=f"r1-{target}", at=at, old_state="running", outcome="requested", **common),
        Event(
            key=f"r2-{target}",
            at=at + timedelta(minutes=1),
            new_state="running",
            outcome="ok",
            cause=f"r1-{target}",
            **common,
        ),
    ]


def title_of(timeline: TimelineScreen, name: str) -> str:
    (title,) = [line for line in text_of(timeline).splitlines() if line.startswith(f"{name}  ")]
    return title


async def test_the_running_time_counts_from_the_launch(live: Live) -> None:
    clock = [datetime.now(UTC)]
    app = WMApp(live.portal, live.config, clock=lambda: clock[0], title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        api = by_name(main_of(app).table, "api")
        assert api.created_at is not None
        now = clock[0] = api.created_at + timedelta(hours=3)  # three hours after its launch
        live.portal.store.append_events(reboot(api.account, api.id, "api", now - _20m()))
        timeline = await open_timeline(pilot, app, "api")
        await wait_for(pilot, lambda: bool(timeline.events), "the reboot in the timeline")
        await pilot.pause()
        title = title_of(timeline, "api")
        assert "now ▶ running for 3h" in title, title  # not 19m, from the reboot
        shown = text_of(timeline)
        assert "3h 100%" in " ".join(shown.split()), shown
        first = [str(timeline.table.get_row_at(0)[n]) for n in (1, 3)]
        assert first == ["created", "3h+"], first  # where the time counts from


async def test_with_no_launch_time_the_state_is_timed_at_least_from_the_first_event(
    live: Live,
) -> None:
    """A target the inventory no longer holds: its launch is unknown."""
    app: WMApp = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        now = app.clock()
        account = live.config.accounts[0].name
        live.portal.store.append_events(reboot(account, "i-0ld", "old-db", now - _20m()))
        timeline = TimelineScreen(live.portal, app.clock, account, "i-0ld", "old-db")
        await app.push_screen(timeline)
        await wait_for(pilot, lambda: bool(timeline.events), "the reboot in the timeline")
        await pilot.pause()
        title = title_of(timeline, "old-db")
        assert "last seen ▶ running for ≥19m" in title, title
        shown = " ".join(text_of(timeline).split())
        assert "≥19m 100%" in shown, shown  # the summary's running time
        assert "≥ from the first event seen" in shown, shown


def _20m() -> timedelta:
    return timedelta(minutes=20)
