"""Several instances from one launch are named name-1 … name-N (moto, boto3 as witness)."""

from __future__ import annotations

from tests.conftest import AMI, Cloud
from tests.test_launch_moto import described, launch
from winged_monkey.catalog import LaunchRequest


def test_instance_names() -> None:
    assert LaunchRequest(item=AMI, name="web").instance_names() == ["web"]
    request = LaunchRequest(item=AMI, name="nc-test", count=2)
    assert request.instance_names() == ["nc-test-1", "nc-test-2"]


async def test_a_launch_of_two_names_each_and_each_can_be_stopped_by_name(cloud: Cloud) -> None:
    portal = cloud.portal(cloud.account("dev"))
    request = LaunchRequest(item=AMI, name="nc-test", size="t3.micro", count=2)

    updates = await launch(portal, "dev", request)

    # The rows shown at once, before any poll, already carry the names.
    assert sorted(u.instance.name for u in updates if u.phase == "requested") == [
        "nc-test-1",
        "nc-test-2",
    ]
    tags = sorted(
        t["Value"]
        for i in described(cloud)
        for t in i.get("Tags", [])  # type: ignore[attr-defined]
        if t["Key"] == "Name"
    )
    assert tags == ["nc-test-1", "nc-test-2"]
    async for _ in portal.refresh():
        pass
    # `wm stop nc-test-1` names one instance, not two
    assert len(portal.find("nc-test-1")) == 1
    assert len(portal.find("nc-test-2")) == 1
    await portal.close()
