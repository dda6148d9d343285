"""An app's timeline and the running plot, at 80x24, against the real standalone Heat.

Heat's own events (the stack's and each resource's, in Heat's words: CREATE_COMPLETE) were
timed as the app's states: its timeline read `CREATE_COMPLETE 2m 46s 96%` beside its own
`‖ suspended 5s`, and the events view's plot drew a Heat account running none of its apps.
They are listed, and time no state."""

from __future__ import annotations

from tests.heat.conftest import SMALL, Projects
from tests.heat.test_heat_ui import main_of, wait_for
from tests.ui.conftest import open_timeline, settle
from tests.ui.on_screen import text_of
from tests.ui.test_events import open_events
from winged_monkey.models import EventSource, InstanceState
from winged_monkey.ui.app import WMApp

SIZE = (80, 24)


async def test_an_app_s_timeline_and_plot_read_its_states_not_heat_s_words(
    heat: Projects,
) -> None:
    web = heat.create("tl", "web", SMALL)
    assert heat.wait("tl", web) == "CREATE_COMPLETE"
    portal = heat.portal("tl")
    store = heat.stores[-1]
    app = WMApp(portal, portal.config, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        await wait_for(pilot, lambda: len(table.shown) == 1, "the app's row")
        await wait_for(
            pilot,
            lambda: len(store.events(target=web, sources=[EventSource.NATIVE])) >= 4,
            "Heat's events in the log",
        )

        # The app's stop (its suspend), then its timeline: running, then suspended.
        await pilot.press("x")
        await pilot.press("y")
        await wait_for(
            pilot,
            lambda: [i.state for i in table.shown] == [InstanceState.SUSPENDED],
            "the app suspended",
            within=60,
        )
        await settle(pilot)
        timeline = await open_timeline(pilot, app, "web")
        await wait_for(pilot, lambda: bool(timeline.spans), "the app's states")
        await pilot.pause()
        states = [span.state for span in timeline.spans]
        assert states[0] == "running", states
        assert states[-1] == "suspended", states  # stopping between, as observed
        assert not {s for s in states if s.isupper()}, states  # no CREATE_COMPLETE
        summary = " ".join(text_of(timeline).split())
        assert "▶ running" in summary, summary
        assert "‖ suspended" in summary, summary
        assert "CREATE_COMPLETE ██" not in summary, summary
        # Heat's events are still listed there, in its words.
        shown = [str(timeline.table.get_row_at(n)[2]) for n in range(timeline.table.row_count)]
        assert "→CREATE_COMPLETE" in shown, shown
        # A resource's event names it in its detail (the log has it in the target, web/group).
        details = [str(timeline.table.get_row_at(n)[-1]) for n in range(timeline.table.row_count)]
        assert "group: state changed" in details, details

        # The plot: the account ran its one app (it drew none).
        await pilot.press("escape")
        screen = await open_events(pilot)
        lines = [line.plain for line in screen.plot.lines(78)]
        (row,) = [line[40:].split() for line in lines if line[40:].startswith("tl ")]
        assert row[-1] == "1", lines
        # At 80 columns the detail is dropped: a resource's event reads apart by its target.
        events = screen.table
        keys = [str(column.key.value) for column in events.ordered_columns]
        assert "detail" not in keys, keys
        at = keys.index("target")
        targets = {str(events.get_row_at(n)[at]) for n in range(events.row_count)}
        assert {"web", "web/group", "web/secret"} <= targets, targets
