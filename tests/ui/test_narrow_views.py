"""The views in the panes a tmux split gives (an 80x24 window split in two: 40x24 side by
side, 80x11 one above the other): no value cut at an edge so it reads as another, no
dialog whose title or input falls off the screen, no list pushed out of sight."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static

from tests.ui.conftest import cached_app, fixed_clock, open_timeline, settle, wait_for
from tests.ui.on_screen import by_name, main_of, shows
from tests.ui.test_catalog_snapshots import _catalog_view, fixed_app  # noqa: F401 (a fixture)
from tests.ui.test_events import open_events
from winged_monkey.actions import Action
from winged_monkey.engine.portal import Portal
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.details import DetailsScreen
from winged_monkey.ui.screens.secret import SecretScreen
from winged_monkey.ui.screens.switcher import ViewSwitcher
from winged_monkey.ui.widgets.event_table import COLUMNS as EVENT_COLUMNS
from winged_monkey.ui.widgets.footer import Footer

SIDE_BY_SIDE = (40, 24)
ONE_ABOVE_THE_OTHER = (80, 11)


def drawn(widget: Widget) -> list[str]:
    """The widget's lines as drawn on screen."""
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_the_catalog_beside_another_pane_shows_each_account_whole(
    fixed_app: WMApp,  # noqa: F811
) -> None:
    """At 40 columns the account column stood at the table's edge: `prod` read `pro` and
    an account such as `dev-eu` read `dev`. The kind, the provider and the price go instead
    (the pane below says them); at 80 columns all are back."""
    async with fixed_app.run_test(size=SIDE_BY_SIDE) as pilot:
        screen = await _catalog_view(pilot)
        table = screen.table
        lines = drawn(table)
        assert lines[0].split() == ["item", "account"], lines
        accounts = [line.split()[-1] for line in lines[1:5]]
        assert accounts == [row.account for row in screen.rows], lines
        assert table.max_scroll_x == 0  # nothing past the edge
        screen.table.move_cursor(row=2)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert drawn(table)[0].split() == ["item", "kind", "account", "provider", "from"]
        assert screen.cursor_row == screen.rows[2]  # the cursor kept its row


async def test_the_secret_prompt_in_a_short_pane_names_its_account_above_its_field(
    cached_portal: Portal,
) -> None:
    """At 40x11 the dialog was 13 lines high, centred: its first line, the account the
    secret is for, was above the screen. The long hint now comes last, cut or scrolled."""
    app = cached_app(cached_portal)
    async with app.run_test(size=(40, 11)) as pilot:
        app.push_screen(SecretScreen("build-farm", "secret", unset_env="WM_BUILD_FARM_SECRET"))
        await wait_for(pilot, lambda: shows(app, SecretScreen), "the dialog")
        await pilot.pause()
        title = app.screen.query(Static).first()
        field = app.screen.query_one(Input)
        assert "Secret for build-farm" in drawn(title)[0]
        assert title.region.y >= 0, title.region
        assert field.region.bottom <= 11, field.region
        assert app.screen.focused is field


async def test_the_events_in_a_short_pane_show_the_log_and_p_the_plot(
    events_portal: Portal,
) -> None:
    """At 80x11 the plot (7 lines) left the log one line, too few for a row: the log was
    out of sight. In a short pane the plot waits for `p`; at 80x24 it is shown again."""
    app = cached_app(events_portal)
    async with app.run_test(size=ONE_ABOVE_THE_OTHER) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        rows = [line for line in drawn(screen.table)[1:] if line.strip()]
        assert len(rows) >= 5, drawn(screen.table)
        assert screen.table.shown[0].target_name in rows[0]
        assert not screen.plot.region  # not drawn
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert screen.plot.region.height > 0
        await pilot.resize_terminal(*ONE_ABOVE_THE_OTHER)
        await pilot.pause()
        assert not screen.plot.region
        await pilot.press("p")
        await pilot.pause()
        assert screen.plot.region.height > 0


async def test_details_beside_another_pane_show_ids_and_addresses_whole(
    cached_portal: Portal,
) -> None:
    """At 40 columns the longest label (`extra.block_device_mapping`) took the width and
    left the values 8 cells: `54.214.2` over `22.167`, an id or a subnet folded into what
    read as shorter ones. The labels wrap now, the values keep 24 cells."""
    app = cached_app(cached_portal)
    async with app.run_test(size=SIDE_BY_SIDE) as pilot:
        await settle(pilot)
        web = by_name(main_of(app).table, "web-1")
        subnet = "subnet-0a1b2c3d4e5f60718"
        web = web.model_copy(
            update={
                "public_ips": ("203.113.254.201",),
                "extra": {**web.extra, "block_device_mapping": [], "subnet_id": subnet},
            }
        )
        app.push_screen(DetailsScreen(web, fixed_clock))
        await wait_for(pilot, lambda: shows(app, DetailsScreen), "the details")
        await pilot.pause()
        lines = drawn(app.screen.query_one("#details-body Static", Static))
        for value in (web.id, "203.113.254.201", subnet):
            assert any(value in line for line in lines), (value, lines)


