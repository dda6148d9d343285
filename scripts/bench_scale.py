"""The TUI at fleet scale, each figure beside a bare Textual DataTable of the same rows.

    .venv/bin/python scripts/bench_scale.py [SIZE ...] [--accounts 50] [--timeout 600]
    .venv/bin/python scripts/bench_scale.py --smoke        # CI: a small size, no goal checked

SIZE rows (default 1000 10000; 50000 is worth a run) over `--accounts` accounts of the
example backend in `examples/winged-monkey-synthetic` (installed into a temporary
directory when it is not installed already). Each size runs in a child process per app
(the real `wm` TUI through Pilot at 80x24, and a bare DataTable app), so RSS is the app's:

- first paint: from starting the app to the table drawn with every row, from the cache
  (a store holding every account's last snapshot; the accounts' polls run behind it);
- burst: `R`, every account answering at once, until the table is drawn again; with the
  table's renders and sorts in that time;
- sort: `o`/`O` (by state, account, reverse), keystroke to repaint, the slowest;
- age refresh: the age column's periodic update, to repaint;
- filter: `/` then `running` and `web-12` typed one key at a time, keystroke to repaint,
  the slowest; clear: `escape` to the full table drawn again;
- stall: the longest the event loop went without running (a 5 ms ticker's worst lateness)
  over the burst, sorts, age refresh and filters: no handler may block the UI longer;
- RSS after the first paint settled.

The baseline does the same with a bare DataTable: add_rows of the rows sorted by name;
sort by the column; a filter as clear() + add_rows of the matching rows. A figure a child
did not reach within `--timeout` seconds is shown as `>T`. Times in ms, RSS in MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "examples" / "winged-monkey-synthetic"
SMOKE_SIZE, SMOKE_ACCOUNTS = 200, 20
SIZE = (80, 24)
FILTERS = ("running", "web-12")

#: (figure, goal against the baseline or absolute, unit) in print order.
FIGURES = (
    ("first_paint", "<= 1.5 x baseline", "ms"),
    ("rss", "<= 200 MB at 10k", "MB"),
    ("burst", "one repaint", "ms"),
    ("burst_renders", "", ""),
    ("burst_sorts", "1", ""),
    ("sort", "<= 100 ms", "ms"),
    ("age_refresh", "<= 50 ms", "ms"),
    ("filter_key", "<= 50 ms", "ms"),
    ("filter_clear", "<= 50 ms", "ms"),
    ("stall", "<= 50 ms", "ms"),
)


# -- the children -------------------------------------------------------------------------


def emit(figure: str, value: float) -> None:
    print(json.dumps({"figure": figure, "value": value}), flush=True)


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def fleet(size: int, accounts: int) -> dict[str, list[Any]]:
    from winged_monkey_synthetic import synthetic_instances

    per, extra = divmod(size, accounts)
    return {
        f"synth-{a:02d}": synthetic_instances(f"synth-{a:02d}", per + (a < extra))
        for a in range(accounts)
    }


class Renders:
    """When the table finished each render (wraps the instance's render_lines)."""

    def __init__(self, table: Any) -> None:
        self.ends: list[float] = []
        self.rows: list[int] = []
        inner = table.render_lines

        def render_lines(crop: Any) -> Any:
            lines = inner(crop)
            self.ends.append(time.perf_counter())
            self.rows.append(table.total_count if hasattr(table, "total_count") else 0)
            return lines

        table.render_lines = render_lines


class Stall:
    """The event loop's worst lateness, sampled by a 5 ms ticker."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - before - 0.005)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def settle(pilot: Any) -> None:
    await pilot.pause()
    await pilot.pause()


async def until(pilot: Any, condition: Callable[[], bool], what: str, within: float) -> None:
    deadline = time.perf_counter() + within
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await pilot.pause(0.01)


async def timed(pilot: Any, renders: Renders, act: Callable[[], Awaitable[None]]) -> float:
    """Seconds from the action to the end of the last table render it caused."""
    before = len(renders.ends)
    start = time.perf_counter()
    await act()
    await settle(pilot)
    ends = renders.ends[before:]
    return (ends[-1] if ends else time.perf_counter()) - start


async def typing(pilot: Any, renders: Renders, text: str) -> list[float]:
    times = []
    for ch in text:

        async def press(ch: str = ch) -> None:
            await pilot.press(ch)

        times.append(await timed(pilot, renders, press))
    return times


async def run_wm(size: int, accounts: int) -> None:
    from winged_monkey.config import AccountConfig, Config
    from winged_monkey.credentials import CredentialResolver
    from winged_monkey.models import AccountSnapshot
    from winged_monkey.portal import Portal
    from winged_monkey.store import Store
    from winged_monkey.ui.app import WMApp
    from winged_monkey.ui.screens.main import MainScreen

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
        start = time.perf_counter()
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            table = app.main_screen.table
            renders = Renders(table)
            await until(pilot, lambda: table.total_count == size, "the cached rows", 3600)
            await settle(pilot)
            full = [end for end, n in zip(renders.ends, renders.rows, strict=True) if n == size]
            emit("first_paint", (full[0] if full else time.perf_counter()) - start)
            await until(pilot, lambda: len(answered) >= accounts, "the first polls", 3600)
            await settle(pilot)
            emit("rss", rss_bytes())

            stall = Stall()
            stall.start()
            sorts = _count_sorts(table)
            answered.clear()
            before = len(renders.ends)
            began = time.perf_counter()
            await pilot.press("R")
            await until(pilot, lambda: len(answered) >= accounts, "the burst", 3600)
            await settle(pilot)
            emit("burst", renders.ends[-1] - began if len(renders.ends) > before else 0.0)
            emit("burst_renders", len(renders.ends) - before)
            emit("burst_sorts", sorts())

            sorts_ms = []
            for key in "ooO":

                async def press(key: str = key) -> None:
                    await pilot.press(key)

                sorts_ms.append(await timed(pilot, renders, press))
            emit("sort", max(sorts_ms))

            async def ages() -> None:
                table.refresh_ages()

            emit("age_refresh", await timed(pilot, renders, ages))

            await pilot.press("slash")
            keys = await typing(pilot, renders, FILTERS[0])
            emit("filter_key", max(keys))
            emit("filter_clear", await timed(pilot, renders, lambda: pilot.press("escape")))
            await pilot.press("slash")
            keys += await typing(pilot, renders, FILTERS[1])
            emit("filter_key", max(keys))
            emit("filter_key_median", statistics.median(keys))
            emit("filter_clear", await timed(pilot, renders, lambda: pilot.press("escape")))
            stall.stop()
            emit("stall", stall.worst)


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

    from winged_monkey.render import price_text, size_text
    from winged_monkey.ui import format as fmt
    from winged_monkey.ui.widgets.instance_table import COLUMNS, natural

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
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one(DataTable)
        renders = Renders(table)
        await until(pilot, lambda: table.row_count == size, "the rows", 3600)
        await settle(pilot)
        emit("first_paint", (renders.ends[0] if renders.ends else time.perf_counter()) - start)
        emit("rss", rss_bytes())
        stall = Stall()
        stall.start()
        times: list[float] = []
        for column in ("state", "account", "account"):

            async def sort(column: str = column) -> None:
                table.sort(column, key=str, reverse=len(times) == 2)

            times.append(await timed(pilot, renders, sort))
        emit("sort", max(times))
        search = {id(i): fmt.instance_search_text(i) for i in instances}
        keys = []
        for text in FILTERS:
            for n in range(1, len(text) + 1):

                async def narrow(typed: str = text[:n]) -> None:
                    show(table, [i for i in instances if typed in search[id(i)]])

                keys.append(await timed(pilot, renders, narrow))

            async def clear() -> None:
                show(table, instances)

            emit("filter_key", max(keys))
            emit("filter_clear", await timed(pilot, renders, clear))
        emit("filter_key_median", statistics.median(keys))
        stall.stop()
        emit("stall", stall.worst)


# -- the parent -----------------------------------------------------------------------------


@contextmanager
def plugin_path() -> Iterator[str]:
    """A PYTHONPATH on which the synthetic backend's entry point is found."""
    from importlib.metadata import entry_points

    extra = os.environ.get("PYTHONPATH", "")
    if any(ep.name == "synthetic" for ep in entry_points(group="winged_monkey.backends")):
        yield extra
        return
    with tempfile.TemporaryDirectory(prefix="wm-synthetic-") as target:
        install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        install += ["--target", target, str(PLUGIN)]
        subprocess.run(install, check=True)
        yield os.pathsep.join(p for p in (extra, target) if p)


def measure(app: str, size: int, accounts: int, timeout: float, path: str) -> dict[str, float]:
    """Run one child; the figures it printed before it ended or ran out of time."""
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, __file__, "--child", app, str(size), "--accounts", str(accounts)]
    figures: dict[str, float] = {}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as child:
        assert child.stdout is not None
        deadline = time.monotonic() + timeout
        with suppress(subprocess.TimeoutExpired):
            out, _ = child.communicate(timeout=max(0.0, deadline - time.monotonic()))
            figures.update(_parse(out))
            if child.returncode != 0:
                print(f"{app} at {size} rows exited with {child.returncode}", file=sys.stderr)
            return figures
        child.kill()
        out, _ = child.communicate()
        figures.update(_parse(out))
        figures["timeout"] = timeout
    return figures


