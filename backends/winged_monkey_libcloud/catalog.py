"""What a libcloud account can launch, and the launch itself.

Everything here runs in the backend's worker thread with that thread's driver.
EC2 first: images the account owns plus the ones its config names (never the
1,300+ public AMIs unless searched for), sizes priced from libcloud's bundled
data, availability zones, key pairs, VPC subnets and the quota EC2 reports.
OpenStack: flavors, visible images, key pairs, networks and Nova's /limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node, NodeDriver, NodeImage, NodeLocation, NodeSize

from winged_monkey.account import AccountConfig
from winged_monkey.backend import Capability
from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, LaunchRequest, Quota, Size
from winged_monkey.errors import InvalidRequest
from winged_monkey_libcloud import drivers
from winged_monkey_libcloud.convert import ec2_prices
from winged_monkey_libcloud.settings import configured_images, own_limits

_IMAGE_NEEDS = ("a size", "a key pair to log in (optional)")
#: HTTP statuses with which a provider rejects what it was asked to launch (EC2: 400
#: InvalidAMIID/InvalidInstanceType; Nova: 400 bad imageRef, 403 quota, 404 flavor).
_REJECTED = frozenset({400, 403, 404, 409, 413})
#: What some libcloud account may offer; `capabilities` says which for one account.
CAPABILITIES = frozenset({Capability.CATALOG, Capability.QUOTAS, Capability.LAUNCH})


def capabilities(cls: type[NodeDriver], provider: str, *, read_only: bool) -> frozenset[Capability]:
    """CATALOG (and QUOTAS) where the driver can list sizes or images; LAUNCH where it can
    create nodes and the account is not read-only. Known from the class alone."""
    if drivers.is_ec2(provider) or drivers.is_openstack(provider):
        found = {Capability.CATALOG, Capability.QUOTAS, Capability.LAUNCH}
    else:
        found = set()
        if _overrides(cls, "list_sizes") or _overrides(cls, "list_images"):
            found.add(Capability.CATALOG)
        if _overrides(cls, "create_node"):
            found.add(Capability.LAUNCH)
    if read_only:
        found.discard(Capability.LAUNCH)
    return frozenset(found)


def _overrides(cls: type[NodeDriver], name: str) -> bool:
    return getattr(cls, name, None) not in (None, getattr(NodeDriver, name, None))


# -- catalog --------------------------------------------------------------------------


def build(driver: NodeDriver, account: AccountConfig, provider: str) -> AccountCatalog:
    """The account's catalog; a part the provider refuses (key pairs, subnets) is left out
    with a note rather than failing the whole catalog."""
    notes: list[str] = []
    region = getattr(driver, "region_name", None) or account.region
    sizes = _sizes(driver, account, provider)
    if drivers.is_ec2(provider):
        items = _ec2_images(driver, account, provider, notes)
        networks = _part(notes, "subnets", lambda: _ec2_subnets(driver))
        quotas = _part(notes, "quota", lambda: _ec2_quotas(driver, sizes))
    elif drivers.is_openstack(provider):
        items = [_item(account, provider, i) for i in driver.list_images()]
        networks = _part(notes, "networks", lambda: _openstack_networks(driver))
        quotas = _part(notes, "quota", lambda: _nova_quotas(driver))
    else:
        items = _named_images(driver, account, provider, notes)
        networks, quotas = [], []
    locations = _part(notes, "locations", lambda: _locations(driver, provider))
    key_pairs = (
        _part(
            notes,
            "key pairs",
            lambda: [Choice(id=k.name, name=k.name) for k in driver.list_key_pairs()],
        )
        if _overrides(type(driver), "list_key_pairs")
        else []
    )
    return AccountCatalog(
        account=account.name,
        provider=provider,
        region=region,
        items=tuple(items),
        sizes=tuple(sizes),
        locations=tuple(locations),
        key_pairs=tuple(key_pairs),
        networks=tuple(networks),
        quotas=tuple(_with_own_limits(quotas, own_limits(account))),
        notes=tuple(notes),
    )


def _part(notes: list[str], what: str, read: Callable[[], list[Any]]) -> list[Any]:
    try:
        return read()
    except BaseHTTPError as exc:
        notes.append(f"{what}: not readable ({' '.join(str(exc.message).split())[:200]})")
        return []


def _sizes(driver: NodeDriver, account: AccountConfig, provider: str) -> list[Size]:
    try:
        found = driver.list_sizes()
    except (KeyError, ValueError):  # a region libcloud has no bundled data for
        found = []
    prices = ec2_prices(found) if drivers.is_ec2(provider) else {}
    sizes = []
    for size in found:
        ident = str(size.id)
        extra = size.extra or {}
        price = account.price_hourly if account.price_hourly is not None else prices.get(ident)
        sizes.append(
            Size(
                id=ident,
                name=str(size.name or ident) if not drivers.is_ec2(provider) else ident,
                vcpus=_int(extra.get("vcpu", extra.get("vcpus", getattr(size, "vcpus", None)))),
                ram_mb=_int(size.ram) or None,
                disk_gb=_int(size.disk) or None,  # 0: EBS only, no instance store
                price_hourly=price,
                arch=_ec2_arch(extra) if drivers.is_ec2(provider) else None,
            )
        )
    return sorted(sizes, key=lambda s: (s.vcpus or 0, s.ram_mb or 0, s.id))


def _ec2_arch(extra: dict[str, Any]) -> str | None:
    """The CPU of an instance type, from the processor libcloud's price data names."""
    processor = str(extra.get("physicalProcessor") or "")
    if not processor:
        return None
    if "Graviton" in processor:
        return "arm64"
    if processor.startswith("Apple"):
        return "arm64_mac"
    return "x86_64_mac" if str(extra.get("instanceType", "")).startswith("mac") else "x86_64"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _item(
    account: AccountConfig, provider: str, image: NodeImage, public: bool = False
) -> CatalogItem:
    extra = image.extra or {}
    return CatalogItem(
        account=account.name,
        kind="image",
        id=str(image.id),
        name=str(image.name or image.id),
        description=str(extra.get("description") or ""),
        provider=provider,
        needs=_IMAGE_NEEDS,
        public=public,
        arch=str(extra["architecture"]) if extra.get("architecture") else None,
    )


