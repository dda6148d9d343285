"""An EC2 account larger than one DescribeInstances page, on moto (which, as LocalStack,
pages at 100 reservations when asked for no size): every instance is listed and counted,
page after page, and an elastic IP is shown once among the public addresses."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import AMI, Cloud
from winged_monkey.user.credentials import CredentialResolver
from winged_monkey_libcloud import ec2pages
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
