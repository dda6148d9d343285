"""An EC2 account larger than one DescribeInstances page, on moto (which, as LocalStack,
pages at 100 reservations when asked for no size): every instance is listed and counted,
page after page, and an elastic IP is shown once among the public addresses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import pytest

from tests.conftest import AMI, Cloud
from tests.faultproxy import Fault, FaultProxy
from tests.test_catalog_moto import refused
from tests.test_portal_moto import refresh
from winged_monkey.actions import Action
from winged_monkey.terminal import ssh
from winged_monkey.user.credentials import CredentialResolver
from winged_monkey_libcloud import ec2catalog, ec2pages
from winged_monkey_libcloud.ec2 import EC2Backend

#: One instance per reservation, as `aws ec2 run-instances` makes them: past moto's 100.
FLEET = 130


def one_by_one(ec2: Any, count: int) -> set[str]:
    return {
        ec2.run_instances(ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1)[
            "Instances"
        ][0]["InstanceId"]
        for _ in range(count)
    }


def witness(ec2: Any) -> set[str]:
    """Every instance, read by boto3's own paginator (independent of the code under test)."""
    pages = ec2.get_paginator("describe_instances").paginate()
    return {i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]}


def backend(cloud: Cloud) -> EC2Backend:
    account = cloud.account("big")
    return EC2Backend(account, CredentialResolver().resolve(account))


