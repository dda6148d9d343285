"""Which account to launch on: the cheapest size that fits a request, and the quota left.

`wm where`, the launch wizard and `Portal.where` rank accounts with `rank`. A size is
asked for by name ("t3.large") or as a spec ("2cpu 4gb"); an unknown price ranks after
every known one and is never taken for free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from winged_monkey.catalog import AccountCatalog, CatalogItem, Quota, Size
from winged_monkey.errors import InvalidRequest

_ARCH = re.compile(r"\b(x86_64|amd64|arm64|aarch64)\b", re.IGNORECASE)
_ARCH_NAMES = {"amd64": "x86_64", "aarch64": "arm64"}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(v?cpus?|cores?|gb|gib|g|mb|mib|m)\b", re.IGNORECASE)
HOURS_PER_MONTH = 730  # AWS's own convention for a monthly estimate


@dataclass(frozen=True)
class SizeSpec:
    """What a launch asks for: a size by name, or at least this many vCPUs and this RAM."""

    name: str | None = None
    vcpus: int | None = None
    ram_mb: int | None = None
    #: Only sizes of this CPU architecture ("x86_64", "arm64"); None: any.
    arch: str | None = None

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        parts = []
        if self.vcpus is not None:
            parts.append(f"{self.vcpus} vCPU{'s' if self.vcpus != 1 else ''}")
        if self.ram_mb is not None:
            parts.append(_ram(self.ram_mb))
        if self.arch is not None:
            parts.append(self.arch)
        return " ".join(parts) or "any size"


def parse_spec(text: str) -> SizeSpec:
    """ "2cpu 4gb", "2 vcpus, 512mb", "4gb" or a size name ("t3.large", "m1.small")."""
    cleaned = text.strip()
    if not cleaned:
        raise InvalidRequest("no size given; name one (t3.large) or a spec (2cpu 4gb)")
    arch_match = _ARCH.search(cleaned)
    arch = arch_match.group(1).lower() if arch_match else None
    arch = _ARCH_NAMES.get(arch, arch) if arch else None
    rest = _ARCH.sub("", cleaned).strip() if arch else cleaned
    found = list(_PART.finditer(rest))
    leftover = _PART.sub("", rest).replace(",", " ").strip()
    if not found or leftover:
        return SizeSpec(name=cleaned) if rest or not arch else SizeSpec(arch=arch)
    vcpus: int | None = None
    ram_mb: int | None = None
    for match in found:
        number, unit = float(match.group(1)), match.group(2).lower()
        if "cpu" in unit or "core" in unit:
            vcpus = int(number)
        elif unit.startswith("g"):
            ram_mb = int(number * 1024)
        else:
            ram_mb = int(number)
    return SizeSpec(vcpus=vcpus, ram_mb=ram_mb, arch=arch)


def fits(size: Size, spec: SizeSpec) -> bool:
    """Whether `size` satisfies `spec`; an unknown vCPU or RAM figure never fits a minimum,
    an unknown architecture is given the benefit of the doubt."""
    if spec.arch is not None and size.arch is not None and not _runs(spec.arch, size.arch):
        return False
    if spec.name is not None:
        return spec.name in (size.id, size.name)
    if spec.vcpus is not None and (size.vcpus is None or size.vcpus < spec.vcpus):
        return False
    return spec.ram_mb is None or (size.ram_mb is not None and size.ram_mb >= spec.ram_mb)


def _runs(wanted: str, arch: str) -> bool:
    # A 32-bit x86 image runs on x86_64 machines.
    return wanted == arch or (wanted == "i386" and arch == "x86_64")


def unfit(item: CatalogItem, size: Size) -> str | None:
    """Why the cloud would refuse to run `item` on `size`, in words; None when it would
    not (or when the figures are unknown). EC2 refuses a type of another CPU than the
    AMI's; Nova a flavor with less RAM or (a root disk of 0 is not checked) less disk
    than the image's min_ram and min_disk."""
    what = f"{item.name} ({item.id})" if item.name != item.id else item.id
    if item.arch is not None and size.arch is not None and not _runs(item.arch, size.arch):
        return (
            f"{what} is an {item.arch} image and {size.name} an {size.arch} size: "
            f"pick an {item.arch} size"
        )
    if item.min_ram_mb and size.ram_mb is not None and size.ram_mb < item.min_ram_mb:
        return (
            f"{size.name} has {_ram(size.ram_mb)} of RAM and {what} needs "
            f"{_ram(item.min_ram_mb)} (its min_ram): pick a larger size"
        )
    if item.min_disk_gb and size.disk_gb and size.disk_gb < item.min_disk_gb:
        return (
            f"{size.name} has a {size.disk_gb} GB disk and {what} needs "
            f"{item.min_disk_gb} GB (its min_disk): pick a larger size"
        )
    return None


