"""EC2's hourly Linux prices from libcloud's bundled pricing data, read cheaply.

libcloud's own way (`list_sizes`, or `get_size_price` on a cold cache) parses the whole
pricing file, 4.5 MB of every provider's prices, and builds every instance type of the
region: about 1.3 billion instructions, twice a plain listing of two accounts. Only EC2's
Linux table is parsed here (a twelfth of the file), and it is handed to libcloud's cache
so that its own calls (the catalog's sizes) do not parse the file again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

_TABLE = "ec2_linux"  # the pure size price, as libcloud's EC2 driver uses it


def region_prices(region: str) -> dict[str, float | None]:
    """Hourly price by instance type in `region`; None where libcloud's data has none."""
    table = _linux_table()
    prices: dict[str, float | None] = {}
    for size, by_region in table.items():
        value = by_region.get(region) if isinstance(by_region, dict) else None
        prices[size] = _price(value)
    return prices


def _linux_table() -> dict[str, Any]:
    from libcloud import pricing

    cached = pricing.PRICING_DATA["compute"].get(_TABLE)
    if isinstance(cached, dict):
        return cached
    text = Path(pricing.get_pricing_file_path()).read_text(encoding="utf-8")
    table = _section(text, _TABLE)
    if table is None:  # a custom file written otherwise: libcloud's own (whole) parse
        table = pricing.get_pricing("compute", _TABLE) or {}
    else:
        pricing.set_pricing("compute", _TABLE, table)
    return table


def _section(text: str, name: str) -> dict[str, Any] | None:
    """The object that `"name":` introduces in `text`, parsed alone; None if not found."""
    key = text.find(f'"{name}"')
    colon = text.find(":", key) if key >= 0 else -1
    if colon < 0:
        return None
    start = colon + 1
    while start < len(text) and text[start].isspace():
        start += 1
    try:
        value, _ = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _price(value: object) -> float | None:
    try:
        price = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    return price if price is not None and price > 0 and math.isfinite(price) else None
