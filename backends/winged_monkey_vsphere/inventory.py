"""One PropertyCollector retrieval of only what the portal shows, and its conversion.

A ContainerView over the root folder holds every VM plus the few folders,
datacenters, clusters and hosts; one `RetrieveContents` reads the VMs' listed
properties and the others' name and parent in a single round trip, and the
places (datacenter, folder path, cluster, host) are resolved in memory.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyVmomi import vim, vmodl

from winged_monkey.models import Instance, InstanceState
from winged_monkey_vsphere.fastcollect import Record, Ref

PC = vmodl.query.PropertyCollector

VM_PROPERTIES = (
    "name",
    "runtime.powerState",
    "runtime.connectionState",
    "config.instanceUuid",
    "config.template",
    "summary.config.numCpu",
    "summary.config.memorySizeMB",
    "guest.ipAddress",
    "guest.net",  # every NIC's addresses: guest.ipAddress is only the one Tools call primary
    "guest.toolsRunningStatus",
    "runtime.host",
    "parent",
    "parentVApp",  # a VM in a vApp has no parent (ManagedEntity.parent): its vApp instead
)
#: Folders, datacenters, clusters and hosts: a few objects, two properties each.
PLACE_TYPES: tuple[type[Any], ...] = (
    vim.Folder,
    vim.Datacenter,
    vim.ComputeResource,
    vim.HostSystem,
)
PLACE_PROPERTIES = ("name", "parent")
#: A vApp sits in the VM folders as a folder does: its parentFolder (a root vApp) or its
#: parentVApp (a nested one) is where it is; its `parent` is a resource pool.
VAPP_PROPERTIES = ("name", "parentFolder", "parentVApp")
VIEW_TYPES: list[type[Any]] = [vim.VirtualMachine, *PLACE_TYPES, vim.VirtualApp]

STATES = {
    "poweredOn": InstanceState.RUNNING,
    "poweredOff": InstanceState.STOPPED,
    "suspended": InstanceState.SUSPENDED,
}
TOOLS_RUNNING = "guestToolsRunning"
#: vCenter's word for a VM whose power state it observes; any other (disconnected: its host
#: is not responding; orphaned, inaccessible, invalid: its files or registration are lost)
#: leaves `runtime.powerState` as last known, not as observed.
CONNECTED = "connected"


#: vSphere's escapes in an entity's name (ManagedEntity.name): "/" as %2f, a backslash as %5c, "%"
#: as %25, either case; a "%" that starts no escape is kept as it is.
_ESCAPED = re.compile(r"%(2[fF]|5[cC]|25)")


def shown(name: str) -> str:
    """An entity's name as its user wrote it (and the vSphere Client shows it): vCenter
    gives a VM named "web/01" as "web%2f01". Inventory paths keep the escaped form, where
    a "/" separates names."""
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), name)


@dataclass(frozen=True)
class Place:
    """A folder, datacenter, compute resource or host: its kind, name and parent's id."""

    kind: str
    name: str
    parent: str | None


@dataclass(frozen=True)
class Template:
    """A VM template: not an instance, kept for the catalog."""

    id: str
    name: str
    moref: str
    datacenter: str | None
    folder: str | None
    cpus: int | None
    memory_mb: int | None


@dataclass(frozen=True)
class Listing:
    instances: list[Instance]
    templates: list[Template]
    morefs: dict[str, str]  # instance id -> the VM's managed object id
    places: dict[str, Place]


def view_filter(view: vim.view.ContainerView) -> Any:
    """The FilterSpec: everything in the view, VMs' listed properties, places' name+parent."""
    traversal = PC.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    props = [PC.PropertySpec(type=vim.VirtualMachine, pathSet=list(VM_PROPERTIES))]
    props += [PC.PropertySpec(type=kind, pathSet=list(PLACE_PROPERTIES)) for kind in PLACE_TYPES]
    props.append(PC.PropertySpec(type=vim.VirtualApp, pathSet=list(VAPP_PROPERTIES)))
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traversal])], propSet=props
    )


def vm_filter(vm: vim.VirtualMachine) -> Any:
    """The FilterSpec for one VM's listed properties (following an action)."""
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=vm, skip=False)],
        propSet=[PC.PropertySpec(type=vim.VirtualMachine, pathSet=list(VM_PROPERTIES))],
    )


def properties(content: Any) -> dict[str, Any]:
    """A pyvmomi ObjectContent's set properties by path."""
    return {prop.name: prop.val for prop in content.propSet or ()}


def moid(ref: Any) -> str | None:
    return ref.value if isinstance(ref, Ref) else None


