"""What a child process of scripts/bench_scale.py runs: the real `wm` TUI (`run_wm`) or a
bare Textual DataTable of the same rows (`run_bare`) at one size, through Pilot at 80x24,
each figure printed as a JSON line for the parent to read (the figures are described in
bench_scale.py)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FREEZE = "--gc-freeze"
SIZE = (80, 24)
FILTERS = ("running", "web-12")


def emit(figure: str, value: float) -> None:
    print(json.dumps({"figure": figure, "value": value}), flush=True)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def full_collection() -> float:
    """UI-thread CPU seconds of one full garbage collection over the app's heap: Python
    runs one now and then on its own, in whatever callback is running at the time."""
    start = time.thread_time()
    gc.collect()
    return time.thread_time() - start


def fleet(size: int, accounts: int) -> dict[str, list[Any]]:
    # The plugin is installed on its own (not a package mypy sees from here).
    synthetic_instances = importlib.import_module("winged_monkey_synthetic").synthetic_instances
    per, extra = divmod(size, accounts)
    return {
        f"synth-{a:02d}": synthetic_instances(f"synth-{a:02d}", per + (a < extra))
        for a in range(accounts)
    }


class Renders:
    """When the table finished each render, and when a change reached it.

    Wraps the instance's render_lines, and the methods through which the screen changes
    the table (both tables have them), so "keystroke to repaint" ends at the first
    render after the change was applied, not at whatever the test harness waits for.
    """

    CHANGES = ("set_filter", "sort_by", "refresh_ages", "set_account")

    def __init__(self, table: Any) -> None:
        self.ends: list[tuple[float, float]] = []  # (wall, UI thread CPU)
        self.rows: list[int] = []
        self.applied = 0.0
        inner = table.render_lines

        def render_lines(crop: Any) -> Any:
            lines = inner(crop)
            self.ends.append((time.perf_counter(), time.thread_time()))
            self.rows.append(table.total_count if hasattr(table, "total_count") else 0)
            return lines

        table.render_lines = render_lines
        for name in self.CHANGES:
            if hasattr(table, name):
                setattr(table, name, self._applying(getattr(table, name)))

    def _applying(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def applied(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self.applied = time.perf_counter()
            return result

        return applied

    def first_after(self, since: int, moment: float) -> tuple[float, float] | None:
        return next((end for end in self.ends[since:] if end[0] >= moment), None)


class Stall:
    """The UI thread's longest callback (its CPU time, so other processes on a busy
    machine do not count), and the event loop's worst lateness (wall, a 5 ms ticker)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None
        self._run: Any = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - before - 0.005)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        run = self._run = asyncio.events.Handle._run
        stall = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            before = time.thread_time()
            run(handle)
            stall.longest = max(stall.longest, time.thread_time() - before)

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign, assignment]

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._run is not None:
            asyncio.events.Handle._run = self._run  # type: ignore[method-assign]


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.pause()


async def until(pilot: Any, condition: Callable[[], bool], what: str, within: float) -> None:
    deadline = time.perf_counter() + within
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await pilot.pause(0.01)


async def timed(
    pilot: Any, renders: Renders, act: Callable[[], Awaitable[None]]
) -> tuple[float, float]:
    """(wall, UI thread CPU) seconds from the action to the first table render after the
    change it caused was applied."""
    since = len(renders.ends)
    start, cpu = time.perf_counter(), time.thread_time()
    renders.applied = start
    await act()
    await settle(pilot)
    end = renders.first_after(since, renders.applied)
    if end is None:
        end = (time.perf_counter(), time.thread_time())
    return end[0] - start, end[1] - cpu


def emit_worst(figure: str, times: list[tuple[float, float]]) -> None:
    emit(figure, max(wall for wall, _ in times))
    emit(f"{figure}_cpu", max(cpu for _, cpu in times))


async def typing(pilot: Any, renders: Renders, text: str) -> list[tuple[float, float]]:
    times = []
    for ch in text:

        async def press(ch: str = ch) -> None:
            await pilot.press(ch)

        times.append(await timed(pilot, renders, press))
    return times