def _price_key(size: Size) -> tuple[int, float, int, int, str]:
    # Known prices first, cheapest first; then the smallest (fewest vCPUs, least RAM).
    known = size.price_hourly is not None
    return (
        0 if known else 1,
        size.price_hourly if size.price_hourly is not None else 0.0,
        size.vcpus if size.vcpus is not None else 1 << 30,
        size.ram_mb if size.ram_mb is not None else 1 << 30,
        size.id,
    )


def cheapest_fit(
    catalog: AccountCatalog, spec: SizeSpec, item: CatalogItem | None = None
) -> Size | None:
    """The size of `catalog` to launch for `spec`: the cheapest known price that fits
    (and that runs `item`, if given)."""
    candidates = [
        s for s in catalog.sizes if fits(s, spec) and (item is None or unfit(item, s) is None)
    ]
    return min(candidates, key=_price_key) if candidates else None


def find_size(catalog: AccountCatalog, ref: str) -> Size | None:
    """A size by id or name (for `wm launch --size` and the wizard)."""
    for size in catalog.sizes:
        if ref in (size.id, size.name):
            return size
    return None


# -- quota ----------------------------------------------------------------------------


def demand(size: Size | None, count: int) -> dict[str, int]:
    """What launching `count` x `size` takes from each quota the portal knows."""
    needed = {"instances": count}
    if size is not None and size.vcpus is not None:
        needed["vcpus"] = size.vcpus * count
    if size is not None and size.ram_mb is not None:
        needed["ram_mb"] = size.ram_mb * count
    return needed


_UNITS = {"instances": "instances", "vcpus": "vCPUs", "ram_mb": "MB of RAM"}


def shortfall(quotas: Iterable[Quota], size: Size | None, count: int) -> str | None:
    """Why the quota cannot take the launch, with the numbers; None when it can (or when
    the provider does not say)."""
    needed = demand(size, count)
    what = f"{count} x {size.name}" if size is not None else f"{count} instance(s)"
    for quota in quotas:
        need = needed.get(str(quota.resource))
        left = quota.remaining
        if need is None or left is None or need <= left:
            continue
        unit = _UNITS.get(str(quota.resource), str(quota.resource))
        return f"launching {what} needs {need} {unit}; {left} of {quota.limit} remain"
    return None


# -- ranking --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    """One account's place for a request: the size it would use, why it ranks there."""

    account: str
    provider: str
    region: str | None
    size: Size | None
    #: The quota problem, or None when the launch fits (or the limit is unknown).
    blocked: str | None
    #: How many more launches like this one the tightest known quota leaves room for.
    headroom: int | None
    reason: str

    @property
    def price_hourly(self) -> float | None:
        return self.size.price_hourly if self.size is not None else None

    @property
    def price_monthly(self) -> float | None:
        hourly = self.price_hourly
        return None if hourly is None else hourly * HOURS_PER_MONTH

    @property
    def launchable(self) -> bool:
        return self.size is not None and self.blocked is None


