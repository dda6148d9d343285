"""The Events view, the timeline and the plot at 80x24, driven by keys.

Filters and the timeline use the fixed log (`events_portal`); live updates use the real
moto demo cloud, changed between refreshes or through the UI.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import DEV_KEY, Cloud
from tests.processes import free_port
from tests.ui.conftest import (
    ACT,
    FIXED_NOW,
    Live,
    _event,
    _h,
    cached_app,
    ec2_account,
    fixed_events,
    fleet_id,
    live_portal,
    open_timeline,
    settle,
    wait_for,
)
from tests.ui.on_screen import by_name, main_of, shows, text_of
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.events import EventsScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.screens.switcher import ViewSwitcher, matching
from winged_monkey.ui.screens.time_range import TimeRangeScreen
from winged_monkey.ui.screens.timeline import TimelineScreen
from winged_monkey.user.config import Config

SIZE = (80, 24)
LAST_DAY = [e for e in fixed_events() if (FIXED_NOW - e.at).total_seconds() <= 86400]


async def open_events(pilot: Pilot[Any]) -> EventsScreen:
    """`:` then `ev` and enter, as a user types it; waits until the log has loaded."""
    await pilot.press("colon")
    assert isinstance(pilot.app.screen, ViewSwitcher)
    await pilot.press("e", "v", "enter")
    await wait_for(pilot, lambda: shows(pilot.app, EventsScreen), "the events view")
    screen = pilot.app.screen
    assert isinstance(screen, EventsScreen)
    await wait_for(pilot, lambda: screen.loaded, "the log to load")
    await pilot.pause()
    return screen


def names(screen: EventsScreen) -> list[str]:
    return [e.target_name for e in screen.table.shown]


async def test_colon_opens_the_events_view_newest_first(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        shown = screen.table.shown
        assert len(shown) == len(LAST_DAY)  # the default window is the last day
        assert [e.at for e in shown] == sorted((e.at for e in shown), reverse=True)
        assert shown[0].target_name == "ci-runner"
        assert "23 events" in str(screen.query_one("#events-bar").render())
        # and back: `:` offers where we are and the other views
        await pilot.press("colon")
        await pilot.press(*"inst", "enter")
        await wait_for(pilot, lambda: shows(app, MainScreen), "the instances view")
        await pilot.press("colon", "escape")  # stays
        assert isinstance(app.screen, MainScreen)


def test_switcher_matches_prefixes_first() -> None:
    assert matching("") == ["instances", "apps", "catalog", "events", "accounts"]
    assert matching("e") == ["events", "instances"]  # starts with, then contains
    assert matching("ev") == ["events"]
    assert matching(":ev") == ["events"]
    assert matching("a") == ["apps", "accounts", "instances", "catalog"]
    assert matching("n") == ["instances", "events", "accounts"]  # contained, in order
    assert matching("zzz") == []


async def test_filters_narrow_the_list(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        everything = len(screen.table.shown)

        await pilot.press("a")  # the first account: dev
        assert screen.filters.account == "dev"
        assert {e.account for e in screen.table.shown} == {"dev"}
        assert 0 < len(screen.table.shown) < everything

        await pilot.press("k")  # first kind in the window, alphabetically: appeared
        assert screen.filters.kind == "appeared"
        assert names(screen) == ["ci-runner"]

        await pilot.press("escape")  # every filter off
        assert len(screen.table.shown) == everything

        await pilot.press("s")  # states in their order: pending first
        assert screen.filters.state == "pending"
        assert set(names(screen)) == {"ci-runner", "prod-api"}
        await pilot.press("escape")

        await pilot.press("slash", *"timeout")  # words in any column (the outcome)
        assert names(screen) == ["queue"]
        await pilot.press("enter")
        assert screen.table.has_focus
        await pilot.press("escape")

        table = screen.table
        table.move_cursor(row=[e.target_name for e in table.shown].index("web-1"))
        await pilot.press("i")  # only this target
        assert set(names(screen)) == {"web-1"}
        assert len(screen.table.shown) == 7
        await pilot.press("i")
        assert len(screen.table.shown) == everything

        await pilot.press("w")  # last week: the older event too
        await wait_for(pilot, lambda: screen.loaded, "the week to load")
        assert screen.window == "week"
        assert len(screen.table.shown) == len(fixed_events())
        await pilot.press("w", "w")  # all, then the last hour
        await wait_for(pilot, lambda: screen.loaded and screen.window == "hour", "the hour")
        assert names(screen) == ["ci-runner", "prod-api", "web-1", "web-1"]


async def test_filter_keys_follow_the_keymap(events_portal: Portal) -> None:
    config = events_portal.config.model_copy(update={"keys": {"events.window": "W"}})
    app = WMApp(events_portal, config, clock=events_portal.clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("W")
        assert screen.window == "week"
        assert "  W last week" in str(screen.query_one("#events-bar").render())


async def test_enter_on_an_event_opens_the_timeline_with_durations(
    events_portal: Portal,
) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        screen.table.move_cursor(row=names(screen).index("web-1"))
        await pilot.press("enter")
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        await wait_for(pilot, lambda: timeline.loaded, "the timeline")
        await pilot.pause()
        assert (timeline.account, timeline.target) == ("dev", fleet_id("dev", "web-1"))
        assert len(timeline.events) == 7
        assert [e.at for e in timeline.events] == sorted(e.at for e in timeline.events)
        assert [s.state for s in timeline.spans] == ["running", "stopped", "running"]
        summary = text_of(timeline)
        assert "running" in summary
        assert "stopped" in summary
        assert "2h" in summary  # stopped for 2 h 7 s
        held = [
            str(timeline.table.get_cell_at(Coordinate(n, 3)))
            for n in range(timeline.table.row_count)
        ]
        assert "2h" in held
        # The current state, running when last seen (dev's polls fail): at least that long.
        assert held[-2].startswith("≥")
        await pilot.press("escape")
        assert app.screen is screen


async def test_t_on_an_instance_opens_its_timeline(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = await open_timeline(pilot, app, "batch")
        await pilot.pause()
        assert [e.outcome for e in timeline.events] == ["failed", "ok", None]
        assert [s.state for s in timeline.spans] == ["stopped", "running"]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_the_timeline_of_a_failing_account_s_row_says_when_it_was_last_seen(
    events_portal: Portal,
) -> None:
    """dev's polls fail; its last listing (2h 01m ago) saw batch running, as it had been
    since 13h 59m ago: not `now ▶ running for 13h 59m`, and the time since is no state's."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert events_portal.status("dev").phase == "failed"
        timeline = await open_timeline(pilot, app, "batch")
        await pilot.pause()
        shown = text_of(timeline).splitlines()
        (title,) = [line for line in shown if line.startswith("batch  dev/")]
        assert "last seen ▶ running 2h 01m ago (account failing)" in title, title
        assert "now" not in title
        states = shown[shown.index(title) + 1 :][:2]
        summary = {line.split("  ")[0].strip(): line.split() for line in states}
        assert summary["? not seen"][-3:-1] == ["2h", "01m"], shown
        assert summary["▶ running"][-3:-1] == ["11h", "58m"], shown  # until last seen
        held = [
            str(timeline.table.get_cell_at(Coordinate(n, 3)))
            for n in range(timeline.table.row_count)
        ]
        assert held[-2] == "≥11h 58m", held  # the start that opened it, not 13h 59m+


