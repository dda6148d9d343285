"""The libcloud backend on its own: provider names, capabilities, states, conversion, quirks."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from datetime import UTC
from typing import Any

import pytest
from libcloud.compute.types import NodeState

from tests.conftest import Cloud
from tests.processes import free_port
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.errors import (
    ActionNotAllowed,
    ConfigError,
    CredentialError,
    UnreachableError,
)
from winged_monkey.models import Instance, InstanceState
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import CredentialResolver, Secrets
from winged_monkey_libcloud import LibcloudBackend
from winged_monkey_libcloud.convert import json_safe
from winged_monkey_libcloud.ec2 import EC2Backend
from winged_monkey_libcloud.ec2compat import _one_based_tags, normalise_body, parse_errors
from winged_monkey_libcloud.generic import GenericBackend
from winged_monkey_libcloud.libvirt import LibvirtBackend
from winged_monkey_libcloud.openstack import OpenStackBackend
from winged_monkey_libcloud.states import ec2_state, map_state

S = InstanceState
ALL = {Capability.LIST, Capability.START, Capability.STOP, Capability.REBOOT, Capability.DESTROY}
#: What a read-only account still offers: the catalog and its quota, to look at.
CATALOG = {Capability.CATALOG, Capability.QUOTAS}


def backend_for(account: AccountConfig, secrets: Secrets | None = None) -> LibcloudBackend:
    return LibcloudBackend(account, secrets or CredentialResolver().resolve(account))


def dummy(**settings: object) -> AccountConfig:
    """libcloud's in-process dummy provider: two running nodes, reboot and destroy only."""
    return AccountConfig.model_validate(
        {"name": "lab", "provider": "dummy", "driver": {"creds": 0}, **settings}
    )


# -- states ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pending", S.PENDING),
        ("running", S.RUNNING),
        ("stopping", S.STOPPING),
        ("stopped", S.STOPPED),
        ("shutting-down", S.STOPPING),
        ("terminated", S.TERMINATED),
    ],
)
def test_ec2_raw_states_win_over_libcloud_guess(raw: str, expected: InstanceState) -> None:
    # libcloud maps `stopping` and `shutting-down` to UNKNOWN; EC2's own word is better.
    assert ec2_state(NodeState.UNKNOWN, raw) == (expected, raw)


@pytest.mark.parametrize(
    ("node_state", "expected"),
    [
        (NodeState.RUNNING, S.RUNNING),
        (NodeState.STARTING, S.PENDING),
        (NodeState.REBOOTING, S.REBOOTING),
        (NodeState.STOPPED, S.STOPPED),
        (NodeState.SUSPENDED, S.SUSPENDED),
        (NodeState.PAUSED, S.SUSPENDED),
        (NodeState.TERMINATED, S.TERMINATED),
        (NodeState.ERROR, S.ERROR),
        (NodeState.MIGRATING, S.PENDING),
        (NodeState.UNKNOWN, S.UNKNOWN),
    ],
)
def test_other_providers_map_through_libcloud_states(
    node_state: NodeState, expected: InstanceState
) -> None:
    state, raw = map_state(node_state)
    assert state is expected
    assert raw == node_state.value


def test_an_unknown_raw_state_is_kept_and_falls_back() -> None:
    assert ec2_state(NodeState.RUNNING, "hibernating") == (S.RUNNING, "hibernating")
    assert map_state("no-such-state") == (S.UNKNOWN, "no-such-state")


# -- providers and capabilities -------------------------------------------------------


def test_an_unknown_provider_names_the_account_and_close_matches() -> None:
    account = AccountConfig(name="work", provider="ec3")
    with pytest.raises(ConfigError) as caught:
        backend_for(account, Secrets(account="work"))
    assert str(caught.value).startswith("work: unknown libcloud provider 'ec3'")
    assert "did you mean" in caught.value.message
    assert "ec2" in caught.value.message


