"""A real OpenStack on loopback for the tests: Keystone, Glance, Placement, Nova (fake virt)
and, on demand (`start --heat`, or `start_heat()` on a running stack), Heat.

Built from Debian 12's Zed libraries (servers/openstack/install.sh). Everything lives
in one scratch folder: MariaDB's data dir, RabbitMQ's node, each service's config,
logs and state. Each service is its own process group; `stop` ends every one.

    python3 servers/openstack/stack.py start --dir /tmp/wm-openstack   # prints stack.json's path
    python3 servers/openstack/stack.py heat --dir /tmp/wm-openstack    # adds Heat to it
    python3 servers/openstack/stack.py stop --dir /tmp/wm-openstack

`start` returns once every service answers and the seed is in place (two projects
`alpha` and `beta` with one member user each, a public image, flavors), and writes
DIR/stack.json with the ports, URLs, users and passwords. Standard library only: any
Python 3.11 runs it; the services themselves run under Debian's /usr/bin/python3.

NOT REAL: Neutron. No network service runs here; `neutron_stub.py` answers every list
with an empty one so servers boot without NICs. Everything else is the real service.

This file holds the order of the steps and the command line; the steps live beside it:
stack_processes.py (process groups: spawn, wait, stop), stack_backing.py (MariaDB,
RabbitMQ, the Neutron stub), stack_keystone.py (Keystone and the identity seed),
stack_compute.py (Glance, Placement, Nova and their seed), stack_heat.py (Heat on demand),
stack_helpers.py (HTTP, ini files, ports, StackError).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# The parts live in sibling modules (servers/ is no package); the tests load this file by
# its path (tests/openstack/conftest.py), so its folder may not be on sys.path yet.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from stack_backing import DATABASES, Backing  # noqa: E402
from stack_compute import FLAVORS, IMAGE_NAME, Compute  # noqa: E402
from stack_heat import Heat  # noqa: E402
from stack_helpers import REGION, StackError, expect, free_port, http, ini, listening  # noqa: E402
from stack_keystone import PROJECTS, SERVICES, Identity  # noqa: E402
from stack_processes import KILL_AT_ONCE, SYSTEM_PYTHON, Processes, rss_mb  # noqa: E402

__all__ = [
    "DATABASES",
    "FLAVORS",
    "IMAGE_NAME",
    "KILL_AT_ONCE",
    "PROJECTS",
    "REGION",
    "SERVICES",
    "SYSTEM_PYTHON",
    "Backing",
    "Compute",
    "Heat",
    "Identity",
    "Processes",
    "Stack",
    "StackError",
    "expect",
    "free_port",
    "http",
    "ini",
    "listening",
    "main",
    "rss_mb",
]


class Stack(Heat, Compute):
    """The whole stack: processes (Processes), MariaDB/RabbitMQ/stub (Backing), Keystone
    (Identity), Glance/Placement/Nova (Compute) and Heat on demand (Heat)."""

    def start(self) -> dict[str, Any]:
        if self.pids_file.exists() and any(self.alive(e["name"]) for e in self._pids()):
            raise StackError(f"a stack already runs from {self.root}; stop it first")
        for folder in (self.etc, self.log, self.run):
            folder.mkdir(parents=True, exist_ok=True)
        self.pids_file.write_text("[]")
        names = ("keystone", "glance", "placement", "nova", "neutron", "amqp", "epmd", "dist")
        self.state = {
            "root": str(self.root),
            "region": REGION,
            "ports": {name: free_port() for name in names},
            "admin_password": secrets.token_hex(10),
            "service_password": secrets.token_hex(10),
            "users": {},
            "timings": {},
        }
        started = time.monotonic()
        steps = [
            ("mariadb", self.start_mariadb),
            ("rabbitmq", self.start_rabbitmq),
            ("neutron_stub", self.start_neutron_stub),
            ("keystone", self.start_keystone),
            ("seed_identity", self.seed_identity),
            ("glance_placement_nova_db", self.prepare_dbs),
            ("services", self.start_services),
            ("seed", self.seed),
        ]
        try:
            for name, step in steps:
                at = time.monotonic()
                step()
                self.state["timings"][name] = round(time.monotonic() - at, 2)
        except BaseException:
            self.stop()
            raise
        self.state["timings"]["total"] = round(time.monotonic() - started, 2)
        self.state["auth_url"] = f"http://127.0.0.1:{self.state['ports']['keystone']}"
        self.state["compute_url"] = self.url("nova")
        self.state_file.write_text(json.dumps(self.state, indent=2))
        return self.state


def main() -> None:
    parser = argparse.ArgumentParser(description="Test OpenStack on loopback (see module doc).")
    parser.add_argument("command", choices=("start", "heat", "stop", "rss"))
    parser.add_argument("--heat", action="store_true", help="start: add Heat as well.")
    parser.add_argument("--dir", type=Path, required=True, help="Scratch folder for everything.")
    args = parser.parse_args()
    stack = Stack(args.dir)
    if args.command in ("start", "heat"):
        try:
            if args.command == "heat":
                stack = Stack.attach(args.dir)
            else:
                stack.start()
            state = stack.start_heat() if args.command == "heat" or args.heat else stack.state
        except StackError as exc:
            print(f"openstack stack failed: {exc}", file=sys.stderr)
            sys.exit(1)
        print(json.dumps(state["timings"]), file=sys.stderr)
        print(stack.state_file)
    elif args.command == "stop":
        print("stopped: " + ", ".join(stack.stop()))
    else:
        sizes = rss_mb(args.dir)
        print(json.dumps({**sizes, "total": round(sum(sizes.values()), 1)}, indent=1))


if __name__ == "__main__":
    main()