async def test_plot_draws_activity_and_running_instances(events_portal: Portal) -> None:
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        lines = [line.plain for line in screen.plot.lines(78)]
        text = "\n".join(lines)
        assert "events per hour by kind" in text
        assert "running per account" in text
        assert any(block in text for block in "▁▂▃▄▅▆▇█")
        assert all(len(line) <= 78 for line in lines)
        for label in ("state", "start"):  # the left chart
            assert any(line.startswith(label) for line in lines), label
        for label in ("dev", "lab", "prod"):  # the right one
            assert any(line[40:].startswith(label) for line in lines), label
        await pilot.press("p")
        assert not screen.plot.display
        await pilot.press("p")
        assert screen.plot.display


async def test_events_appear_live_as_the_cloud_changes(live: Live, cloud: Cloud) -> None:
    """Another tool stops an instance on the server; the next refresh records it on top."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        api = by_name(main_of(app).table, "api", "dev")
        screen = await open_events(pilot)
        before = len(screen.table.shown)
        cloud.ec2(key=DEV_KEY).stop_instances(InstanceIds=[api.id])
        await pilot.press("R")  # polls every account from this view too

        def on_top() -> bool:
            shown = screen.table.shown
            return bool(shown) and shown[0].target == api.id

        await wait_for(pilot, on_top, "the stop to appear on top")
        event = screen.table.shown[0]
        assert event.kind == "state"
        assert (event.old_state, event.new_state) == ("running", "stopped")
        assert len(screen.table.shown) == before + 1
        assert screen.table.cursor_row == 0


async def test_an_action_taken_in_the_ui_appears_in_the_events_view(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("colon", *"inst", "enter")
        await wait_for(pilot, lambda: shows(app, MainScreen), "the instances")
        table = main_of(app).table
        batch = by_name(table, "batch", "dev")
        table.select(batch.key)
        await pilot.press("s")
        await wait_for(
            pilot,
            lambda: (
                (i := table.instance(batch.key)) is not None and i.state is InstanceState.RUNNING
            ),
            "batch to run",
        )
        await pilot.press("colon", *"ev", "enter")
        await wait_for(pilot, lambda: app.screen is screen, "the same events view")

        def recorded() -> bool:
            return any(
                e.kind == "start" and e.target == batch.id and e.outcome == "ok"
                for e in screen.table.shown
            )

        await wait_for(pilot, recorded, "the start's outcome to be listed")
        (change,) = [e for e in screen.table.shown if e.kind == "start"]  # one row per change
        assert (change.outcome, change.new_state) == ("ok", "running")
        await pilot.press("f")  # every part
        starts = {e.outcome: e for e in screen.table.shown if e.kind == "start"}
        assert set(starts) == {"requested", "ok"}  # the intent, then its outcome
        start = starts["ok"]
        assert start.cause == starts["requested"].key
        assert start.user == "tester"
        assert start.new_state == "running"


async def test_a_custom_range_replaces_the_window_until_w(events_portal: Portal) -> None:
    since, until = FIXED_NOW - timedelta(hours=6), FIXED_NOW - timedelta(hours=2)
    inside = [e for e in fixed_events() if since <= e.at < until]  # until is exclusive
    assert inside, "the fixed log has events in that range"
    stamp = "%Y-%m-%dT%H:%M:%S+00:00"
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("W")
        assert isinstance(app.screen, TimeRangeScreen)
        await pilot.press(*"yesterday-ish", "enter")  # not a time: the dialog says so, stays
        assert isinstance(app.screen, TimeRangeScreen)
        assert "is not a time" in str(app.screen.query_one("#range-error", Static).render())
        field = app.screen.query_one(Input)
        field.value = f"{since.strftime(stamp)} {until.strftime(stamp)}"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and screen.loaded, "the range loaded")
        await pilot.pause()
        assert sorted(e.key for e in screen.table.shown) == sorted(e.key for e in inside)
        assert "→" in str(screen.query_one("#events-bar", Static).render())
        await pilot.press("w")  # back to the sliding window it had
        await wait_for(pilot, lambda: screen.loaded, "the window reloaded")
        await pilot.pause()
        assert len(screen.table.shown) == len(LAST_DAY)


async def test_the_timeline_shows_the_whole_reason_of_the_event_under_the_cursor(
    events_portal: Portal,
) -> None:
    """The detail column is cut, and off an 80-column screen: the reason of the event under
    the cursor (where the timeline opens: the newest) reads whole under the table."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = await open_timeline(pilot, app, "queue")
        detail = timeline.query_one("#timeline-detail", Static)

        def drawn() -> str:
            return " ".join(detail.render_line(y).text.strip() for y in range(detail.size.height))

        reason = "◷ timeout queue still error after 300 s"
        await wait_for(pilot, lambda: reason in drawn(), "the newest event's reason")
        assert detail.region.bottom <= SIZE[1] - 1  # above the footer, on screen
        await pilot.press("up")  # an observed change: no reason, nothing said
        await wait_for(pilot, lambda: not detail.display, "the detail hidden")
        await pilot.press("down")
        await wait_for(pilot, lambda: reason in drawn(), "the reason again")