@pytest.mark.parametrize(("given", "resolved"), [("EC2", "ec2"), ("OpenStack", "openstack")])
def test_provider_names_are_case_insensitive(given: str, resolved: str) -> None:
    account = AccountConfig(name="a", provider=given)
    assert backend_for(account, Secrets(account="a")).provider == resolved


def test_capabilities_come_from_the_driver_class_without_a_network_call() -> None:
    ec2 = AccountConfig(name="a", provider="ec2")
    assert backend_for(ec2, Secrets(account="a")).capabilities == ALL | CATALOG | {
        Capability.LAUNCH,
        Capability.CONSOLE,
        Capability.POWEROFF,  # StopInstances with Force, sent by wm itself
    }
    # The dummy driver implements reboot and destroy but not start or stop; it lists
    # sizes and images and creates nodes.
    lab = backend_for(dummy())
    assert lab.capabilities == {
        Capability.LIST,
        Capability.REBOOT,
        Capability.DESTROY,
        Capability.CATALOG,
        Capability.LAUNCH,
    }


@pytest.mark.parametrize(
    ("provider", "family"),
    [
        ("ec2", EC2Backend),
        ("openstack", OpenStackBackend),
        ("libvirt", LibvirtBackend),
        ("dummy", GenericBackend),
        ("rackspace", GenericBackend),
    ],
)
def test_the_entry_point_builds_the_providers_family(
    provider: str, family: type[LibcloudBackend]
) -> None:
    # What each driver's constructor requires (libvirt's uri, dummy's creds) is checked when
    # the account is built.
    required = {"libvirt": {"uri": "test:///default"}, "dummy": {"creds": 0}}
    account = AccountConfig(name="a", provider=provider, driver=required.get(provider, {}))
    assert type(backend_for(account, Secrets(account="a"))) is family
    # A family (or a plugin's subclass of one) is built as itself, with no second pick.
    assert type(family(account, Secrets(account="a"))) is family


def test_read_only_hides_every_mutating_capability() -> None:
    account = AccountConfig(name="a", provider="ec2", read_only=True)
    reads = {Capability.LIST, Capability.CONSOLE}  # console output changes nothing
    assert backend_for(account, Secrets(account="a")).capabilities == reads | CATALOG


async def test_an_action_the_driver_lacks_is_refused_before_any_call() -> None:
    lab = backend_for(dummy())
    node = (await lab.list_instances())[0]
    with pytest.raises(ActionNotAllowed, match="cannot start"):
        await lab.act(Action.START, node)


async def test_a_private_cloud_shows_its_flat_rate_and_passes_driver_options() -> None:
    lab = backend_for(dummy(price_hourly=0.05))

    instances = await lab.list_instances()

    assert [i.name for i in instances] == ["dummy-1", "dummy-2"]
    assert {i.price_hourly for i in instances} == {0.05}
    assert {(i.provider, i.state, i.raw_state) for i in instances} == {
        ("dummy", S.RUNNING, "running")
    }
    await lab.act(Action.REBOOT, instances[0])  # dummy accepts it; no error


def test_missing_secret_says_where_it_looked() -> None:
    account = AccountConfig(
        name="nokey",
        provider="ec2",
        credentials=Credentials(key="AKIA0", keyring=False, secret_env="WM_TEST_UNSET"),
    )
    with pytest.raises(CredentialError, match="WM_TEST_UNSET"):
        asyncio.run(backend_for(account).list_instances())


# -- against moto ---------------------------------------------------------------------------


