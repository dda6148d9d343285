"""What the TUI costs a slow SSH link: the bytes it writes to the terminal, beside a bare
Textual DataTable app of the same rows doing the same.

    .venv/bin/python scripts/bench_link.py [--instances 50] [--idle 60] [--keys 10]
    .venv/bin/python scripts/bench_link.py --smoke      # CI: a small size, no figure checked

A moto EC2 server in this process holds `--instances` instances over three accounts (three
regions); `wm` runs on them with the config's defaults (refresh_interval 15 s) in a tmux
pane of 80x24, a real terminal, whose output tmux pipes to a file (`pipe-pane`): every byte
counted is one the link would carry. Once every account is listed and the screen is quiet:

- idle: `--idle` seconds with nothing changing at the cloud (polls and the age column's
  refresh happen, as they do), the bytes written and the screen lines they repainted;
- cursor down: `--keys` presses of `↓` (within the screen: no scroll), each counted until
  the output has been quiet for 0.3 s; the median;
- one row changed: an instance stopped at the cloud, then `R` (a refresh, as the next poll
  would be), counted until the row shows it and the output is quiet.

moto launches the instances as the run starts, so the idle minute holds one step of every
row's age (`2m` to `3m`); a fleet hours or days old steps once an hour or a day. Textual
writes a repainted region from its widget's left edge to the region's end.

The baseline is a bare App with a Header, a DataTable of the same rows and a Footer: idle,
the same keys, and one cell of one row updated (`update_cell`) for the changed row. A
figure's ratio is wm's over the baseline's; `-` where the baseline wrote nothing. At 9600
baud a link carries about 960 bytes a second.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from winged_monkey.demo.seed import AMI, DEV_KEY, DEV_SECRET, to_toml
from winged_monkey.demo.server import MotoServer

WM = Path(sys.executable).parent / "wm"
REGIONS = {"dev": "us-east-1", "dev-eu": "eu-west-1", "dev-us2": "us-west-2"}
SECRET_ENV = "WM_BENCH_LINK_SECRET"  # noqa: S105 (the variable's name)
POLL = 0.01
QUIET = 0.3
#: A cursor move to a screen line: Textual writes each repainted line after one.
MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")
BARE = """\
import json, sys
from textual.app import App
from textual.widgets import DataTable, Footer, Header

ROWS = json.load(open(sys.argv[1]))


class Bare(App[None]):
    BINDINGS = [("c", "change", "change")]

    def compose(self):
        yield Header()
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        self.columns = table.add_columns("", "name", "account", "public IP", "$/h", "age", "size")
        for row in ROWS:
            table.add_row(*row, key=row[1])

    def action_change(self):
        table = self.query_one(DataTable)
        table.update_cell(ROWS[1][1], self.columns[0], "■")