async def test_home_and_end_move_the_cursor_in_the_events_view_and_the_timeline(
    events_portal: Portal,
) -> None:
    """As in the instances view: DataTable's own Home and End scrolled, leaving the cursor
    (what enter, t and i act on) on a row off screen."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        last = screen.table.row_count - 1
        await pilot.press("end")
        await wait_for(pilot, lambda: screen.table.cursor_row == last, "the last row")
        await pilot.press("home")
        await wait_for(pilot, lambda: screen.table.cursor_row == 0, "the first row")
        screen.table.move_cursor(row=names(screen).index("web-1"))  # 7 events
        await pilot.press("enter")
        timeline = app.screen
        assert isinstance(timeline, TimelineScreen)
        await wait_for(pilot, lambda: timeline.loaded and timeline.table.row_count > 1, "rows")
        await pilot.press("home")
        await wait_for(pilot, lambda: timeline.table.cursor_row == 0, "the timeline's first row")


async def test_the_running_plot_does_not_count_a_failing_account_s_rows_as_running(
    events_portal: Portal,
) -> None:
    """Every account's polls fail (dev last listed 2h 01m ago): its rows are not drawn as
    running up to now, the hours since read '?' and the peak is a lower bound."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        lines = [line.plain for line in screen.plot.lines(78)]
        assert lines[0][40:].rstrip() == "running per account · peak · ? unknown", lines
        rows = {line[40:].split()[0]: line[40:].split()[1:] for line in lines[1:4]}
        assert set(rows) == {"dev", "lab", "prod"}, lines
        for account, (bars, peak) in rows.items():
            assert bars[-3:].count("?") >= 1, (account, bars)  # not seen since it failed
            assert peak.startswith("≥"), (account, peak)
        assert rows["dev"][0][-2] == "?"  # 2h 01m ago: the last hour but one nobody saw


