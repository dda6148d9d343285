"""The catalog of an EC2 account against a real moto server: images the account owns or
names in config (never the public list), sizes priced from libcloud's bundled data (in a
region its table lacks, the sizes EC2 describes), zones, key pairs, subnets and quota;
public images only when searched; several accounts at once.

boto3 is the witness: what it creates on the server is what the catalog must show.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import AMI, DEV_KEY, DEV_SECRET, Cloud, wait_until
from tests.faultproxy import Fault, FaultProxy
from winged_monkey.backend import Capability
from winged_monkey.catalog import AccountCatalog
from winged_monkey.engine.catalogs import CatalogUpdate
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ConfigError
from winged_monkey.user.config import AccountConfig, Credentials, Endpoint

#: AWS's answer to a caller whose policy does not allow the call.
UNAUTHORIZED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
    b"<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
    b"operation. User: arn:aws:iam::123456789012:user/dev is not authorized to perform: "
    b"ec2:DescribeInstanceTypes because no identity-based policy allows the "
    b"ec2:DescribeInstanceTypes action</Message></Error></Errors>"
    b"<RequestID>6e3a8f1c-0000-4000-8000-000000000000</RequestID></Response>"
)


def refused(action: bytes) -> Fault:
    """The fault proxy answering AWS's 403 UnauthorizedOperation to requests for `action`."""
    return Fault(
        "status",
        status=403,
        headers={"Content-Type": "text/xml;charset=UTF-8"},
        body=UNAUTHORIZED,
        match=action,
    )


def owned_image(cloud: Cloud, region: str = "us-east-1", name: str = "golden-web") -> str:
    """An AMI made from an instance, as a user bakes one: owned by the account."""
    ec2 = cloud.ec2(region)
    instance = cloud.launch(ec2, "builder")
    return ec2.create_image(InstanceId=instance, Name=name, Description="our web image")["ImageId"]


