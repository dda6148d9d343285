"""Ranking accounts for a size: the cheapest fitting size, unknown prices last, quota left."""

from __future__ import annotations

import pytest

from winged_monkey.catalog import AccountCatalog, CatalogItem, Quota, Size
from winged_monkey.engine.ranking import SizeSpec, cheapest_fit, parse_spec, rank, shortfall
from winged_monkey.errors import InvalidRequest

SMALL = Size(id="small", name="small", vcpus=1, ram_mb=2048, price_hourly=0.02)
LARGE = Size(id="large", name="large", vcpus=2, ram_mb=8192, price_hourly=0.08)
HUGE = Size(id="huge", name="huge", vcpus=8, ram_mb=32768, price_hourly=0.40)
MYSTERY = Size(id="mystery", name="mystery", vcpus=2, ram_mb=8192)  # no price known


def account(name: str, *sizes: Size, quotas: tuple[Quota, ...] = ()) -> AccountCatalog:
    item = CatalogItem(account=name, kind="image", id="ami-1", name="web", provider="ec2")
    return AccountCatalog(account=name, provider="ec2", items=(item,), sizes=sizes, quotas=quotas)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2cpu 4gb", SizeSpec(vcpus=2, ram_mb=4096)),
        ("2 vCPUs, 512MB", SizeSpec(vcpus=2, ram_mb=512)),
        ("4gb", SizeSpec(ram_mb=4096)),
        ("1.5g 1core", SizeSpec(vcpus=1, ram_mb=1536)),
        ("t3.large", SizeSpec(name="t3.large")),
        ("2cpu 4gb arm64", SizeSpec(vcpus=2, ram_mb=4096, arch="arm64")),
        ("AMD64 1cpu", SizeSpec(vcpus=1, arch="x86_64")),
        ("m1.small", SizeSpec(name="m1.small")),
    ],
)
def test_a_spec_is_read_as_a_minimum_or_a_size_name(text: str, expected: SizeSpec) -> None:
    assert parse_spec(text) == expected


def test_an_empty_spec_says_what_to_give() -> None:
    with pytest.raises(InvalidRequest, match="2cpu 4gb"):
        parse_spec("  ")


def test_the_cheapest_size_that_fits_is_chosen_and_unknown_is_never_free() -> None:
    catalog = account("a", HUGE, MYSTERY, LARGE, SMALL)
    assert cheapest_fit(catalog, parse_spec("2cpu 4gb")) == LARGE
    assert cheapest_fit(catalog, parse_spec("1cpu")) == SMALL
    only_unknown = account("b", MYSTERY, HUGE)
    assert cheapest_fit(only_unknown, parse_spec("2cpu")) == HUGE
    assert cheapest_fit(account("c", MYSTERY), parse_spec("2cpu")) == MYSTERY
    assert cheapest_fit(catalog, parse_spec("64cpu")) is None


def test_accounts_rank_by_price_then_unknown_then_no_fit_with_reasons() -> None:
    cheap = account("cheap", SMALL, LARGE)
    dear = account("dear", HUGE)
    unknown = account("unknown", MYSTERY)
    tiny = account("tiny", SMALL)
    ranked = rank([unknown, tiny, dear, cheap], "2cpu 4gb")
    assert [r.account for r in ranked] == ["cheap", "dear", "unknown", "tiny"]
    assert ranked[0].reason.startswith("large (2 vCPU, 8 GB) at $0.0800/h")
    assert ranked[0].price_monthly == pytest.approx(0.08 * 730)
    assert "price unknown" in ranked[2].reason
    assert ranked[3].reason == "no size fits 2 vCPUs 4 GB"
    assert not ranked[3].launchable


def test_quota_stops_an_account_with_the_numbers_and_more_room_ranks_first() -> None:
    full = account("full", LARGE, quotas=(Quota(resource="vcpus", limit=8, used=6),))
    roomy = account("roomy", LARGE, quotas=(Quota(resource="vcpus", limit=64, used=0),))
    snug = account("snug", LARGE, quotas=(Quota(resource="vcpus", limit=8, used=0),))
    ranked = rank([full, snug, roomy], "large", count=3)
    assert [r.account for r in ranked] == ["roomy", "snug", "full"]
    assert ranked[2].blocked == "launching 3 x large needs 6 vCPUs; 2 of 8 remain"
    assert "cannot launch: launching 3 x large" in ranked[2].reason
    assert "64 of 64 vCPUs left" in ranked[0].reason


def test_an_item_limits_the_ranking_to_accounts_that_have_it() -> None:
    other = AccountCatalog(account="other", provider="ec2", sizes=(SMALL,))
    assert [r.account for r in rank([account("a", SMALL), other], "small", item="web")] == ["a"]


def test_unlimited_and_unknown_quotas_never_stop_a_launch() -> None:
    quotas = (Quota(resource="instances", limit=-1, used=3), Quota(resource="vcpus"))
    assert shortfall(quotas, HUGE, 50) is None
    assert shortfall((Quota(resource="instances", limit=2, used=2),), None, 1) == (
        "launching 1 instance(s) needs 1 instances; 0 of 2 remain"
    )


def test_an_images_architecture_keeps_sizes_of_another_cpu_out() -> None:
    graviton = Size(
        id="t4g.medium", name="t4g.medium", vcpus=2, ram_mb=4096, price_hourly=0.03, arch="arm64"
    )
    intel = Size(
        id="t3.medium", name="t3.medium", vcpus=2, ram_mb=4096, price_hourly=0.04, arch="x86_64"
    )
    x86_image = CatalogItem(
        account="a", kind="image", id="ami-x86", name="web", provider="ec2", arch="x86_64"
    )
    catalog = AccountCatalog(
        account="a", provider="ec2", items=(x86_image,), sizes=(graviton, intel)
    )
    assert cheapest_fit(catalog, parse_spec("2cpu")) == graviton
    (ranked,) = rank([catalog], "2cpu", item="ami-x86")
    assert ranked.size == intel
    (arm,) = rank([catalog], "2cpu arm64")
    assert arm.size == graviton
    assert arm.reason.startswith("t4g.medium (2 vCPU, 4 GB, arm64) at $0.0300/h")
