"""Listing stacks: `wm ls --kind app --json` against `openstack stack list`, same Heat.

    .venv/bin/python scripts/bench_heat.py [--runs N] [--stacks 20]

Starts the project's standalone test Heat (servers/heat/install.sh, cached), creates
N stacks in one project, then times, alternating, `wm ls` (a fresh process) and
`openstack stack list`; it prints each median and the ratio wm / openstack (goal: <= 0.3).

The project's modules are byte-compiled first, as pip compiles an installed wheel (and
the baseline's venv): with PYTHONDONTWRITEBYTECODE set, an editable install would
otherwise compile them again in every run.

The baseline is python-openstackclient + python-heatclient from PyPI, installed by this
script into its own venv (WM_CACHE or ~/.cache/winged-monkey/bench-osc-venv), never into
the project's. It reaches the keystone-less Heat with `--os-auth-type none
--os-endpoint`, as `wm` reaches it with `endpoint_url` + `project`. Both list the same
stacks (checked); `wm` also counts each stack's members (one more request per stack,
remembered while the stack is unchanged, but each `wm ls` is a new process).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.heat.heatserver

from tests.heat.heatserver import HeatServer, default_cache, install

ROOT = Path(__file__).resolve().parent.parent
#: Standalone Heat's noauth middleware puts a request without X-Auth-Project in "admin".
PROJECT = "admin"
CLIENTS = ("python-openstackclient", "python-heatclient")
GOAL = 0.3
TEMPLATE = """
heat_template_version: 2018-08-31
resources:
  a: {type: OS::Heat::None}
  b: {type: OS::Heat::None}
"""


def client_venv(cache: Path) -> Path:
    """The benchmark-only venv with the OpenStack CLI; created once, then reused."""
    venv = cache / "bench-osc-venv"
    openstack = venv / "bin" / "openstack"
    if not openstack.exists():
        print(f"installing {' '.join(CLIENTS)} into {venv} (once) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "-q", *CLIENTS]
        subprocess.run(pip, check=True)
    return openstack


def seed(url: str, count: int) -> set[str]:
    headers = {"X-Auth-Project": PROJECT, "Content-Type": "application/json"}
    ids = set()
    with httpx.Client(base_url=f"{url}/{PROJECT}", headers=headers, timeout=30) as heat:
        for n in range(count):
            body = {"stack_name": f"bench-{n:03d}", "template": TEMPLATE}
            reply = heat.post("/stacks", json=body)
            reply.raise_for_status()
            ids.add(reply.json()["stack"]["id"])
        deadline = time.monotonic() + 120
        while True:
            stacks = heat.get("/stacks").json()["stacks"]
            if all(s["stack_status"] == "CREATE_COMPLETE" for s in stacks):
                return ids
            if time.monotonic() > deadline:
                raise SystemExit("stacks did not all reach CREATE_COMPLETE within 120 s")
            time.sleep(0.2)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stacks", type=int, default=20)
    args = parser.parse_args()

    cache = default_cache()
    openstack = client_venv(cache)
    compileall = [sys.executable, "-m", "compileall", "-q", str(ROOT / "winged_monkey")]
    subprocess.run([*compileall, str(ROOT / "backends")], check=True)
    with tempfile.TemporaryDirectory(prefix="wm-bench-heat-") as tmp:
        root = Path(tmp)
        with HeatServer(install(cache), root / "heat") as server:
            ids = seed(server.url, args.stacks)
            config = root / "config.toml"
            config.write_text(
                '[[accounts]]\nname = "heat"\nbackend = "heat"\n'
                f'endpoint_url = "{server.url}"\nproject = "{PROJECT}"\n'
                "credentials = { keyring = false }\n"
            )
            env = {
                **os.environ,
                "WM_CONFIG": str(config),
                "WM_DATA_DIR": str(root / "data"),
                "NO_PROXY": "127.0.0.1",
            }
            wm_bin = str(Path(sys.executable).parent / "wm")
            wm = [wm_bin, "ls", "--kind", "app", "--json"]
            osc = [
                str(openstack),
                "--os-auth-type",
                "none",
                "--os-endpoint",
                f"{server.url}/{PROJECT}",
                "stack",
                "list",
                "-f",
                "json",
            ]
            # Warm both (page cache), and check they list the same stacks.
            listings = {
                "wm": {row["id"] for row in json.loads(timed(wm, env)[1])["instances"]},
                "osc": {row["ID"] for row in json.loads(timed(osc, env)[1])},
            }
            if any(found != ids for found in listings.values()):
                sizes = {name: len(found) for name, found in listings.items()}
                raise SystemExit(f"the listings differ from the {len(ids)} stacks: {sizes}")
            times: dict[str, list[float]] = {name: [] for name in listings}
            for _ in range(args.runs):
                times["wm"].append(timed(wm, env)[0])
                times["osc"].append(timed(osc, env)[0])
    medians = {name: statistics.median(found) for name, found in times.items()}
    print(f"stacks: {args.stacks}, runs: {args.runs} (medians)")
    print(f"wm ls --kind app --json     {medians['wm']:6.3f} s")
    print(f"openstack stack list        {medians['osc']:6.3f} s")
    ratio = medians["wm"] / medians["osc"]
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"ratio wm / openstack        {ratio:6.2f}   ({verdict} the goal <= {GOAL})")


if __name__ == "__main__":
    main()
