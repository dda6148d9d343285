"""The vSphere backend through the portal, against a real vcsim on loopback, TLS verified:
the plugin found, the inventory listed (states, templates, folders, 500 VMs in one
round trip) and the listing's own reply reader.

Every power action is checked by a witness: a separate pyvmomi session that
does not use the backend's code. Each test gets a fresh simulator (ready in
well under a second), so actions never leak from one test into another.
"""

from __future__ import annotations

import asyncio
import http.client
from pathlib import Path
from typing import Any

import pytest
from pyVmomi import vim, vmodl

from tests.vsphere.accounts import _secrets, account, listed
from tests.vsphere.vcsim import Vcsim, Witness
from winged_monkey import plugins
from winged_monkey.backend import Capability
from winged_monkey.engine.portal import Portal
from winged_monkey.models import InstanceState
from winged_monkey_vsphere import VSphereBackend, fastcollect, inventory

S = InstanceState


def test_the_plugin_is_found_by_its_entry_point() -> None:
    assert plugins.load("vsphere") is VSphereBackend
    assert {
        Capability.LIST,
        Capability.START,
        Capability.STOP,
        Capability.REBOOT,
        Capability.SUSPEND,
        Capability.RESUME,
        Capability.RESET,
        Capability.CATALOG,
        Capability.LAUNCH,
    } <= VSphereBackend.CAPABILITIES


def test_lists_the_default_inventory_with_instance_uuids(portal: Portal, witness: Witness) -> None:
    found = listed(portal)
    assert sorted(found) == ["DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_H0_VM0", "DC0_H0_VM1"]
    for name, instance in found.items():
        vm = witness.vm(name)
        assert instance.id == vm.config.instanceUuid  # stable, unlike the moref
        assert instance.extra["moref"] == vm._moId
        assert (instance.state, instance.raw_state) == (S.RUNNING, "poweredOn")
        assert instance.provider == "vsphere"
        assert instance.region == "DC0"
        assert instance.extra["folder"] == "vm"
        assert (
            instance.size
            == f"{vm.summary.config.numCpu} vCPU / {vm.summary.config.memorySizeMB} MB"
        )
        assert instance.extra["host"] == vm.runtime.host.name
    assert found["DC0_C0_RP0_VM0"].extra["cluster"] == "DC0_C0"
    assert "cluster" not in found["DC0_H0_VM0"].extra  # a standalone host
    # vcsim runs no VMware Tools: stop and reboot say they will be hard ones.
    assert found["DC0_H0_VM0"].extra["stop_method"] == "power off (no VMware Tools)"
    assert found["DC0_H0_VM0"].extra["reboot_method"] == "reset (no VMware Tools)"


def test_power_states_are_mapped(portal: Portal, witness: Witness) -> None:
    witness.run(witness.vm("DC0_H0_VM0").PowerOffVM_Task())
    witness.run(witness.vm("DC0_H0_VM1").SuspendVM_Task())
    found = listed(portal)
    assert (found["DC0_H0_VM0"].state, found["DC0_H0_VM0"].raw_state) == (S.STOPPED, "poweredOff")
    assert (found["DC0_H0_VM1"].state, found["DC0_H0_VM1"].raw_state) == (S.SUSPENDED, "suspended")


def test_templates_are_kept_apart_from_instances(
    sim: Vcsim, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm = witness.vm("DC0_H0_VM1")
    witness.run(vm.PowerOffVM_Task())
    vm.MarkAsTemplate()
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))
    try:
        names = {i.name for i in asyncio.run(backend.list_instances())}
        assert "DC0_H0_VM1" not in names
        assert len(names) == 3
        assert [(t.name, t.id, t.datacenter) for t in backend.templates] == [
            ("DC0_H0_VM1", vm.config.instanceUuid, "DC0")
        ]
    finally:
        asyncio.run(backend.close())


def test_folders_make_the_location(portal: Portal, witness: Witness) -> None:
    datacenter = witness.content.rootFolder.childEntity[0]
    team = datacenter.vmFolder.CreateFolder("team-a").CreateFolder("web")
    witness.run(team.MoveIntoFolder_Task([witness.vm("DC0_H0_VM0")]))
    vm = listed(portal)["DC0_H0_VM0"]
    assert (vm.region, vm.extra["folder"]) == ("DC0", "vm/team-a/web")


def test_lists_500_vms_in_one_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Vcsim(tmp_path / "big", vms=250) as big:
        backend = VSphereBackend(account(big, monkeypatch), _secrets(big))
        try:
            asyncio.run(backend.list_instances())  # log in, create the view
            posts: list[str] = []
            original = http.client.HTTPConnection.request

            def counting(
                self: http.client.HTTPConnection, method: str, url: str, *a: Any, **k: Any
            ) -> None:
                posts.append(f"{method} {url}")
                original(self, method, url, *a, **k)

            monkeypatch.setattr(http.client.HTTPConnection, "request", counting)
            instances = asyncio.run(backend.list_instances())
            monkeypatch.undo()
        finally:
            asyncio.run(backend.close())
    assert posts == ["POST /sdk"]
    assert len(instances) == 500
    assert len({i.id for i in instances}) == 500
    assert {i.region for i in instances} == {"DC0"}


