"""Stop+start cycles through wm beside the provider's own SDK, on vcsim, moto and Nova.

    servers/vcsim/install.sh      # once: builds vcsim, makes its CA and certificate
    servers/openstack/install.sh  # once: Debian's OpenStack (for Nova; root or sudo)
    .venv/bin/python scripts/bench_actions.py [--vms 500] [--cycles 5] [--only vsphere|ec2|nova]

For each cloud, one instance is stopped and started `--cycles` times four ways, the
four interleaved cycle by cycle so the machine's load weighs on all alike:

1. sdk: the provider's own SDK on a logged-in session: pyvmomi `PowerOffVM_Task` /
   `PowerOnVM_Task` and `pyVim.task.WaitForTask` on vcsim; boto3 `stop_instances` /
   `start_instances` and the `instance_stopped` / `instance_running` waiters (polling
   every 0.1 s instead of their 15 s) on moto.
2. sdk process: the same SDK calls as a new Python process per action, as a script runs
   them (start, import, connect, act, wait): what a CLI process compares with.
3. engine: the CLI's path in this process, on a portal kept open: `Portal.fetch`
   (ACCOUNT/ID fetched by itself) then `Portal.run_action` followed to its outcome, with
   the config's own follow intervals (the user's defaults).
4. cli: `wm stop --yes ACCOUNT/ID` then `wm start --yes ACCOUNT/ID`, a new process each
   (Python's start, imports, config, login, fetch, action, follow, outcome recorded).
   Beside it, `wm --help` as a process: the CLI's start-up alone, no cloud call.

Printed: the medians per cycle and per action, the ratios to the SDK's cycle, and each
wm action minus the SDK's same action (the engine against the SDK in process, the CLI
against the SDK as a process and in process) (issue 13's goals: a CLI stop or start within the
provider's own time + 0.5 s; a vSphere cycle through wm within 2 x a bare pyvmomi one).
moto runs in this process (a thread), as in the test suite; vcsim is its own process.
Nova (the tests' Debian OpenStack, fake virt driver, openstacksdk as its SDK) and the moment
Nova itself shows each new state: scripts/bench_actions_nova.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.vsphere.vcsim

from tests.vsphere.vcsim import CA, USER, Vcsim
from winged_monkey.actions import Action
from winged_monkey.demo.server import MotoServer
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import parse_config

VSPHERE_ENV = "WM_BENCH_VSPHERE_SECRET"  # the vcsim password, for wm (never in argv)
EC2_ENV = "WM_BENCH_EC2_SECRET"
EC2_KEY, EC2_VALUE = "AKIABENCHACTIONS0001", "bench-actions-not-a-real-key"
AMI = "ami-1e749f67"  # one of moto's own images


WAYS = ("sdk", "sdk process", "engine", "cli")


#: The SDKs as a new process per action, as a script would run them: connect, act, wait.
PYVMOMI_PROCESS = """
import os, ssl, sys
from pyVim.connect import Disconnect, SmartConnect
from pyVim.task import WaitForTask
port, ca, user, env, uuid, action = sys.argv[1:]
si = SmartConnect(host="127.0.0.1", port=int(port), user=user, pwd=os.environ[env],
                  sslContext=ssl.create_default_context(cafile=ca))
vm = si.RetrieveContent().searchIndex.FindByUuid(None, uuid, True, True)
WaitForTask(vm.PowerOffVM_Task() if action == "stop" else vm.PowerOnVM_Task())
Disconnect(si)
"""
BOTO3_PROCESS = """
import os, sys
import boto3
url, key, env, ident, action = sys.argv[1:]
ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key=os.environ[env])
config = {"Delay": 0.1, "MaxAttempts": 600}
if action == "stop":
    ec2.stop_instances(InstanceIds=[ident])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[ident], WaiterConfig=config)
else:
    ec2.start_instances(InstanceIds=[ident])
    ec2.get_waiter("instance_running").wait(InstanceIds=[ident], WaiterConfig=config)
