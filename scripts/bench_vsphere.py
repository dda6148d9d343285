"""Listing 500 VMs: the vSphere backend against baselines, on one vcsim started here.

    servers/vcsim/install.sh   # once: builds vcsim, makes its CA and certificate
    .venv/bin/python scripts/bench_vsphere.py [--runs N] [--vms-per-host 250]

vcsim's `-vm 250` puts 250 VMs on the standalone host and 250 in the cluster: 500.
TLS is verified against the test CA everywhere. Measured, each as a median of N runs:

1. backend, warm: `VSphereBackend.list_instances()` on a logged-in session (what every
   refresh after the first costs): one PropertyCollector RetrieveContents.
2. backend, cold: a new backend per run: version negotiation, login, ContainerView, list.
   Also the same RetrieveContents read by pyvmomi's own deserializer (what the backend's
   reply reader saves).
3. libcloud: `VSphereNodeDriver.list_nodes()` (libcloud 3.9, pyvmomi underneath). Against
   vcsim 0.24.2 it fails: it reads properties one at a time with pyvmomi's `Fetch`, and
   vcsim panics on a Fetch of an unset property. The failure is reported, not timed.
4. naive pyvmomi: the usual script, reading each VM's properties as attributes (one
   round trip per property group per VM). This is the baseline the ratio uses when
   libcloud cannot list.

Absolute seconds depend on the machine and its load (the deserialisation of pyvmomi's
SOAP replies is CPU-bound); the client's CPU seconds are printed beside the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.vsphere.vcsim

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim

from tests.vsphere.vcsim import CA, USER, Vcsim
from winged_monkey.user.config import AccountConfig, Endpoint
from winged_monkey.user.credentials import Secrets
from winged_monkey_vsphere import VSphereBackend, inventory

TARGET = 0.5  # seconds for 500 VMs


def timed(run: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """(median wall seconds, median CPU seconds of this process, last result)."""
    walls, cpus = [], []
    result: object = None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def backend_for(sim: Vcsim) -> VSphereBackend:
    account = AccountConfig(
        name="bench",
        backend="vsphere",
        endpoint=Endpoint(host="127.0.0.1", port=sim.port),
        ca_bundle=str(CA),
        timeout=60,
    )
    return VSphereBackend(account, Secrets(account="bench", key=USER, secret=sim.password))


def bench_backend(sim: Vcsim, runs: int) -> tuple[float, float, float]:
    backend = backend_for(sim)
    asyncio.run(backend.list_instances())  # log in and create the view once

    def warm() -> int:
        return len(asyncio.run(backend.list_instances()))

    wall, cpu, count = timed(warm, runs)
    asyncio.run(backend.close())
    assert count == 500, count

    def cold() -> int:
        fresh = backend_for(sim)
        try:
            return len(asyncio.run(fresh.list_instances()))
        finally:
            asyncio.run(fresh.close())

    cold_wall, _, _ = timed(cold, runs)
    return wall, cpu, cold_wall


def bench_pyvmomi_reader(sim: Vcsim, runs: int) -> tuple[float, float]:
    """The backend's one RetrieveContents, read by pyvmomi's own SOAP deserializer."""
    backend = backend_for(sim)
    asyncio.run(backend.list_instances())
    session = backend._connect()
    specs = [inventory.view_filter(session.view)]

    def plain() -> int:
        return len(session.content.propertyCollector.RetrieveContents(specs))

    wall, cpu, _ = timed(plain, runs)
    asyncio.run(backend.close())
    return wall, cpu


def bench_libcloud(sim: Vcsim) -> str:
    libcloud_vsphere: Any = importlib.import_module("libcloud.compute.drivers.vsphere")
    start = time.perf_counter()
    try:
        driver = libcloud_vsphere.VSphereNodeDriver(
            host="127.0.0.1", username=USER, password=sim.password, port=sim.port, ca_cert=str(CA)
        )
        nodes = driver.list_nodes()
    except Exception as exc:
        return f"FAILED after {time.perf_counter() - start:.2f} s: {type(exc).__name__}: {exc}"
    return f"{len(nodes)} nodes in {time.perf_counter() - start:.3f} s"


def naive_list(sim: Vcsim) -> int:
    context = ssl.create_default_context(cafile=str(CA))
    si: Any = SmartConnect(
        host="127.0.0.1", port=sim.port, user=USER, pwd=sim.password, sslContext=context
    )
    try:
        content = si.RetrieveContent()
        view = content.viewManager.CreateContainerView(
            content.rootFolder, [vim.VirtualMachine], True
        )
        rows = []
        for vm in view.view:
            if vm.config.template:
                continue
            rows.append(
                (
                    vm.name,
                    vm.runtime.powerState,
                    vm.config.instanceUuid,
                    vm.summary.config.numCpu,
                    vm.summary.config.memorySizeMB,
                    vm.guest.ipAddress,
                    vm.runtime.host,
                    vm.parent,
                )
            )
        view.DestroyView()
        return len(rows)
    finally:
        Disconnect(si)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--vms-per-host", type=int, default=250)
    parser.add_argument("--naive-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wm-bench-vcsim-") as folder:
        with Vcsim(Path(folder), vms=args.vms_per_host) as sim:
            wall, cpu, cold = bench_backend(sim, args.runs)
            reader, reader_cpu = bench_pyvmomi_reader(sim, args.runs)
            naive, naive_cpu, count = timed(lambda: naive_list(sim), args.naive_runs)
            assert count == 2 * args.vms_per_host, count
            libcloud = bench_libcloud(sim)
        panics = (Path(folder) / f"vcsim-{sim.port}.log").read_text().count("http: panic")
    vms = 2 * args.vms_per_host
    print(f"{vms} VMs on vcsim, TLS verified; medians of {args.runs} runs")
    print(f"  backend, warm session      : {wall:.3f} s wall, {cpu:.3f} s client CPU")
    print(f"  backend, cold (login)      : {cold:.3f} s wall")
    print(
        f"  same call, pyvmomi's reader: {reader:.3f} s wall, {reader_cpu:.3f} s client CPU "
        "(no conversion)"
    )
    print(
        f"  naive pyvmomi              : {naive:.3f} s wall, {naive_cpu:.3f} s client CPU "
        f"(median of {args.naive_runs})"
    )
    print(f"  libcloud list_nodes        : {libcloud}")
    if panics:
        print(f"                               (vcsim logged {panics} handler panic(s))")
    print(f"ratio naive / backend (warm): {naive / wall:.1f}x")
    verdict = "met" if wall <= TARGET else "MISSED"
    print(f"target {vms} VMs <= {TARGET} s (warm): {verdict}")


if __name__ == "__main__":
    main()
