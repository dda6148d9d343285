"""Nova's part of scripts/bench_actions.py (`--only nova`): stop+start cycles on the Debian
OpenStack the tests start (servers/openstack/stack.py, Nova with the fake virt driver;
install it once with servers/openstack/install.sh). Set WM_OPENSTACK_DIR to reuse a stack
already started with `stack.py start --dir DIR` (it is left running), as the tests do.

The four ways of bench_actions.py, with openstacksdk as the provider's SDK: `stop_server` /
`start_server` then `wait_for_server` (polling every 0.1 s instead of its 2 s), in this
process and as a process per action. Beside each action a witness thread polls the server
back to back with openstacksdk (its own session) and notes when a reply first shows the
new state (status SHUTOFF or ACTIVE, no task): each way's end minus that moment is how
long after Nova said so the way said so (issue 13's goal for wm: within 0.5 s).
NOT REAL: Neutron (a stub; the server boots without NICs), as in the tests.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openstack
from openstack.connection import Connection

from scripts.bench_actions import (
    WAYS,
    _listed,
    measure,
    open_portal,
    report,
    timed,
    wm_env,
)
from tests.openstack.conftest import REUSE, stack_module

NOVA_ENV = "WM_BENCH_NOVA_SECRET"  # alice's password, for wm and the SDK process
PROJECT = "alpha"
#: What Nova's status reads once each action is over.
TARGET = {"stop": "SHUTOFF", "start": "ACTIVE"}
FAKE_DRIVER = Path("/usr/lib/python3/dist-packages/nova/virt/fake.py")

#: openstacksdk as a new process per action, as a script would run it: connect, act, wait.
OPENSTACKSDK_PROCESS = """
import os, sys
import openstack
auth_url, user, project, env, ident, action = sys.argv[1:]
conn = openstack.connect(
    auth_url=auth_url, username=user, password=os.environ[env], project_name=project,
    user_domain_name="Default", project_domain_name="Default", region_name="RegionOne",
    load_yaml_config=False, load_envvars=False)
server = conn.compute.get_server(ident)
if action == "stop":
    conn.compute.stop_server(server)
    conn.compute.wait_for_server(server, status="SHUTOFF", interval=0.1, wait=120)
else:
    conn.compute.start_server(server)
    conn.compute.wait_for_server(server, status="ACTIVE", interval=0.1, wait=120)
"""


def connect(state: dict[str, Any]) -> Connection:
    user = state["users"][PROJECT]
    return openstack.connect(
        auth_url=state["auth_url"],
        username=user["user"],
        password=user["password"],
        project_name=PROJECT,
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
        load_yaml_config=False,
        load_envvars=False,
    )


class OpenstacksdkCycle:
    """openstacksdk in this process: stop / start one server, each followed by its wait."""

    def __init__(self, conn: Connection, server_id: str) -> None:
        self.conn = conn
        self.server = conn.compute.get_server(server_id)

    def stop(self) -> None:
        self.conn.compute.stop_server(self.server)
        self.conn.compute.wait_for_server(self.server, status="SHUTOFF", interval=0.1)

    def start(self) -> None:
        self.conn.compute.start_server(self.server)
        self.conn.compute.wait_for_server(self.server, status="ACTIVE", interval=0.1)

    def close(self) -> None:
        self.conn.close()


class Watch(threading.Thread):
    """Polls one server back to back until a reply shows `status` with no task in flight;
    `seen` is when that reply arrived (perf_counter), `rounds` each poll's round trip."""

    def __init__(self, conn: Connection, server_id: str, status: str) -> None:
        super().__init__(daemon=True)
        self.conn, self.server_id, self.status = conn, server_id, status
        self.seen: float | None = None
        self.rounds: list[float] = []
        self.error = ""

    def run(self) -> None:
        deadline = time.perf_counter() + 180
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                server = self.conn.compute.get_server(self.server_id)
                arrived = time.perf_counter()
                self.rounds.append(arrived - sent)
                if server.status == self.status and not server.task_state:
                    self.seen = arrived
                    return
        except Exception as exc:  # said by the caller, which has no `seen`
            self.error = repr(exc)


