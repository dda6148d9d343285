"""A driver's sizes without libcloud parsing its pricing file once per size.

libcloud's OpenStack driver asks for each flavor's price as it builds the flavor, and
for a driver its bundled pricing file has no table for (`openstack`: a private cloud has
no list price), `libcloud.pricing.get_pricing` reads and parses the whole file (4.5 MB)
and raises KeyError, caching nothing: every flavor of every `list_sizes` paid a parse,
0.2 s of CPU for the test Nova's five flavors and seconds on a cloud with a hundred.
Telling libcloud's cache once that the driver has no prices leaves each size's price
unknown, as before (the portal's come from the account's `price_hourly`, or EC2's data).
"""

from __future__ import annotations

import json
import mmap
import re
from functools import cache

from libcloud.compute.base import NodeDriver, NodeSize


def list_sizes(driver: NodeDriver) -> list[NodeSize]:
    """`driver.list_sizes()`, with a driver libcloud has no prices for marked so first."""
    from libcloud import pricing

    name = str(getattr(driver, "api_name", "") or "")
    if name and name not in pricing.PRICING_DATA["compute"] and not _priced(name):
        pricing.set_pricing("compute", name, {})
    return list(driver.list_sizes())


@cache
def _priced(name: str) -> bool:
    """Whether libcloud's pricing file may hold a table named `name` (a key opening an
    object anywhere in it: a false yes only leaves libcloud its own way)."""
    from libcloud import pricing

    key = re.compile(re.escape(json.dumps(name).encode()) + rb"\s*:\s*\{")
    with (
        open(pricing.get_pricing_file_path(), "rb") as file,
        mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        return key.search(data) is not None