async def run_wm(size: int, accounts: int) -> None:
    from winged_monkey.engine.portal import Portal
    from winged_monkey.models import AccountSnapshot
    from winged_monkey.store.sqlite import Store
    from winged_monkey.ui.app import WMApp
    from winged_monkey.ui.screens.main import MainScreen
    from winged_monkey.user.config import AccountConfig, Config
    from winged_monkey.user.credentials import CredentialResolver

    rows = fleet(size, accounts)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "wm.sqlite3")
        configs = []
        cached_at = datetime.now(UTC) - timedelta(hours=1)
        for name, instances in rows.items():
            configs.append(
                AccountConfig.model_validate(
                    {
                        "name": name,
                        "backend": "synthetic",
                        "instances": len(instances),
                        "credentials": {"keyring": False},
                    }
                )
            )
            store.save_snapshot(
                AccountSnapshot(account=name, fetched_at=cached_at, instances=tuple(instances))
            )
        del rows
        config = Config(refresh_interval=3600, busy_refresh_interval=3600, accounts=tuple(configs))
        portal = Portal(config, store, resolver=CredentialResolver(prompt=None), user="bench")
        answered: list[float] = []

        def hook(message: Any) -> None:
            ok = isinstance(message, MainScreen.AccountRefreshed)
            if ok and message.update.status.phase == "ok":
                answered.append(time.perf_counter())

        app = WMApp(portal, config, title_suffix="bench")
        start, cpu = time.perf_counter(), time.thread_time()
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            table = app.main_screen.table
            renders = Renders(table)
            await until(pilot, lambda: table.total_count == size, "the cached rows", 3600)
            await settle(pilot)
            full = [end for end, n in zip(renders.ends, renders.rows, strict=True) if n == size]
            painted = full[0] if full else (time.perf_counter(), time.thread_time())
            emit("first_paint", painted[0] - start)
            emit("first_paint_cpu", painted[1] - cpu)
            await until(pilot, lambda: len(answered) >= accounts, "the first polls", 3600)
            await settle(pilot)
            emit("rss", rss_bytes())
            if FREEZE in sys.argv:
                gc.freeze()

            stall = Stall()
            stall.start()
            sorts = _count_sorts(table)
            answered.clear()
            since = len(renders.ends)

            async def refresh() -> None:
                await pilot.press("R")
                await until(pilot, lambda: len(answered) >= accounts, "the burst", 3600)

            emit_worst("burst", [await timed(pilot, renders, refresh)])
            emit("burst_renders", len(renders.ends) - since)
            emit("burst_sorts", sorts())

            sorted_by = []
            for key in "ooO":

                async def press(key: str = key) -> None:
                    await pilot.press(key)

                sorted_by.append(await timed(pilot, renders, press))
            emit_worst("sort", sorted_by)

            async def ages() -> None:
                table.refresh_ages()

            emit_worst("age_refresh", [await timed(pilot, renders, ages)])

            async def clear() -> None:
                await pilot.press("escape")

            keys, clears = [], []
            for text in FILTERS:
                await pilot.press("slash")
                keys += await typing(pilot, renders, text)
                emit_worst("filter_key", keys)
                clears.append(await timed(pilot, renders, clear))
                emit_worst("filter_clear", clears)
            stall.stop()
            emit("handler", stall.longest)
            emit("stall", stall.worst)
            emit("gc_full", full_collection())


def _count_sorts(table: Any) -> Callable[[], int]:
    """Full sorts from now on: the row index's own count, or DataTable.sort calls."""
    index = getattr(table, "index", None)
    if index is not None and hasattr(index, "sorts"):
        first = index.sorts
        return lambda: int(index.sorts - first)
    calls = [0]
    inner = table.sort

    def sort(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return inner(*args, **kwargs)

    table.sort = sort
    return lambda: calls[0]


async def run_bare(size: int, accounts: int) -> None:
    """The same rows in a bare DataTable: what Textual itself costs."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from winged_monkey.terminal.render import natural, price_text, size_text
    from winged_monkey.ui import format as fmt
    from winged_monkey.ui.widgets.instance_table import COLUMNS

    instances = [i for batch in fleet(size, accounts).values() for i in batch]
    now = datetime.now(UTC)

    def cells(i: Any) -> list[Any]:
        return [
            " ",
            fmt.state_text(i.state),
            fmt.name_text(i, 24),
            Text(fmt.one_line(i.account, 14)),
            Text(fmt.first_ip(i.public_ips)),
            Text(price_text(i.price_hourly), justify="right"),
            Text(fmt.age_since(i.created_at, now), justify="right"),
            Text(i.where),
            Text(size_text(i, unknown="")),
            Text(fmt.first_ip(i.private_ips)),
        ]

    def show(table: DataTable[Any], shown: list[Any]) -> None:
        table.clear()
        table.add_rows(cells(i) for i in sorted(shown, key=lambda i: natural(i.name)))

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            for key, label, width in COLUMNS:
                table.add_column(label, key=key, width=width)
            show(table, instances)
            table.focus()

    app = Bare()
    start, cpu = time.perf_counter(), time.thread_time()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        renders = Renders(table)
        await until(pilot, lambda: table.row_count == size, "the rows", 3600)
        await settle(pilot)
        painted = renders.ends[0] if renders.ends else (time.perf_counter(), time.thread_time())
        emit("first_paint", painted[0] - start)
        emit("first_paint_cpu", painted[1] - cpu)
        emit("rss", rss_bytes())
        if FREEZE in sys.argv:
            gc.freeze()
        stall = Stall()
        stall.start()
        times: list[tuple[float, float]] = []
        for column in ("state", "account", "account"):

            async def sort(column: str = column) -> None:
                table.sort(column, key=str, reverse=len(times) == 2)

            times.append(await timed(pilot, renders, sort))
        emit_worst("sort", times)
        search = {id(i): fmt.instance_search_text(i) for i in instances}
        keys, clears = [], []
        for text in FILTERS:
            for n in range(1, len(text) + 1):

                async def narrow(typed: str = text[:n]) -> None:
                    show(table, [i for i in instances if typed in search[id(i)]])

                keys.append(await timed(pilot, renders, narrow))
            emit_worst("filter_key", keys)

            async def clear() -> None:
                show(table, instances)

            clears.append(await timed(pilot, renders, clear))
            emit_worst("filter_clear", clears)
        stall.stop()
        emit("handler", stall.longest)
        emit("stall", stall.worst)
        emit("gc_full", full_collection())
