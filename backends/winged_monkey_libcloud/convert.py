"""libcloud Nodes as the portal's Instances."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from libcloud.compute.base import Node

from winged_monkey.models import Instance, InstanceState
from winged_monkey_libcloud.states import map_state

# Where drivers keep the size and image in `extra` (EC2, OpenStack, others): a name the
# user knows (OpenStack's, filled in by openstackcompat.Names) before an id.
_SIZE_KEYS = ("instance_type", "flavor_name", "flavorId", "flavor_id", "size", "machine_type")
_IMAGE_KEYS = ("image_id", "image_name", "imageId", "image")


def to_instance(
    node: Node,
    *,
    ident: str | None = None,
    known_state: tuple[InstanceState, str] | None = None,
    account: str,
    provider: str,
    region: str | None,
    prices: Mapping[str, float | None],
    flat_price: float | None,
) -> Instance:
    extra = dict(node.extra or {})
    # A state read from the provider itself (EC2's word, Nova's task, libvirt's domain)
    # beats libcloud's coarser mapping.
    state, raw_state = known_state or map_state(node.state)
    size = _first(extra, _SIZE_KEYS) or _ref_id(getattr(node, "size", None))
    image = _first(extra, _IMAGE_KEYS) or _ref_id(getattr(node, "image", None))
    # A rate the user configured wins (an EC2-compatible private cloud is not priced like
    # AWS); else EC2's bundled price for the type; else unknown.
    price = flat_price if flat_price is not None else (prices.get(size) if size else None)
    return Instance(
        account=account,
        id=ident or str(node.id),
        # A name of spaces alone (an EC2 Name tag of "  ") read as a blank row: the id, as
        # for an instance with no name.
        name=str(node.name) if str(node.name or "").strip() else (ident or str(node.id)),
        state=state,
        raw_state=raw_state,
        provider=provider,
        region=region or _region_of(extra),
        size=size,
        image=image,
        public_ips=tuple(str(ip) for ip in node.public_ips or () if ip),
        private_ips=tuple(str(ip) for ip in node.private_ips or () if ip),
        created_at=_aware(getattr(node, "created_at", None)),
        price_hourly=price,
        extra=json_safe(extra),
    )


#: Text up to this long is interned: an EC2 row's `extra` holds some forty strings, most of
#: them the same in every row ("xen", "hvm", "/dev/sda1", its VPC's id), each its own
#: object as parsed; shared, a row held a fifth less (7.3 KB -> 5.7 KB, tracemalloc).
_SHARED_TEXT = 40


def json_safe(value: Any, depth: int = 0) -> Any:
    """The same data with anything JSON cannot hold turned into text."""
    if depth > 8:
        return str(value)
    if type(value) is str:  # not a subclass (a StrEnum's member), which intern refuses
        return sys.intern(value) if len(value) <= _SHARED_TEXT else value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return _aware(value).isoformat()  # type: ignore[union-attr]
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    if isinstance(value, Enum):
        return json_safe(value.value, depth + 1)
    fields = getattr(value, "__dict__", None)
    if isinstance(fields, dict):  # a libcloud object (a network interface, a volume):
        # its public fields, readable in details, not a Python repr like <EC2NetworkInterface>
        return {
            str(k): json_safe(v, depth + 1)
            for k, v in fields.items()
            if not str(k).startswith("_") and k not in ("driver", "connection")
        }
    return str(value)


def _first(extra: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = extra.get(key)
        if isinstance(value, str | int) and str(value):
            return str(value)
    return None


def _ref_id(ref: Any) -> str | None:
    ident = getattr(ref, "id", None)
    return str(ident) if ident else None


def _region_of(extra: Mapping[str, Any]) -> str | None:
    zone = extra.get("availability") or extra.get("availability_zone")
    return str(zone) if zone else None


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
