"""`wm ls --json` against a bare libcloud listing of the same two EC2 accounts, in instructions.

    .venv/bin/python scripts/bench_ls.py [--keep DIR]

Two accounts on one moto server (the demo's "dev" and "prod", the second reached through
STS), each with a few instances. Both sides are fresh processes: `wm ls --json` and
scripts/libcloud_ls.py (libcloud's EC2 driver with the one fix a moto listing needs). The
script checks that both list the same instances, then counts each one's CPU instructions
once with valgrind's callgrind ("Collected", every thread included) and prints both and
the ratio. (`perf stat -e instructions` would do, where the CPU's counters are reachable;
in a container they often are not.) The goal (issue 13): ratio ≤ 1.3.

Instruction counts are nearly deterministic (PYTHONHASHSEED is fixed; the bytecode cache
and wm's store are warmed by the uncounted check run, as a returning user's are), so one
run of each is enough.
`--keep DIR` keeps the callgrind outputs for `callgrind_annotate`.
`--parts` also counts what wm's imports add, one layer at a time (each a `python -c
"import ..."` holding the layers before it), and the rest: what the listing itself costs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from winged_monkey.demo.seed import running_demo, to_toml

ACCOUNTS = ("dev", "prod")
BASELINE = Path(__file__).with_name("libcloud_ls.py")
# Under callgrind a process runs ~50 times slower: a deadline must not be what is measured.
TIMEOUT = 600.0


def write_config(demo_config: Path, path: Path) -> list[dict[str, Any]]:
    """The demo's config with only ACCOUNTS (and a generous timeout); those accounts."""
    doc = tomllib.loads(demo_config.read_text(encoding="utf-8"))
    accounts = [{**a, "timeout": TIMEOUT} for a in doc.pop("accounts") if a["name"] in ACCOUNTS]
    path.write_text(to_toml(doc, accounts), encoding="utf-8")
    return accounts


def instructions(name: str, cmd: list[str], env: dict[str, str], keep: Path | None) -> int:
    """Instructions `cmd` ran, in every thread, as callgrind counts them."""
    with tempfile.TemporaryDirectory() as tmp:
        out = (keep or Path(tmp)) / f"callgrind.{name}"
        done = _run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} ... failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


#: Cumulative import layers for --parts: the baseline's driver first, then what wm adds.
LAYERS = (
    ("python alone", "pass"),
    ("+ libcloud's EC2 driver (the baseline's imports)", "import libcloud.compute.drivers.ec2"),
    ("+ click and asyncio", "import click, asyncio"),
    ("+ pydantic (BaseModel)", "from pydantic import BaseModel"),
    (
        "+ wm's modules for a listing",
        "import winged_monkey.cli.listing, winged_monkey.engine.portal, "
        "winged_monkey.store.sqlite, winged_monkey.user.config, winged_monkey.user.credentials, "
        "winged_monkey_libcloud.ec2",
    ),
)


def parts(env: dict[str, str], keep: Path | None, total: int) -> None:
    """Each import layer's instructions, and the listing's own (wm's total less them all)."""
    code, before = "", 0
    for index, (label, statement) in enumerate(LAYERS):
        code = f"{code}; {statement}" if code else statement
        command = [sys.executable, "-c", code]
        _run(command, env)  # its bytecode cached, as for the runs above
        count = instructions(f"layer{index}", command, env, keep)
        print(f"  {label:<52} {(count - before) / 1e6:+9.1f} M")
        before = count
    print(f"  {'+ the listing: config, store, calls, output':<52} {(total - before) / 1e6:+9.1f} M")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep callgrind's output files here")
    parser.add_argument("--parts", action="store_true", help="also count wm's import layers")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (Debian: apt-get install valgrind)")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    with (
        running_demo() as (_, store_path, server),
        tempfile.TemporaryDirectory() as data,
        tempfile.TemporaryDirectory() as pycache,
    ):
        config_path = store_path.parent / "bench-ls.toml"
        accounts = write_config(store_path.parent / "config.toml", config_path)
        plan = [
            {"key": a["credentials"]["key"], "region": a["region"]}
            | {k: a["credentials"][k] for k in ("secret_env", "token_env") if k in a["credentials"]}
            for a in accounts
        ]
        env = {**os.environ, "WM_CONFIG": str(config_path), "WM_DATA_DIR": data}
        env["PYTHONHASHSEED"] = "0"
        # Bytecode as an installed copy has it: this machine sets PYTHONDONTWRITEBYTECODE,
        # which made wm compile its own modules on every run (a fifth of its instructions)
        # while libcloud's came compiled. Both get a cache of their own, warmed below.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
        python = sys.executable
        base = [python, str(BASELINE), server.host, str(server.port), json.dumps(plan)]
        wm = [str(Path(python).parent / "wm"), "ls", "--json"]

        # The check run: both list the same instances (and the store is warmed for wm).
        listed = int(_run(base, env).stdout)
        answer = json.loads(_run(wm, env).stdout)
        ours = len(answer["instances"])
        failed = [s["name"] for s in answer["accounts"] if s["phase"] == "failed"]
        assert not failed, f"wm ls: accounts failed: {failed}"
        assert listed == ours > 0, f"libcloud listed {listed} instances, wm ls {ours}"

        baseline = instructions("libcloud", base, env, args.keep)
        measured = instructions("wm", wm, env, args.keep)
        print(f"# {len(accounts)} EC2 accounts on one moto server, {ours} instances, callgrind")
        print(f"libcloud list_nodes script  {baseline / 1e6:9.1f} M instructions   (baseline)")
        print(f"wm ls --json                {measured / 1e6:9.1f} M instructions   ", end="")
        print(f"ratio {measured / baseline:.2f}  (goal ≤ 1.30)")
        if args.parts:
            print("wm ls --json, layer by layer:")
            parts(env, args.keep, measured)


if __name__ == "__main__":
    main()