async def test_instances_are_complete_and_json_safe(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    box = cloud.launch(ec2, "box", type="t3.small")
    backend = backend_for(cloud.account("dev"))

    (instance,) = await backend.list_instances()

    assert instance.id == box
    assert (instance.name, instance.size, instance.region) == ("box", "t3.small", "us-east-1")
    assert (instance.state, instance.raw_state) == (S.RUNNING, "running")
    assert instance.image == "ami-1e749f67"
    assert instance.private_ips
    assert instance.public_ips
    assert instance.created_at is not None
    assert instance.created_at.tzinfo is not None
    assert instance.created_at.utcoffset() == UTC.utcoffset(None)
    assert instance.extra["tags"] == {"Name": "box"}
    json.dumps(instance.extra)  # every value survives the cache and `wm ls --json`
    await backend.close()


async def test_rows_share_the_text_every_row_repeats(cloud: Cloud) -> None:
    """Two instances' `extra` hold one object for the text both have ("hvm", the VPC's id),
    not one parsed for each row: ten thousand rows held 16 MB less."""
    ec2 = cloud.ec2()
    cloud.launch(ec2, "one")
    cloud.launch(ec2, "two")
    backend = backend_for(cloud.account("dev"))
    one, two = await backend.list_instances()
    await backend.close()
    shared = [k for k, v in one.extra.items() if isinstance(v, str) and v == two.extra[k]]
    assert {"virtualization_type", "vpc_id", "root_device_name"} <= set(shared)
    assert all(one.extra[k] is two.extra[k] for k in shared), shared
    # A str subclass (a StrEnum's member) stays as it was: intern refuses one.
    assert json_safe({"state": NodeState.RUNNING}) == {"state": "running"}


@pytest.mark.parametrize("name", ["日本語🚀", "café-ünïcode", "Ωmega"])
async def test_a_name_beyond_ascii_reads_as_it_was_written(cloud: Cloud, name: str) -> None:
    """moto names no charset for its XML: the name must still be read as UTF-8."""
    cloud.launch(cloud.ec2(), name)
    backend = backend_for(cloud.account("dev"))
    assert [i.name for i in await backend.list_instances()] == [name]
    await backend.close()


async def test_a_configured_rate_wins_over_aws_prices(cloud: Cloud) -> None:
    cloud.launch(cloud.ec2(), "box", type="t3.micro")
    backend = backend_for(cloud.account("euca", price_hourly=0.5))  # a private EC2 cloud
    assert [i.price_hourly for i in await backend.list_instances()] == [0.5]


async def test_concurrent_calls_each_get_a_working_driver(cloud: Cloud) -> None:
    ec2 = cloud.ec2()
    ids = {cloud.launch(ec2, f"n{i}") for i in range(3)}
    backend = backend_for(cloud.account("dev"))

    results = await asyncio.gather(*(backend.list_instances() for _ in range(8)))

    assert all({i.id for i in result} == ids for result in results)
    await backend.close()


async def test_the_accounts_timeout_bounds_a_silent_endpoint(cloud: Cloud) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        account = cloud.account("slow", port=silent.getsockname()[1], timeout=0.5)
        backend = backend_for(account)
        started = time.monotonic()
        with pytest.raises(UnreachableError, match="timeout"):
            await backend.list_instances()  # no asyncio timeout around it: libcloud's own
        assert time.monotonic() - started < 5


async def test_connection_errors_never_quote_the_token(cloud: Cloud) -> None:
    token = "canary-session-token-9f31"
    account = cloud.account("temp", port=free_port(), token=token, timeout=2)
    backend = backend_for(account)
    with pytest.raises(UnreachableError) as caught:
        await backend.list_instances()
    assert "refused" in caught.value.message
    assert token not in str(caught.value)
    assert "x-amz-security-token" not in str(caught.value).lower()


async def test_an_unknown_region_is_a_config_error(cloud: Cloud) -> None:
    backend = backend_for(cloud.account("mars", region="mars-north-1"))
    with pytest.raises(ConfigError, match="mars-north-1"):
        await backend.list_instances()


async def test_check_is_one_line(cloud: Cloud) -> None:
    cloud.launch(cloud.ec2(), "box")
    line = await backend_for(cloud.account("dev")).check()
    assert line == (
        f"ec2 us-east-1 at 127.0.0.1:{cloud.server.port}: reachable, 1 instance "
        "(credentials from env WM_TEST_DEV_SECRET)"
    )


# -- EC2-compatible endpoint quirks (pure functions) ----------------------------------------

MOTO_NS = "http://ec2.amazonaws.com/doc/2016-11-15"


def test_motos_namespace_gets_the_trailing_slash_and_aws_bodies_are_untouched() -> None:
    moto = f'<DescribeInstancesResponse xmlns="{MOTO_NS}"><x/></DescribeInstancesResponse>'
    aws = f'<DescribeInstancesResponse xmlns="{MOTO_NS}/"><x/></DescribeInstancesResponse>'
    assert normalise_body(moto) == aws
    assert normalise_body(aws) == aws


def test_a_missing_return_is_added_only_where_moto_leaves_it_out() -> None:
    moto = (
        f'<RebootInstancesResponse xmlns="{MOTO_NS}/"><requestId>r</requestId>'
        "</RebootInstancesResponse>"
    )
    assert "<return>true</return></RebootInstancesResponse>" in normalise_body(moto)
    aws = moto.replace(
        "</RebootInstancesResponse>", "<return>false</return></RebootInstancesResponse>"
    )
    assert normalise_body(aws) == aws


def test_error_bodies_keep_the_providers_reason_with_or_without_namespace() -> None:
    moto = (
        f'<Response xmlns="{MOTO_NS}"><Errors><Error><Code>InvalidAMIID.NotFound</Code>'
        "<Message>The image id '[ami-x]' does not exist</Message></Error></Errors></Response>"
    )
    auth = (
        "<ErrorResponse><Errors><Error><Code>AuthFailure</Code><Message>no</Message>"
        "<Type>Sender</Type></Error></Errors></ErrorResponse>"
    )
    assert parse_errors(moto) == [
        ("InvalidAMIID.NotFound", "The image id '[ami-x]' does not exist")
    ]
    assert parse_errors(auth) == [("AuthFailure", "no")]


def test_tag_indices_become_one_based() -> None:
    sent = {"Action": "CreateTags", "ResourceId.0": "i-1", "Tag.0.Key": "a", "Tag.0.Value": "b"}
    assert _one_based_tags(sent) == {
        "Action": "CreateTags",
        "ResourceId.1": "i-1",
        "Tag.1.Key": "a",
        "Tag.1.Value": "b",
    }
    other = {"Action": "DescribeInstances", "InstanceId.1": "i-1"}
    assert _one_based_tags(other) is other


async def test_own_keys_in_a_region_newer_than_libclouds_table(cloud: Cloud) -> None:
    """An account with its own key in a region libcloud's table lacks (ap-southeast-3) was
    refused before any call ('Invalid region'): it lists, signed for its region; without
    an endpoint it calls botocore's host for the region; a name that is no region is
    refused with the nearest one."""
    cloud.launch(cloud.ec2(region="ap-southeast-3"), "in-jakarta")
    cloud.launch(cloud.ec2(), "in-virginia")  # the same moto, another region
    portal = cloud.portal(cloud.account("jakarta", region="ap-southeast-3"))
    try:
        cloud.server.clear_calls()
        async for update in portal.refresh():
            assert update.status.phase != "failed", update.status.error
        names = {i.name for i in portal.instances()}
        assert "in-jakarta" in names
        assert "in-virginia" not in names
        assert {c.region for c in cloud.server.calls if c.service == "ec2"} == {"ap-southeast-3"}
    finally:
        await portal.close()

    aws = AccountConfig(
        name="jakarta",
        provider="ec2",
        region="ap-southeast-3",
        credentials=Credentials(key="AKIAEXAMPLE", keyring=False, secret_env="UNUSED"),
    )
    driver = backend_for(aws, Secrets(account="jakarta", key="AKIAEXAMPLE", secret="x"))._driver()
    assert (driver.connection.host, driver.region_name) == (  # type: ignore[attr-defined]
        "ec2.ap-southeast-3.amazonaws.com",
        "ap-southeast-3",
    )
    typo = aws.model_copy(update={"region": "ap-southeast-33"})
    with pytest.raises(ConfigError) as refused:
        backend_for(typo, Secrets(account="jakarta", key="AKIAEXAMPLE", secret="x"))._driver()
    assert refused.value.message == (
        "region 'ap-southeast-33' is not an EC2 region (did you mean 'ap-southeast-3'?)"
    )
    # One letter from two regions: both are said (it said 'us-west-1' alone).
    typo = aws.model_copy(update={"region": "us-est-1"})
    with pytest.raises(ConfigError) as refused:
        backend_for(typo, Secrets(account="jakarta", key="AKIAEXAMPLE", secret="x"))._driver()
    assert refused.value.message == (
        "region 'us-est-1' is not an EC2 region (did you mean 'us-east-1' or 'us-west-1'?)"
    )


def test_a_nova_servers_global_ipv6_address_is_public() -> None:
    """Nova's addresses as its API documents them: a provider network (OVH's Ext-Net) with
    an IPv4 and a global IPv6 address, a tenant network with a unique local IPv6 and an
    RFC 1918 IPv4 address. libcloud called every IPv6 address off a network named
    "public" private, so ssh went looking for a bastion for an address the world reaches."""
    from libcloud.compute.providers import get_driver

    from winged_monkey_libcloud.openstackcompat import public_ipv6

    driver: Any = get_driver("openstack")(
        "user",
        "password",
        ex_force_auth_url="http://127.0.0.1:1/v3",  # never asked: nothing here connects
        ex_force_auth_version="3.x_password",
        ex_tenant_name="demo",
    )
    fixed = {"OS-EXT-IPS:type": "fixed"}
    server = {
        "id": "5e1f0b6a",
        "name": "web-6",
        "status": "ACTIVE",
        "tenant_id": "demo",
        "user_id": "user",
        "metadata": {},
        "addresses": {
            "Ext-Net": [
                {"addr": "51.75.1.2", "version": 4, **fixed},
                {"addr": "2001:41d0:304:200::1b4", "version": 6, **fixed},
            ],
            "lan": [
                {"addr": "fd12:3456::5", "version": 6, **fixed},
                {"addr": "10.0.0.5", "version": 4, **fixed},
            ],
        },
        "flavor": {"id": "1"},
        "image": {"id": "cirros"},
        "created": "2026-12-01T09:00:00Z",
        "updated": "2026-12-01T09:01:00Z",
        "hostId": "",
        "accessIPv4": "",
        "accessIPv6": "",
        "links": [{"rel": "self", "href": "http://nova.test/v2.1/servers/5e1f0b6a"}],
    }
    node = public_ipv6(driver._to_node(server))
    assert node.public_ips == ["51.75.1.2", "2001:41d0:304:200::1b4"]
    assert node.private_ips == ["fd12:3456::5", "10.0.0.5"]


@pytest.mark.parametrize("task", ["reboot_pending_hard", "reboot_started_hard"])
def test_a_server_in_error_whose_hard_reboot_runs_on_its_host_says_to_wait(task: str) -> None:
    """Once a compute host has begun a hard reboot (reboot_pending_hard, then
    reboot_started_hard), Nova takes nothing but a delete until it ends, not even the hard
    reboot again (task_states.ALLOW_REBOOT lacks both). A unit test on the words: the lab
    cannot hold a server between those two steps on demand (tests/openstack's
    test_a_server_in_error_with_its_hard_reboot_under_way_says_to_wait_or_send_it_again
    has rebooting_hard, the step before, against the real Nova)."""
    account = AccountConfig(name="os", provider="openstack")
    backend = OpenStackBackend(account, Secrets(account="os"))
    row = Instance(account="os", id="3f1c", name="stuck", state=InstanceState.REBOOTING,
                   raw_state=f"error/{task}", provider="openstack")  # fmt: skip
    said = (
        f"stuck is in error with a hard reboot under way (Nova: error/{task}), and Nova "
        "takes no {} until it ends: wait until it ends"
    )
    for action in (Action.RESET, Action.STOP, Action.REBOOT, Action.START):
        assert backend.refusal(action, row) == said.format(action)
    assert backend.refusal(Action.DESTROY, row) is None
    # The step before, rebooting_hard: the hard reboot again is what Nova takes.
    before = row.model_copy(update={"raw_state": "error/rebooting_hard"})
    assert backend.refusal(Action.RESET, before) is None
