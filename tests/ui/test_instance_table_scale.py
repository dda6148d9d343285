"""The instance table at fleet scale: the row index (sorted, filtered, outside the widget),
the table drawing it with many accounts answering at once, and the example backend plugin
driving the scale benchmark once (its smoke size: no timing is asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from textual.app import App, ComposeResult

from tests.ui.conftest import FIXED_NOW, fixed_clock, wait_for
from winged_monkey.models import Instance, InstanceState
from winged_monkey.terminal.render import natural
from winged_monkey.ui.format import instance_search_text
from winged_monkey.ui.rows import SORTS, RowIndex
from winged_monkey.ui.widgets.instance_table import InstanceTable

ROOT = Path(__file__).resolve().parents[2]
STATES = list(InstanceState)


def fleet(accounts: int, per: int, *, shift: int = 0) -> dict[str, list[Instance]]:
    """Varied rows; `shift` moves every state along (a poll where everything changed)."""
    rows: dict[str, list[Instance]] = {}
    for a in range(accounts):
        name = f"acct-{a:02d}"
        rows[name] = [
            Instance(
                account=name,
                id=f"i-{n:05d}",
                name=f"{('web', 'db', 'api')[n % 3]}-{n}",
                state=STATES[(n + a + shift) % len(STATES)],
                raw_state="x",
                provider="synthetic",
                region=("us-east-1", "eu-west-1")[n % 2],
                price_hourly=(0.01, None, 0.2)[n % 3],
                created_at=FIXED_NOW - timedelta(minutes=n * 7 + a),
            )
            for n in range(per)
        ]
    return rows


def expected(rows: list[Instance], column: str, reverse: bool = False) -> list[str]:
    """What sorting the whole list the slow way gives: the column, then name, then key;
    reversed, the rows of an unknown value (no price, age or address, a blank cell: the
    last ones ascending) stay last."""
    by, name = SORTS[column], SORTS["name"]
    ordered = sorted(rows, key=lambda i: (by(i), name(i), i.key))

    def unknown(i: Instance) -> bool:
        value = by(i)
        return value == float("inf") or (type(value) is tuple and value[:1] == (True,))

    if reverse:
        ordered = [i for i in ordered if not unknown(i)][::-1] + [i for i in ordered if unknown(i)]
    return [i.key for i in ordered]


def test_fifty_accounts_answering_together_cost_one_sort() -> None:
    index = RowIndex()
    rows = fleet(50, 40)
    for account, instances in rows.items():
        index.replace_account(account, instances, stale=True)
    assert index.sorts == 0  # nothing is sorted until the table is drawn
    everything = [i for batch in rows.values() for i in batch]
    assert [r.key for r in index.commit()] == expected(everything, "name")
    assert index.sorts == 1

    changed = fleet(50, 40, shift=1)
    index.set_sort("state", reverse=False)
    for account, instances in changed.items():
        index.replace_account(account, instances, stale=False)
    moved = [i for batch in changed.values() for i in batch]
    assert [r.key for r in index.commit()] == expected(moved, "state")
    assert index.sorts == 2
    assert index.shown_count == index.total_count == 2000


def test_every_sort_and_its_reverse_match_a_full_sort() -> None:
    index = RowIndex()
    rows = fleet(3, 60)
    for account, instances in rows.items():
        index.replace_account(account, instances, stale=False)
    everything = [i for batch in rows.values() for i in batch]
    for column in SORTS:
        for reverse in (False, True):
            index.set_sort(column, reverse)
            got = [r.key for r in index.commit()]
            assert got == expected(everything, column, reverse), (column, reverse)


def test_a_filter_narrowed_widened_and_cleared_shows_what_a_full_scan_finds() -> None:
    index = RowIndex()
    rows = fleet(4, 100)
    for account, instances in rows.items():
        index.replace_account(account, instances, stale=False)
    everything = [i for batch in rows.values() for i in batch]
    for text in ("w", "we", "web-1", "web-1 running", "web", "db eu-west", ""):
        index.set_filter(text)
        terms = text.lower().split()
        wanted = [
            i.key for i in everything if all(term in instance_search_text(i) for term in terms)
        ]
        assert sorted(r.key for r in index.commit()) == sorted(wanted), text
        assert index.shown_count == len(wanted)
    assert [r.key for r in index.commit()] == expected(everything, "name")


def test_rows_gone_from_an_account_leave_the_table_and_new_ones_take_their_place() -> None:
    index = RowIndex()
    rows = fleet(2, 30)
    for account, instances in rows.items():
        index.replace_account(account, instances, stale=False)
    index.commit()
    kept = rows["acct-00"][::2]
    fresh = kept[0].model_copy(update={"id": "i-new", "name": "aaa-first"})
    index.replace_account("acct-00", [*kept, fresh], stale=False)
    shown = index.commit()
    assert shown[0].key == "acct-00/i-new"
    assert [r.key for r in shown] == expected([*kept, fresh, *rows["acct-01"]], "name")
    assert index.rows.keys() == {r.key for r in shown}


def test_a_row_its_source_saw_only_earlier_is_dimmed_whatever_its_account_says() -> None:
    index = RowIndex()
    web, db = fleet(1, 2)["acct-00"]
    seen_before = db.model_copy(update={"stale": "the aggregator cannot list team-a: 503"})
    index.replace_account("acct-00", [web, seen_before], stale=False)
    assert [index.rows[i.key].stale for i in (web, db)] == [False, True]
    index.restyle_account("acct-00", stale=True)  # the account fails: all dim
    index.restyle_account("acct-00", stale=False)  # it answers: the row seen earlier stays dim
    assert [index.rows[i.key].stale for i in (web, db)] == [False, True]
    index.replace_account("acct-00", [web, db], stale=False)  # seen now
    assert not index.rows[db.key].stale


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield InstanceTable(fixed_clock, id="instances")


async def test_ten_thousand_rows_the_cursor_keeps_its_instance_across_fifty_accounts() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(InstanceTable)
        table.focus()
        rows = fleet(50, 200)
        for account, instances in rows.items():
            table.set_account(account, instances, stale=True)
        await wait_for(pilot, lambda: table.shown_count == 10_000, "the rows")
        table.sort_by("state")
        await pilot.press("down", "down")
        table.toggle_mark()  # marks the third row, moves on
        (marked,) = table.marked
        cursor = table.cursor_instance
        assert cursor is not None
        assert [i.key for i in table.shown[:4]][2:] == [marked.key, cursor.key]

        sorts = table.index.sorts
        moved = fleet(50, 200, shift=1)  # every state changes: every row moves
        for account, instances in moved.items():
            table.set_account(account, instances, stale=False)
        await pilot.pause()
        assert table.index.sorts == sorts + 1  # fifty accounts, one sort
        now = table.cursor_instance
        assert now is not None
        assert now.key == cursor.key
        assert now.state is not cursor.state
        assert [i.key for i in table.marked] == [marked.key]
        assert table.shown == sorted(
            table.shown, key=lambda i: (SORTS["state"](i), natural(i.name), i.key)
        )

        table.set_filter("web-19")
        await pilot.pause()
        names = {i.name for i in rows["acct-00"] if "web-19" in i.name}
        assert names == {"web-192", "web-195", "web-198"}
        assert {i.name for i in table.shown} == names
        assert table.shown_count == 50 * len(names)


def test_the_example_plugin_installs_loads_and_runs_the_smoke_benchmark(tmp_path: Path) -> None:
    """As a user would: pip installs the example package; its entry point is found."""
    target = tmp_path / "site"
    example = ROOT / "examples" / "winged-monkey-synthetic"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run([*install, "--target", str(target), str(example)], check=True, timeout=300)
    path = [str(target), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "from winged_monkey import plugins; cls = plugins.load('synthetic'); "
            "print(cls.__module__, plugins.settings('synthetic').__name__)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert loaded.stdout.split() == ["winged_monkey_synthetic", "SyntheticSettings"]
    bench = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_scale.py"), "--smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "200 rows over 20 accounts" in bench.stdout
    figures = {line.split()[0] for line in bench.stdout.splitlines() if line.strip()}
    assert {"first_paint", "rss", "filter_key", "filter_clear", "sort"} <= figures


async def test_a_click_puts_the_cursor_on_the_row_clicked_after_scrolling() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(InstanceTable)
        table.set_account("acct-00", fleet(1, 500)["acct-00"], stale=False)
        await pilot.press("pagedown", "pagedown")  # the header stays; rows scroll under it
        top = int(table.scroll_y)
        assert top > 0
        await pilot.click(InstanceTable, offset=(10, 3))  # the third row under the header
        assert table.cursor_row == top + 2
        assert table.cursor_instance == table.shown[top + 2]


def test_an_account_failing_while_sorted_by_price_moves_its_rows_with_the_unknown() -> None:
    """Sorted by `$/h`: an account's rows dimmed by its failed poll read `?` and sort as
    unknown (after every price), and go back among the prices once it answers again."""
    index = RowIndex()
    cheap = Instance(
        account="a", id="i-1", name="cheap", state=InstanceState.RUNNING, raw_state="x",
        provider="synthetic", region="r", price_hourly=0.01,
    )  # fmt: skip
    dear = cheap.model_copy(update={"account": "b", "name": "dear", "price_hourly": 0.5})
    index.replace_account("a", [cheap], stale=False)
    index.replace_account("b", [dear], stale=False)
    index.set_sort("price", reverse=False)
    assert [r.key for r in index.commit()] == [cheap.key, dear.key]
    index.restyle_account("a", stale=True)  # a's poll fails: cheap is last seen, not now
    assert [r.key for r in index.commit()] == [dear.key, cheap.key]
    index.restyle_account("a", stale=False)
    assert [r.key for r in index.commit()] == [cheap.key, dear.key]
