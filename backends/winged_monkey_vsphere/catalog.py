"""The vSphere catalog: VM templates as images, and where a clone of one may go.

One PropertyCollector retrieval over the session's ContainerView reads every
VM's template flag with the few properties a catalog shows, and the places'
name, parent and the references a clone needs (a datacenter's VM and host
folders, a compute resource's root resource pool). vSphere has no flavours: a
clone takes its template's CPU and memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyVmomi import vim

from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, LaunchRequest, Size
from winged_monkey.errors import InvalidRequest
from winged_monkey_vsphere.fastcollect import Record
from winged_monkey_vsphere.inventory import PC, moid, shown

TEMPLATE_PROPERTIES = (
    "name",
    "config.template",
    "summary.config.numCpu",
    "summary.config.memorySizeMB",
    "summary.config.guestFullName",
    "config.annotation",
    "runtime.host",
    "parent",
)
_PLACE_PROPERTIES: tuple[tuple[type[Any], tuple[str, ...]], ...] = (
    (vim.Folder, ("name", "parent")),
    (vim.Datacenter, ("name", "parent", "vmFolder", "hostFolder")),
    (vim.ComputeResource, ("name", "parent", "resourcePool")),
    (vim.HostSystem, ("name", "parent")),
)
_KINDS = {
    "Datacenter": "datacenter",
    "ClusterComputeResource": "cluster",
    "ComputeResource": "compute",
    "HostSystem": "host",
}
#: The one size: a clone keeps its template's CPU and memory.
AS_TEMPLATE = "template"
NEEDS = ("a location (optional): a VM folder, cluster, host or datacenter",)
NO_FLAVOURS = (
    "vSphere has no flavours: a clone keeps its template's CPU and memory (size "
    f"{AS_TEMPLATE!r}, the price is the account's price_hourly)"
)
#: What an account with no template is told (vSphere has no public images to search).
MAKE_TEMPLATE = "mark a powered-off VM as a template in vSphere to launch copies"


@dataclass(frozen=True)
class Spot:
    """A folder, datacenter, compute resource or host, with what a clone needs of it."""

    kind: str
    name: str
    parent: str | None
    refs: Mapping[str, str]  # vmFolder, hostFolder, resourcePool -> moref


@dataclass(frozen=True)
class VmTemplate:
    moref: str
    name: str
    cpus: int | None
    memory_mb: int | None
    guest: str
    annotation: str
    host: str | None
    parent: str | None


@dataclass(frozen=True)
class Inventory:
    templates: list[VmTemplate]
    spots: dict[str, Spot]

    def path(self, ident: str | None) -> str:
        """The inventory path ("DC0/host/DC0_C0"): names from below the root folder."""
        names: list[str] = []
        current = ident
        for _ in range(64):  # a cycle would be a server bug; never loop forever
            spot = self.spots.get(current) if current else None
            if spot is None:
                break
            names.append(spot.name)
            current = spot.parent
        return "/".join(reversed(names))

    def datacenter(self, ident: str | None) -> Spot | None:
        current = ident
        for _ in range(64):
            spot = self.spots.get(current) if current else None
            if spot is None or spot.kind == "datacenter":
                return spot
            current = spot.parent
        return None

    def vm_folders(self) -> set[str]:
        """Folders at or below a datacenter's VM folder (not host/network/datastore ones)."""
        roots = {s.refs["vmFolder"] for s in self.spots.values() if "vmFolder" in s.refs}
        found: set[str] = set()
        for ident, spot in self.spots.items():
            current: str | None = ident
            for _ in range(64):
                if current is None or current not in self.spots:
                    break
                if current in roots:
                    found.add(ident)
                    break
                current = self.spots[current].parent
            if spot.kind != "folder":
                found.discard(ident)
        return found

    def locations(self) -> list[Choice]:
        """Datacenters, clusters, hosts and VM folders, by inventory path."""
        folders = self.vm_folders()
        chosen = [
            ident
            for ident, spot in self.spots.items()
            if spot.kind in ("datacenter", "cluster", "host") or ident in folders
        ]
        choices = [Choice(id=ident, name=self.path(ident)) for ident in chosen]
        return sorted(choices, key=lambda c: c.name)

    def pool_of(self, ident: str | None) -> str | None:
        """The root resource pool of a cluster, standalone compute resource or host."""
        spot = self.spots.get(ident) if ident else None
        if spot is not None and spot.kind == "host":
            spot = self.spots.get(spot.parent) if spot.parent else None
        return spot.refs.get("resourcePool") if spot is not None else None


def catalog_filter(view: Any) -> Any:
    """Everything in the view: VMs' catalog properties, places' names and references."""
    traversal = PC.TraversalSpec(name="view", path="view", skip=False, type=vim.view.ContainerView)
    props = [PC.PropertySpec(type=vim.VirtualMachine, pathSet=list(TEMPLATE_PROPERTIES))]
    props += [PC.PropertySpec(type=kind, pathSet=list(paths)) for kind, paths in _PLACE_PROPERTIES]
    return PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=view, skip=True, selectSet=[traversal])], propSet=props
    )