class Witness:
    """Times each action while a Watch runs beside it; keeps each way's lag behind Nova."""

    def __init__(self, conn: Connection, server_id: str) -> None:
        self.conn, self.server_id = conn, server_id
        conn.compute.get_server(server_id)  # its token now, not in the first action's window
        self.lag: dict[str, dict[str, list[float]]] = {w: {"stop": [], "start": []} for w in WAYS}
        self.rounds: list[float] = []

    def timer(self, way: str, action: str, run: Callable[[], None]) -> float:
        watch = Watch(self.conn, self.server_id, TARGET[action])
        watch.start()
        took = timed(run)
        ended = time.perf_counter()
        watch.join(timeout=180)
        if watch.seen is None:
            raise RuntimeError(f"{way} {action}: Nova never showed {TARGET[action]} {watch.error}")
        self.lag[way][action].append(ended - watch.seen)
        self.rounds.extend(watch.rounds)
        return took

    def report(self) -> None:
        poll = statistics.median(self.rounds)
        print(f"  each way's end - when Nova showed the new state (witness poll {poll:.3f} s)")
        for way in WAYS:
            figures = "  ".join(
                f"{action} {statistics.median(lags):+.3f} (max {max(lags):+.3f})"
                for action, lags in self.lag[way].items()
            )
            print(f"    {way:<12}{figures}")
        for way in ("engine", "cli"):
            worst = max(statistics.median(lags) for lags in self.lag[way].values())
            verdict = "met" if worst <= 0.5 else "MISSED"
            print(f"  {way}: within {worst:.3f} s of Nova (goal <= 0.5 s: {verdict})")


def boot(conn: Connection, image_id: str) -> str:
    """One m1.tiny server with no NICs (no Neutron here), waited for until ACTIVE."""
    server = conn.compute.create_server(
        name="bench-actions", image_id=image_id, flavor_id="1", networks="none"
    )
    server = conn.compute.wait_for_server(server, status="ACTIVE", interval=0.5, wait=180)
    return str(server.id)


def bench_nova(folder: Path, cycles: int) -> None:
    module = stack_module()
    if REUSE:
        stack = module.Stack.attach(Path(REUSE))
    elif not FAKE_DRIVER.exists():
        sys.exit("Debian's OpenStack libraries are missing: run servers/openstack/install.sh")
    else:
        stack = module.Stack(folder / "openstack")
        print("starting the test OpenStack (MariaDB, RabbitMQ, Keystone, Nova; ~90 s)...")
        try:
            stack.start()
        except module.StackError as exc:
            sys.exit(f"the test OpenStack did not start (logs in {folder}/openstack/log):\n{exc}")
    try:
        run_cycles(folder, stack.state, cycles)
    finally:
        if not REUSE:
            stack.stop()


def run_cycles(folder: Path, state: dict[str, Any], cycles: int) -> None:
    user = state["users"][PROJECT]
    conn = connect(state)
    server_id = boot(conn, state["image_id"])
    try:
        driver = (
            f'{{ ex_force_auth_url = "{state["auth_url"]}", ex_force_auth_version = '
            f'"3.x_password", ex_tenant_name = "{PROJECT}", ex_domain_name = "Default", '
            'ex_force_service_region = "RegionOne" }'
        )
        config = (
            f'[[accounts]]\nname = "os"\nprovider = "openstack"\ndriver = {driver}\n'
            f'credentials = {{ key = "{user["user"]}", keyring = false, '
            f'secret_env = "{NOVA_ENV}" }}\n'
        )
        os.environ[NOVA_ENV] = user["password"]
        env = wm_env(folder, config, {NOVA_ENV: user["password"]})
        portal = open_portal(folder, config, "nova")
        key = next(i.key for i in asyncio.run(_listed(portal)) if i.id == server_id)
        process = [sys.executable, "-c", OPENSTACKSDK_PROCESS, state["auth_url"], user["user"]]
        process += [PROJECT, NOVA_ENV, server_id]
        sdk = OpenstacksdkCycle(connect(state), server_id)
        witness = Witness(connect(state), server_id)
        try:
            figures = measure(sdk, process, portal, env, key, cycles, timer=witness.timer)
        finally:
            sdk.close()
            witness.conn.close()
            asyncio.run(portal.close())
            portal.store.close()
    finally:
        server = conn.compute.get_server(server_id)
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, interval=0.5, wait=120)
        conn.close()
    report(f"Nova (Debian 12 Zed, fake virt driver), {key}", figures, cycles, goal=None)
    witness.report()
