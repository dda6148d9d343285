"""Over a slow SSH link every repainted line costs (some 250-400 bytes at 80 columns, a
third of a second at 9600 baud): the real moto demo cloud at 80x24, with a clock the test
moves, and each widget's repaints recorded (what Textual writes is what they mark dirty).
`scripts/bench_link.py` counts the bytes on a real terminal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Static

from tests.conftest import Cloud
from tests.ui.conftest import Live, open_timeline, settle
from tests.ui.on_screen import SIZE, main_of, text_of
from winged_monkey.demo.seed import DEV_KEY
from winged_monkey.models import InstanceState
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.screens.accounts import AccountsScreen

Repaints = list[tuple[Region, ...]]


class Clock:
    """Days after the demo fleet was launched, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(days=3)

    def __call__(self) -> datetime:
        return self.now


def repaints(widget: Widget, monkeypatch: pytest.MonkeyPatch) -> Repaints:
    """Each `refresh` that repaints `widget` from now on: the regions it marks, or () for
    the whole widget."""
    found: Repaints = []
    real = widget.refresh

    def refresh(*regions: Region, **kwargs: bool) -> Widget:
        if kwargs.get("repaint", True):
            found.append(regions)
        return real(*regions, **kwargs)

    monkeypatch.setattr(widget, "refresh", refresh)
    return found


def lines(found: Repaints) -> list[int]:
    """The lines repainted; a whole widget repainted fails the test."""
    assert all(found), f"the whole widget was repainted: {found}"
    return sorted(y for regions in found for region in regions for y in range(*region.line_span))


async def test_a_cursor_move_repaints_the_two_rows_it_leaves_and_enters(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    app = WMApp(live.portal, live.config, clock=clock, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        found = repaints(table, monkeypatch)
        await pilot.press("j")
        await pilot.pause()
        assert table.cursor_row == 1
        assert lines(found) == [1, 2]  # under the header: the first row and the second
        found.clear()
        clock.now += timedelta(days=1)  # between two age refreshes
        await pilot.press("space")  # marks the second row, moves to the third
        await pilot.pause()
        assert table.index.marked
        assert lines(found) == [2, 2, 3]
        # The rows repainted read the ages their neighbours read, until the age refresh.
        ages = [table.render_line(y).text.split()[-2] for y in range(1, len(table.shown) + 1)]
        assert set(ages) == {"3d"}, ages


async def test_the_age_column_repaints_only_the_ages_that_moved(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    app = WMApp(live.portal, live.config, clock=clock, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        first = table.shown[0].key
        assert table.cell(first, "age").plain == "3d"
        found = repaints(table, monkeypatch)
        clock.now += timedelta(seconds=15)  # the age refresh's period: still 3d everywhere
        table.refresh_ages()
        assert found == []
        clock.now += timedelta(days=1)  # every row is a day older
        table.refresh_ages()
        assert lines(found) == list(range(1, len(table.shown) + 1))
        assert {region.width for regions in found for region in regions} == {6}  # " 3d " cells
        await pilot.pause()
        assert " 4d " in table.render_line(1).text


async def test_an_account_listed_every_few_seconds_keeps_its_strip_line(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    app = WMApp(live.portal, live.config, clock=clock, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        strip = main_of(app).strip
        clock.now = max(s.fetched_at for s in strip.statuses if s.fetched_at) + timedelta(seconds=3)
        assert "ok <1m · 5 instances" in strip.render().plain
        strip.refresh_ages()  # its tick
        await pilot.pause()
        found = repaints(strip, monkeypatch)
        clock.now += timedelta(seconds=1)  # the strip's tick: the same text, no repaint
        strip.refresh_ages()
        assert found == []
        clock.now += timedelta(minutes=2)  # a dialog held the polls: the age shows
        strip.refresh_ages()
        assert len(lines(found)) == len(strip.statuses)
        await pilot.pause()
        assert "ok 2m · 5 instances" in strip.render().plain


async def test_a_refresh_that_finds_one_row_changed_repaints_that_row(
    live: Live, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_of(app).table
        rows = table.shown
        # One whose address is not the widest: the columns keep their widths when it goes.
        widest = max(len(i.public_ips[0]) for i in rows if i.public_ips)
        target = next(
            i
            for i in rows
            if i.account == "dev"
            and i.state is InstanceState.RUNNING
            and len(i.public_ips[0]) < widest
        )
        found = repaints(table, monkeypatch)
        cloud.ec2(key=DEV_KEY).stop_instances(InstanceIds=[target.id])  # another tool stops it
        await pilot.press("R")
        await settle(pilot)
        assert table.instance(target.key).state is InstanceState.STOPPED  # type: ignore[union-attr]
        line = rows.index(target) + 1
        assert set(lines(found)) == {line}
        assert f"■  {target.name} " in table.render_line(line).text  # stopped, at once


async def test_a_poll_repaints_only_its_accounts_glyph(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        strip = main_of(app).strip
        found = repaints(strip, monkeypatch)
        polled = strip.statuses[1]
        strip.update_status(polled.model_copy(update={"refreshing": True}))  # as a poll says
        await pilot.pause()
        assert strip.render().plain.splitlines()[1].startswith(f"⟳ {polled.name} ")
        strip.update_status(polled)  # its listing, unchanged
        await pilot.pause()
        assert strip.render().plain.splitlines()[1].startswith(f"● {polled.name} ")
        assert found == [(Region(0, 1, 2, 1),)] * 2  # the glyph's two cells, twice


async def test_the_accounts_view_is_drawn_again_only_when_what_it_says_changes(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`:accounts` drew its whole body again every second (its ages in seconds), every line
    crossing the link to say the same; it reads ages to the minute, as the strip does."""
    clock = Clock()
    app = WMApp(live.portal, live.config, clock=clock, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock.now = max(s.fetched_at for s in live.portal.statuses() if s.fetched_at)
        await pilot.press("a")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AccountsScreen)
        body = screen.query_one("#accounts-body", Static)
        clock.now += timedelta(seconds=3)
        screen.show()  # its tick
        await pilot.pause()
        assert "<1m" in text_of(screen)
        found = repaints(body, monkeypatch)
        clock.now += timedelta(seconds=1)  # the next tick: the same words, no repaint
        screen.show()
        assert found == []
        clock.now += timedelta(minutes=2)  # polls held: the age moves
        screen.show()
        assert found


async def test_the_timeline_is_drawn_again_only_when_its_words_move(
    live: Live, cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeline drew its whole table again every 5 s while its state was open (its
    time growing), some 8 KB each over the link; a state held for days reads `3d+` for a
    day, and the view is drawn again when that moves."""
    clock = Clock()
    app = WMApp(live.portal, live.config, clock=clock, title_suffix="test")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        web = next(i for i in main_of(app).table.shown if i.name == "web-1")
        cloud.ec2(key=DEV_KEY).stop_instances(InstanceIds=[web.id])  # a change: a state since
        await pilot.press("R")
        await settle(pilot)
        clock.now = datetime.now(UTC) + timedelta(days=3, minutes=30)  # no step in 5 s
        timeline = await open_timeline(pilot, app, "web-1")
        await pilot.pause()
        assert timeline.spans
        assert timeline.spans[-1].end is None  # its state is open: the clock moves it
        found = repaints(timeline.table, monkeypatch)
        clock.now += timedelta(seconds=5)  # a tick: still days, to the day
        timeline._tick()
        assert found == []
        clock.now += timedelta(days=1)
        timeline._tick()
        assert found