@pytest.mark.parametrize("page", [ec2pages.PAGE, 40])
def test_every_instance_past_the_first_page_is_listed(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    ec2 = cloud.ec2()
    launched = one_by_one(ec2, FLEET)
    monkeypatch.setattr(ec2pages, "PAGE", page)
    listed = asyncio.run(backend(cloud).list_instances())
    ids = [i.id for i in listed]
    assert len(ids) == len(set(ids))  # no page read twice
    assert set(ids) == witness(ec2)
    assert launched <= set(ids)


def test_the_quota_counts_every_running_instance(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    stopped = sorted(one_by_one(ec2, 3))
    ec2.stop_instances(InstanceIds=stopped)
    one_by_one(ec2, FLEET)
    running = len(witness(ec2)) - len(stopped)
    quotas = asyncio.run(backend(cloud).catalog()).quotas
    (instances,) = [q for q in quotas if q.resource == "instances"]
    assert instances.used == running


def test_an_elastic_ip_is_shown_once_among_the_public_addresses(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    target, other = sorted(one_by_one(ec2, 2))
    allocation = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(InstanceId=target, AllocationId=allocation["AllocationId"])
    listed = {i.id: i for i in asyncio.run(backend(cloud).list_instances())}
    assert listed[target].public_ips.count(allocation["PublicIp"]) == 1
    assert allocation["PublicIp"] not in listed[other].public_ips


async def test_a_refused_describe_addresses_is_asked_once_and_the_listing_stands(
    cloud: Cloud, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """A policy that allows DescribeInstances and not DescribeAddresses (AWS's 403
    UnauthorizedOperation, before the proxy answers it): the account lists, and the refused
    call is not sent again on each poll (every refusal is an AccessDenied in CloudTrail)."""
    web = one_by_one(cloud.ec2(), 1).pop()
    cloud.server.clear_calls()  # from here on, moto's calls are the proxy's it let through
    proxy = fault_proxy(cloud.server.port)
    proxy.fault = refused(b"DescribeAddresses")
    portal = cloud.portal(cloud.account("least", port=proxy.port))
    for _ in range(3):
        await refresh(portal)
        status = portal.status("least")
        assert status.phase == "ok", status.error
    row = portal.instance(f"least/{web}")
    assert row is not None
    assert row.public_ips
    # An action is followed by reading its instance alone: that read stands too.
    updates = [u async for u in portal.run_action(Action.STOP, row)]
    assert updates[-1].phase == "done", updates[-1]
    denied = proxy.requests - len(cloud.server.calls)  # answered by the proxy alone
    assert denied == 1
    assert cloud.state_of(cloud.ec2(), web) == "stopped"
    await portal.close()


async def test_a_page_that_fails_leaves_the_last_listing_whole(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """The second page refused (EC2 throttling a long listing): the poll fails as a whole.
    Half a listing would have logged every instance of the later pages as vanished."""
    one_by_one(cloud.ec2(), 60)
    monkeypatch.setattr(ec2pages, "PAGE", 40)
    proxy = fault_proxy(cloud.server.port)
    portal = cloud.portal(cloud.account("big", port=proxy.port))
    await refresh(portal)
    assert len(portal.instances()) == 60
    proxy.fault = Fault("status", status=503, match=b"NextToken")
    await refresh(portal)
    status = portal.status("big")
    assert status.phase == "failed"
    assert "HTTP 503" in (status.error or "")
    assert len(portal.instances()) == 60  # the last listing's rows, none dropped
    assert not portal.store.events(kinds=["vanished"])
    await portal.close()


def test_an_ipv6_only_instance_shows_and_is_reached_by_its_ipv6_address(cloud: Cloud) -> None:
    """No public IPv4 (AWS charges for them since 2024), one IPv6 address from the VPC's
    Amazon-provided block: libcloud reads no IPv6, so wm showed no address and ssh said
    'no address yet'."""
    ec2 = cloud.ec2()
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    (block,) = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"]
    subnet = ec2.create_subnet(
        VpcId=vpc["VpcId"],
        CidrBlock="10.1.1.0/24",
        Ipv6CidrBlock=block["Ipv6CidrBlock"].replace("/56", "/64"),
    )["Subnet"]
    (created,) = ec2.run_instances(
        ImageId=AMI,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet["SubnetId"],
        Ipv6AddressCount=1,
    )["Instances"]
    ident = created["InstanceId"]
    (interface,) = ec2.describe_instances(InstanceIds=[ident])["Reservations"][0]["Instances"][0][
        "NetworkInterfaces"
    ]
    (v6,) = [a["Ipv6Address"] for a in interface["Ipv6Addresses"]]
    ec2_backend = backend(cloud)
    listed = {i.id: i for i in asyncio.run(ec2_backend.list_instances())}
    assert listed[ident].public_ips == (v6,)
    assert listed[ident].private_ips == (created["PrivateIpAddress"],)
    alone = asyncio.run(ec2_backend.get_instance(ident))
    assert alone is not None
    assert alone.public_ips == (v6,)
    assert ssh.plan(alone, cloud.account("big")).destination == v6


class EndlessImages:
    """An EC2 connection whose DescribeImages always has another page (one image each, a
    day newer than the last): AWS's answer to a word as broad as "ubuntu", which moto (it
    answers every image at once) does not give. A transport stand-in for that one shape."""

    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []

    def request(self, path: str, params: dict[str, str]) -> Any:
        self.asked.append(dict(params))
        n = len(self.asked)
        reply = (
            '<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<imagesSet><item><imageId>ami-{n:08x}</imageId><name>nightly-{n}</name>"
            f"<creationDate>2024-01-{n:02d}T00:00:00.000Z</creationDate></item></imagesSet>"
            f"<nextToken>page-{n}</nextToken></DescribeImagesResponse>"
        )
        return SimpleNamespace(object=ElementTree.fromstring(reply))  # noqa: S314 (our own text)


def test_a_search_reads_a_few_pages_of_a_broad_word_not_every_match(cloud: Cloud) -> None:
    from libcloud.compute.drivers.ec2 import EC2NodeDriver

    driver: Any = EC2NodeDriver("key", "secret")  # type: ignore[no-untyped-call]
    driver.connection = connection = EndlessImages()
    found = ec2catalog.search(driver, cloud.account("dev"), "ec2", "nightly")
    asked = connection.asked
    assert [(a["Filter.2.Name"], a.get("NextToken")) for a in asked] == [
        ("name", None),
        ("name", "page-1"),
        ("description", None),
        ("description", "page-3"),
    ]
    assert {a["MaxResults"] for a in asked} == {str(ec2pages.PAGE)}
    assert [i.name for i in found] == ["nightly-4", "nightly-3", "nightly-2", "nightly-1"]
