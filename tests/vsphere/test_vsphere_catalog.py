"""The vSphere catalog (VM templates, where a clone may go) and launch (a clone, powered on),
against a real vcsim on loopback, TLS verified; a witness pyvmomi session checks the server."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.vsphere.accounts import _secrets, account, make_portal, write_config
from tests.vsphere.vcsim import OTHER_CA, USER, Vcsim, Witness
from winged_monkey.backend import Capability
from winged_monkey.catalog import AccountCatalog, LaunchRequest
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.errors import InvalidRequest, WMError
from winged_monkey.models import InstanceState
from winged_monkey.ui.screens.launch_plan import Choices, LaunchPlan, offers_of
from winged_monkey.user.credentials import Secrets
from winged_monkey_vsphere import VSphereBackend, fastcollect
from winged_monkey_vsphere import backend as vsphere_backend
from winged_monkey_vsphere.errors import translate

SECRETS = Secrets(account="lab", key=USER, secret="not-used", source="test")


@pytest.fixture
def template(witness: Witness) -> str:
    """DC0_H0_VM1, powered off, annotated and marked as a template; its moref."""
    vm = witness.vm("DC0_H0_VM1")
    witness.run(vm.PowerOffVM_Task())
    witness.run(vm.ReconfigVM_Task(spec=_annotation("web base image")))
    vm.MarkAsTemplate()
    return str(vm._moId)


@pytest.fixture
def backend(sim: Vcsim, monkeypatch: pytest.MonkeyPatch) -> Iterator[VSphereBackend]:
    config = account(sim, monkeypatch).model_copy(update={"price_hourly": 0.05})
    made = VSphereBackend(config, _secrets(sim))
    yield made
    asyncio.run(made.close())


def _annotation(text: str) -> object:
    from pyVmomi import vim

    return vim.vm.ConfigSpec(annotation=text)


def test_templates_are_the_catalog_with_their_locations(
    backend: VSphereBackend, witness: Witness, template: str
) -> None:
    assert Capability.CATALOG in backend.capabilities
    found = asyncio.run(backend.catalog())
    vm = witness.vm("DC0_H0_VM1")
    [item] = found.items
    assert (item.kind, item.id, item.name, item.provider) == (
        "image",
        template,
        "DC0_H0_VM1",
        "vsphere",
    )
    shape = f"{vm.summary.config.numCpu} vCPU / {vm.summary.config.memorySizeMB} MB"
    assert shape in item.description
    assert vm.summary.config.guestFullName in item.description
    assert "web base image" in item.description
    assert "in DC0/vm" in item.description
    assert "$0.05/h per VM" in item.description
    # No flavours: one size, "as the template", at the account's price, and a note saying so.
    assert [(s.id, s.price_hourly) for s in found.sizes] == [("template", 0.05)]
    assert any("no flavours" in note for note in found.notes)
    datacenter = witness.content.rootFolder.childEntity[0]
    cluster = next(c for c in datacenter.hostFolder.childEntity if c.name == "DC0_C0")
    locations = {c.name: c.id for c in found.locations}
    assert locations["DC0"] == datacenter._moId
    assert locations["DC0/host/DC0_C0"] == cluster._moId
    assert locations["DC0/host/DC0_C0/DC0_C0_H0"] == cluster.host[0]._moId
    assert locations["DC0/host/DC0_H0/DC0_H0"].startswith("host-")
    assert locations["DC0/vm"] == datacenter.vmFolder._moId
    # Only VM folders: not the host, datastore or network folders, nor the VMs themselves.
    assert not {"DC0/host", "DC0/datastore", "DC0/network"} & set(locations)
    assert not [name for name in locations if "VM" in name.rsplit("/", 1)[-1]]


def test_the_catalog_is_one_retrieval_and_a_template_is_no_instance(
    backend: VSphereBackend, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = {i.name for i in asyncio.run(backend.list_instances())}
    assert "DC0_H0_VM1" not in names  # a template is in the catalog, not in the list
    calls: list[int] = []
    real = fastcollect.retrieve

    def counting(collector: object, specs: list[object]) -> list[fastcollect.Record]:
        calls.append(1)
        return real(collector, specs)

    monkeypatch.setattr(fastcollect, "retrieve", counting)
    found = asyncio.run(backend.catalog())
    assert len(calls) == 1
    assert [i.id for i in found.items] == [template]


def test_no_templates_says_how_to_make_one(backend: VSphereBackend) -> None:
    found = asyncio.run(backend.catalog())
    assert found.items == ()
    assert "mark a powered-off VM as a template" in found.empty_hint
    assert not found.searchable  # vSphere has no public images: `/` is not offered
    assert found.locations  # the places are still there


def test_a_wrong_ca_fails_clearly_for_the_catalog_too(
    sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = make_portal(tmp_path, account(sim, monkeypatch, ca_bundle=str(OTHER_CA)))
    try:
        with pytest.raises(WMError) as raised:
            asyncio.run(portal.catalog("lab"))
        message = str(raised.value)
        assert message.startswith(f"lab: TLS: the certificate of 127.0.0.1:{sim.port} is signed")
        assert str(OTHER_CA) in message
        assert sim.password not in message
        assert raised.value.__cause__ is None
    finally:
        asyncio.run(portal.close())
        portal.store.close()


@pytest.mark.parametrize("ref", ["DC0_H0_VM1", "template's moref"])
def test_wm_start_of_a_template_says_it_is_one_and_how_to_launch_it(
    sim: Vcsim,
    template: str,
    witness: Witness,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ref: str,
) -> None:
    """A template is no instance (`wm ls` leaves it out, as vSphere never powers one on):
    `wm start DC0_H0_VM1` said only "no instance matches 'DC0_H0_VM1'", as for a typo."""
    write_config(sim, tmp_path, monkeypatch)
    named = template if ref == "template's moref" else ref
    result = CliRunner().invoke(main, ["start", named, "--yes"])
    assert result.exit_code == ExitCode.NOT_FOUND, result.output
    assert result.output.splitlines() == [
        f"wm: no instance matches {named!r}: DC0_H0_VM1 ({template}) is a VM template in "
        f"account lab: a template is never powered on; `wm launch {template} --account lab "
        "--size template --name NEW` clones it into a VM (or convert it to a VM in vSphere)"
    ]
    assert witness.vm("DC0_H0_VM1").config.template


def test_wm_catalog_json_shows_the_template(
    sim: Vcsim, template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(sim, tmp_path, monkeypatch)
    result = CliRunner().invoke(main, ["catalog", "--account", "lab", "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    [found] = json.loads(result.stdout)["accounts"]
    assert found["account"] == "lab"
    assert [(i["id"], i["name"]) for i in found["items"]] == [(template, "DC0_H0_VM1")]
    assert "DC0/host/DC0_C0" in [c["name"] for c in found["locations"]]
    assert sim.password not in result.output


# -- launch ------------------------------------------------------------------------------


def launch(portal: Portal, request: LaunchRequest) -> list[ActionUpdate]:
    async def run() -> list[ActionUpdate]:
        return [u async for u in portal.launch("lab", request)]

    return asyncio.run(run())


@pytest.fixture
def portal(sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    made = make_portal(tmp_path, account(sim, monkeypatch))
    yield made
    asyncio.run(made.close())
    made.store.close()


def test_launch_clones_the_template_into_a_cluster_powered_on(
    portal: Portal, witness: Witness, template: str
) -> None:
    found: AccountCatalog = asyncio.run(portal.catalog("lab"))
    cluster = next(c.id for c in found.locations if c.name == "DC0/host/DC0_C0")
    updates = launch(
        portal, LaunchRequest(item=template, name="web-1", size="template", location=cluster)
    )
    final = updates[-1]
    assert final.phase == "done", final.message
    assert final.instance.state is InstanceState.RUNNING
    assert final.message == "web-1 launched, running"
    vm = witness.vm("web-1")
    assert str(vm.runtime.powerState) == "poweredOn"
    assert not vm.config.template
    assert final.instance.id == vm.config.instanceUuid
    assert vm.resourcePool.owner._moId == cluster
    assert vm.parent.name == "vm"
    assert witness.vm("DC0_H0_VM1").config.template  # the template stays one


def test_launch_into_a_folder_by_its_path(portal: Portal, witness: Witness, template: str) -> None:
    datacenter = witness.content.rootFolder.childEntity[0]
    datacenter.vmFolder.CreateFolder("team-a")
    request = LaunchRequest(item=template, name="web-2", location="DC0/vm/team-a")
    assert launch(portal, request)[-1].phase == "done"
    vm = witness.vm("web-2")
    assert vm.parent.name == "team-a"
    assert str(vm.runtime.powerState) == "poweredOn"


@pytest.mark.parametrize(
    ("location", "owner"),
    [
        ("DC0/host/DC0_C0/DC0_C0_H0", "DC0_C0"),  # a host in a cluster: the cluster's pool
        ("DC0/host/DC0_H0/DC0_H0", "DC0_H0"),  # a standalone host: its own pool
        ("DC0", "DC0_H0"),  # the datacenter: the template's own host
        (None, "DC0_H0"),  # nothing chosen: the same
    ],
)
def test_launch_at_a_host_or_datacenter(
    portal: Portal, witness: Witness, template: str, location: str | None, owner: str
) -> None:
    """The clone lands in the resource pool of the chosen host's cluster or compute resource,
    in the datacenter's VM folder. (vcsim 0.24 keeps the template's host on a clone whatever
    RelocateSpec.host says, so the placement is seen through the pool's owner.)"""
    request = LaunchRequest(item="DC0_H0_VM1", name="web-3", location=location)  # by name
    assert launch(portal, request)[-1].phase == "done"
    vm = witness.vm("web-3")
    assert (vm.resourcePool.owner.name, vm.parent.name) == (owner, "vm")