def _ec2_images(
    driver: Any, account: AccountConfig, provider: str, notes: list[str]
) -> list[CatalogItem]:
    owned = driver.list_images(ex_owner="self")
    found = {str(i.id): _item(account, provider, i) for i in owned}
    for item in _named_images(driver, account, provider, notes):
        found.setdefault(item.id, item)
    return sorted(found.values(), key=lambda i: i.name)


def _named_images(
    driver: Any, account: AccountConfig, provider: str, notes: list[str]
) -> list[CatalogItem]:
    """The images the config names; one that no longer exists is a note, not a failure."""
    wanted = configured_images(account)
    if not wanted:
        return []
    if drivers.is_ec2(provider):
        try:
            found = [_item(account, provider, i) for i in driver.list_images(ex_image_ids=wanted)]
        except BaseHTTPError:
            found = None  # AWS fails the whole call for one bad id: ask one by one
        if found is not None:
            missing = [i for i in wanted if i not in {f.id for f in found}]
            notes.extend(f"image {i} named in config: not found" for i in missing)
            return found
    items = []
    for ident in wanted:
        try:
            items.append(_item(account, provider, driver.get_image(ident)))
        except BaseHTTPError as exc:
            reason = " ".join(str(exc.message).split())[:200]
            notes.append(f"image {ident} named in config: not found ({reason})")
    return items


def _locations(driver: NodeDriver, provider: str) -> list[Choice]:
    found = driver.list_locations()
    if drivers.is_ec2(provider):  # availability zones, passed back by name
        return [Choice(id=str(loc.name), name=str(loc.name)) for loc in found]
    return [Choice(id=str(loc.id), name=str(loc.name or loc.id)) for loc in found]


def _ec2_subnets(driver: Any) -> list[Choice]:
    choices = []
    for subnet in driver.ex_list_subnets():
        extra = subnet.extra or {}
        label = subnet.name if subnet.name and subnet.name != subnet.id else subnet.id
        detail = ", ".join(str(x) for x in (extra.get("cidr_block"), extra.get("zone")) if x)
        zone = str(extra["zone"]) if extra.get("zone") else None
        name = f"{label} ({detail})" if detail else label
        choices.append(Choice(id=str(subnet.id), name=name, zone=zone))
    return choices


