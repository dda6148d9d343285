"""The instance table's keys, prices, sort and columns, on the cached fleet (issue 17)."""

from __future__ import annotations

import io
import re
from typing import Any

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from tests.ui.conftest import FLEET, Live, cached_app, fixed_clock, settle
from winged_monkey.engine.portal import Portal
from winged_monkey.models import Instance, InstanceState
from winged_monkey.terminal.render import price_text
from winged_monkey.ui.app import WMApp
from winged_monkey.ui.rows import COLUMNS
from winged_monkey.ui.screens.confirm import ConfirmScreen
from winged_monkey.ui.screens.help import HelpScreen
from winged_monkey.ui.screens.main import MainScreen
from winged_monkey.ui.widgets.instance_table import InstanceTable

SIZE = (80, 24)
NARROW = (60, 20)
NAMES = [name for _, names in FLEET.values() for name in names]


def table_of(app: App[Any]) -> InstanceTable:
    screen = app.screen
    assert isinstance(screen, MainScreen), screen
    return screen.table


def text_of(screen: Screen[Any]) -> str:
    console = Console(width=200, file=io.StringIO(), record=True)
    for static in screen.query(Static):
        console.print(static.content)
    return console.export_text()


def lines(table: InstanceTable) -> list[str]:
    """The table as drawn: its header, then the rows on screen."""
    return ["".join(s.text for s in table.render_line(y)) for y in range(table.size.height)]


def named(table: InstanceTable, name: str) -> Instance:
    found = [i for i in table.shown if i.name == name]
    assert len(found) == 1, name
    return found[0]


async def started(pilot: Pilot[Any]) -> InstanceTable:
    await settle(pilot)
    table = table_of(pilot.app)
    table.focus()
    await pilot.pause()
    return table


async def test_home_end_g_G_j_k_go_between_rows(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot)
        last = table.shown_count - 1
        for key, row in (("end", last), ("home", 0), ("G", last), ("g", 0)):
            await pilot.press(key)
            assert table.cursor_row == row, key
            assert table.scroll_x == 0, key  # never sideways
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = text_of(app.screen)
        for words in ("first row", "last row", "unmark all"):
            assert words in text, words


async def test_stopped_and_terminated_rows_show_no_hourly_price(live: Live) -> None:
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = table_of(app)
        free = [
            i for i in table.shown if i.state in (InstanceState.STOPPED, InstanceState.TERMINATED)
        ]
        assert {i.state for i in free} == {InstanceState.STOPPED, InstanceState.TERMINATED}
        assert any(i.price_hourly is not None for i in free)  # their size has a rate...
        for instance in free:
            assert table.cell(instance.key, "price").plain == ""  # ...that is not a cost now
        running = [i for i in table.shown if i.state is InstanceState.RUNNING and i.price_hourly]
        assert running
        for instance in running:
            assert table.cell(instance.key, "price").plain == price_text(instance.price_hourly)


async def test_rows_of_a_failed_account_show_their_hourly_cost_as_unknown(
    cached_portal: Portal,
) -> None:
    """Its rows are as last seen (hours ago): a cost now nobody saw is `?`, dimmed with the
    row, whether it was seen running or stopped; a terminated one stays so, and costless."""
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot)
        assert {s.phase for s in cached_portal.statuses()} == {"failed"}
        for instance in table.shown:
            cell = table.cell(instance.key, "price")
            if instance.state is InstanceState.TERMINATED:
                assert cell.plain == ""
            else:
                assert cell.plain == "?", (instance.name, cell.plain)
                assert [str(span.style) for span in cell.spans] == ["dim"]


async def test_o_cycles_the_columns_in_screen_order_marking_the_header(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot)
        on_screen = [key for key, _, _ in COLUMNS if key != "mark"]
        labels = {key: label for key, label, _ in COLUMNS}
        seen = [table.sort_column]
        for _ in on_screen[1:]:
            await pilot.press("o")
            seen.append(table.sort_column)
            header = lines(table)[0]
            assert f"{labels[table.sort_column]} ▲" in header, header  # in sight, marked
            assert header.count("▲") == 1
        start = on_screen.index("name")
        assert seen == on_screen[start:] + on_screen[:start]
        assert "public_ip" in seen
        assert "private_ip" in seen
        await pilot.press("O")
        assert f"{labels[table.sort_column]} ▼" in lines(table)[0]
        await pilot.press("o")  # back to name after private IP... then public IP, in order:
        assert table.sort_column == "name"
        await pilot.press("o", "o", "O")
        addresses = [i.public_ips[0] for i in table.shown if i.public_ips]
        as_numbers = [tuple(int(p) for p in ip.split(".")) for ip in addresses]
        assert as_numbers == sorted(as_numbers)  # numeric, not as text


