"""The parts of a libcloud account's catalog and launch that every family shares.

Everything here runs in the backend's worker thread with that thread's driver. What a
family's API adds (EC2's owned images, subnets and quota; Nova's networks and /limits)
is in its own module; the backend's base (backend.py) puts the parts together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import NodeDriver, NodeImage, NodeLocation, NodeSize

from winged_monkey.account import AccountConfig
from winged_monkey.backend import Capability
from winged_monkey.errors import InvalidRequest

# The catalog's models are imported by the functions that build them: every account's
# backend imports this module (CAPABILITIES), and a listing or an action builds none.
if TYPE_CHECKING:
    from winged_monkey.catalog import CatalogItem, Choice, LaunchRequest, Quota, Size

_UNDATED = datetime.min.replace(tzinfo=UTC)
_IMAGE_NEEDS = ("a size", "a key pair to log in (optional)")
#: HTTP statuses with which a provider rejects what it was asked to launch (EC2: 400
#: InvalidAMIID/InvalidInstanceType; Nova: 400 bad imageRef, 403 quota, 404 flavor).
_REJECTED = frozenset({400, 403, 404, 409, 413})
#: What some libcloud account may offer; a family's `_offers` says which for one account.
CAPABILITIES = frozenset({Capability.CATALOG, Capability.QUOTAS, Capability.LAUNCH})


def offered(found: Iterable[Capability], *, read_only: bool) -> frozenset[Capability]:
    """`found`, without LAUNCH on a read-only account."""
    return frozenset(found) - ({Capability.LAUNCH} if read_only else set())


def overrides(cls: type[NodeDriver], name: str) -> bool:
    """Whether the driver class really implements `name` (the base's only raises)."""
    return getattr(cls, name, None) not in (None, getattr(NodeDriver, name, None))


def part(notes: list[str], what: str, read: Callable[[], list[Any]]) -> list[Any]:
    """What `read` returns; if the provider refuses, nothing, and a note that says why."""
    try:
        return read()
    except BaseHTTPError as exc:
        notes.append(f"{what}: not readable ({' '.join(str(exc.message).split())[:200]})")
        return []


def key_pairs(driver: NodeDriver, notes: list[str]) -> list[Choice]:
    from winged_monkey.catalog import Choice

    if not overrides(type(driver), "list_key_pairs"):
        return []
    return part(
        notes,
        "key pairs",
        lambda: [Choice(id=k.name, name=k.name) for k in driver.list_key_pairs()],
    )


def size(
    found: NodeSize, price: float | None, *, name: str | None = None, arch: str | None = None
) -> Size:
    from winged_monkey.catalog import Size

    ident = str(found.id)
    extra = found.extra or {}
    return Size(
        id=ident,
        name=name or str(found.name or ident),
        vcpus=as_int(extra.get("vcpu", extra.get("vcpus", getattr(found, "vcpus", None)))),
        ram_mb=as_int(found.ram) or None,
        disk_gb=as_int(found.disk) or None,  # 0: EBS only, no instance store
        price_hourly=price,
        arch=arch,
    )


def as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def newest_first(images: Iterable[NodeImage], created: str) -> list[NodeImage]:
    """`images` newest first by their `extra[created]` (a datetime, or ISO 8601 text as
    Nova's), then by name; undated ones last: a search shows its first images, and the
    newest of a series is the one to launch (by name, Ubuntu's oldest builds came first)."""

    def when(image: NodeImage) -> datetime:
        value = (image.extra or {}).get(created)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return _UNDATED
        if not isinstance(value, datetime):
            return _UNDATED
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    by_name = sorted(images, key=lambda i: str(i.name or i.id))
    return sorted(by_name, key=when, reverse=True)  # stable: by name within one date


def item(
    account: AccountConfig, provider: str, image: NodeImage, public: bool = False
) -> CatalogItem:
    from winged_monkey.catalog import CatalogItem

    extra = image.extra or {}
    arch = str(extra["architecture"]) if extra.get("architecture") else None
    # Glance's minimums (0: none), which Nova checks a flavor against.
    min_ram, min_disk = as_int(extra.get("minRam")) or None, as_int(extra.get("minDisk")) or None
    least = [
        f"{min_ram / 1024:g} GB RAM" if min_ram else "",
        f"{min_disk} GB disk" if min_disk else "",
    ]
    size = f"an {arch} size" if arch else "a size"  # the sizes' CPU column says which
    if min_ram or min_disk:
        size += f" of at least {' and '.join(w for w in least if w)}"
    needs = (size, *_IMAGE_NEEDS[1:])
    return CatalogItem(
        account=account.name,
        kind="image",
        id=str(image.id),
        name=str(image.name or image.id),
        description=str(extra.get("description") or ""),
        provider=provider,
        needs=needs,
        public=public,
        arch=arch,
        min_ram_mb=min_ram,
        min_disk_gb=min_disk,
    )


def images_by_id(
    driver: Any, account: AccountConfig, provider: str, wanted: list[str], notes: list[str]
) -> list[CatalogItem]:
    """The images named in config, asked one by one; one that no longer exists is a note,
    not a failure."""
    items = []
    for ident in wanted:
        try:
            items.append(item(account, provider, driver.get_image(ident)))
        except BaseHTTPError as exc:
            reason = " ".join(str(exc.message).split())[:200]
            notes.append(f"image {ident} named in config: not found ({reason})")
    return items


def with_own_limits(quotas: Iterable[Quota], limits: dict[str, int]) -> list[Quota]:
    """The provider's quotas, each capped by the limit the account's config sets."""
    from winged_monkey.catalog import Quota

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


# -- launch ---------------------------------------------------------------------------


def launch(
    account: AccountConfig, provider: str, request: LaunchRequest, create: Callable[[], list[str]]
) -> list[str]:
    """`create()`'s ids; a rejection by the provider is InvalidRequest with its reason."""
    if not request.size:
        raise InvalidRequest("a launch needs a size (--size)", account=account.name)
    try:
        return create()
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


def size_ref(driver: Any, ref: str) -> NodeSize:
    # The provider checks the type itself (and says why it refuses): no list needed.
    return NodeSize(ref, ref, 0, 0, 0, 0.0, driver)


def image_ref(driver: Any, ref: str) -> NodeImage:
    return NodeImage(ref, ref, driver)


def location(driver: Any, ref: str, request: LaunchRequest) -> NodeLocation:
    for loc in driver.list_locations():
        if ref in (str(loc.id), str(loc.name)):
            return loc  # type: ignore[no-any-return]
    known = ", ".join(str(loc.name) for loc in driver.list_locations())
    raise InvalidRequest(f"no location {ref!r} for {request.name} here (known: {known})")