"""


@dataclass
class Cycles:
    """Seconds per stop and per start, each way."""

    stop: dict[str, list[float]] = field(default_factory=lambda: {w: [] for w in WAYS})
    start: dict[str, list[float]] = field(default_factory=lambda: {w: [] for w in WAYS})
    #: `wm --help` as a process: the CLI's start-up (Python, imports), no cloud call.
    floor: list[float] = field(default_factory=list)

    def median(self, way: str, action: str | None = None) -> float:
        if action == "stop":
            return statistics.median(self.stop[way])
        if action == "start":
            return statistics.median(self.start[way])
        return statistics.median(
            a + b for a, b in zip(self.stop[way], self.start[way], strict=True)
        )


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


# -- the providers' own SDKs ---------------------------------------------------------------


class PyvmomiCycle:
    """A bare pyvmomi session: power off / on one VM, waiting for each task."""

    def __init__(self, sim: Vcsim, name: str) -> None:
        from pyVim.connect import SmartConnect
        from pyVmomi import vim

        context = ssl.create_default_context(cafile=str(CA))
        self.si: Any = SmartConnect(
            host="127.0.0.1", port=sim.port, user=USER, pwd=sim.password, sslContext=context
        )
        content = self.si.RetrieveContent()
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine], True
        )
        self.vm: Any = next(vm for vm in view.view if vm.name == name)
        view.DestroyView()

    def stop(self) -> None:
        from pyVim.task import WaitForTask

        WaitForTask(self.vm.PowerOffVM_Task())

    def start(self) -> None:
        from pyVim.task import WaitForTask

        WaitForTask(self.vm.PowerOnVM_Task())

    def close(self) -> None:
        from pyVim.connect import Disconnect

        Disconnect(self.si)


class Boto3Cycle:
    """boto3 on moto: stop / start one instance, each followed by its waiter."""

    def __init__(self, ec2: Any, instance_id: str) -> None:
        self.ec2, self.ids = ec2, [instance_id]
        self.config = {"Delay": 0.1, "MaxAttempts": 600}

    def stop(self) -> None:
        self.ec2.stop_instances(InstanceIds=self.ids)
        self.ec2.get_waiter("instance_stopped").wait(InstanceIds=self.ids, WaiterConfig=self.config)

    def start(self) -> None:
        self.ec2.start_instances(InstanceIds=self.ids)
        self.ec2.get_waiter("instance_running").wait(InstanceIds=self.ids, WaiterConfig=self.config)

    def close(self) -> None:
        pass


# -- wm --------------------------------------------------------------------------------------


def engine_action(portal: Portal, key: str, action: Action) -> None:
    """What `wm stop ACCOUNT/ID` runs after reading its config: fetch, act, follow."""

    async def run() -> None:
        instance = await portal.fetch(key)
        assert instance is not None, key
        last = None
        async for update in portal.run_action(action, instance):
            last = update
        if last is None or last.phase != "done":
            raise RuntimeError(f"{action} {key}: {last}")

    asyncio.run(run())


def cli_action(env: dict[str, str], key: str, action: Action) -> None:
    run_process([str(Path(sys.executable).parent / "wm"), str(action), "--yes", key], env)


def run_process(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[-2:]} exited {done.returncode}: {done.stderr[-2000:]}")


def measure(
    sdk: Any,
    sdk_process: list[str],
    portal: Portal,
    env: dict[str, str],
    key: str,
    cycles: int,
    timer: Callable[[str, str, Callable[[], None]], float] | None = None,
) -> Cycles:
    """`cycles` stop+start cycles each way, interleaved; the instance starts running.
    `timer(way, action, run)` times each action (default: `timed`), e.g. with a witness."""
    time_it = timer or (lambda way, action, run: timed(run))
    figures = Cycles()
    ways: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {
        "sdk": (sdk.stop, sdk.start),
        "sdk process": (
            lambda: run_process([*sdk_process, "stop"], env),
            lambda: run_process([*sdk_process, "start"], env),
        ),
        "engine": (
            lambda: engine_action(portal, key, Action.STOP),
            lambda: engine_action(portal, key, Action.START),
        ),
        "cli": (
            lambda: cli_action(env, key, Action.STOP),
            lambda: cli_action(env, key, Action.START),
        ),
    }
    wm = str(Path(sys.executable).parent / "wm")
    for _ in range(cycles):
        for way, (stop, start) in ways.items():
            figures.stop[way].append(time_it(way, "stop", stop))
            figures.start[way].append(time_it(way, "start", start))
        figures.floor.append(timed(lambda: run_process([wm, "--help"], env)))
    return figures


def report(title: str, figures: Cycles, cycles: int, goal: float | None) -> None:
    print(f"{title}: medians of {cycles} cycles (seconds)")
    print("                   stop    start   cycle   cycle / sdk")
    sdk_cycle = figures.median("sdk")
    for way in WAYS:
        cycle = figures.median(way)
        print(
            f"  {way:<14}{figures.median(way, 'stop'):8.3f}{figures.median(way, 'start'):8.3f}"
            f"{cycle:8.3f}{cycle / sdk_cycle:10.1f}x"
        )
    print(f"  wm --help     {statistics.median(figures.floor):8.3f}   (the CLI's start-up alone)")
    for ours, theirs in (("engine", "sdk"), ("cli", "sdk process"), ("cli", "sdk")):
        for action in ("stop", "start"):
            extra = figures.median(ours, action) - figures.median(theirs, action)
            verdict = "met" if extra <= 0.5 else "MISSED"
            print(
                f"  {ours} {action} - {theirs} {action}: {extra:+.3f} s (goal <= +0.5 s: {verdict})"
            )
    if goal is not None:
        for ours, theirs in (("engine", "sdk"), ("cli", "sdk process")):
            ratio = figures.median(ours) / figures.median(theirs)
            verdict = "met" if ratio <= goal else "MISSED"
            print(f"  {ours} cycle / {theirs} cycle: {ratio:.1f}x (goal <= {goal:g}x: {verdict})")


def wm_env(folder: Path, config: str, secrets: dict[str, str]) -> dict[str, str]:
    """The environment of a `wm` process (and of the SDK's): its own config, data and HOME;
    no AWS_* of ours; bytecode cached, as an installed copy has it."""
    path = folder / "config.toml"
    path.write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(secrets)
    # With PYTHONDONTWRITEBYTECODE (this machine sets it) an editable install recompiles
    # wm's modules in every process (a fifth of a stop's instructions), while the SDKs'
    # came compiled. Both get one cache, written by the first cycle (medians are reported).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    env |= {
        "WM_CONFIG": str(path),
        "WM_DATA_DIR": str(folder / "data"),
        "HOME": str(folder),
        "NO_PROXY": "127.0.0.1",
    }
    return env


def open_portal(folder: Path, config: str, name: str) -> Portal:
    parsed = parse_config(tomllib.loads(config), source="bench")
    return Portal(parsed, Store.open(folder / f"{name}.sqlite3"), user="bench")


def bench_vsphere(folder: Path, vms: int, cycles: int) -> None:
    with Vcsim(folder / "vcsim", vms=vms // 2) as sim:
        config = sim.account_toml("lab", VSPHERE_ENV)
        os.environ[VSPHERE_ENV] = sim.password  # the in-process portal reads it too
        env = wm_env(folder, config, {VSPHERE_ENV: sim.password})
        portal = open_portal(folder, config, "vsphere")
        name = "DC0_H0_VM0"
        listed = asyncio.run(_listed(portal))
        key = next(i.key for i in listed if i.name == name)
        sdk = PyvmomiCycle(sim, name)
        try:
            ident = key.partition("/")[2]
            process = [sys.executable, "-c", PYVMOMI_PROCESS, str(sim.port), str(CA), USER]
            process += [VSPHERE_ENV, ident]
            figures = measure(sdk, process, portal, env, key, cycles)
        finally:
            sdk.close()
            asyncio.run(portal.close())
            portal.store.close()
    report(f"vSphere, vcsim with {vms} VMs, {key}", figures, cycles, goal=2.0)


def bench_ec2(folder: Path, cycles: int) -> None:
    import boto3

    with MotoServer() as moto:
        ec2 = boto3.client(
            "ec2",
            endpoint_url=moto.url,
            region_name="us-east-1",
            aws_access_key_id=EC2_KEY,
            aws_secret_access_key=EC2_VALUE,
        )
        reply = ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1)
        instance_id = reply["Instances"][0]["InstanceId"]
        config = (
            f'[[accounts]]\nname = "aws"\nprovider = "ec2"\nregion = "us-east-1"\n'
            f'endpoint = {{ host = "127.0.0.1", port = {moto.port}, secure = false }}\n'
            f'credentials = {{ key = "{EC2_KEY}", keyring = false, secret_env = "{EC2_ENV}" }}\n'
        )
        os.environ[EC2_ENV] = EC2_VALUE
        env = wm_env(folder, config, {EC2_ENV: EC2_VALUE})
        portal = open_portal(folder, config, "ec2")
        key = f"aws/{instance_id}"
        try:
            process = [sys.executable, "-c", BOTO3_PROCESS, moto.url, EC2_KEY, EC2_ENV, instance_id]
            figures = measure(Boto3Cycle(ec2, instance_id), process, portal, env, key, cycles)
        finally:
            asyncio.run(portal.close())
            portal.store.close()
    report(f"EC2, moto, {key}", figures, cycles, goal=None)


async def _listed(portal: Portal) -> list[Any]:
    async for _ in portal.refresh():
        pass
    return portal.instances()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, default=500, help="vcsim's total VMs (even)")
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--only", choices=("vsphere", "ec2", "nova"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-bench-actions-") as folder:
        if args.only in (None, "vsphere"):
            (Path(folder) / "vsphere").mkdir()
            bench_vsphere(Path(folder) / "vsphere", args.vms, args.cycles)
        if args.only in (None, "ec2"):
            (Path(folder) / "ec2").mkdir()
            bench_ec2(Path(folder) / "ec2", args.cycles)
        if args.only in (None, "nova"):
            from scripts.bench_actions_nova import bench_nova  # its stack and SDK on demand

            (Path(folder) / "nova").mkdir()
            bench_nova(Path(folder) / "nova", args.cycles)


if __name__ == "__main__":
    main()