Bare().run()
"""
_PANES = itertools.count()


class Pane:
    """One tmux server of its own with one 80x24 window, its output piped to a file."""

    def __init__(self, out: Path) -> None:
        self.socket = f"wm-bench-link-{os.getpid()}-{next(_PANES)}"
        self.out = out

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=30,
        )
        return done.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        self.out.write_bytes(b"")
        # The pane waits for its pipe before the command starts: no byte goes uncounted.
        wrapped = f"tmux -L {self.socket} wait-for piped; {command}; sleep 600"
        self.tmux("new-session", "-d", "-s", "b", "-x", "80", "-y", "24", wrapped, env=env)
        self.tmux("pipe-pane", "-t", "b", f"cat >> {shlex.quote(str(self.out))}")
        self.tmux("wait-for", "-S", "piped")

    def written(self) -> int:
        return self.out.stat().st_size

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "b")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "b", *keys)

    def until(self, what: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if time.monotonic() > deadline:
                raise TimeoutError(f"not on screen in {timeout} s:\n{self.screen()}")
            time.sleep(POLL)

    def quiet(self, timeout: float = 10) -> int:
        """The bytes written so far, once nothing was written for QUIET seconds (or at the
        deadline: an app that never stops writing)."""
        deadline = time.monotonic() + timeout
        size, since = self.written(), time.monotonic()
        while time.monotonic() - since < QUIET and time.monotonic() < deadline:
            time.sleep(POLL)
            if (now := self.written()) != size:
                size, since = now, time.monotonic()
        return size

    def lines(self, start: int, end: int) -> dict[int, int]:
        """Bytes written in [start, end) by the screen line they repainted (1 is the top)."""
        data = self.out.read_bytes()[start:end]
        found: dict[int, int] = {}
        moves = list(MOVE.finditer(data))
        for move, after in itertools.zip_longest(moves, moves[1:]):
            stop = after.start() if after is not None else len(data)
            line = int(move.group(1))
            found[line] = found.get(line, 0) + stop - move.start()
        return found

    def stop(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def seed(server: MotoServer, count: int) -> tuple[list[list[str]], Any, str]:
    """`count` running instances over REGIONS' accounts, named ACCOUNT-NN; the baseline's
    rows, the client of the first account and the id of its second instance."""
    import boto3

    rows: list[list[str]] = []
    clients: dict[str, Any] = {}
    second = ""
    per = [count // len(REGIONS) + (n < count % len(REGIONS)) for n in range(len(REGIONS))]
    for (account, region), many in zip(REGIONS.items(), per, strict=True):
        ec2 = clients[account] = boto3.client(
            "ec2",
            endpoint_url=server.url,
            region_name=region,
            aws_access_key_id=DEV_KEY,
            aws_secret_access_key=DEV_SECRET,
        )
        if not many:
            continue
        reply = ec2.run_instances(
            ImageId=AMI, InstanceType="t3.micro", MinCount=many, MaxCount=many
        )
        for n, instance in enumerate(reply["Instances"]):
            name = f"{account}-{n:02d}"
            ec2.create_tags(
                Resources=[instance["InstanceId"]], Tags=[{"Key": "Name", "Value": name}]
            )
            address = instance.get("PublicIpAddress", "")
            rows.append(["▶", name, account, address, "0.0104", "1m", "t3.micro"])
            if account == "dev" and n == 1:
                second = instance["InstanceId"]
    return sorted(rows, key=lambda row: row[1]), clients["dev"], second


def config(server: MotoServer, folder: Path) -> Path:
    accounts = [
        {
            "name": name,
            "provider": "ec2",
            "region": region,
            "endpoint": {"host": server.host, "port": server.port, "secure": False},
            "credentials": {"key": DEV_KEY, "keyring": False, "secret_env": SECRET_ENV},
        }
        for name, region in REGIONS.items()
    ]
    path = folder / "config.toml"
    path.write_text(to_toml({}, accounts), encoding="utf-8")  # the defaults: refresh 15 s
    return path


def measure(
    pane: Pane,
    ready: Callable[[str], bool],
    idle: float,
    keys: int,
    change: Callable[[], None],
    changed: Callable[[str], bool],
) -> dict[str, Any]:
    pane.until(lambda: ready(pane.screen()))
    start = pane.quiet()
    time.sleep(idle)  # a benchmark's idle minute: nothing else to wait on
    end = pane.written()
    figures: dict[str, Any] = {"idle": end - start, "idle_lines": pane.lines(start, end)}
    moves = []
    for _ in range(keys):
        before = pane.quiet()
        pane.keys("Down")
        moves.append(pane.quiet() - before)
    figures["key"] = statistics.median(moves) if moves else 0
    before = pane.quiet()
    change()
    pane.until(lambda: changed(pane.screen()))
    end = pane.quiet()
    figures |= {"change": end - before, "change_lines": pane.lines(before, end)}
    return figures


def row_of(screen: str, name: str) -> str:
    return next((line for line in screen.splitlines() if f" {name} " in line), "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds idle")
    parser.add_argument("--keys", type=int, default=10, help="cursor moves (at most 15)")
    parser.add_argument("--smoke", action="store_true", help="6 instances, 2 s idle, 2 keys")
    args = parser.parse_args()
    if args.smoke:
        args.instances, args.idle, args.keys = 6, 2.0, 2
    args.keys = min(args.keys, 15, max(0, args.instances - 2))
    with tempfile.TemporaryDirectory() as tmp, MotoServer() as server:
        folder = Path(tmp)
        rows, dev, second = seed(server, args.instances)
        (folder / "rows.json").write_text(json.dumps(rows), encoding="utf-8")
        (folder / "bare.py").write_text(BARE, encoding="utf-8")
        env = {**os.environ, "TERM": "xterm-256color", SECRET_ENV: DEV_SECRET}
        env |= {"WM_CONFIG": str(config(server, folder)), "WM_DATA_DIR": str(folder / "data")}
        env["NO_PROXY"] = env["no_proxy"] = server.host
        target = rows[1][1]

        pane = Pane(folder / "bare.out")
        try:
            bare = f"{shlex.quote(sys.executable)} bare.py rows.json"
            pane.start(f"cd {shlex.quote(tmp)} && {bare}", env)
            base = measure(
                pane,
                lambda screen: rows[min(len(rows), 15) - 1][1] in screen,
                args.idle,
                args.keys,
                lambda: pane.keys("c"),
                lambda screen: "■" in row_of(screen, target),
            )
        finally:
            pane.stop()

        def stop_one() -> None:
            dev.stop_instances(InstanceIds=[second])
            pane.keys("R")

        pane = Pane(folder / "wm.out")
        try:
            pane.start(f"cd {shlex.quote(tmp)} && {shlex.quote(str(WM))}", env)
            wm = measure(
                pane,
                lambda screen: (
                    f"— {args.instances} instance" in screen  # the title's count
                    and screen.count(" ok ") == len(REGIONS)
                ),
                args.idle,
                args.keys,
                stop_one,
                lambda screen: "▶" not in row_of(screen, target) and " ok " in screen,
            )
        finally:
            pane.stop()
    report(args, base, wm)


def report(args: argparse.Namespace, base: dict[str, Any], wm: dict[str, Any]) -> None:
    print(
        f"# tmux 80x24, {args.instances} instances over {len(REGIONS)} accounts on moto, "
        "refresh_interval 15 s (the default); bytes written to the terminal"
    )
    print(f"{'':34} {'bare DataTable':>14} {'wm':>9} {'ratio':>6}")
    for name, key in (
        (f"idle {args.idle:g} s", "idle"),
        ("cursor down, per key (median)", "key"),
        ("one row changed (a refresh)", "change"),
    ):
        ratio = f"{wm[key] / base[key]:.1f}" if base[key] else "-"
        print(f"{name:34} {base[key]:>14.0f} {wm[key]:>9.0f} {ratio:>6}")
    for what, key in (("idle", "idle_lines"), ("one row changed", "change_lines")):
        if lines := wm[key]:
            where = ", ".join(f"{line}: {count}" for line, count in sorted(lines.items()))
            print(f"wm {what}, bytes by screen line (1 is the top): {where}")
    print(f"wm idle over a 9600-baud link: {wm['idle'] / 960:.1f} s of its {args.idle:g} s")


if __name__ == "__main__":
    main()
