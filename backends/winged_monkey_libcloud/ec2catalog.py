"""What an EC2 account can launch, and the launch itself.

Images the account owns plus the ones its config names (never the 1,300+ public AMIs
unless searched for), instance types priced from libcloud's bundled data (in a region its
table lacks, the types EC2 describes), availability zones, key pairs, VPC subnets and the
quota EC2 reports. Runs in the backend's lane.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import NodeImage, NodeSize

from winged_monkey.account import AccountConfig
from winged_monkey.catalog import CatalogItem, Choice, LaunchRequest, Quota, Size
from winged_monkey_libcloud import catalog as offer
from winged_monkey_libcloud import ec2pages
from winged_monkey_libcloud.settings import configured_images

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

#: DescribeImages pages a search reads per field (name, description), ec2pages.PAGE images
#: each. A word as broad as "ubuntu" matches thousands of AWS's public images: one unpaged
#: reply held them all, parsed whole (AWS: "unpaginated requests are susceptible to
#: throttling and timeouts"), to show 50 of them.
SEARCH_PAGES = 2
#: The most instance types DescribeInstanceTypes returns per page (EC2's MaxResults limit).
_TYPES_PAGE = 100


def arch(extra: dict[str, Any]) -> str | None:
    """The CPU of an instance type: EC2's own word where it described the type, else from
    the processor libcloud's price data names."""
    supported = extra.get("architectures")
    if supported:  # a type that takes i386 images is an x86_64 machine
        return "x86_64" if "x86_64" in supported else str(supported[0])
    processor = str(extra.get("physicalProcessor") or "")
    if not processor:
        return None
    if "Graviton" in processor:
        return "arm64"
    if processor.startswith("Apple"):
        return "arm64_mac"
    return "x86_64_mac" if str(extra.get("instanceType", "")).startswith("mac") else "x86_64"


def bundled(region: str) -> bool:
    """Whether libcloud ships the region's instance types (its list_sizes needs no call)."""
    from libcloud.compute.constants.ec2_region_details_complete import REGION_DETAILS

    return region in REGION_DETAILS


def instance_types(driver: Any, region: str, notes: list[str]) -> list[NodeSize]:
    """What EC2 offers in `region`, a region libcloud's table lacks: DescribeInstanceTypes,
    page by page, unpriced (the backend prices them). None, and a note, if EC2 refuses."""
    found: list[NodeSize] = []
    token, seen = "", set()
    try:
        while token not in seen:
            seen.add(token)
            params = {"Action": "DescribeInstanceTypes", "MaxResults": str(_TYPES_PAGE)}
            if token:
                params["NextToken"] = token
            reply = driver.connection.request(driver.path, params=params).object
            items = reply.findall("{*}instanceTypeSet/{*}item")
            found.extend(_instance_type(driver, item) for item in items)
            token = reply.findtext("{*}nextToken") or ""
    except BaseHTTPError as exc:
        notes.append(_types_refused(region, exc))
        return []
    return found


def _instance_type(driver: Any, item: Element) -> NodeSize:
    name = item.findtext("{*}instanceType") or ""
    archs = item.findall("{*}processorInfo/{*}supportedArchitectures/{*}item")
    return NodeSize(
        id=name,
        name=name,
        ram=offer.as_int(item.findtext("{*}memoryInfo/{*}sizeInMiB")) or 0,
        disk=offer.as_int(item.findtext("{*}instanceStorageInfo/{*}totalSizeInGB")) or 0,
        bandwidth=None,
        price=None,  # type: ignore[arg-type]  # unknown, as libcloud's own unpriced types
        driver=driver,
        extra={
            "vcpu": offer.as_int(item.findtext("{*}vCpuInfo/{*}defaultVCpus")),
            "architectures": [a.text for a in archs if a.text],
        },
    )


def _types_refused(region: str, exc: BaseHTTPError) -> str:
    reason = " ".join(str(exc.message).split())
    if exc.code == 403 or "UnauthorizedOperation" in reason:
        code = reason.split(":", 1)[0] or f"HTTP {exc.code}"
        return (
            f"sizes: EC2 refused DescribeInstanceTypes ({code}): allow ec2:DescribeInstanceTypes "
            f"to list the sizes of {region} (libcloud has no table for it); "
            "--size TYPE still launches"
        )
    return f"sizes: not readable ({reason[:200]})"


def unpriced(region: str) -> str:
    return (
        f"prices: libcloud's bundled EC2 prices have none for {region} (shown ?); "
        "set price_hourly in the account for a rate of your own"
    )


