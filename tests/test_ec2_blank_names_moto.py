"""EC2 instances whose Name tag is there but shows nothing, on moto: each is listed by its
id, as one with no Name tag is, not as a blank row nobody can tell from another."""

from __future__ import annotations

import asyncio

from tests.conftest import Cloud
from tests.test_ec2_pages import backend


def test_a_name_of_spaces_alone_lists_as_the_instances_id(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    named = {name: cloud.launch(ec2, name) for name in ("   ", "", "web")}
    # The witness: EC2 keeps the tag as given.
    (spaces,) = ec2.describe_instances(InstanceIds=[named["   "]])["Reservations"][0]["Instances"]
    assert spaces["Tags"] == [{"Key": "Name", "Value": "   "}]

    listed = {i.id: i.name for i in asyncio.run(backend(cloud).list_instances())}
    assert listed[named["   "]] == named["   "]  # before: '   ', a blank NAME cell
    assert listed[named[""]] == named[""]
    assert listed[named["web"]] == "web"
