"""`wm ls` with one account behind each fault a link or a provider can produce: wall time
and exit code, beside the same `wm ls` with no fault (the baseline, in the same run).

    .venv/bin/python scripts/bench_faults.py [--timeout 5] [--src TREE] [--cap 60]

The demo cloud (three EC2 accounts on one moto server); `prod` goes through a
fault-injecting proxy (tests/faultproxy.py) with the account timeout given. `--src` runs
another checkout's `wm` (e.g. `git worktree add /tmp/wm-before bcc1f20`) against the
same cloud and proxy, for a before/after table; `--cap` kills a run that takes longer.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.faultproxy

from tests.faultproxy import Fault, FaultProxy  # noqa: E402
from winged_monkey.demo.seed import running_demo, to_toml  # noqa: E402

FAULTS: list[tuple[str, Fault]] = [
    ("none", Fault("pass")),
    ("hang", Fault("hang")),
    ("drip 1 byte / 0.5 s", Fault("drip", interval=0.5)),
    ("drip 1 byte / 10 ms", Fault("drip", interval=0.01)),
    ("closed, no answer", Fault("close")),
    ("401", Fault("status", status=401)),
    ("403", Fault("status", status=403)),
    ("429, Retry-After 7", Fault("status", status=429, headers={"Retry-After": "7"})),
    ("500", Fault("status", status=500)),
    ("503", Fault("status", status=503)),
    ("garbage (a captive portal)", Fault("garbage")),
    ("reply cut short", Fault("truncate", keep=60)),
]
WM = "import sys; sys.argv[0] = 'wm'; from winged_monkey.cli.main import main; main()"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=5.0, help="the slow account's timeout")
    parser.add_argument("--src", type=Path, help="another checkout's tree to run wm from")
    parser.add_argument("--cap", type=float, default=60.0, help="kill a run after this many s")
    args = parser.parse_args()
    with running_demo() as (config, _store, server), tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)  # with the demo's secrets, which running_demo exports
        if args.src:
            env["PYTHONPATH"] = f"{args.src}:{args.src / 'backends'}"
        proxy = FaultProxy((server.host, server.port)).start()
        accounts: list[dict[str, Any]] = []
        for account in config.accounts:
            data = account.model_dump(mode="json", exclude_none=True)
            if account.name == "prod":
                data["endpoint"]["port"] = proxy.port
                data["timeout"] = args.timeout
            accounts.append(data)
        config_path = Path(tmp) / "config.toml"
        config_path.write_text(to_toml({}, accounts), encoding="utf-8")
        env |= {"WM_CONFIG": str(config_path), "WM_DATA_DIR": str(Path(tmp) / "data")}
        print(f"wm ls, `prod` behind the fault, timeout {args.timeout:g} s ({args.src or ROOT})")
        print(f"{'fault':28} {'wall':>8} {'exit':>5}  prod's line")
        for label, fault in FAULTS:
            proxy.fault = fault
            started = time.perf_counter()
            try:
                run = subprocess.run(
                    [sys.executable, "-c", WM, "ls"],
                    env=env,
                    cwd=tmp,  # not this checkout: -c puts the working directory on sys.path
                    capture_output=True,
                    text=True,
                    timeout=args.cap,
                )
                code, said = str(run.returncode), run.stdout + run.stderr
            except subprocess.TimeoutExpired:
                code, said = "killed", ""
            wall = time.perf_counter() - started
            line = next((ln for ln in said.splitlines() if "prod:" in ln), "")
            print(f"{label:28} {wall:7.2f}s {code:>5}  {line.strip()[:90]}")
        proxy.stop()


if __name__ == "__main__":
    main()