def newer_region_account(
    cloud: Cloud, name: str, region: str, port: int | None = None, **settings: Any
) -> AccountConfig:
    """An account in a region libcloud's tables lack (only botocore knows it, so botocore
    resolves the credentials: the AWS_* variables here), on the moto endpoint."""
    for var, value in {
        "AWS_ACCESS_KEY_ID": DEV_KEY,
        "AWS_SECRET_ACCESS_KEY": DEV_SECRET,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        cloud.monkeypatch.setenv(var, value)
    return AccountConfig(
        name=name,
        provider="ec2",
        region=region,
        endpoint=Endpoint(host="127.0.0.1", port=port or cloud.server.port, secure=False),
        credentials=Credentials(keyring=False),
        **settings,
    )


def described_types(cloud: Cloud) -> list[str | None]:
    """The regions DescribeInstanceTypes was asked in, as the server recorded them."""
    return [c.region for c in cloud.server.calls if c.action == "DescribeInstanceTypes"]


async def updates(portal: Portal, names: list[str] | None = None) -> dict[str, CatalogUpdate]:
    return {u.account: u async for u in portal.catalogs(names)}


async def test_catalog_shows_owned_and_configured_images_sizes_zones_keys_subnets(
    cloud: Cloud,
) -> None:
    ami = owned_image(cloud)
    ec2 = cloud.ec2()
    ec2.create_key_pair(KeyName="laptop")
    cloud.launch(ec2, "busy", type="t3.large")
    portal = cloud.portal(cloud.account("dev", images=[AMI]))

    catalog = await portal.catalog("dev")

    by_id = {i.id: i for i in catalog.items}
    assert set(by_id) == {ami, AMI}  # not the 1,300 public AMIs moto ships
    assert by_id[ami].name == "golden-web"
    assert by_id[ami].description == "our web image"
    assert not by_id[ami].public
    assert by_id[AMI].name.startswith("ubuntu/images/")
    sizes = {s.id: s for s in catalog.sizes}
    large = sizes["t3.large"]
    assert (large.vcpus, large.ram_mb) == (2, 8192)
    assert large.price_hourly is not None
    assert 0.01 < large.price_hourly < 1
    assert sizes["t3.micro"].price_hourly is not None
    assert sizes["t3.micro"].price_hourly < large.price_hourly
    assert [loc.name for loc in catalog.locations][:3] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert [k.name for k in catalog.key_pairs] == ["laptop"]
    assert catalog.networks
    assert all(n.id.startswith("subnet-") for n in catalog.networks)
    assert any("172.31." in n.name and "us-east-1a" in n.name for n in catalog.networks)
    quotas = {str(q.resource): q for q in catalog.quotas}
    assert (quotas["instances"].limit, quotas["instances"].used) == (20, 2)  # builder + busy
    assert quotas["vcpus"].limit is None  # Service Quotas not asked: unknown, not zero
    assert quotas["vcpus"].used == 2 + 2  # t3.micro builder + t3.large
    assert catalog.region == "us-east-1"
    assert catalog.notes == ()
    assert Capability.CATALOG in portal.capabilities("dev")
    await portal.close()


async def test_a_zero_price_in_the_data_is_unknown_not_free(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev-eu", region="eu-west-1"))
    sizes = {s.id: s for s in (await portal.catalog("dev-eu")).sizes}
    # libcloud's bundled eu-west-1 data has 0.0 for t3.large: unknown, never free.
    assert sizes["t3.large"].price_hourly is None
    assert sizes["m5.large"].price_hourly is not None
    await portal.close()


async def test_a_private_cloud_rate_prices_every_size(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("lab", price_hourly=0.03))
    catalog = await portal.catalog("lab")
    assert {s.price_hourly for s in catalog.sizes} == {0.03}
    await portal.close()


async def test_a_configured_image_that_is_gone_is_a_note_not_a_failure(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev", images=[AMI, "ami-00000000deadbeef0"]))
    catalog = await portal.catalog("dev")
    assert [i.id for i in catalog.items] == [AMI]
    assert len(catalog.notes) == 1
    assert catalog.notes[0].startswith("image ami-00000000deadbeef0 named in config: not found")
    await portal.close()


async def test_an_image_ec2_would_not_run_is_a_note_not_an_item(cloud: Cloud) -> None:
    """An AMI that is not `available` (disabled here; pending while being made, failed)
    cannot be launched: it was offered like the others, owned or named in config."""
    ami = owned_image(cloud)
    ec2 = cloud.ec2()
    held = ec2.register_image(Name="golden-old", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.disable_image(ImageId=held)
    portal = cloud.portal(cloud.account("dev", images=[AMI, held]))
    catalog = await portal.catalog("dev")
    assert sorted(i.id for i in catalog.items) == sorted([ami, AMI])
    assert catalog.notes == (
        f"not offered until available (EC2 runs no other): golden-old ({held}) is disabled",
    )
    await portal.close()


async def test_bad_images_setting_names_the_account_and_the_fix(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev", images="ami-1e749f67"))
    with pytest.raises(ConfigError) as caught:
        await portal.catalog("dev")
    assert str(caught.value).startswith(
        "dev: libcloud settings: images: must be a list of image ids"
    )
    await portal.close()


async def test_public_images_only_on_search(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev"))
    found = await portal.search_images("dev", "ubuntu-xenial")
    assert found
    assert all(i.public for i in found)
    assert all("ubuntu-xenial" in i.name for i in found)
    assert len(found) < 20
    by_description = await portal.search_images("dev", "Canonical, Ubuntu, 14.04")
    assert AMI in {i.id for i in by_description}
    assert await portal.search_images("dev", "no-such-image-anywhere") == []
    # The catalog says so: the TUI's `/` is offered where the provider searches (EC2).
    assert (await portal.catalog("dev")).searchable
    await portal.close()


def public_image(cloud: Cloud, name: str) -> str:
    """A public image named `name` on moto; its CreationDate, as EC2 says it."""
    ec2 = cloud.ec2()
    image = ec2.register_image(Name=name, RootDeviceName="/dev/xvda")["ImageId"]
    ec2.modify_image_attribute(ImageId=image, LaunchPermission={"Add": [{"Group": "all"}]})
    return str(ec2.describe_images(ImageIds=[image])["Images"][0]["CreationDate"])


async def test_a_search_shows_the_newest_images_first(cloud: Cloud) -> None:
    """Image names sort their oldest builds first (ubuntu-…-20170727 before …-20240207): a
    search cut at its first images by name showed the oldest of a series, not the one to
    launch. moto dates an image to the second: the second one is made a second later."""
    older = public_image(cloud, "nightly-a")
    wait_until(lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S") > older[:19], timeout=5)
    newer = public_image(cloud, "nightly-b")
    assert newer > older
    portal = cloud.portal(cloud.account("dev"))
    assert [i.name for i in await portal.search_images("dev", "nightly")] == [
        "nightly-b",
        "nightly-a",
    ]
    (first,) = await portal.search_images("dev", "nightly", limit=1)
    assert first.name == "nightly-b"
    await portal.close()


async def test_a_search_asks_ec2_for_pages(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """AWS: "We strongly recommend using only paginated requests. Unpaginated requests are
    susceptible to throttling and timeouts." An unpaged DescribeImages of a word as broad as
    "ubuntu" holds every one of AWS's thousands of matches. (moto answers all at once, so
    the pages themselves are DescribeInstances' pager's, tested in tests/test_ec2_pages.py.)"""
    public_image(cloud, "nightly-a")
    proxy = fault_proxy(cloud.server.port)
    portal = cloud.portal(cloud.account("dev", port=proxy.port))
    assert [i.name for i in await portal.search_images("dev", "nightly")] == ["nightly-a"]
    searched = [line for line in proxy.request_lines if "Action=DescribeImages" in line]
    assert len(searched) == 2, searched  # by name, then by description
    assert all("MaxResults=1000" in line for line in searched), searched
    await portal.close()


async def test_the_catalog_is_cached_per_account(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev"))
    first = await portal.catalog("dev")
    cloud.server.clear_calls()
    again = await portal.catalog("dev")
    assert again is first
    assert cloud.server.calls == []
    assert portal.cached_catalog("dev") is first
    await portal.catalog("dev", refresh=True)
    assert any(c.action == "DescribeImages" for c in cloud.server.calls)
    await portal.close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_catalogs_fan_out_and_a_dead_account_fails_alone(
    cloud: Cloud, closed_port: int
) -> None:
    portal = cloud.portal(
        cloud.account("dev"),
        cloud.account("dev-eu", region="eu-west-1"),
        cloud.account("dead", port=closed_port, timeout=5),
    )
    assert portal.catalog_accounts() == ["dev", "dev-eu", "dead"]
    found = await updates(portal)
    assert set(found) == {"dev", "dev-eu", "dead"}
    assert isinstance(found["dev"].catalog, AccountCatalog)
    assert found["dev-eu"].catalog is not None
    assert found["dev-eu"].catalog.region == "eu-west-1"
    assert found["dead"].catalog is None
    assert found["dead"].error is not None
    assert "connection refused" in found["dead"].error
    await portal.close()


async def test_a_region_libcloud_knows_costs_no_instance_type_call(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev"))
    catalog = await portal.catalog("dev")
    assert {s.id for s in catalog.sizes} >= {"t3.micro", "m5.large"}
    assert described_types(cloud) == []  # libcloud's bundled table, no API call
    await portal.close()


async def test_a_region_newer_than_libcloud_gets_its_sizes_from_ec2(cloud: Cloud) -> None:
    """ap-southeast-3 (Jakarta) is not in libcloud's size table: it offered no sizes at all,
    so nothing could be launched there. EC2 describes them; libcloud's price data has the
    region, so they are priced as elsewhere."""
    portal = cloud.portal(newer_region_account(cloud, "jakarta", "ap-southeast-3"))
    catalog = await portal.catalog("jakarta")
    sizes = {s.id: s for s in catalog.sizes}
    micro, graviton, local = sizes["t3.micro"], sizes["t4g.micro"], sizes["m5d.large"]
    assert (micro.vcpus, micro.ram_mb, micro.arch, micro.disk_gb) == (2, 1024, "x86_64", None)
    assert (graviton.vcpus, graviton.ram_mb, graviton.arch) == (2, 1024, "arm64")
    assert local.disk_gb == 75  # instance store
    assert sizes["t2.micro"].arch == "x86_64"  # EC2 says i386 and x86_64
    assert micro.price_hourly is not None
    assert 0.001 < micro.price_hourly < 0.1
    assert catalog.notes == ()
    assert set(described_types(cloud)) == {"ap-southeast-3"}
    quotas = {str(q.resource): q for q in catalog.quotas}
    assert quotas["instances"].limit == 20
    await portal.close()


async def test_a_region_with_no_bundled_prices_says_so_and_takes_price_hourly(
    cloud: Cloud,
) -> None:
    """ap-east-2 (Taipei): neither libcloud's sizes nor its prices know it."""
    portal = cloud.portal(
        newer_region_account(cloud, "taipei", "ap-east-2"),
        newer_region_account(cloud, "taipei-rated", "ap-east-2", price_hourly=0.05),
    )
    catalog = await portal.catalog("taipei")
    sizes = {s.id: s for s in catalog.sizes}
    assert (sizes["t3.micro"].vcpus, sizes["t3.micro"].ram_mb) == (2, 1024)
    assert {s.price_hourly for s in catalog.sizes} == {None}  # unknown, never free
    (note,) = catalog.notes
    assert note.startswith("prices: libcloud's bundled EC2 prices have none for ap-east-2")
    assert "price_hourly" in note
    rated = await portal.catalog("taipei-rated")
    assert {s.price_hourly for s in rated.sizes} == {0.05}
    assert rated.notes == ()
    await portal.close()


async def test_a_refused_instance_type_call_names_the_permission(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = refused(b"DescribeInstanceTypes")
    portal = cloud.portal(
        newer_region_account(cloud, "jakarta", "ap-southeast-3", port=proxy.port, images=[AMI])
    )
    catalog = await portal.catalog("jakarta")
    assert catalog.sizes == ()
    assert [i.id for i in catalog.items] == [AMI]  # the rest of the catalog is there
    (note,) = catalog.notes
    assert note.startswith("sizes: EC2 refused DescribeInstanceTypes (UnauthorizedOperation)")
    assert "allow ec2:DescribeInstanceTypes" in note
    assert "ap-southeast-3" in note
    await portal.close()
