"""Toasts: one summary per bulk action (or launch), none over a dialog (moto at 80x24)."""

from __future__ import annotations

from tests.ui.conftest import Live, running, settle, wait_for
from tests.ui.on_screen import SIZE, by_name, main_of, text_of
from winged_monkey.actions import Action
from winged_monkey.engine.operations import ActionUpdate
from winged_monkey.models import Instance, InstanceState
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.toasts import Bulk, Toast, Toaster


def _row(name: str, state: InstanceState, account: str = "dev") -> Instance:
    return Instance(
        id=f"i-{name}-{account}",
        name=name,
        account=account,
        backend="libcloud",
        provider="ec2",
        state=state,
        raw_state=str(state),
    )


def _update(name: str, phase: str, message: str = "", account: str = "dev") -> ActionUpdate:
    state = InstanceState.STOPPED if phase == "done" else InstanceState.RUNNING
    row = _row(name, state, account)
    return ActionUpdate(Action.STOP, row, phase, message)  # type: ignore[arg-type]


def test_a_bulk_action_is_summed_up_once_when_the_last_ends() -> None:
    bulk = Bulk("stop", 3)
    assert bulk.track(_update("web-1", "requested")) is None
    assert bulk.track(_update("web-1", "done", "web-1 stopped")) is None
    assert bulk.track(_update("web-2", "done", "web-2 stopped")) is None
    toast = bulk.track(_update("api", "failed", "IncorrectInstanceState"))
    assert toast is not None
    assert toast.title == "Stop 3 instances: 2 of 3 done"
    assert toast.message.splitlines() == [
        "web-1, web-2: stopped",
        "api failed: IncorrectInstanceState",
    ]
    assert toast.severity == "error"


def test_a_name_two_accounts_share_is_said_with_its_account() -> None:
    bulk = Bulk("stop", 3)
    bulk.track(_update("web-1", "done", account="dev"))
    bulk.track(_update("web-1", "failed", "IncorrectInstanceState", account="prod"))
    toast = bulk.track(_update("api", "done", account="prod"))
    assert toast is not None
    assert toast.message.splitlines() == [
        "dev/web-1, api: stopped",
        "prod/web-1 failed: IncorrectInstanceState",
    ]


def test_a_launch_counts_the_instances_it_was_given() -> None:
    bulk = Bulk("launch", what="nc-test")
    for name in ("nc-test-1", "nc-test-2"):
        bulk.track(_update(name, "requested"))
    assert bulk.track(_update("nc-test-1", "done")) is None
    toast = bulk.track(_update("nc-test-2", "done"))
    assert toast is not None
    assert toast.title == "Launch nc-test: all done"
    assert toast.severity == "information"


def test_a_row_refused_after_it_was_requested_is_counted_out_of_its_bulk_action() -> None:
    """A bulk action counted by the rows requested (count None): one refused as sent once
    its intent was recorded (a wm serve's 409) is the refusal note, and the summary of the
    others still comes (it waited for an outcome of the refused row that never came)."""
    bulk = Bulk("stop")
    for name in ("web-1", "web-2"):
        bulk.track(_update(name, "requested"))
    assert bulk.track(_update("web-1", "done", "web-1 stopped")) is None
    row = _row("web-2", InstanceState.RUNNING)
    notes = bulk.refuse("the aggregator refused: web-2 is locked", row.key)
    assert [(t.title, t.message) for t in notes] == [
        ("Cannot stop", "the aggregator refused: web-2 is locked"),
        ("Stop web-1", "web-1 stopped"),
    ]


def test_one_instance_keeps_its_own_words() -> None:
    toast = Bulk("stop", 1).track(_update("web-1", "unknown", "web-1: not seen"))
    assert toast == Toast("web-1: not seen", "Stop web-1 (unknown)", "warning", 15.0)