def test_the_fast_reader_agrees_with_pyvmomi(sim: Vcsim, witness: Witness) -> None:
    """The listing's own reply reader and pyvmomi's deserializer give the same records."""
    witness.run(witness.vm("DC0_H0_VM1").SuspendVM_Task())
    content = witness.content
    view = content.viewManager.CreateContainerView(content.rootFolder, inventory.VIEW_TYPES, True)
    specs = [inventory.view_filter(view)]
    fast = fastcollect.retrieve(content.propertyCollector, specs)
    slow = [fastcollect.record(c) for c in content.propertyCollector.RetrieveContents(specs)]
    assert len(fast) == 15
    assert sorted(fast, key=repr) == sorted(slow, key=repr)


def test_the_fast_reader_raises_pyvmomis_typed_faults(sim: Vcsim, witness: Witness) -> None:
    vm = witness.vm("DC0_H0_VM0")
    witness.run(vm.PowerOffVM_Task())
    witness.run(vm.Destroy_Task())
    with pytest.raises(vmodl.fault.ManagedObjectNotFound):
        fastcollect.retrieve(witness.content.propertyCollector, [inventory.vm_filter(vm)])


def vcsim_sets(witness: Witness, name: str, **values: str) -> None:
    """Set a VM's properties as vCenter reports them (vcsim's `SET.<property>` extraConfig
    keys): a host that stops responding, a datastore lost under a VM."""
    options = [
        vim.option.OptionValue(key=f"SET.{path.replace('__', '.')}", value=value)
        for path, value in values.items()
    ]
    witness.run(witness.vm(name).ReconfigVM_Task(vim.vm.ConfigSpec(extraConfig=options)))


@pytest.mark.parametrize("connection", ["disconnected", "orphaned", "inaccessible", "invalid"])
def test_a_vm_vcenter_cannot_see_is_unknown_not_its_last_power_state(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch, connection: str
) -> None:
    """A VM whose host stopped responding, or whose files or registration are lost, keeps
    the power state vCenter last saw: listed as running or stopped, it was said as observed
    (and a stop offered on it). Now unknown, with vCenter's word for why."""
    witness.run(witness.vm("DC0_H0_VM1").PowerOffVM_Task())
    vcsim_sets(witness, "DC0_H0_VM0", runtime__connectionState=connection)
    vcsim_sets(witness, "DC0_H0_VM1", runtime__connectionState=connection)

    def slow_path(*_: object) -> None:
        raise AssertionError("the fast reader gave up on the listing")

    monkeypatch.setattr(fastcollect, "_deserialize", slow_path)
    found = listed(portal)
    for name, power in (("DC0_H0_VM0", "poweredOn"), ("DC0_H0_VM1", "poweredOff")):
        row = found[name]
        assert (row.state, row.raw_state) == (S.UNKNOWN, f"{connection} (last {power})")
        assert row.extra["connection"] == connection
    seen = found["DC0_C0_RP0_VM0"]
    assert (seen.state, seen.raw_state) == (S.RUNNING, "poweredOn")
    assert "connection" not in seen.extra


def vcenter_made(witness: Witness, name: str) -> Any:
    """A VM created on DC0's standalone host under `name` as vCenter keeps it."""
    datacenter = witness.content.rootFolder.childEntity[0]
    files = vim.vm.FileInfo(vmPathName=f"[{datacenter.datastore[0].name}]")
    spec = vim.vm.ConfigSpec(name=name, files=files, numCPUs=1, memoryMB=64)
    task = datacenter.vmFolder.CreateVM_Task(
        config=spec, pool=datacenter.hostFolder.childEntity[0].resourcePool
    )
    witness.run(task)
    return task.info.result