def convert(
    records: Iterable[Record],
    *,
    account: str,
    price_hourly: float | None,
    known_places: Mapping[str, Place] | None = None,
) -> Listing:
    """The records of one retrieval as instances (templates set aside)."""
    places: dict[str, Place] = dict(known_places or {})
    vms: list[tuple[str, dict[str, Any]]] = []
    for record in records:
        ident, values = record.obj.value, record.values
        if record.obj.type == "VirtualMachine":
            vms.append((ident, values))
        else:
            places[ident] = Place(
                kind=_KINDS.get(record.obj.type, "folder"),
                name=str(values.get("name", ident)),
                parent=_parent(values),
            )
    resolver = _Places(places)
    instances: list[Instance] = []
    templates: list[Template] = []
    morefs: dict[str, str] = {}
    for ident, values in vms:
        if "name" not in values or "runtime.powerState" not in values:
            continue  # deleted or inaccessible while the collector read it
        uuid = values.get("config.instanceUuid") or ident
        datacenter, folder = resolver.location(_parent(values))
        if values.get("config.template"):
            templates.append(
                Template(
                    id=str(uuid),
                    name=shown(str(values["name"])),
                    moref=ident,
                    datacenter=datacenter,
                    folder=folder,
                    cpus=values.get("summary.config.numCpu"),
                    memory_mb=values.get("summary.config.memorySizeMB"),
                )
            )
            continue
        morefs[str(uuid)] = ident
        instances.append(
            to_instance(
                ident,
                values,
                account=account,
                datacenter=datacenter,
                folder=folder,
                host=resolver.host(moid(values.get("runtime.host"))),
                price_hourly=price_hourly,
            )
        )
    return Listing(instances=instances, templates=templates, morefs=morefs, places=places)


def _parent(values: Mapping[str, Any]) -> str | None:
    """Where a VM, folder or vApp is in the VM folders: its parent folder or vApp."""
    return moid(values.get("parent") or values.get("parentFolder") or values.get("parentVApp"))


def to_instance(
    ident: str,
    values: Mapping[str, Any],
    *,
    account: str,
    datacenter: str | None,
    folder: str | None,
    host: tuple[str | None, str | None],
    price_hourly: float | None,
) -> Instance:
    power = str(values["runtime.powerState"])
    connection = str(values.get("runtime.connectionState") or CONNECTED)
    if connection == CONNECTED:
        raw, state = power, STATES.get(power, InstanceState.UNKNOWN)
    else:  # vCenter cannot see the VM: its power state is not observed
        raw, state = f"{connection} (last {power})", InstanceState.UNKNOWN
    cpus = values.get("summary.config.numCpu")
    memory = values.get("summary.config.memorySizeMB")
    tools = str(values.get("guest.toolsRunningStatus") or "unknown")
    graceful = tools == TOOLS_RUNNING
    host_name, cluster = host
    ip = values.get("guest.ipAddress")
    nics = values.get("guest.net") or ()
    # Each NIC's link-local IPv6 address (every NIC has one) is left out: no one reaches it
    # without naming the interface. The primary address is kept, whatever it is.
    others = [a for nic in nics for a in nic if not _link_local(a)]
    public, private = _split_ips([str(ip)] if ip else [], others)
    extra: dict[str, Any] = {
        "moref": ident,
        "datacenter": datacenter,
        "folder": folder,
        "host": host_name,
        "cluster": cluster,
        "cpus": cpus,
        "memory_mb": memory,
        "tools": tools,
        "connection": connection if connection != CONNECTED else None,
        # What `stop` and `reboot` will do for this VM, for the confirmation and the notes.
        "stop_method": "guest shutdown (VMware Tools)"
        if graceful
        else "power off (no VMware Tools)",
        "reboot_method": "guest reboot (VMware Tools)" if graceful else "reset (no VMware Tools)",
    }
    size = f"{cpus} vCPU / {memory} MB" if cpus is not None and memory is not None else None
    return Instance(
        account=account,
        id=str(values.get("config.instanceUuid") or ident),
        name=shown(str(values["name"])),
        state=state,
        raw_state=raw,
        provider="vsphere",
        region=datacenter,
        size=size,
        public_ips=public,
        private_ips=private,
        price_hourly=price_hourly,
        extra={key: value for key, value in extra.items() if value is not None},
    )


class _Places:
    """Walks parents in memory, remembering each folder's answer."""

    def __init__(self, places: Mapping[str, Place]) -> None:
        self._places = places
        self._memo: dict[str, tuple[str | None, str | None]] = {}

    def location(self, folder_id: str | None) -> tuple[str | None, str | None]:
        """(datacenter name, folder path below the datacenter) for a VM's parent folder."""
        if folder_id is None:
            return None, None
        if folder_id in self._memo:
            return self._memo[folder_id]
        names: list[str] = []
        datacenter: str | None = None
        current: str | None = folder_id
        for _ in range(64):  # a cycle would be a server bug; never loop forever
            place = self._places.get(current) if current else None
            if place is None:
                break
            if place.kind == "datacenter":
                datacenter = place.name
                break
            names.append(place.name)
            current = place.parent
        folder = "/".join(reversed(names)) or None
        self._memo[folder_id] = (datacenter, folder)
        return datacenter, folder

    def host(self, host_id: str | None) -> tuple[str | None, str | None]:
        """(host name, cluster name) for a VM's runtime host."""
        place = self._places.get(host_id) if host_id else None
        if place is None:
            return host_id, None
        parent = self._places.get(place.parent) if place.parent else None
        cluster = parent.name if parent is not None and parent.kind == "cluster" else None
        return place.name, cluster


_KINDS = {
    "Datacenter": "datacenter",
    "VirtualApp": "vapp",
    "ClusterComputeResource": "cluster",
    "ComputeResource": "compute",
    "HostSystem": "host",
}


def _link_local(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_link_local
    except ValueError:
        return False  # not an address: _split_ips leaves it out


def _split_ips(*ips: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(public, private), each address once, in the order given (the primary first)."""
    public: list[str] = []
    private: list[str] = []
    for text in dict.fromkeys(text for group in ips for text in group):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        (private if address.is_private else public).append(text)
    return tuple(public), tuple(private)