def _ec2_quotas(driver: Any, sizes: list[Size]) -> list[Quota]:
    """max-instances from DescribeAccountAttributes (libcloud's ex_get_limits chokes on
    the non-numeric attributes moto and AWS also return); use counted from running and
    pending instances. AWS's vCPU quota lives in Service Quotas, which is not asked: its
    limit stays unknown, its use is counted."""
    reply = driver.connection.request(
        driver.path,
        params={"Action": "DescribeAccountAttributes", "AttributeName.1": "max-instances"},
    ).object
    limit: int | None = None
    for element in reply.iter():
        if element.tag.rsplit("}", 1)[-1] != "item":
            continue
        fields = {c.tag.rsplit("}", 1)[-1]: c for c in element}
        if (
            fields.get("attributeName") is not None
            and fields["attributeName"].text == "max-instances"
        ):
            values = [
                v.text for v in element.iter() if v.tag.rsplit("}", 1)[-1] == "attributeValue"
            ]
            limit = _int(values[0]) if values else None
    live: list[Node] = driver.list_nodes(ex_filters={"instance-state-name": ["pending", "running"]})
    vcpus = {s.id: s.vcpus for s in sizes}
    used_vcpus = sum(vcpus.get(str((n.extra or {}).get("instance_type")), 0) or 0 for n in live)
    return [
        Quota(resource="instances", limit=limit, used=len(live)),
        Quota(resource="vcpus", limit=None, used=used_vcpus),
    ]


def _nova_quotas(driver: Any) -> list[Quota]:
    """Nova's absolute limits (GET /limits): instances, cores, RAM; -1 is unlimited."""
    absolute = driver.connection.request("/limits").object["limits"]["absolute"]
    pairs = (
        ("instances", "maxTotalInstances", "totalInstancesUsed"),
        ("vcpus", "maxTotalCores", "totalCoresUsed"),
        ("ram_mb", "maxTotalRAMSize", "totalRAMUsed"),
    )
    return [
        Quota(resource=name, limit=_int(absolute.get(lim)), used=_int(absolute.get(use)))
        for name, lim, use in pairs
        if lim in absolute
    ]


def _openstack_networks(driver: Any) -> list[Choice]:
    return [Choice(id=str(n.id), name=str(n.name or n.id)) for n in driver.ex_list_networks()]


def _with_own_limits(quotas: Iterable[Quota], limits: dict[str, int]) -> list[Quota]:
    merged = {str(q.resource): q for q in quotas}
    for resource, cap in limits.items():
        known = merged.get(resource)
        if known is None:
            merged[resource] = Quota(resource=resource, limit=cap, used=None)
            continue
        provider = known.limit if known.limit is not None and known.limit >= 0 else None
        limit = cap if provider is None else min(cap, provider)
        merged[resource] = known.model_copy(update={"limit": limit})
    return list(merged.values())


# -- search ---------------------------------------------------------------------------


def search(
    driver: Any, account: AccountConfig, provider: str, query: str, limit: int
) -> list[CatalogItem]:
    """Public images whose name or description contains `query` (EC2 filters on the
    server; OpenStack's visible images are filtered here). Case-sensitive on EC2, as AWS."""
    if drivers.is_ec2(provider):
        found: dict[str, NodeImage] = {}
        for field in ("name", "description"):
            filters = {"is-public": "true", field: f"*{query}*"}
            for image in driver.list_images(ex_filters=filters):
                found.setdefault(str(image.id), image)
        images = list(found.values())
    elif drivers.is_openstack(provider):
        wanted = query.lower()
        images = [
            i
            for i in driver.list_images()
            if wanted in str(i.name or "").lower()
            or wanted in str((i.extra or {}).get("description") or "").lower()
        ]
    else:
        return []
    items = [_item(account, provider, i, public=True) for i in images]
    return sorted(items, key=lambda i: i.name)[:limit]


# -- launch ---------------------------------------------------------------------------


