"""What the event views compute: durations, state spans, bins, activity and running counts."""

from __future__ import annotations

from datetime import timedelta

from tests.ui.conftest import FIXED_NOW, fixed_events, fleet_id
from winged_monkey.models import Event, EventSource, Instance, InstanceState
from winged_monkey.terminal import history


def test_duration_text_keeps_two_units() -> None:
    assert history.duration_text(0) == "0s"
    assert history.duration_text(45) == "45s"
    assert history.duration_text(12 * 60 + 5) == "12m 05s"
    assert history.duration_text(3 * 3600 + 7 * 60 + 9) == "3h 07m"
    assert history.duration_text(2 * 86400 + 4 * 3600) == "2d 4h"
    assert history.duration_text(7200) == "2h"


def _of(name: str, account: str = "dev") -> list[Event]:
    target = fleet_id(account, name)
    return [e for e in fixed_events() if e.target == target]


def test_spans_merge_an_action_and_the_refresh_that_observed_it() -> None:
    spans = history.state_spans(_of("web-1"))
    assert [s.state for s in spans] == ["running", "stopped", "running"]
    first, stopped, now_running = spans
    # the start was asked 22 h ago and reached its state 35 s later
    assert first.start == FIXED_NOW - timedelta(hours=22) + timedelta(seconds=35)
    assert stopped.seconds(FIXED_NOW) == (2 * 3600 + 7)  # 9:00:31 to 11:00:38
    assert now_running.end is None
    totals = dict(history.time_in_states(spans, FIXED_NOW))
    assert totals["stopped"] == 2 * 3600 + 7
    assert totals["running"] > 19 * 3600


def test_a_failed_action_keeps_the_state_it_left() -> None:
    spans = history.state_spans(_of("batch"))
    assert [s.state for s in spans] == ["stopped", "running"]


def test_vanished_closes_the_last_span() -> None:
    spans = history.state_spans(_of("lab-k8s-4", "lab"))
    assert spans == []  # only ever seen leaving: no timed state


def test_bins_pick_a_nice_size_that_fits() -> None:
    day = history.choose_bins(FIXED_NOW - timedelta(days=1), FIXED_NOW, 26)
    assert (day.size, day.count) == (3600, 24)
    week = history.choose_bins(FIXED_NOW - timedelta(weeks=1), FIXED_NOW, 26)
    assert week.size == 12 * 3600
    assert week.count == 14
    assert history.bin_label(3600) == "hour"
    assert history.bin_label(12 * 3600) == "12 h"
    assert day.index(FIXED_NOW) == 23
    assert day.index(FIXED_NOW - timedelta(days=2)) is None


def test_activity_by_kind_sums_the_rest_as_other() -> None:
    events = fixed_events()
    bins = history.choose_bins(FIXED_NOW - timedelta(days=1), FIXED_NOW, 26)
    rows = history.activity_by_kind(events, bins, 4)
    assert [kind for kind, _ in rows] == ["state", "start", "stop", "other"]
    in_window = [e for e in events if e.at >= bins.start]
    assert sum(sum(values) for _, values in rows) == len(in_window)


def test_running_by_account_follows_the_transitions() -> None:
    bins = history.choose_bins(FIXED_NOW - timedelta(days=1), FIXED_NOW, 24)
    web1 = _of("web-1")
    running = history.running_by_account(web1, [], ["dev"], bins)["dev"]
    # stopped from 9:00:31 to 11:00:38; a bin counts what ran at any moment of it
    assert running[20] == 1  # 8:00-9:00
    assert running[21] == 1  # 9:00-10:00: its first 31 s
    assert running[22] == 0  # 10:00-11:00: stopped throughout
    assert running[23] == 1
    assert running[0] == 0  # before the first start, unknown: not counted


def test_spark_draws_zero_as_a_dot() -> None:
    assert history.spark([0, 1, 4, 8], 8) == "·▁▄█"


def test_change_text() -> None:
    event = Event(
        key="k",
        at=FIXED_NOW,
        source=EventSource.OBSERVED,
        kind="vanished",
        account="dev",
        target="i-1",
        old_state="running",
    )
    assert history.change_text(event) == "running→"


def test_the_state_before_an_action_comes_from_the_refresh_that_saw_it_leave() -> None:
    """api: the stop (an action: no old state) then the refresh that saw running→stopped."""
    bins = history.choose_bins(FIXED_NOW - timedelta(days=1), FIXED_NOW, 24)
    running = history.running_by_account(_of("api"), [], ["dev"], bins)["dev"]
    assert running[:15] == [1] * 15  # until 02:00:30 (10 h ago, plus the 30 s it took)
    assert running[15:] == [0] * 9


# -- running per account: counted from creation, once per bin -------------------------


def _step(
    kind: str,
    minutes_ago: float,
    old: str | None = None,
    new: str | None = None,
    outcome: str | None = None,
    source: EventSource = EventSource.ACTION,
    target: str = "i-1",
) -> Event:
    at = FIXED_NOW - timedelta(minutes=minutes_ago)
    return Event(
        key=f"{target}:{kind}:{outcome}:{at.timestamp()}",
        at=at,
        source=source,
        kind=kind,
        account="dev",
        target=target,
        old_state=old,
        new_state=new,
        outcome=outcome,
    )