async def test_the_plot_beside_another_pane_draws_one_chart_a_line_a_kind(
    events_portal: Portal,
) -> None:
    """At 40 columns the two charts side by side were wider than the pane: each line
    wrapped, the totals of the right chart on lines of their own under the left one's
    kinds. The events by kind are drawn alone there, each with its total on its line."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIDE_BY_SIDE) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        lines = drawn(screen.plot)
        assert lines[0].startswith("events per"), lines
        kinds = lines[1:-1]
        assert kinds, lines
        assert all(len(line.split()) == 3 for line in kinds), lines
        assert all(line.split()[-1].isdigit() for line in kinds), lines
        assert lines[-1].split()[-1] == "now", lines
        assert not any("running per" in line for line in lines)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert "running per account" in drawn(screen.plot)[0]


async def test_the_catalog_in_a_short_pane_keeps_its_details_above_the_footer(
    fixed_app: WMApp,  # noqa: F811
) -> None:
    """At 80x11 the details pane kept its 11 lines under a 5-line table: 7 of them were
    under the footer and off the screen, where scrolling the pane never brought its text.
    It takes what the table leaves now, and scrolls its text through that."""
    async with fixed_app.run_test(size=ONE_ABOVE_THE_OTHER) as pilot:
        screen = await _catalog_view(pilot)
        detail = screen.query_one("#catalog-detail", VerticalScroll)
        footer = screen.query_one(Footer)
        assert detail.region.height > 1, detail.region
        assert detail.region.bottom <= footer.region.y, (detail.region, footer.region)
        assert screen.table.region.height >= 5
        await pilot.press("tab", "end")
        await pilot.pause()
        assert detail.scroll_y == detail.max_scroll_y > 0


@pytest.mark.parametrize("action", [Action.STOP, Action.DESTROY])
@pytest.mark.parametrize("size", [ONE_ABOVE_THE_OTHER, (40, 11)])
async def test_a_confirmation_of_many_in_a_short_pane_keeps_its_answer_in_sight(
    cached_portal: Portal, action: Action, size: tuple[int, int]
) -> None:
    """At 80x11 the list of 7 targets (up to 12 lines) pushed what answers the dialog,
    `y yes  n / esc no` or the field the count of a destroy is typed in, under its border
    and off the screen. The list scrolls in what the dialog has left instead."""
    app = cached_app(cached_portal)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        targets = main_of(app).table.shown[:7]
        left_alone = "3 marked rows the filter hides are left alone."
        app.push_screen(ConfirmScreen(action, targets, left_alone))
        await wait_for(pilot, lambda: shows(app, ConfirmScreen), "the dialog")
        await pilot.pause()
        dialog = app.screen.query_one("#confirm-dialog")
        inside = dialog.content_region
        title = app.screen.query_one("#confirm-title", Static)
        assert "7 instances" in drawn(title)[0]
        assert inside.contains_region(title.region), (title.region, inside)
        if action is Action.DESTROY:
            answer: Widget = app.screen.query_one(Input)
        else:
            answer = app.screen.query(Static).last()
            assert "y yes" in drawn(answer)[0]
        assert inside.contains_region(answer.region), (answer.region, inside)
        assert dialog.region.bottom <= size[1]
        targets_list = app.screen.query_one("#confirm-targets", VerticalScroll)
        assert targets_list.region.height >= 1


async def test_the_view_switcher_in_a_small_pane_shows_its_keys(cached_portal: Portal) -> None:
    """At 40x11 the switcher, 2 lines down and 14 high (each view on two lines), ran off
    the bottom with its border and the keys written on it (`enter go · esc stay`)."""
    app = cached_app(cached_portal)
    async with app.run_test(size=(40, 11)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: shows(app, ViewSwitcher), "the switcher")
        await pilot.pause()
        dialog = app.screen.query_one("#views-dialog")
        assert dialog.region.y >= 0, dialog.region
        assert dialog.region.bottom <= 11, dialog.region
        assert "esc stay" in str(dialog.border_subtitle)
        options = app.screen.query_one(OptionList)
        assert options.region.height >= 4
        await pilot.press(*["down"] * (options.option_count - 1))  # to the last view
        await pilot.pause()
        assert options.highlighted == options.option_count - 1


async def test_a_timeline_beside_another_pane_shows_the_time_in_each_state(
    events_portal: Portal,
) -> None:
    """At 40 columns the 30-cell bar of each state's share cropped the time spent in it
    and the share, drawn after it: the bar is shortened to leave both in sight."""
    app = cached_app(events_portal)
    async with app.run_test(size=SIDE_BY_SIDE) as pilot:
        await settle(pilot)
        timeline = await open_timeline(pilot, app, "web-1")
        await pilot.pause()
        lines = drawn(timeline.query_one("#timeline-states", Static))
        # dev's polls fail: the time since web-1 was last seen is no state's.
        assert [line.split()[1] for line in lines] == ["running", "stopped", "not"], lines
        assert all(line.endswith("%") for line in lines), lines
        assert "2h" in lines[1], lines  # stopped for 2 h


@pytest.mark.parametrize("size", [SIDE_BY_SIDE, (60, 20), (80, 24)])
async def test_the_event_log_cuts_no_value_at_its_edge(
    events_portal: Portal, size: tuple[int, int]
) -> None:
    """The log's columns ran past the table's edge, cut there: at 80 columns the user read
    `alic`, at 60 a change `running→termina`, at 40 the kind `star`. The user, the outcome,
    the account and then the change go instead (enter shows them), the state changes kept
    longest; nothing is drawn past the edge, and a wide window shows them all again."""
    labels = [label for _, label, _ in EVENT_COLUMNS]
    app = cached_app(events_portal)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = await open_events(pilot)
        table = screen.table
        lines = drawn(table)
        header = lines[0].split()
        assert header[:1] == ["time"], lines
        assert all(word in labels for word in header), lines
        assert "target" in header, lines
        assert "kind" in header, lines
        assert table.max_scroll_x == 0, lines
        if size[0] >= 60:
            assert "old→new" in header, lines
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert drawn(table)[0].split() == labels
        assert any(" alice " in line for line in drawn(table))