def test_launch_of_a_vm_that_is_no_template_or_a_size_is_refused_clearly(
    portal: Portal, witness: Witness, template: str
) -> None:
    running = witness.vm("DC0_H0_VM0")._moId
    with pytest.raises(InvalidRequest, match=r"no VM template .*marked as a template"):
        launch(portal, LaunchRequest(item=running, name="x"))
    with pytest.raises(InvalidRequest, match=re.escape("no size 'm1.small'")):
        launch(portal, LaunchRequest(item=template, name="x", size="m1.small"))
    with pytest.raises(InvalidRequest, match="no location 'DC9/vm'"):
        launch(portal, LaunchRequest(item=template, name="x", location="DC9/vm"))
    assert "x" not in witness.vms()


def test_a_clone_vsphere_refuses_is_the_launchs_rejection() -> None:
    """vcsim clones over a taken name (vCenter answers DuplicateName), so the fault is built
    here and given to the translation the backend uses for every call."""
    from pyVmomi import vim

    fault = vim.fault.DuplicateName(name="web-1", msg="The name 'web-1' already exists.")
    error = translate(fault, where="vc:443", secrets=SECRETS, doing="clone vm-60 as web-1")
    assert isinstance(error, InvalidRequest)  # `wm launch` exits 3 with the reason
    assert str(error) == (
        "lab: vSphere refused clone vm-60 as web-1: DuplicateName: The name 'web-1' already exists."
    )


