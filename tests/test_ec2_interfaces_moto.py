"""An EC2 instance with a second network interface, its elastic IP on that interface, on
moto: every interface's addresses are the instance's, as `aws ec2 describe-instances`
lists them under NetworkInterfaces, and ssh goes to the elastic IP."""

from __future__ import annotations

import asyncio

from tests.conftest import AMI, Cloud
from tests.test_ec2_pages import backend
from winged_monkey.terminal import ssh


def test_a_second_interfaces_addresses_and_elastic_ip_are_the_instances(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    inner = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    outer = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.2.0/24")["Subnet"]["SubnetId"]
    (created,) = ec2.run_instances(
        ImageId=AMI, InstanceType="t3.micro", MinCount=1, MaxCount=1, SubnetId=inner
    )["Instances"]
    ident = created["InstanceId"]
    nic = ec2.create_network_interface(SubnetId=outer)["NetworkInterface"]
    ec2.attach_network_interface(
        NetworkInterfaceId=nic["NetworkInterfaceId"], InstanceId=ident, DeviceIndex=1
    )
    eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(
        AllocationId=eip["AllocationId"], NetworkInterfaceId=nic["NetworkInterfaceId"]
    )
    # The witness: EC2's own record of the instance, interface by interface.
    (seen,) = ec2.describe_instances(InstanceIds=[ident])["Reservations"][0]["Instances"]
    privates = tuple(
        a["PrivateIpAddress"] for n in seen["NetworkInterfaces"] for a in n["PrivateIpAddresses"]
    )
    assert set(privates) == {created["PrivateIpAddress"], nic["PrivateIpAddress"]}
    assert "PublicIpAddress" not in seen  # the primary interface has none

    account = backend(cloud)
    listed = {i.id: i for i in asyncio.run(account.list_instances())}
    alone = asyncio.run(account.get_instance(ident))
    assert alone is not None
    for row in (listed[ident], alone):
        # Before: public '-', private the first interface's address alone.
        assert row.public_ips == (eip["PublicIp"],)
        assert row.private_ips == (created["PrivateIpAddress"], nic["PrivateIpAddress"])
    assert ssh.plan(alone, cloud.account("big")).destination == eip["PublicIp"]
