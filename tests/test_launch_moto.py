"""Launching from the catalog against a real moto server: one instance and several, each
followed until it runs; the provider's reason for a bad image or size; a quota stop before
any call; ranking accounts in two regions by libcloud's bundled prices.

boto3 and the server's own request record are the witnesses.
"""

from __future__ import annotations

import pytest

from tests.conftest import AMI, Cloud
from tests.test_catalog_moto import newer_region_account
from winged_monkey.catalog import LaunchRequest
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.errors import ActionNotAllowed, InvalidRequest
from winged_monkey.models import EventSource, InstanceState
from winged_monkey.user.credentials import CredentialResolver
from winged_monkey_libcloud import LibcloudBackend


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto checks image ids, instance types and key names the way AWS does (its own
    settings, off by default; read on every call by the in-process server)."""
    from moto import settings

    monkeypatch.setattr(settings, "ENABLE_AMI_VALIDATION", True)
    monkeypatch.setattr(settings, "EC2_ENABLE_INSTANCE_TYPE_VALIDATION", True)
    monkeypatch.setattr(settings, "ENABLE_KEYPAIR_VALIDATION", True)


async def launch(portal: Portal, account: str, request: LaunchRequest) -> list[ActionUpdate]:
    return [u async for u in portal.launch(account, request)]


def described(cloud: Cloud, region: str = "us-east-1") -> list[dict[str, object]]:
    reply = cloud.ec2(region).describe_instances()
    return [dict(i) for r in reply["Reservations"] for i in r["Instances"]]


def run_instances_calls(cloud: Cloud) -> int:
    return sum(1 for c in cloud.server.calls if c.action == "RunInstances")


async def test_launch_one_is_followed_to_running_and_logged(cloud: Cloud, strict: None) -> None:
    ec2 = cloud.ec2()
    ec2.create_key_pair(KeyName="laptop")
    subnet = ec2.describe_subnets()["Subnets"][0]
    portal = cloud.portal(cloud.account("dev"))
    request = LaunchRequest(
        item=AMI,
        name="web",
        size="t3.micro",
        key_pair="laptop",
        location=subnet["AvailabilityZone"],
        network=subnet["SubnetId"],
    )

    updates = await launch(portal, "dev", request)

    assert updates[0].phase == "requested"
    final = updates[-1]
    assert final.phase == "done"
    assert final.instance.state is InstanceState.RUNNING
    (instance,) = described(cloud)
    assert instance["InstanceId"] == final.instance.id
    assert instance["InstanceType"] == "t3.micro"
    assert instance["ImageId"] == AMI
    assert instance["KeyName"] == "laptop"
    assert instance["SubnetId"] == subnet["SubnetId"]
    assert {"Key": "Name", "Value": "web"} in instance["Tags"]  # type: ignore[operator]
    assert portal.instance(f"dev/{final.instance.id}") is not None
    event, intent = portal.store.events(kinds=["launch"])  # newest first
    assert (intent.outcome, intent.target_name) == ("requested", "web")
    assert (event.source, event.outcome, event.target, event.cause) == (
        EventSource.ACTION,
        "ok",
        final.instance.id,
        intent.key,
    )
    assert event.user == "tester"
    assert event.detail == "web launched, running"
    await portal.close()


async def test_launch_several_follows_each_one(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev"))
    request = LaunchRequest(item=AMI, name="worker", size="t3.small", count=3)

    updates = await launch(portal, "dev", request)

    finals = {u.instance.id: u for u in updates if u.finished}
    on_server = {str(i["InstanceId"]) for i in described(cloud)}
    assert set(finals) == on_server
    assert len(on_server) == 3
    assert {u.phase for u in finals.values()} == {"done"}
    assert run_instances_calls(cloud) == 1  # one call with MinCount = MaxCount = 3
    events = portal.store.events(kinds=["launch"])
    (intent,) = [e for e in events if e.outcome == "requested"]
    outcomes = [e for e in events if e.outcome != "requested"]
    assert {e.target for e in outcomes} == on_server
    assert {e.cause for e in outcomes} == {intent.key}
    assert not portal.busy
    await portal.close()


async def test_a_bad_image_gives_the_providers_reason_and_a_failed_event(
    cloud: Cloud, strict: None
) -> None:
    portal = cloud.portal(cloud.account("dev"))
    request = LaunchRequest(item="ami-0123456789abcdef0", name="web", size="t3.micro")
    with pytest.raises(InvalidRequest) as caught:
        await launch(portal, "dev", request)
    assert str(caught.value).startswith("dev: ec2 refused the launch: InvalidAMIID.NotFound")
    assert described(cloud) == []
    event, intent = portal.store.events(kinds=["launch"])
    assert (intent.outcome, event.outcome, event.cause) == ("requested", "failed", intent.key)
    assert "InvalidAMIID.NotFound" in (event.detail or "")
    await portal.close()


async def test_an_unknown_size_gives_the_providers_reason(cloud: Cloud, strict: None) -> None:
    portal = cloud.portal(cloud.account("dev"))
    request = LaunchRequest(item=AMI, name="web", size="t3.gigantic")
    with pytest.raises(InvalidRequest) as caught:
        await launch(portal, "dev", request)
    assert "InvalidInstanceType" in caught.value.message
    assert "t3.gigantic" in caught.value.message
    assert described(cloud) == []
    await portal.close()


async def test_quota_stops_the_launch_before_any_call_with_the_numbers(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    cloud.launch(ec2, "busy", type="t3.large")  # 2 of the 8 vCPUs the user allows
    portal = cloud.portal(cloud.account("dev", limits={"vcpus": 8}))
    cloud.server.clear_calls()
    request = LaunchRequest(item=AMI, name="web", size="t3.large", count=4)

    with pytest.raises(InvalidRequest) as caught:
        await launch(portal, "dev", request)

    assert str(caught.value) == (
        "dev: launching 4 x t3.large needs 8 vCPUs; 6 of 8 remain; "
        "ask for a higher limit or launch fewer"
    )
    assert run_instances_calls(cloud) == 0
    assert len(described(cloud)) == 1
    three = LaunchRequest(item=AMI, name="web", size="t3.large", count=3)
    assert (await launch(portal, "dev", three))[-1].phase == "done"
    await portal.close()


async def test_ec2s_own_instance_limit_stops_a_launch_too(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev"))
    cloud.server.clear_calls()
    request = LaunchRequest(item=AMI, name="fleet", size="t3.nano", count=21)
    with pytest.raises(InvalidRequest, match="needs 21 instances; 20 of 20 remain"):
        await launch(portal, "dev", request)
    assert run_instances_calls(cloud) == 0
    await portal.close()


async def test_a_read_only_account_cannot_launch(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("audit", read_only=True))
    with pytest.raises(ActionNotAllowed, match="read-only"):
        await launch(portal, "audit", LaunchRequest(item=AMI, name="x", size="t3.micro"))
    assert run_instances_calls(cloud) == 0
    await portal.close()


@pytest.mark.parametrize(
    ("kind", "instead"),
    [
        ("deployable", "launch a deployable through the aggregator account whose catalog lists it"),
        ("template", "launch a template as an app (`wm app launch`) on a Heat account"),
    ],
)
async def test_a_libcloud_account_refuses_to_launch_what_is_not_an_image(
    cloud: Cloud, kind: str, instead: str
) -> None:
    """The backend itself refuses a kind it cannot launch, whoever calls it: its item would
    otherwise go to EC2 as an image id (moto, like a lax private cloud, would run it)."""
    account = cloud.account("dev")
    backend = LibcloudBackend(account, CredentialResolver().resolve(account))
    request = LaunchRequest.model_validate(
        {"item": "web-tier", "kind": kind, "name": "shop", "size": "t3.micro"}
    )
    cloud.server.clear_calls()
    with pytest.raises(InvalidRequest) as caught:
        await backend.launch(request)
    assert str(caught.value) == (
        f"dev: 'web-tier' is a {kind}, and a libcloud account launches images only; "
        f"{instead} (`wm catalog dev` lists this account's images)"
    )
    assert run_instances_calls(cloud) == 0
    assert described(cloud) == []
    await backend.close()


async def test_where_ranks_two_regions_by_bundled_price_with_reasons(cloud: Cloud) -> None:
    portal = cloud.portal(
        cloud.account("dev-eu", region="eu-west-1"),
        cloud.account("dev", region="us-east-1"),
    )
    ranked, failed = await portal.where("m5.large")
    assert failed == []
    assert [r.account for r in ranked] == ["dev", "dev-eu"]  # us-east-1 is cheaper
    assert ranked[0].price_hourly is not None
    assert ranked[1].price_hourly is not None
    assert ranked[0].price_hourly < ranked[1].price_hourly
    assert ranked[0].reason.startswith(
        f"m5.large (2 vCPU, 8 GB) at ${ranked[0].price_hourly:.4f}/h"
    )
    assert "of 20 instances left" in ranked[0].reason
    # t3.large has no price for eu-west-1 in the data: known beats unknown, never "free".
    ranked, _ = await portal.where("t3.large")
    assert [r.account for r in ranked] == ["dev", "dev-eu"]
    assert "price unknown" in ranked[1].reason
    # A spec picks each account's cheapest fitting size; for an x86 image, an x86 one
    # (the cheapest 2 vCPU 4 GB type in the data is a Graviton, which it cannot boot).
    ranked, _ = await portal.where("2cpu 4gb")
    assert {r.size.arch for r in ranked if r.size is not None} == {"arm64"}
    await portal.close()
    portal = cloud.portal(cloud.account("dev", images=[AMI]), cloud.account("dev-eu"))
    ranked, _ = await portal.where("2cpu 4gb", item=AMI)
    (only,) = ranked  # dev-eu does not offer the image
    assert only.size is not None
    assert only.size.arch == "x86_64"
    assert only.size.vcpus is not None
    assert only.size.vcpus >= 2
    assert only.size.ram_mb is not None
    assert only.size.ram_mb >= 4096
    await portal.close()


async def test_launch_in_a_region_newer_than_libcloud(cloud: Cloud) -> None:
    """ap-southeast-3's sizes come from EC2 (libcloud's table lacks the region): the launch
    is followed to running, priced, and counted against the vCPUs EC2 described."""
    portal = cloud.portal(newer_region_account(cloud, "jakarta", "ap-southeast-3"))
    request = LaunchRequest(item=AMI, name="web", size="t3.micro")

    final = (await launch(portal, "jakarta", request))[-1]

    assert final.phase == "done"
    assert final.instance.state is InstanceState.RUNNING
    assert final.instance.price_hourly is not None
    (instance,) = described(cloud, "ap-southeast-3")
    assert (instance["InstanceId"], instance["InstanceType"]) == (final.instance.id, "t3.micro")
    quotas = {str(q.resource): q for q in (await portal.catalog("jakarta", refresh=True)).quotas}
    assert quotas["vcpus"].used == 2
    await portal.close()


async def test_where_ranks_a_region_without_prices_after_known_ones(cloud: Cloud) -> None:
    portal = cloud.portal(newer_region_account(cloud, "taipei", "ap-east-2"), cloud.account("dev"))
    ranked, failed = await portal.where("2cpu 4gb")
    assert failed == []
    assert [r.account for r in ranked] == ["dev", "taipei"]
    unknown = ranked[1]
    assert unknown.launchable
    assert unknown.price_hourly is None
    assert unknown.size is not None
    assert unknown.size.vcpus is not None
    assert unknown.size.vcpus >= 2
    assert "price unknown" in unknown.reason
    await portal.close()
