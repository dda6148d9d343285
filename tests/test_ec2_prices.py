"""EC2 prices read type by type from libcloud's file are libcloud's own, for every type and
region it ships, and a pricing file laid out otherwise is read whole, with the same result."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from libcloud import pricing

from winged_monkey_libcloud import ec2prices

TABLE = "ec2_linux"


@pytest.fixture(autouse=True)
def cold() -> Iterator[None]:
    """Each test starts as a new process does: nothing parsed, nothing cached."""

    def clear() -> None:
        ec2prices._entry.cache_clear()
        ec2prices._section.cache_clear()
        ec2prices.linux_table.cache_clear()
        pricing.invalidate_module_pricing_cache("compute", TABLE)

    clear()
    yield
    clear()


def libclouds(size: str, region: str) -> float | None:
    """libcloud's own answer; 0 (its mark for "no price") is unknown, as wm shows it."""
    price = pricing.get_size_price("compute", TABLE, size, region)
    return price if price else None


def shipped() -> dict[str, dict[str, float]]:
    path = Path(pricing.get_pricing_file_path())
    table: dict[str, dict[str, float]] = json.loads(path.read_text())["compute"][TABLE]
    return table


def test_every_type_and_region_reads_as_libcloud_reads_it() -> None:
    table = shipped()
    regions = sorted({region for by_region in table.values() for region in by_region})
    read = {region: ec2prices.region_prices(region) for region in regions}
    # Type by type, before anything parses the table whole (a listing's way).
    ours = {(s, r): read[r].get(s) for s in table for r in regions}
    assert pricing.PRICING_DATA["compute"].get(TABLE) is None, "the table was parsed whole"
    assert len(table) > 900
    assert len(regions) > 15
    assert ours == {(s, r): libclouds(s, r) for s in table for r in regions}
    assert read["us-east-1"].get("t2.micro") == 0.0116
    assert read["us-east-1"].get("no-such.type") is None
    with pytest.raises(KeyError):
        read["us-east-1"]["micro"]  # a tail of "t2.micro" is no type


def test_iterating_reads_the_table_whole_and_shares_it_with_libcloud() -> None:
    prices = ec2prices.region_prices("eu-west-1")
    assert set(prices) == set(shipped())
    assert pricing.PRICING_DATA["compute"].get(TABLE) == shipped()


def test_a_pricing_file_laid_out_otherwise_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compact = tmp_path / "pricing.json"
    doc = {"compute": {"other": {"t2.micro": {"us-east-1": 9}}, TABLE: shipped()}}
    compact.write_text(json.dumps(doc, separators=(",", ":")))  # one line, no indentation
    monkeypatch.setattr(pricing, "get_pricing_file_path", lambda **_: str(compact))
    prices = ec2prices.region_prices("us-east-1")
    assert prices.get("t2.micro") == 0.0116
    assert prices.get("m5.large") == libclouds("m5.large", "us-east-1")
    assert ec2prices._section() is None