def _parse(out: str) -> dict[str, float]:
    figures = {}
    for line in out.splitlines():
        with suppress(ValueError, KeyError):
            record = json.loads(line)
            figures[record["figure"]] = float(record["value"])
    return figures


def show(value: float | None, unit: str, timeout: float | None) -> str:
    if value is None:
        return f">{timeout:.0f}s" if timeout else "-"
    if unit == "ms":
        return f"{value * 1000:.0f}"
    if unit == "MB":
        return f"{value / 2**20:.0f}"
    return f"{value:.0f}"


def report(size: int, accounts: int, wm: dict[str, float], bare: dict[str, float]) -> None:
    print(f"\n{size:,} rows over {accounts} accounts (ms, MB)")
    print(f"{'figure':<16}{'wm':>10}{'DataTable':>11}{'ratio':>8}  goal")
    for figure, goal, unit in FIGURES:
        ours, base = wm.get(figure), bare.get(figure)
        ratio = f"{ours / base:.2f}" if ours is not None and base else ""
        cells = show(ours, unit, wm.get("timeout")), show(base, unit, bare.get("timeout"))
        print(f"{figure:<16}{cells[0]:>10}{cells[1]:>11}{ratio:>8}  {goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, help="rows (default 1000 10000)")
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per child")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_SIZE} rows, for CI")
    parser.add_argument("--child", choices=("wm", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("wm", "bare"), help="run one app, not both")
    args = parser.parse_args()
    if args.child:
        run = run_wm if args.child == "wm" else run_bare
        asyncio.run(run(args.sizes[0], args.accounts))
        return 0
    sizes = [SMOKE_SIZE] if args.smoke else args.sizes or [1000, 10000]
    accounts = SMOKE_ACCOUNTS if args.smoke else args.accounts
    with plugin_path() as path:
        for size in sizes:
            apps = [args.only] if args.only else ["wm", "bare"]
            got = {app: measure(app, size, accounts, args.timeout, path) for app in apps}
            report(size, accounts, got.get("wm", {}), got.get("bare", {}))
            if "wm" in got and "first_paint" not in got["wm"]:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