async def test_an_account_that_never_answered_is_not_plotted_as_running_none(
    moto: MotoServer, demo_config: Config, tmp_path: Path
) -> None:
    """An account whose polls fail from the start has no rows: what it runs nobody saw, so
    its line reads '?' with no peak, not dots and 0 as an account seen running nothing."""
    dead = ec2_account("dead", free_port(), timeout=2.0)
    portal = live_portal(demo_config, tmp_path, dead)
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert portal.status("dead").phase == "failed"
        screen = await open_events(pilot)
        lines = [line.plain for line in screen.plot.lines(78)]
        assert lines[0][40:].rstrip().endswith("· ? unknown"), lines
        rows = {line[40:].split()[0]: line[40:].split()[1:] for line in lines[1:5]}
        bars, peak = rows["dead"]
        assert peak == "?", lines
        assert set(bars) == {"?"}, lines
        assert rows["dev"][1] == "3", lines  # a listed account: seen, counted


async def test_the_text_filter_finds_an_id_from_its_start_not_its_middle(
    events_portal: Portal,
) -> None:
    """As in the instances view: `0000`, inside every id of this log and in no column, kept
    every event; an id typed or pasted from its start (with its `i-` or not) finds its own."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        assert all("0000" in e.target for e in screen.table.shown)
        await pilot.press("slash", *"0000")
        assert names(screen) == []
        web1 = fleet_id("dev", "web-1")
        await pilot.press("escape", "slash", *web1)
        assert set(names(screen)) == {"web-1"}
        await pilot.press("escape", "slash", *web1.removeprefix("i-"))
        assert set(names(screen)) == {"web-1"}


async def test_an_action_refused_as_sent_reads_refused_not_failed(events_portal: Portal) -> None:
    """A stop whose intent was recorded, then refused as sent (a `wm serve`'s 409): its
    outcome is `refused`, shown with its own glyph, found by the word, and not among the
    failures (it was logged and shown as `✗ failed`)."""
    intent = _event(ACT, "stop", "dev", "web-2", _h(0, 10), "running", outcome="requested")
    refused = _event(
        ACT,
        "stop",
        "dev",
        "web-2",
        _h(0, 9),
        None,
        "running",
        outcome="refused",
        detail="the aggregator refused: web-2 is held by a lease",
        cause=intent.key,
    )
    events_portal.store.append_events([intent, refused])
    app = cached_app(events_portal)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        await pilot.press("slash", *"refused")
        assert names(screen) == ["web-2"]
        row = [str(cell) for cell in screen.table.get_row_at(0)]
        await pilot.press("escape", "slash", *"failed")
        failed = names(screen)
    assert "⊘ refused" in row, row
    assert "web-2" not in failed