async def test_marks_confirm_in_table_order_and_u_clears_them(cached_portal: Portal) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot)
        mark = next(b for b in table_of(app).screen.BINDINGS if getattr(b, "id", "") == "mark")
        assert "move" in str(getattr(mark, "tooltip", "")).lower()  # what space also does
        for name in ("web-2", "bastion", "web-1"):  # marked out of table order
            table.select(named(table, name).key)
            await pilot.press("space")
        assert table.cursor_instance == named(table, "web-2")  # moved down past web-1
        await pilot.press("x")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert [i.name for i in confirm.targets] == ["bastion", "web-1", "web-2"]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        assert len(table.marked) == 3
        await pilot.press("u")
        assert table.marked == []
        assert "marked" not in str(app.screen.sub_title)


def _assert_whole(table: InstanceTable) -> None:
    drawn = lines(table)
    body = "\n".join(drawn[1:])
    shown = [i.name for i in table.shown[: len(drawn) - 1]]
    for name in shown:
        assert re.search(rf"(^|\s){re.escape(name)}(\s|$)", body, re.M), name
    for line in drawn:
        for number in re.findall(r"[\d.]*\d[\d.]*", line):  # addresses and prices
            if number.count(".") == 3:
                assert all(p.isdigit() for p in number.split(".")), number
    where = {i.where for i in table.shown}
    for line in drawn:
        for text in re.findall(r"ec2/\S*", line):
            assert text in where, text  # whole or absent


async def test_narrow_screens_drop_columns_never_cut_names_or_addresses(
    cached_portal: Portal,
) -> None:
    app = cached_app(cached_portal)
    async with app.run_test(size=NARROW) as pilot:
        table = await started(pilot)
        _assert_whole(table)
        header = lines(table)[0]
        for kept in ("name", "account", "public IP", "$/h"):
            assert kept in header, header
        assert "where" not in header
        assert "private IP" not in header
        assert table.max_scroll_x == 0  # it all fits: nothing cut at the edge
        for ip in (i.public_ips[0] for i in table.shown[:10] if i.public_ips):
            assert ip in "\n".join(lines(table)), ip
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        _assert_whole(table)
        assert table.max_scroll_x == 0
        web_1 = next(line for line in lines(table) if " web-1 " in line)
        # The price column survives the relayout (unknown: web-1's account failed).
        assert re.search(r" 54\.1\.0\.10 +\? +5m ", web_1), web_1


async def test_half_a_tmux_window_shows_names_and_accounts_and_cuts_no_address(
    cached_portal: Portal,
) -> None:
    """At 40 columns (an 80-column tmux window split in two) the address and the price do
    not fit beside the name: they go, rather than stand cut at the table's edge
    (`54.214.222.` read as an address)."""
    app = cached_app(cached_portal)
    async with app.run_test(size=(40, 24)) as pilot:
        table = await started(pilot)
        _assert_whole(table)
        header = lines(table)[0]
        assert "name" in header, header
        assert "account" in header, header
        assert table.max_scroll_x == 0  # nothing drawn past the edge
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert "public IP" in lines(table)[0]


async def test_a_vi_key_the_keymap_takes_is_the_users(cached_portal: Portal) -> None:
    config = cached_portal.config.model_copy(update={"keys": {"stop": "k"}})
    app = WMApp(cached_portal, config, clock=fixed_clock)
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot)
        table.select(named(table, "web-1").key)
        await pilot.press("j")  # still the table's
        assert table.cursor_instance == named(table, "web-2")
        await pilot.press("k")  # the user's stop, not the row above
        assert isinstance(app.screen, ConfirmScreen)
        assert [i.name for i in app.screen.targets] == ["web-2"]


async def test_a_reversed_sort_keeps_the_unknown_last(live: Live) -> None:
    """`O` on `$/h` (most expensive first) led with every row of no price, or none now
    (stopped), and on public IP with every row that has none: what is unknown or blank
    goes last either way (the demo fleet on moto)."""
    app = live.app()
    async with app.run_test(size=SIZE) as pilot:
        table = await started(pilot)

        def cells(column: str) -> list[str]:
            return [table.cell(i.key, column).plain.strip() for i in table.shown]

        while table.sort_column != "price":
            await pilot.press("o")
        await pilot.press("O")
        prices = cells("price")
        known = [float(p) for p in prices if p not in ("", "?")]
        assert known  # the fleet has both
        assert len(known) < len(prices)
        assert [float(p) for p in prices[: len(known)]] == sorted(known, reverse=True)
        await pilot.press("O")  # back: cheapest first, the unknown still last
        assert [float(p) for p in cells("price")[: len(known)]] == sorted(known)
        while table.sort_column != "public_ip":
            await pilot.press("o")
        await pilot.press("O")
        has_ip = [bool(i.public_ips) for i in table.shown]
        assert True in has_ip
        assert False in has_ip
        assert has_ip == sorted(has_ip, reverse=True)  # every row with one, then the rest