def test_names_are_shown_as_written_not_as_vcenter_escapes_them(
    portal: Portal, witness: Witness, sim: Vcsim, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vCenter keeps a "/" in a name as %2f, a "\\" as %5c and a "%" as %25: a VM the user
    named "web/01" was listed as web%2f01, and `wm stop web/01` found nothing. Names are
    shown as written (as the vSphere Client shows them); a "%" starting no escape stays."""
    for name in ("web%2f01", "50%25 off", "c:%5cbuild", "naïve 🚀 100%"):
        vcenter_made(witness, name)
    found = listed(portal)
    assert {"web/01", "50% off", "c:\\build", "naïve 🚀 100%"} <= set(found)
    assert [i.name for i in portal.find("web/01")] == ["web/01"]

    template = vcenter_made(witness, "base%2fdebian 12")
    template.MarkAsTemplate()
    backend = VSphereBackend(account(sim, monkeypatch), _secrets(sim))
    try:
        asyncio.run(backend.list_instances())
        assert [t.name for t in backend.templates] == ["base/debian 12"]
        items = asyncio.run(backend.catalog()).items
        assert [(i.id, i.name) for i in items] == [(template._moId, "base/debian 12")]
    finally:
        asyncio.run(backend.close())


def test_a_vm_in_a_vapp_is_placed_by_its_vapp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """vCenter gives a VM in a vApp no parent (ManagedEntity.parent is unset for it; its
    parentVApp is set), and a vApp's place in the VM folders is its parentFolder or
    parentVApp: such VMs (every VM a vCloud Director deploys) were listed with no
    datacenter and no folder. vcsim files its vApps' VMs under a folder, so the reply a
    vCenter gives is the records the listing reads, past one real listing of vcsim's vApps."""
    with Vcsim(tmp_path / "apps", extra=("-app", "1")) as apps:
        backend = VSphereBackend(account(apps, monkeypatch), _secrets(apps))

        def slow_path(*_: object) -> None:
            raise AssertionError("the fast reader gave up on the listing")

        monkeypatch.setattr(fastcollect, "_deserialize", slow_path)
        try:
            rows = {i.name: i for i in asyncio.run(backend.list_instances())}
        finally:
            asyncio.run(backend.close())
    assert rows["DC0_C0_APP0_VM0"].region == "DC0"
    assert any(p.kind == "vapp" and p.name == "DC0_C0_APP0" for p in backend._places.values())

    ref = fastcollect.Ref
    records = [
        fastcollect.Record(ref("Datacenter", "datacenter-2"), {"name": "Paris"}),
        fastcollect.Record(
            ref("Folder", "group-v3"), {"name": "vm", "parent": ref("Datacenter", "datacenter-2")}
        ),
        fastcollect.Record(
            ref("Folder", "group-v9"), {"name": "tenants", "parent": ref("Folder", "group-v3")}
        ),
        fastcollect.Record(
            ref("VirtualApp", "resgroup-v20"),
            {"name": "shop", "parentFolder": ref("Folder", "group-v9")},
        ),
        fastcollect.Record(
            ref("VirtualApp", "resgroup-v21"),
            {"name": "db tier", "parentVApp": ref("VirtualApp", "resgroup-v20")},
        ),
        fastcollect.Record(
            ref("VirtualMachine", "vm-40"),
            {
                "name": "pg-1",
                "runtime.powerState": "poweredOn",
                "config.instanceUuid": "5003a1b2-0000-0000-0000-000000000040",
                "parentVApp": ref("VirtualApp", "resgroup-v21"),
            },
        ),
    ]
    [vm] = inventory.convert(records, account="lab", price_hourly=None).instances
    assert (vm.region, vm.extra["folder"]) == ("Paris", "vm/tenants/shop/db tier")


def test_every_nics_addresses_are_listed_not_only_the_primary(
    portal: Portal, witness: Witness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VMware Tools report each NIC's addresses, IPv4 and IPv6 (guest.net); the listing
    read guest.ipAddress alone, the one it calls primary: a VM on a management and a data
    network, or with IPv6, showed one address where the vSphere Client shows them all.
    vcsim sets one NIC's address (its `SET.guest.ipAddress`), so the reply vCenter gives
    for several is the records the listing reads, past one real listing read fast."""
    vm = witness.vm("DC0_H0_VM0")
    second = vim.vm.device.VirtualDeviceSpec(
        operation="add",
        device=vim.vm.device.VirtualE1000(
            key=-1,
            backing=vim.vm.device.VirtualEthernetCard.NetworkBackingInfo(deviceName="VM Network"),
        ),
    )
    witness.run(vm.ReconfigVM_Task(vim.vm.ConfigSpec(deviceChange=[second])))
    vcsim_sets(witness, "DC0_H0_VM0", guest__ipAddress="10.20.0.5")
    assert len(witness.vm("DC0_H0_VM0").guest.net) == 2  # the witness: two NICs, one address

    def slow_path(*_: object) -> None:
        raise AssertionError("the fast reader gave up on the listing")

    monkeypatch.setattr(fastcollect, "_deserialize", slow_path)
    assert listed(portal)["DC0_H0_VM0"].private_ips == ("10.20.0.5",)

    ref = fastcollect.Ref
    nics = (("10.20.0.5", "fe80::250:56ff:fe01:1", "2a00:1450:4007:80e::5"), ("192.168.7.5",))
    record = fastcollect.Record(
        ref("VirtualMachine", "vm-40"),
        {
            "name": "db-1",
            "runtime.powerState": "poweredOn",
            "config.instanceUuid": "5003a1b2-0000-0000-0000-000000000041",
            "guest.ipAddress": "10.20.0.5",
            "guest.net": nics,
        },
    )
    [row] = inventory.convert([record], account="lab", price_hourly=None).instances
    assert row.private_ips == ("10.20.0.5", "192.168.7.5")
    assert row.public_ips == ("2a00:1450:4007:80e::5",)
