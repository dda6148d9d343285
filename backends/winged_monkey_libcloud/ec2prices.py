"""EC2's hourly Linux prices from libcloud's bundled pricing data, read cheaply.

libcloud's own way (`list_sizes`, or `get_size_price` on a cold cache) parses the whole
pricing file, 4.5 MB of every provider's prices, and builds every instance type of the
region: about 1.3 billion instructions, twice a plain listing of two accounts. Even EC2's
Linux table alone (a seventh of the file) is 40 M instructions to parse, and a listing
needs the prices of the few types it shows. So the file is mapped, the Linux table's text
alone is copied out of it, and each type's entry is found there and parsed by itself. A
file not laid out as libcloud ships it (a custom pricing file) is read libcloud's way.
"""

from __future__ import annotations

import json
import math
import mmap
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

_TABLE = "ec2_linux"  # the pure size price, as libcloud's EC2 driver uses it


class RegionPrices(Mapping[str, float | None]):
    """Hourly price by instance type in one region; None where libcloud's data has none.

    A type's price is read when first asked for; iterating reads the whole table (the
    catalog's sizes), and hands it to libcloud's cache so that its own calls do not parse
    the file again.
    """

    def __init__(self, region: str) -> None:
        self._region = region
        self._read: dict[str, float | None] = {}

    def __getitem__(self, size: str) -> float | None:
        try:
            return self._read[size]
        except KeyError:
            pass
        by_region = _entry(size)
        if by_region is None:
            raise KeyError(size)
        price = self._read[size] = _price(by_region.get(self._region))
        return price

    def __iter__(self) -> Iterator[str]:
        return iter(linux_table())

    def __len__(self) -> int:
        return len(linux_table())


def region_prices(region: str) -> RegionPrices:
    return RegionPrices(region)


@cache  # one type's entry serves every region and account
def _entry(size: str) -> dict[str, Any] | None:
    """`size`'s prices by region, or None when the table has no such type."""
    from libcloud import pricing

    parsed = pricing.PRICING_DATA["compute"].get(_TABLE)
    section = None if isinstance(parsed, dict) else _section()
    if section is None:
        found = linux_table().get(size)
        return found if isinstance(found, dict) else None
    # `"t2.micro": {` opens a type's entry: a region's key is followed by a number.
    start = section.find(json.dumps(size).encode() + b": {")
    if start < 0:
        return None
    start = section.index(b"{", start)
    end = section.find(b"}", start)  # an entry holds numbers only: its first `}` ends it
    try:
        found = json.loads(section[start : end + 1])
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


@cache
def _section() -> bytes | None:
    """The Linux table's text, `{` to `}`, found by its indentation as libcloud ships the
    file (a key per line); None when the file is laid out otherwise."""
    from libcloud import pricing

    with (
        open(pricing.get_pricing_file_path(), "rb") as file,
        mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        key = data.find(json.dumps(_TABLE).encode() + b": {")
        if key < 0:
            return None
        indent = data[data.rfind(b"\n", 0, key) + 1 : key]
        end = data.find(b"\n" + indent + b"}", key)
        if indent.strip(b" ") or end < 0:
            return None
        return data[data.find(b"{", key) : end + len(indent) + 2]


@cache
def linux_table() -> dict[str, Any]:
    """The Linux table parsed whole (its own text, not the whole file), and handed to
    libcloud's cache: libcloud's EC2 `list_sizes` reads its prices from there."""
    from libcloud import pricing

    cached = pricing.PRICING_DATA["compute"].get(_TABLE)
    if isinstance(cached, dict):
        return cached
    section = _section()
    try:
        table = json.loads(section) if section is not None else None
    except ValueError:
        table = None
    if not isinstance(table, dict):  # a custom file written otherwise: libcloud's own parse
        table = pricing.get_pricing("compute", _TABLE) or {}
    pricing.set_pricing("compute", _TABLE, table)
    return table


def _price(value: object) -> float | None:
    try:
        price = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    return price if price is not None and price > 0 and math.isfinite(price) else None