def _headroom(quotas: Iterable[Quota], size: Size | None, count: int) -> int | None:
    """How many more such launches the tightest known quota allows after this one."""
    needed = demand(size, count)
    spare: list[int] = []
    for quota in quotas:
        need, left = needed.get(str(quota.resource)), quota.remaining
        if need and left is not None:
            spare.append((left - need) // need)
    return min(spare) if spare else None


def _quota_words(quotas: Iterable[Quota]) -> str:
    words = []
    for quota in quotas:
        if quota.remaining is not None and str(quota.resource) in _UNITS:
            words.append(f"{quota.remaining} of {quota.limit} {_UNITS[str(quota.resource)]} left")
    return "; ".join(words) if words else "quota unknown"


def _reason(size: Size | None, spec: SizeSpec, blocked: str | None, quotas: str) -> str:
    if size is None:
        return f"no size fits {spec}"
    shape = ", ".join(
        part
        for part in (
            f"{size.vcpus} vCPU" if size.vcpus is not None else "",
            _ram(size.ram_mb) if size.ram_mb is not None else "",
            size.arch if size.arch not in (None, "x86_64") else "",  # the surprising one
        )
        if part
    )
    shape = f" ({shape})" if shape else ""
    price = (
        f"${size.price_hourly:.4f}/h"
        if size.price_hourly is not None
        else "price unknown (ranked after known prices)"
    )
    head = f"{size.name}{shape} at {price}"
    return f"{head}; cannot launch: {blocked}" if blocked else f"{head}; {quotas}"


def rank(
    catalogs: Iterable[AccountCatalog],
    spec: SizeSpec | str,
    *,
    item: str | None = None,
    count: int = 1,
    refused: Mapping[str, str] | None = None,
) -> list[Ranked]:
    """Accounts best first for `count` x `spec` (of catalog `item`, id or name, if given):
    launchable before blocked by quota before no fitting size; then known price before
    unknown, cheapest first; then most quota left; then by name. `refused` blocks accounts
    for a reason of the caller's (a read-only account)."""
    wanted = parse_spec(spec) if isinstance(spec, str) else spec
    ranked: list[Ranked] = []
    for catalog in catalogs:
        offered = [i for i in catalog.items if item in (i.id, i.name)] if item else []
        if item is not None and not offered:
            continue
        needs = wanted
        if offered and offered[0].arch and wanted.arch is None:  # the image's own CPU
            needs = replace(wanted, arch=offered[0].arch)
        size = cheapest_fit(catalog, needs, offered[0] if offered else None)
        blocked = (refused or {}).get(catalog.account)
        if blocked is None and size is not None:
            blocked = shortfall(catalog.quotas, size, count)
        reason = _reason(size, needs, blocked, _quota_words(catalog.quotas))
        # What was asked for is there, but the image cannot run on it: say why.
        other = cheapest_fit(catalog, wanted) if size is None and offered else None
        if other is not None and (why := unfit(offered[0], other)):
            reason = f"no size fits {needs}: {why}"
        ranked.append(
            Ranked(
                account=catalog.account,
                provider=catalog.provider,
                region=catalog.region,
                size=size,
                blocked=blocked,
                headroom=_headroom(catalog.quotas, size, count),
                reason=reason,
            )
        )

    def key(entry: Ranked) -> tuple[int, int, float, int, str]:
        tier = 2 if entry.size is None else (1 if entry.blocked else 0)
        price = entry.price_hourly
        # Unknown headroom sorts after any known headroom at the same price.
        room = -entry.headroom if entry.headroom is not None else 1
        return (tier, 0 if price is not None else 1, price or 0.0, room, entry.account)

    return sorted(ranked, key=key)


def _ram(ram_mb: int) -> str:
    return f"{ram_mb / 1024:g} GB" if ram_mb >= 1024 else f"{ram_mb} MB"