def images(
    driver: Any, account: AccountConfig, provider: str, notes: list[str]
) -> list[CatalogItem]:
    owned = driver.list_images(ex_owner="self")
    found = {str(i.id): offer.item(account, provider, i) for i in _launchable(owned, notes)}
    for item in _named(driver, account, provider, notes, {str(i.id) for i in owned}):
        found.setdefault(item.id, item)
    return sorted(found.values(), key=lambda i: i.name)


def _launchable(images: list[NodeImage], notes: list[str]) -> list[NodeImage]:
    """The images EC2 runs (state `available`); the others (pending while being made,
    failed, disabled) are a note, as EC2 would refuse their launch."""
    ready, held = [], []
    for image in images:
        state = str((image.extra or {}).get("state") or "available")
        if state == "available":
            ready.append(image)
        else:
            held.append(f"{image.name or image.id} ({image.id}) is {state}")
    if held:
        more = f" and {len(held) - 3} more" if len(held) > 3 else ""
        notes.append(
            f"not offered until available (EC2 runs no other): {'; '.join(held[:3])}{more}"
        )
    return ready


def _named(
    driver: Any, account: AccountConfig, provider: str, notes: list[str], owned: set[str]
) -> list[CatalogItem]:
    """The images the config names, in one call while they all exist (an `owned` one is
    told of with the owned)."""
    wanted = configured_images(account)
    if not wanted:
        return []
    try:
        listed = driver.list_images(ex_image_ids=wanted)
    except BaseHTTPError:  # AWS fails the whole call for one bad id: ask one by one
        return offer.images_by_id(driver, account, provider, wanted, notes)
    others = [i for i in listed if str(i.id) not in owned]
    found = [offer.item(account, provider, i) for i in _launchable(others, notes)]
    missing = [i for i in wanted if i not in {str(f.id) for f in listed}]
    notes.extend(f"image {i} named in config: not found" for i in missing)
    return found


def subnets(driver: Any) -> list[Choice]:
    choices = []
    for subnet in driver.ex_list_subnets():
        extra = subnet.extra or {}
        label = subnet.name if subnet.name and subnet.name != subnet.id else subnet.id
        detail = ", ".join(str(x) for x in (extra.get("cidr_block"), extra.get("zone")) if x)
        zone = str(extra["zone"]) if extra.get("zone") else None
        name = f"{label} ({detail})" if detail else label
        choices.append(Choice(id=str(subnet.id), name=name, zone=zone))
    return choices


def quotas(driver: Any, sizes: list[Size]) -> list[Quota]:
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
            limit = offer.as_int(values[0]) if values else None
    running = {"instance-state-name": ["pending", "running"]}
    live = [n for page in ec2pages.each_page(driver, running) for n in page]
    vcpus = {s.id: s.vcpus for s in sizes}
    used_vcpus = sum(vcpus.get(str((n.extra or {}).get("instance_type")), 0) or 0 for n in live)
    return [
        Quota(resource="instances", limit=limit, used=len(live)),
        Quota(resource="vcpus", limit=None, used=used_vcpus),
    ]


def search(driver: Any, account: AccountConfig, provider: str, query: str) -> list[CatalogItem]:
    """Public images whose name or description contains `query`, filtered by EC2 itself
    (so case-sensitive, as AWS is), newest first; SEARCH_PAGES pages of each at most."""
    found: dict[str, NodeImage] = {}
    for field in ("name", "description"):
        filters = {"is-public": ["true"], field: [f"*{query}*"]}
        for reply in islice(ec2pages.replies(driver, "DescribeImages", filters), SEARCH_PAGES):
            for image in driver._to_images(reply):  # libcloud's own builder, as list_images
                found.setdefault(str(image.id), image)
    newest = offer.newest_first(found.values(), "creation_date")
    return [offer.item(account, provider, i, public=True) for i in newest]


def launch(driver: Any, request: LaunchRequest) -> list[str]:
    from libcloud.compute.drivers.ec2 import EC2NetworkSubnet

    kwargs: dict[str, Any] = {
        "name": request.name,
        "size": offer.size_ref(driver, str(request.size)),
        "image": offer.image_ref(driver, request.item),
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
        kwargs["location"] = offer.location(driver, request.location, request)
    created = driver.create_node(**kwargs)
    nodes = created if isinstance(created, list) else [created]
    if len(nodes) > 1:  # one RunInstances names them all alike: name-1 … name-N
        for node, name in zip(nodes, request.instance_names(), strict=False):
            try:
                driver.ex_create_tags(node, {"Name": name})
            except BaseHTTPError:  # launched all the same: they keep the shared name
                continue
    return [str(n.id) for n in nodes]