def _day() -> history.Bins:
    return history.choose_bins(FIXED_NOW - timedelta(days=1), FIXED_NOW, 24)


def _instance(created_minutes_ago: float, state: InstanceState) -> Instance:
    return Instance(
        id="i-1",
        name="new",
        account="dev",
        backend="libcloud",
        provider="ec2",
        state=state,
        raw_state=str(state),
        created_at=FIXED_NOW - timedelta(minutes=created_minutes_ago),
    )


def test_a_stop_requested_soon_after_creation_counts_from_the_creation() -> None:
    """Created 4 minutes ago, stopped 2 minutes ago: its intent says it was running,
    but only since it was created, not since the window began."""
    events = [
        _step("stop", 2, old="running", outcome="requested"),
        _step("stop", 1.9, new="stopped", outcome="ok"),
    ]
    instance = _instance(4, InstanceState.STOPPED)
    running = history.running_by_account(events, [instance], ["dev"], _day())["dev"]
    assert running == [0] * 23 + [1]


def test_a_launched_instance_has_no_state_before_its_launch() -> None:
    events = [
        _step("launch", 30, new="running", outcome="ok"),
        _step("stop", 10, old="running", outcome="requested"),
        _step("stop", 9, new="stopped", outcome="ok"),
    ]
    assert history.running_slots(events, None, _day()) == {23}


def test_an_instance_unknown_to_the_inventory_ran_since_the_window_began() -> None:
    events = [_step("state", 90, old="running", new="stopped", source=EventSource.OBSERVED)]
    assert history.running_slots(events, None, _day()) == set(range(23))


def test_stop_and_start_within_one_bin_count_that_bin_once() -> None:
    """Three instances, each stopped and started within the last hour: at most 3 ran."""
    events = [
        step
        for target in ("i-1", "i-2", "i-3")
        for step in (
            _step("stop", 40, old="running", outcome="requested", target=target),
            _step("stop", 39, new="stopped", outcome="ok", target=target),
            _step("start", 20, old="stopped", outcome="requested", target=target),
            _step("start", 19, new="running", outcome="ok", target=target),
        )
    ]
    running = history.running_by_account(events, [], ["dev"], _day())["dev"]
    assert max(running) == 3
    assert running[23] == 3
    assert running[0] == 3  # running before the first intent, from the window's start


def test_a_creation_date_after_the_first_event_is_not_believed() -> None:
    events = [_step("state", 90, old="running", new="stopped", source=EventSource.OBSERVED)]
    created = FIXED_NOW - timedelta(minutes=30)  # after the event that saw it running
    assert history.running_slots(events, created, _day()) == set(range(23))


def test_an_intent_and_its_outcome_fold_into_one_row() -> None:
    intent = _step("stop", 10, old="running", outcome="requested")
    outcome = _step("stop", 9, new="stopped", outcome="ok").model_copy(
        update={"cause": intent.key, "detail": "web-1 stopped"}
    )
    other = _step("state", 5, old="stopped", new="running", source=EventSource.OBSERVED)
    rows = history.folded([other, outcome, intent])  # newest first
    assert [r.key for r in rows] == [other.key, intent.key]
    change = rows[1]
    assert (change.old_state, change.new_state, change.outcome) == ("running", "stopped", "ok")
    assert change.detail == "web-1 stopped · 2 parts"
    assert history.folded([outcome]) == [outcome]  # its intent not loaded: alone


def test_a_change_reads_as_its_action_when_an_observation_came_last() -> None:
    intent = _step("stop", 10, old="running", outcome="requested").model_copy(
        update={"user": "ana"}
    )
    outcome = _step("stop", 9, new="stopping", outcome="ok").model_copy(
        update={"cause": intent.key, "detail": "web-1 stopping", "duration": 1.5}
    )
    seen = _step("state", 8, old="stopping", new="stopped", source=EventSource.OBSERVED)
    seen = seen.model_copy(update={"cause": intent.key})
    (row,) = history.folded([seen, outcome, intent])
    # the stop by ana, not the poll's "state" row, which happened to be the newest part
    assert (row.kind, row.source, row.user) == ("stop", EventSource.ACTION, "ana")
    assert (row.old_state, row.new_state, row.outcome) == ("running", "stopped", "ok")
    assert (row.detail, row.duration, row.at) == ("web-1 stopping · 3 parts", 1.5, seen.at)


def test_a_change_found_after_a_gap_counts_no_running_in_the_gap() -> None:
    """Listed running 20h ago, next 90 min ago (stopped): it ran until 20h ago as far as
    anyone saw; the hours between are unknown, neither running nor stopped."""
    found = _step("state", 90, old="running", new="stopped", source=EventSource.OBSERVED)
    gap = found.model_copy(update={"since": FIXED_NOW - timedelta(hours=20)})
    assert history.running_slots([gap], None, _day()) == set(range(4))
    unseen = history.unseen_by_account([gap], [], ["dev"], _day())["dev"]
    assert [n for n, count in enumerate(unseen) if count] == list(range(4, 23))
    spans = history.state_spans([gap])
    assert [(s.state, s.seconds(FIXED_NOW)) for s in spans] == [
        (history.NOT_LISTED, 18.5 * 3600),
        ("stopped", 90 * 60.0),
    ]