def test_wm_launch_clones_and_waits_until_running(
    sim: Vcsim, template: str, witness: Witness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(sim, tmp_path, monkeypatch)
    result = CliRunner().invoke(
        main,
        [
            *("launch", template, "--account", "lab", "--size", "template", "--name", "db-1"),
            *("--location", "DC0/host/DC0_C0", "--wait", "--yes"),
        ],
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert "ok: db-1 is running" in result.stdout
    assert str(witness.vm("db-1").runtime.powerState) == "poweredOn"


def slow_clone(monkeypatch: pytest.MonkeyPatch, seconds: float, then: object = None) -> None:
    """Clone tasks read as running for `seconds`, then as `then` (an error) or as they are.

    vcsim 0.24 runs a clone inside the CloneVM_Task call (its -method-delay delays the
    answer, not the task), so a clone still running when the launch returns, or failing
    after it was accepted, cannot be had from it: only the task's state is faked here;
    the clone itself, the VM and its power-on are vcsim's.
    """
    from pyVmomi import vim

    monkeypatch.setattr(vsphere_backend, "CLONE_SETTLE_S", 0.1)
    real = VSphereBackend._read
    started: list[float] = []  # from the first read of a task: a slow login is not the clone's

    def read(session: Any, obj: Any, paths: tuple[str, ...]) -> dict[str, Any]:
        if isinstance(obj, vim.Task) and not started:
            started.append(time.monotonic())
        if isinstance(obj, vim.Task) and time.monotonic() - started[0] < seconds:
            return {"info.state": "running", "info.progress": 40}
        if isinstance(obj, vim.Task) and then is not None:
            return {"info.state": "error", "info.error": then}
        return real(session, obj, paths)

    monkeypatch.setattr(VSphereBackend, "_read", staticmethod(read))


def test_a_long_clone_is_followed_to_running(
    portal: Portal, witness: Witness, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The launch returns while the clone runs, with the instance uuid it gave the clone;
    the portal shows the clone's progress, then follows the new VM to running."""
    slow_clone(monkeypatch, 0.6)
    updates = launch(portal, LaunchRequest(item=template, name="big-1"))
    assert updates[0].phase == "requested"
    assert "big-1 is pending (cloning 40%)" in [u.message for u in updates]
    assert updates[-1].phase == "done", updates[-1].message
    vm = witness.vm("big-1")
    assert updates[-1].instance.id == vm.config.instanceUuid
    assert str(vm.runtime.powerState) == "poweredOn"


def test_a_clone_failing_after_the_launch_returned_says_why(
    portal: Portal, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyVmomi import vim

    fault = vim.fault.InsufficientResourcesFault(msg="Not enough memory in the pool.")
    slow_clone(monkeypatch, 0.3, then=fault)
    final = launch(portal, LaunchRequest(item=template, name="big-2"))[-1]
    assert final.phase == "failed"
    assert final.message == (
        f"big-2 went to error: vSphere refused clone {template} as big-2: "
        "InsufficientResourcesFault: Not enough memory in the pool."
    )


def test_a_refusal_midway_through_a_count_names_the_clones_already_started(
    portal: Portal, witness: Witness, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vcsim refuses no second clone (it takes any name): the second task's state is faked
    as vCenter's refusal; the first clone is vcsim's own."""
    from pyVmomi import vim

    real = VSphereBackend._read
    tasks: list[str] = []

    def read(session: Any, obj: Any, paths: tuple[str, ...]) -> dict[str, Any]:
        if isinstance(obj, vim.Task):
            if obj._moId not in tasks:
                tasks.append(obj._moId)
            if obj._moId in tasks[1:]:  # the second clone's task
                return {"info.state": "error", "info.error": vim.fault.DuplicateName(name="w-2")}
        return real(session, obj, paths)

    monkeypatch.setattr(VSphereBackend, "_read", staticmethod(read))
    with pytest.raises(InvalidRequest) as raised:
        launch(portal, LaunchRequest(item=template, name="w", count=3))
    assert raised.value.message == (
        f"w-1 launched, then vSphere refused clone {template} as w-2: DuplicateName; "
        "the remaining 2 were not started"
    )
    assert "w-1" in witness.vms()
    assert "w-3" not in witness.vms()


def golden_twin(witness: Witness) -> None:
    """A second template named DC0_H0_VM1, in the folder DC0/vm/golden."""
    from pyVmomi import vim

    datacenter = witness.content.rootFolder.childEntity[0]
    golden = datacenter.vmFolder.CreateFolder("golden")
    other = next(
        vm
        for vm in witness.vms().values()
        if isinstance(vm, vim.VirtualMachine) and vm.name == "DC0_C0_RP0_VM0"
    )
    witness.run(other.PowerOffVM_Task())
    witness.run(golden.MoveIntoFolder_Task([other]))
    witness.run(other.Rename_Task("DC0_H0_VM1"))  # the template's name, in another folder
    other.MarkAsTemplate()


def test_of_two_templates_of_one_name_the_one_picked_is_the_one_cloned(
    portal: Portal, witness: Witness, template: str
) -> None:
    """Templates of the same name in two folders (DC0/vm and DC0/vm/golden, as a team keeps
    a tested and a new one): the wizard launched the first of that name whichever was
    picked. A clone with no location goes to its template's own folder, which tells them
    apart."""
    golden_twin(witness)
    found = asyncio.run(portal.catalog("lab"))
    picked = next(i for i in found.items if "in DC0/vm/golden" in i.description)
    assert [i.name for i in found.items] == ["DC0_H0_VM1", "DC0_H0_VM1"]

    offers = offers_of(picked, {"lab": found.items})
    plan = LaunchPlan(picked, offers, {"lab": found}, {}, Choices(account="lab", name="web-9"))
    assert launch(portal, plan.request())[-1].phase == "done"
    assert witness.vm("web-9").parent.name == "golden"


def test_a_template_name_two_folders_share_is_refused_naming_both_paths(
    portal: Portal, witness: Witness, template: str
) -> None:
    """wm launch DC0_H0_VM1 cloned the first template of that name, whichever the user
    meant; now it names both, and a path picks one."""
    golden_twin(witness)
    with pytest.raises(InvalidRequest) as caught:
        launch(portal, LaunchRequest(item="DC0_H0_VM1", name="web-8"))
    assert str(caught.value) == (
        "lab: 2 VM templates are named 'DC0_H0_VM1' (DC0/vm/DC0_H0_VM1, "
        "DC0/vm/golden/DC0_H0_VM1): name one by its path"
    )
    request = LaunchRequest(item="DC0/vm/golden/DC0_H0_VM1", name="web-8")
    assert launch(portal, request)[-1].phase == "done"
    assert witness.vm("web-8").parent.name == "golden"