def read(records: Iterable[Record]) -> Inventory:
    """The templates (VMs with config.template set) and the places of one retrieval."""
    templates: list[VmTemplate] = []
    spots: dict[str, Spot] = {}
    for record in records:
        ident, values = record.obj.value, record.values
        if record.obj.type == "VirtualMachine":
            if values.get("config.template") and "name" in values:
                templates.append(
                    VmTemplate(
                        moref=ident,
                        name=str(values["name"]),
                        cpus=values.get("summary.config.numCpu"),
                        memory_mb=values.get("summary.config.memorySizeMB"),
                        guest=str(values.get("summary.config.guestFullName") or ""),
                        annotation=str(values.get("config.annotation") or ""),
                        host=moid(values.get("runtime.host")),
                        parent=moid(values.get("parent")),
                    )
                )
            continue
        refs = {
            key: ref
            for key in ("vmFolder", "hostFolder", "resourcePool")
            if (ref := moid(values.get(key))) is not None
        }
        spots[ident] = Spot(
            kind=_KINDS.get(record.obj.type, "folder"),
            name=str(values.get("name", ident)),
            parent=moid(values.get("parent")),
            refs=refs,
        )
    templates.sort(key=lambda t: t.name)
    return Inventory(templates=templates, spots=spots)


def to_catalog(found: Inventory, *, account: str, price_hourly: float | None) -> AccountCatalog:
    items = tuple(_item(found, t, account, price_hourly) for t in found.templates)
    size = Size(id=AS_TEMPLATE, name="as the template", price_hourly=price_hourly)
    notes = [NO_FLAVOURS]
    return AccountCatalog(
        account=account,
        provider="vsphere",
        items=items,
        sizes=(size,),
        locations=tuple(found.locations()),
        notes=tuple(notes),
        empty_hint=MAKE_TEMPLATE,  # said where the items would be
    )


def _item(
    found: Inventory, template: VmTemplate, account: str, price_hourly: float | None
) -> CatalogItem:
    shape = (
        f"{template.cpus} vCPU / {template.memory_mb} MB"
        if template.cpus is not None and template.memory_mb is not None
        else None
    )
    price = f"${price_hourly:g}/h per VM" if price_hourly is not None else None
    home = found.path(template.parent)  # none for a template inside a vApp
    words = [template.guest, shape, f"in {home}" if home else None, price, template.annotation]
    return CatalogItem(
        account=account,
        kind="image",
        id=template.moref,
        name=shown(template.name),
        description="; ".join(w for w in words if w),
        provider="vsphere",
        needs=NEEDS,
    )


@dataclass(frozen=True)
class Placement:
    """Where a clone goes: morefs of the template, folder, resource pool and host."""

    template: str
    folder: str
    pool: str
    host: str | None


def place(found: Inventory, request: LaunchRequest, account: str) -> Placement:
    """The folder and resource pool for a clone of `request.item` at `request.location`.

    A folder keeps the template's own host; a cluster or host takes its datacenter's VM
    folder; no location: the template's own folder and host.
    """
    template = _template(found, request.item, account)
    if request.size not in (None, "", AS_TEMPLATE):
        raise InvalidRequest(
            f"vSphere has no size {request.size!r}: a clone keeps its template's CPU and "
            f"memory (size {AS_TEMPLATE!r} or none)",
            account=account,
        )
    home = found.datacenter(template.parent)
    location = request.location
    if location and location not in found.spots:
        by_path = {found.path(ident): ident for ident in found.spots}
        location = by_path.get(location.strip("/"), location)
    spot = found.spots.get(location) if location else None
    if location and spot is None:
        raise InvalidRequest(
            f"no location {request.location!r}: `wm catalog --account {account}` lists them",
            account=account,
        )
    own_host, own_pool = template.host, found.pool_of(template.host)
    if spot is None:
        folder, pool, host = template.parent, own_pool, own_host
    elif spot.kind == "datacenter":
        folder, pool, host = spot.refs.get("vmFolder"), None, None
        if home is not None and home.name == spot.name:
            pool, host = own_pool, own_host
        else:
            pool = _first_pool(found, location)
    elif location in found.vm_folders():
        folder, pool, host = location, own_pool, own_host
        there, here = found.datacenter(location), home
        if there is not None and (here is None or there.name != here.name):
            pool, host = _first_pool(found, location), None
    elif spot.kind in ("cluster", "compute", "host"):
        datacenter = found.datacenter(location)
        folder = datacenter.refs.get("vmFolder") if datacenter is not None else None
        pool = found.pool_of(location)
        host = location if spot.kind == "host" else None
    else:
        raise InvalidRequest(
            f"{found.path(location)} is not a VM folder, cluster, host or datacenter",
            account=account,
        )
    if folder is None or pool is None:
        raise InvalidRequest(
            f"no VM folder or resource pool found for a clone at "
            f"{found.path(location) if location else found.path(template.parent)}",
            account=account,
        )
    return Placement(template=template.moref, folder=folder, pool=pool, host=host)


def _template(found: Inventory, item: str, account: str) -> VmTemplate:
    def path(template: VmTemplate) -> str:
        return f"{found.path(template.parent)}/{template.name}"

    for template in found.templates:
        if item in (template.moref, path(template)):
            return template
    # By name: vSphere lets two folders hold templates of one name.
    named = [t for t in found.templates if item in (t.name, shown(t.name))]
    if len(named) > 1:
        paths = ", ".join(sorted(path(t) for t in named))
        raise InvalidRequest(
            f"{len(named)} VM templates are named {item!r} ({paths}): name one by its path",
            account=account,
        )
    if named:
        return named[0]
    raise InvalidRequest(
        f"no VM template {item!r} (a VM must be marked as a template to be launched; "
        f"`wm catalog --account {account}` lists them)",
        account=account,
    )


def _first_pool(found: Inventory, ident: str | None) -> str | None:
    """The first compute resource's pool in `ident`'s datacenter, by path."""
    datacenter = found.datacenter(ident)
    candidates = sorted(
        (found.path(i), s.refs["resourcePool"])
        for i, s in found.spots.items()
        if "resourcePool" in s.refs and found.datacenter(i) == datacenter
    )
    return candidates[0][1] if candidates else None