def test_toasts_wait_under_a_dialog_and_come_back_for_the_time_they_had_left() -> None:
    shown: list[Toast] = []
    cleared: list[bool] = []
    covered, now = [False], [100.0]
    toaster = Toaster(
        shown.append, lambda: cleared.append(True), lambda: covered[0], lambda: now[0]
    )
    toaster.notify(Toast("before", timeout=5))
    now[0] += 2
    covered[0] = True
    toaster.dialog_opened()
    assert cleared == [True]
    toaster.notify(Toast("during"))
    assert [t.message for t in shown] == ["before"]
    covered[0] = False
    toaster.dialog_closed()
    assert [(t.message, t.timeout) for t in shown[1:]] == [("before", 3.0), ("during", 5.0)]


async def test_a_bulk_stop_of_three_shows_one_toast(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        names = [i.name for i in table.shown if i.state is InstanceState.RUNNING][:3]
        assert len(names) == 3
        for name in names:
            table.select(by_name(table, name).key)
            await pilot.press("space")
        await pilot.press("x", "y")
        await settle(pilot)
        stops = [n for n in notes.shown if n.title.startswith("Stop")]
        assert [n.title for n in stops] == ["Stop 3 instances: all done"]
        assert stops[0].message.endswith(": stopped")


async def test_a_note_waits_while_the_confirmation_is_open(live: Live) -> None:
    """Stop api (running) and batch (stopped): the dialog asks for api; why batch is
    skipped shows after it closes, not over it."""
    app = live.app()
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        for name in ("api", "batch"):
            table.select(by_name(table, name).key)
            await pilot.press("space")
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert not notes.find("Cannot stop")
        await pilot.press("n")
        await settle(pilot)
        assert notes.find("1 of 2 skipped")


async def test_escape_dismisses_the_notes_and_a_dialog_does_not_bring_them_back(
    live: Live,
) -> None:
    """A note (15 s for an error) covers a third of the rows at 80x24 and went away only on
    a click. escape, with no filter to clear, takes it off; a dialog opened and closed after
    does not show it again. With a filter, escape clears the filter first."""
    app = live.app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:  # drawn, as on screen
        await settle(pilot)
        table = main_of(app).table
        table.select(by_name(table, "batch").key)  # stopped: x is refused, in a note
        await pilot.press("x")
        await wait_for(pilot, lambda: bool(app.screen.query("Toast")), "the note")
        await pilot.press("slash", *"batch", "enter")
        await pilot.press("escape")  # the filter first
        await pilot.pause()
        assert not main_of(app).filter_input.value
        assert app.screen.query("Toast")
        await pilot.press("escape")  # then the note: gone now, not at its timeout (5 s)
        await pilot.pause()
        await pilot.pause()
        assert not app.screen.query("Toast")
        table.select(by_name(table, "api").key)
        await pilot.press("x")  # a dialog, and no
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert not app.screen.query("Toast")


async def test_a_wrong_count_is_said_in_the_dialog_not_in_a_toast(live: Live) -> None:
    app = live.app()
    async with running(app) as (pilot, notes):
        table = main_of(app).table
        for name in ("web-1", "web-2"):
            table.select(by_name(table, name).key)
            await pilot.press("space")
        await pilot.press("D", "3", "enter")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        await pilot.pause()
        assert "That is not 2" in text_of(confirm)
        assert not notes.shown
        await pilot.press("escape")
        await settle(pilot)
        assert not notes.shown  # nothing left behind once it closed


def test_a_day_of_toasts_without_a_dialog_keeps_only_those_still_up() -> None:
    """What the toaster keeps to show again after a dialog is bounded by what is on screen:
    it kept every toast of the session when no dialog opened (scripts/soak_session.py)."""
    now = [0.0]
    toaster = Toaster(lambda toast: None, lambda: None, lambda: False, lambda: now[0])
    for n in range(1000):  # a start every 10 s, each toast up for 5 s
        toaster.notify(Toast(f"web-{n} started", timeout=5))
        now[0] += 10
    toaster.notify(Toast("the last"))
    assert [t.message for _, t in toaster._on_screen] == ["the last"]