def launch(
    driver: NodeDriver, account: AccountConfig, provider: str, request: LaunchRequest
) -> list[str]:
    """Create the instances; a rejection by the provider is InvalidRequest with its reason."""
    if not request.size:
        raise InvalidRequest("a launch needs a size (--size)", account=account.name)
    try:
        if drivers.is_ec2(provider):
            return _launch_ec2(driver, request)
        if drivers.is_openstack(provider):
            return _launch_openstack(driver, account, request)
        return _launch_generic(driver, request)
    except InvalidRequest as exc:
        exc.account = exc.account or account.name
        raise
    except BaseHTTPError as exc:
        if exc.code not in _REJECTED:
            raise
        reason = " ".join(str(exc.message).split())[:500] or f"HTTP {exc.code}"
        raise InvalidRequest(
            f"{provider} refused the launch: {reason}", account=account.name
        ) from None


def _launch_ec2(driver: Any, request: LaunchRequest) -> list[str]:
    from libcloud.compute.drivers.ec2 import EC2NetworkSubnet

    kwargs: dict[str, Any] = {
        "name": request.name,
        "size": _size(driver, str(request.size)),
        "image": _image(driver, request.item),
        "ex_mincount": request.count,
        "ex_maxcount": request.count,
    }
    if request.key_pair:
        kwargs["ex_keyname"] = request.key_pair
    if request.network:
        kwargs["ex_subnet"] = EC2NetworkSubnet(  # type: ignore[no-untyped-call]
            request.network, request.network, "available"
        )
    if request.location:
        kwargs["location"] = _location(driver, request.location, request)
    created = driver.create_node(**kwargs)
    nodes = created if isinstance(created, list) else [created]
    if len(nodes) > 1:  # one RunInstances names them all alike: name-1 … name-N
        for node, name in zip(nodes, request.instance_names(), strict=False):
            try:
                driver.ex_create_tags(node, {"Name": name})
            except BaseHTTPError:  # launched all the same: they keep the shared name
                continue
    return [str(n.id) for n in nodes]


def _launch_openstack(driver: Any, account: AccountConfig, request: LaunchRequest) -> list[str]:
    from libcloud.compute.drivers.openstack import OpenStackNetwork

    wanted = str(request.size)
    flavors = driver.list_sizes()
    flavor = next((f for f in flavors if wanted in (str(f.id), f.name)), None)
    if flavor is None:
        known = ", ".join(sorted(str(f.name) for f in flavors)[:12])
        raise InvalidRequest(f"no flavor {wanted!r} here (known: {known})", account=account.name)
    kwargs: dict[str, Any] = {"size": flavor, "image": _image(driver, request.item)}
    if request.key_pair:
        kwargs["ex_keyname"] = request.key_pair
    if request.network:
        network = OpenStackNetwork(request.network, None, None, driver)  # type: ignore[no-untyped-call]
        kwargs["networks"] = [network]
    if request.location:
        kwargs["ex_availability_zone"] = request.location
    # libcloud's Nova call has no min_count: one call per instance, each named
    return [str(driver.create_node(name=n, **kwargs).id) for n in request.instance_names()]


def _launch_generic(driver: Any, request: LaunchRequest) -> list[str]:
    kwargs: dict[str, Any] = {
        "size": _size(driver, str(request.size)),
        "image": _image(driver, request.item),
    }
    if request.location:
        kwargs["location"] = _location(driver, request.location, request)
    return [str(driver.create_node(name=n, **kwargs).id) for n in request.instance_names()]


def _size(driver: Any, ref: str) -> NodeSize:
    # The provider checks the type itself (and says why it refuses): no list needed.
    return NodeSize(ref, ref, 0, 0, 0, 0.0, driver)


def _image(driver: Any, ref: str) -> NodeImage:
    return NodeImage(ref, ref, driver)


def _location(driver: Any, ref: str, request: LaunchRequest) -> NodeLocation:
    for loc in driver.list_locations():
        if ref in (str(loc.id), str(loc.name)):
            return loc  # type: ignore[no-any-return]
    known = ", ".join(str(loc.name) for loc in driver.list_locations())
    raise InvalidRequest(f"no location {ref!r} for {request.name} here (known: {known})")
