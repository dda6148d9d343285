"""A working day in `wm`, in minutes: does a long session stay as fast and as small as its
first minute?

    .venv/bin/python scripts/soak_session.py [--accounts 20] [--instances 50] [--polls 2000]
        [--every 200] [--interval 0.01] [--trace] [--types]
    .venv/bin/python scripts/soak_session.py --smoke     # CI: a tiny fleet, no figure checked

The real `wm` TUI through Pilot at 80x24 (as scripts/bench_scale.py drives it), over
`--accounts` accounts of `--instances` rows of the example backend's fleet
(`examples/winged-monkey-synthetic`, installed into a temporary directory when it is not
installed already), from a cache holding every account's rows. Every account is polled
every `--interval` seconds instead of every 15 s, so `--polls` polls of each account (2,000:
8 hours at the default cadence) run in minutes. The clouds churn as fleets do (the rows
come from the synthetic backend; their changes are this script's, made in each listing):

- at each listing, `--changes` rows of each account change state (running, stopped, ...);
- every `--replace-every` listings one row is destroyed (listed as terminated for
  `--terminated-for` listings, as EC2 does, then no more) and one launched (a new id,
  pending, running at the next listing);
- one account fails (`--fail-for` listings out of every `--fail-every`) and recovers;
- one account is slow (each listing takes `--slow` seconds).

Every `--every` polls (those of the slowest account but the slow one) the polls are paused
until every poll under way has ended and the screen has handled every update, and a line
is printed:

- rounds, and wall seconds and process CPU ms per listing over the interval;
- rss (MB), objects (Python objects alive after a full collection, frozen ones included);
- store: its file's size and its WAL's (KB), rows in `inventory` and `events`, and
  the changes the clouds made (the log should hold one event per observed change:
  appeared, state, vanished; not one per poll);
- handler: the UI thread's longest callback since the last line (its CPU time, as
  bench_scale.py measures it);
- table: the instance table's rows, the rows the clouds listed last, and how many differ
  (rows shown that no cloud lists now, or listed and not shown: both should be 0);
- tasks: asyncio tasks alive; threads: threads alive.

A summary follows: growth and ratios of the last interval against the first. With `--trace`
(tracemalloc: slower) the source lines whose memory grew most from the first line to the
last; with `--types`, the object types whose count grew most. The exit status is 1 when the
table or the event log disagreed with the clouds at a line (what a person would see).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for scripts.bench_scale*

from textual import events

from scripts.bench_scale import plugin_path
from scripts.bench_scale_children import SIZE, Stall, fleet, rss_bytes, settle, until
from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability
from winged_monkey.errors import UnreachableError
from winged_monkey.models import Instance, InstanceState

S = InstanceState
#: What a state change makes of a row's state (never a destroyed or a pending row).
NEXT_STATE = {
    S.RUNNING: S.STOPPED,
    S.STOPPED: S.RUNNING,
    S.ERROR: S.RUNNING,
    S.SUSPENDED: S.RUNNING,
}
SMOKE = ["--accounts", "4", "--instances", "10", "--polls", "60", "--every", "20"]
SMOKE += ["--fail-every", "20", "--fail-for", "3", "--slow", "0.05"]


@dataclass(frozen=True)
class Churn:
    changes: int = 2
    replace_every: int = 5
    terminated_for: int = 3
    fail_every: int = 0  # 0: never fails
    fail_for: int = 0
    slow: float = 0.0


class Cloud(Backend):
    """One account's cloud, changing at each listing as `churn` says; counts the changes a
    listing can observe (each one event in the log)."""

    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset({Capability.LIST, Capability.START})

    def __init__(self, account: AccountConfig, rows: list[Instance], churn: Churn) -> None:
        super().__init__(account, Secrets(account=account.name))
        self.rows = {i.id: i for i in rows}
        self.churn = churn
        self.listings = 0  # calls, failed ones too
        self.changes = 0
        #: What the last successful listing returned (what the table should show).
        self.listed: frozenset[str] = frozenset(i.key for i in rows)
        self._turn = 0
        self._launched = 0
        self._terminated: dict[str, int] = {}  # id -> listings it is still listed for
        self._touched: set[str] = set()  # changed since the last listing: not again
        self.started = 0  # starts asked for (through the TUI)

    async def list_instances(self) -> list[Instance]:
        self.listings += 1
        churn = self.churn
        if churn.slow:
            await asyncio.sleep(churn.slow)
        if churn.fail_every and self.listings % churn.fail_every < churn.fail_for:
            raise UnreachableError("connection refused (soak)", account=self.account.name)
        if self.listings > 1:  # the first listing repeats the cache: nothing changed
            self._change()
        self.listed = frozenset(i.key for i in self.rows.values())
        self._touched.clear()
        return list(self.rows.values())

    def _set(self, instance: Instance, state: InstanceState) -> None:
        """One change a listing observes: a row changes once a listing at most."""
        self.rows[instance.id] = instance.model_copy(update={"state": state, "raw_state": state})
        self._touched.add(instance.id)
        self.changes += 1

    def _change(self) -> None:
        churn = self.churn
        for gone, left in list(self._terminated.items()):  # destroyed: listed for a while
            if left <= 1:
                del self._terminated[gone], self.rows[gone]
                self.changes += 1  # vanished
            else:
                self._terminated[gone] = left - 1
        for row in [r for r in self.rows.values() if r.state is S.PENDING]:
            self._set(row, S.RUNNING)  # launched at an earlier listing: up now
        movable = [
            r for r in self.rows.values() if r.state in NEXT_STATE and r.id not in self._touched
        ]
        for _ in range(min(churn.changes, len(movable))):
            self._turn = (self._turn + 1) % len(movable)
            row = movable[self._turn]
            self._set(row, NEXT_STATE[row.state])
        if churn.replace_every and self.listings % churn.replace_every == 0:
            alive = [
                r for r in self.rows.values() if r.state in NEXT_STATE and r.id not in self._touched
            ]
            if alive:  # the oldest goes
                oldest = min(alive, key=_created)
                self._set(oldest, S.TERMINATED)
                self._terminated[oldest.id] = churn.terminated_for
            self._launched += 1
            new = next(iter(self.rows.values())).model_copy(
                update={
                    "id": f"new-{self._launched:06d}",
                    "name": f"launched-{self._launched}",
                    "state": S.PENDING,
                    "raw_state": "pending",
                    "public_ips": (),
                    "created_at": datetime.now(UTC),
                }
            )
            self.rows[new.id] = new
            self.changes += 1  # appeared

    async def act(self, action: Action, instance: Instance) -> None:
        """A start (the only action offered): the row runs at once."""
        row = self.rows[instance.id]
        self.started += 1
        if row.state is not S.RUNNING:
            self._set(row, S.RUNNING)

    async def get_instance(self, instance_id: str) -> Instance | None:
        return self.rows.get(instance_id)


def _created(row: Instance) -> float:
    return row.created_at.timestamp() if row.created_at else float("inf")


@dataclass
class Mark:
    """What one printed line measured."""

    rounds: int
    wall: float
    cpu: float
    listings: int
    rss: float
    objects: int
    handler: float


def store_figures(path: Path) -> tuple[int, int, int, int, int]:
    """(the file's bytes, its WAL's, inventory rows, observed events, action events), read
    by a connection of its own."""
    wal = path.with_name(path.name + "-wal")
    sizes = path.stat().st_size, wal.stat().st_size if wal.exists() else 0
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        inventory = db.execute("SELECT count(*) FROM inventory").fetchone()[0]
        count = "SELECT count(*) FROM events WHERE source = ?"
        observed = db.execute(count, ("observed",)).fetchone()[0]
        actions = db.execute(count, ("action",)).fetchone()[0]
    finally:
        db.close()
    return *sizes, int(inventory), int(observed), int(actions)


def objects() -> int:
    """Python objects the collector tracks, those frozen (gc.freeze) included."""
    return len(gc.get_objects()) + gc.get_freeze_count()


def by_type() -> Counter[str]:
    return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())


HEADER = (
    f"{'rounds':>7}{'s/rnd':>7}{'cpu/ls':>7}{'rss':>6}{'objects':>9}{'db':>7}{'wal':>6}"
    f"{'inv':>5}{'seen':>8}{'changes':>8}{'starts':>7}{'act_ev':>7}{'handler':>8}"
    f"{'table':>7}{'live':>6}"
    f"{'diff':>5}{'tasks':>6}{'thrds':>6}"
)


async def soak(args: argparse.Namespace) -> int:
    from winged_monkey.engine.portal import Portal
    from winged_monkey.models import AccountSnapshot
    from winged_monkey.store.sqlite import Store
    from winged_monkey.ui.app import WMApp
    from winged_monkey.ui.screens.main import MainScreen
    from winged_monkey.user.config import AccountConfig, Config
    from winged_monkey.user.credentials import CredentialResolver

    if args.trace:
        tracemalloc.start(10)
    rows = fleet(args.accounts * args.instances, args.accounts)
    names = list(rows)
    failing, slow = names[-1], names[-2] if len(names) > 1 else None
    with tempfile.TemporaryDirectory(prefix="wm-soak-") as tmp:
        path = Path(tmp) / "wm.sqlite3"
        store = Store.open(path)
        cached_at = datetime.now(UTC) - timedelta(minutes=1)
        configs = []
        for name, instances in rows.items():
            settings = {"name": name, "backend": "synthetic", "instances": len(instances)}
            configs.append(AccountConfig.model_validate({**settings, "credentials": {}}))
            store.save_snapshot(
                AccountSnapshot(account=name, fetched_at=cached_at, instances=tuple(instances))
            )
        # The poll interval below the config's floor (1 s): a day's polls in minutes.
        config = Config(accounts=tuple(configs)).model_copy(
            update={"refresh_interval": args.interval, "busy_refresh_interval": args.interval}
        )
        portal = Portal(config, store, resolver=CredentialResolver(prompt=None), user="soak")
        base = Churn(args.changes, args.replace_every, args.terminated_for)
        clouds = {}
        for name in names:
            churn = base
            if name == failing:
                churn = Churn(
                    **{**base.__dict__, "fail_every": args.fail_every, "fail_for": args.fail_for}
                )
            if name == slow:
                churn = Churn(**{**base.__dict__, "slow": args.slow})
            account = portal.accounts.get(name)
            account.backend = clouds[name] = Cloud(account.config, rows[name], churn)
        del rows

        published = dispatched = 0

        def hook(message: Any) -> None:
            nonlocal dispatched
            if isinstance(message, MainScreen.AccountRefreshed):
                dispatched += 1

        app = WMApp(portal, config, title_suffix="soak")
        async with app.run_test(size=SIZE, message_hook=hook) as pilot:
            screen = app.main_screen
            table = screen.table
            await until(pilot, lambda: screen.poller is not None, "the poller", 60)
            poller = screen.poller
            assert poller is not None

            def count(_update: object) -> None:
                nonlocal published
                published += 1

            poller.subscribe(count)
            timed = [n for n in names if n != slow]

            def rounds() -> int:
                return min(poller.polls.get(n, 0) for n in timed)

            stall = Stall()
            stall.start()
            print(
                f"{args.accounts} accounts x {args.instances} rows, {args.polls} polls each "
                f"every {args.interval:g} s; {args.changes} changes a listing, one destroyed "
                f"and one launched every {args.replace_every}; {failing} fails {args.fail_for} "
                f"of every {args.fail_every} listings, {slow} takes {args.slow:g} s",
                flush=True,
            )
            print(HEADER, flush=True)
            marks: list[Mark] = []
            first_trace: tracemalloc.Snapshot | None = None
            first_types: Counter[str] | None = None
            wrong = 0
            started, cpu0 = time.perf_counter(), time.process_time()
            listings0 = 0
            steady = [n for n in timed if n != failing]
            acted = 0

            async def start_one() -> None:
                """A person starts a stopped row: the cursor on it, then `s` (sent as the
                terminal sends it: Pilot's press waits for an idle process, which a soak
                never is)."""
                nonlocal acted
                acted += 1
                cloud = clouds[steady[acted % len(steady)]]
                for row in cloud.rows.values():
                    shown = table.instance(row.key)
                    stopped = shown is not None and shown.state is S.STOPPED
                    if stopped and row.key not in portal.operations.in_flight:
                        before = cloud.started
                        table.select(row.key)
                        app.post_message(events.Key("s", "s"))
                        deadline = time.perf_counter() + 5  # a row that just started: no key
                        while cloud.started == before and time.perf_counter() < deadline:
                            await pilot.pause(0.01)
                        return

            async def soak_until(target: int) -> None:
                deadline = time.perf_counter() + args.timeout
                while rounds() < target:
                    if args.start_every and rounds() >= (acted + 1) * args.start_every:
                        await start_one()
                    if time.perf_counter() > deadline:
                        raise SystemExit(f"timed out waiting for {target} polls")
                    await pilot.pause(0.01)

            def idle() -> bool:
                return poller.settled and not portal.operations.in_flight

            for target in [*range(args.every, args.polls, args.every), args.polls]:
                await soak_until(target)
                poller.pause()
                await until(pilot, idle, "the polls and starts under way", args.timeout)
                await until(pilot, lambda: dispatched >= published, "the updates", args.timeout)
                await settle(pilot)
                handler = stall.longest
                gc.collect()  # what is counted below is alive, not garbage not yet collected
                wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
                listings = sum(c.listings for c in clouds.values())
                shown = set(table.index.rows)
                live = frozenset().union(*(c.listed for c in clouds.values()))
                diff = len(shown ^ live)
                size, wal, inventory, observed, action_events = store_figures(path)
                changes = sum(c.changes for c in clouds.values())
                starts = sum(c.started for c in clouds.values())
                # One observed event per change; a start's change may be the start's own
                # reading instead (read while a listing was out: Account.newest), and each
                # start is two events (its intent, its outcome).
                logged = changes - starts <= observed <= changes and action_events == 2 * starts
                wrong += bool(diff) + (not logged)
                done = rounds() - (marks[-1].rounds if marks else 0)
                mark = Mark(
                    rounds(),
                    wall,
                    cpu,
                    listings - listings0,
                    rss_bytes() / 2**20,
                    objects(),
                    handler,
                )
                marks.append(mark)
                print(
                    f"{mark.rounds:>7}{wall / max(done, 1):>7.3f}"
                    f"{cpu / max(mark.listings, 1) * 1000:>7.2f}{mark.rss:>6.0f}"
                    f"{mark.objects:>9}{size / 1024:>7.0f}{wal / 1024:>6.0f}{inventory:>5}"
                    f"{observed:>8}{changes:>8}{starts:>7}{action_events:>7}"
                    f"{handler * 1000:>8.1f}{len(shown):>7}{len(live):>6}{diff:>5}"
                    f"{len(asyncio.all_tasks()):>6}{threading.active_count():>6}",
                    flush=True,
                )
                if len(marks) == 1:
                    first_trace = tracemalloc.take_snapshot() if args.trace else None
                    first_types = by_type() if args.types else None
                stall.longest = 0.0  # this line's own work is not the app's
                poller.resume()
                started, cpu0, listings0 = time.perf_counter(), time.process_time(), listings
            stall.stop()
            summary(marks)
            if first_trace is not None:
                grown(first_trace, tracemalloc.take_snapshot())
            if first_types is not None:
                counted = by_type() - first_types
                print("\nobject types grown most since the first line:")
                for name, n in counted.most_common(15):
                    print(f"  {n:>+8}  {name}")
        await portal.close()
    if wrong:
        print(f"\n{wrong} lines where the table or the event log disagreed with the clouds")
    return 1 if wrong else 0


def summary(marks: list[Mark]) -> None:
    first, last = marks[0], marks[-1]
    if len(marks) < 2:
        return

    def per(m: Mark) -> float:
        return m.cpu / max(m.listings, 1) * 1000

    print(
        f"\nlast interval against the first: CPU per listing {per(last):.2f} / "
        f"{per(first):.2f} ms ({per(last) / per(first):.2f} x); rss {first.rss:.0f} -> "
        f"{last.rss:.0f} MB ({last.rss - first.rss:+.0f}); objects {first.objects} -> "
        f"{last.objects} ({last.objects - first.objects:+}); longest callback "
        f"{first.handler * 1000:.0f} -> {last.handler * 1000:.0f} ms"
    )


def grown(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot) -> None:
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = last.filter_traces(ignore).compare_to(first.filter_traces(ignore), "lineno")
    print("\nsource lines whose memory grew most since the first line:")
    for stat in stats[:15]:
        print(f"  {stat.size_diff / 1024:>+9.1f} KB {stat.count_diff:>+7}  {stat.traceback}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--instances", type=int, default=50, help="rows per account")
    parser.add_argument("--polls", type=int, default=2000, help="polls of each account")
    parser.add_argument("--every", type=int, default=200, help="polls between lines")
    parser.add_argument("--interval", type=float, default=0.01, help="seconds between polls")
    parser.add_argument("--changes", type=int, default=2, help="state changes a listing")
    parser.add_argument("--replace-every", type=int, default=5)
    parser.add_argument("--terminated-for", type=int, default=3)
    parser.add_argument("--fail-every", type=int, default=100)
    parser.add_argument("--fail-for", type=int, default=10)
    parser.add_argument("--slow", type=float, default=0.2, help="seconds a slow listing takes")
    parser.add_argument(
        "--start-every", type=int, default=10, help="polls between starts through the TUI"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per line at most")
    parser.add_argument("--trace", action="store_true", help="tracemalloc: lines grown most")
    parser.add_argument("--types", action="store_true", help="object types grown most")
    parser.add_argument("--smoke", action="store_true", help="a tiny soak, for CI")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return asyncio.run(soak(args))
    argv = [a for a in sys.argv[1:] if a != "--smoke"] + (SMOKE if args.smoke else [])
    with plugin_path() as path:  # the synthetic backend's settings validate the config
        env = {**os.environ, "PYTHONPATH": path}
        return subprocess.run([sys.executable, __file__, "--child", *argv], env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
