"""An account's `driver = { ... }` table: a key its libcloud driver would drop in silence
(libcloud's constructors take `**kwargs`) fails that account, naming the key, the one it
likely meant and what the driver takes; every key libcloud reads is still taken."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from libcloud.compute.base import NodeDriver
from libcloud.compute.providers import DRIVERS, get_driver

from tests.conftest import DEV_KEY, DEV_SECRET, Cloud
from tests.test_config_refusals import with_good
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import ConfigError
from winged_monkey.user.config import AccountConfig
from winged_monkey.user.credentials import CredentialResolver
from winged_monkey_libcloud import LibcloudBackend
from winged_monkey_libcloud.driverkeys import takes
from winged_monkey_libcloud.ec2compat import BotocoreEC2NodeDriver, CompatEC2NodeDriver

#: What libcloud's base driver reads, for every driver that passes its kwargs on to it.
BASE = {"key", "secret", "secure", "host", "port", "api_version", "region"}
BASE |= {"timeout", "retry_delay", "backoff", "proxy_url"}
#: OpenStackDriverMixin's keys, read by every OpenStack API version (libcloud's docs,
#: "OpenStack Compute Driver Documentation": connecting to the driver).
OPENSTACK = {
    "ex_force_auth_url",
    "ex_force_auth_version",
    "ex_force_auth_token",
    "ex_force_base_url",
    "ex_tenant_name",
    "ex_tenant_domain_id",
    "ex_domain_name",
    "ex_token_scope",
    "ex_force_service_type",
    "ex_force_service_name",
    "ex_force_service_region",
    "ex_auth_cache",
    "ex_force_microversion",
    "ex_force_api_version",
}


def driver_class(provider: str, **driver: Any) -> type[NodeDriver]:
    """The class wm builds for an account of `provider` (OpenStack's by api_version)."""
    account = AccountConfig.model_validate(
        {"name": "x", "provider": provider, "driver": driver, "credentials": {"key": "k"}}
    )
    backend = LibcloudBackend(account, CredentialResolver().resolve(account))
    return backend.driver_cls


@pytest.mark.parametrize(
    ("cls", "wanted"),
    [
        (get_driver("ec2"), BASE | {"token", "signature_version"}),
        (CompatEC2NodeDriver, BASE | {"token", "signature_version"}),
        (BotocoreEC2NodeDriver, BASE | {"token", "signature_version", "ex_path"}),
        (driver_class("openstack"), BASE | OPENSTACK),
        (
            driver_class("openstack", api_version="2.0"),
            BASE
            | OPENSTACK
            | {"ex_force_image_url", "ex_force_volume_url", "ex_force_network_url"}
            | {"ex_force_reservation_url"},
        ),
        (get_driver("openstack"), BASE | OPENSTACK | {"ex_force_image_url"}),
        (get_driver("libvirt"), {"uri", "key", "secret"}),
        (get_driver("vsphere"), {"host", "username", "password", "port", "ca_cert"}),
        (get_driver("gce"), BASE | {"user_id", "project", "datacenter", "auth_type"}),
        (get_driver("gce"), {"scopes", "credential_file"}),
        (get_driver("vcloud"), BASE),  # a factory: its API versions' classes
        (get_driver("dummy"), {"creds"}),
    ],
    ids=[
        "ec2",
        "ec2-compatible",
        "ec2-botocore",
        "openstack-1.1",
        "openstack-2.0",
        "openstack-factory",
        "libvirt",
        "vsphere",
        "gce",
        "gce-auth",
        "vcloud",
        "dummy",
    ],
)
def test_every_key_libcloud_reads_is_taken(cls: type[NodeDriver], wanted: set[str]) -> None:
    found = takes(cls)
    assert found.opaque is None
    assert wanted <= found.names, sorted(wanted - found.names)
    assert found.unknown(sorted(wanted)) == []


def test_keys_of_another_openstack_api_version_are_not_taken_by_this_one() -> None:
    # libcloud's 1.1 driver reads no ex_force_image_url: only 2.x's does.
    assert takes(driver_class("openstack")).unknown(["ex_force_image_url"]) == [
        "ex_force_image_url"
    ]


def test_every_libcloud_driver_takes_its_constructors_own_parameters() -> None:
    """Over every provider libcloud has: nothing it names is refused, and the derivation
    follows each driver's kwargs to the end (none is left opaque)."""
    import inspect

    for provider in sorted(str(name) for name in DRIVERS):
        try:
            cls = get_driver(provider)
        except (AttributeError, ImportError):
            continue  # a driver that needs a package this host lacks
        found = takes(cls)
        assert found.opaque is None, (provider, found.opaque)
        params = inspect.signature(cls.__init__).parameters.values()
        named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        assert named - {"self"} <= found.names, provider


def test_a_driver_that_keeps_its_kwargs_whole_takes_any_key() -> None:
    """Where the kwargs go cannot be followed, every key is taken: a false refusal would
    be worse than the silence."""

    class Keeps(NodeDriver):
        def __init__(self, key: str, **kwargs: Any) -> None:
            self.kept = kwargs
            super().__init__(key)  # type: ignore[no-untyped-call]

    class Hands(NodeDriver):
        def __init__(self, key: str, **kwargs: Any) -> None:
            super().__init__(key)  # type: ignore[no-untyped-call]
            self.setup(**kwargs)

        def setup(self, **kwargs: Any) -> None:
            self.kept = kwargs

    for cls in (Keeps, Hands):
        assert takes(cls).opaque is not None
        assert takes(cls).unknown(["anything"]) == []


def test_an_openstack_account_with_every_documented_key_is_built() -> None:
    driver = {
        "api_version": "2.0",
        "ex_force_auth_url": "https://keystone.example:5000",
        "ex_force_auth_version": "3.x_password",
        "ex_tenant_name": "demo",
        "ex_domain_name": "Default",
        "ex_tenant_domain_id": "default",
        "ex_force_service_region": "RegionOne",
        "ex_force_base_url": "https://nova.example:8774/v2.1",
        "ex_force_image_url": "https://glance.example:9292",
        "ex_force_network_url": "https://neutron.example:9696",
        "ex_force_microversion": "2.60",
    }
    assert driver_class("openstack", **driver).__name__ == "OpenStack_2_NodeDriver"


def write(cloud: Cloud, bad: str) -> str:
    """The account `good` on moto, with driver keys its driver takes, then the table `bad`."""
    return str(with_good(cloud, bad, 'driver = { signature_version = "4", retry_delay = 1 }\n'))


CREDS = f'credentials = {{ key = "{DEV_KEY}", keyring = false, secret_env = "GOOD_SECRET" }}\n'
OPENSTACK_TAKES = (
    "That driver takes api_version, backoff, ex_auth_cache, ex_domain_name, "
    "ex_force_api_version, ex_force_auth_token, ex_force_auth_url, ex_force_auth_version, "
    "ex_force_base_url, ex_force_microversion, ex_force_service_name, "
    "ex_force_service_region, ex_force_service_type, ex_tenant_domain_id, ex_tenant_name, "
    "ex_token_scope, host, key, port, proxy_url, region, retry_delay, secret, secure, timeout"
)


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        (
            # Listed from us-east-1 in silence before: the region meant was never used.
            '[[accounts]]\nname = "dev"\nprovider = "ec2"\nENDPOINT\n'
            + CREDS
            + 'driver = { regoin = "eu-west-1" }\n',
            "unknown key 'regoin' (did you mean 'region'?) in driver: libcloud's ec2 driver "
            "(CompatEC2NodeDriver) takes no such argument and would ignore it; correct or "
            "remove it. That driver takes api_version, backoff, host, key, port, proxy_url, "
            "region, retry_delay, secret, secure, signature_version, timeout, token",
        ),
        (
            '[[accounts]]\nname = "dev"\nprovider = "openstack"\n'
            + CREDS
            + 'driver = { ex_force_auth_urll = "https://keystone.example:5000/v3", '
            'ex_tenant_nmae = "demo" }\n',
            "unknown keys 'ex_force_auth_urll' (did you mean 'ex_force_auth_url'?), "
            "'ex_tenant_nmae' (did you mean 'ex_tenant_name'?) in driver: libcloud's openstack "
            "driver (OpenStack_1_1_NodeDriver) takes no such arguments and would ignore them; "
            f"correct or remove them. {OPENSTACK_TAKES}",
        ),
        (
            '[[accounts]]\nname = "dev"\nprovider = "libvirt"\n'
            'driver = { urii = "qemu:///system", pool = "hunter2-never-echoed" }\n',
            "unknown keys 'pool', 'urii' (did you mean 'uri'?) in driver: libcloud's "
            "libvirt driver (LibvirtNodeDriver) takes no such arguments and would ignore them; "
            "correct or remove them. That driver takes key, secret, uri",
        ),
        (
            # A key of libcloud's OpenStack 2.0 driver on the default (1.1) one: said so.
            '[[accounts]]\nname = "dev"\nprovider = "openstack"\n'
            + CREDS
            + 'driver = { ex_force_auth_url = "https://keystone.example:5000/v3", '
            'ex_force_network_url = "https://neutron.example:9696" }\n',
            "unknown key 'ex_force_network_url' (read by api_version = \"2.0\": add it to "
            "driver) in driver: libcloud's openstack driver (OpenStack_1_1_NodeDriver) takes "
            f"no such argument and would ignore it; correct or remove it. {OPENSTACK_TAKES}",
        ),
    ],
    ids=["ec2-region", "openstack-keystone", "libvirt-uri", "openstack-2.0-key"],
)
def test_a_driver_key_the_driver_would_drop_fails_that_account(
    cloud: Cloud, bad: str, said: str
) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    config = write(cloud, bad)
    listed = CliRunner().invoke(main, ["--config", config, "ls"])
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert "web-1" in listed.stdout  # the other account still lists
    assert f"wm: dev: {said}\n" in listed.stderr
    tested = CliRunner().invoke(main, ["--config", config, "accounts", "test"])
    assert tested.exit_code == ExitCode.CONFIG, tested.output
    assert "good: ok" in tested.stdout
    assert f"dev: FAILED: {said}" in tested.stdout
    for result in (listed, tested):
        assert "Traceback" not in result.output
        assert "hunter2" not in result.output
        assert DEV_SECRET not in result.output


def test_a_typo_is_refused_when_the_account_is_built_before_any_call() -> None:
    account = AccountConfig.model_validate(
        {
            "name": "lab",
            "provider": "openstack",
            "credentials": {"key": "demo", "keyring": False},
            "driver": {"ex_force_auth_url": "https://keystone.example:5000", "regoin": "R1"},
        }
    )
    with pytest.raises(ConfigError) as info:
        LibcloudBackend(account, CredentialResolver().resolve(account))
    assert info.value.account == "lab"
    assert "unknown key 'regoin' (did you mean 'region'?) in driver" in str(info.value)


@pytest.mark.parametrize(
    ("driver", "said"),
    [
        (
            'driver = { region = "eu-west-1" }',
            "driver.region differs from the account's region: libcloud would use the driver's "
            "while wm shows the account's; write it once, as the account's",
        ),
        (
            'driver = { secret = "hunter2-never-echoed" }',
            "driver.secret: a secret in the config file (a secret never goes in the config: "
            "name secret_env or secret_command in the account's [accounts.credentials], or "
            "store it with `wm accounts set-secret dev`)",
        ),
        (
            'driver = { key = "AKIAhunter2NEVERECHO" }',
            "driver.key: the account's key goes in its [accounts.credentials] "
            '(key = "..." or key_env), not in driver: libcloud would sign the calls with the '
            "driver's while wm reads and shows the credentials'; move it there",
        ),
    ],
    ids=["region-twice", "secret-pasted", "key-in-driver"],
)
def test_a_driver_key_that_would_override_the_account_or_hold_a_secret_fails_it(
    cloud: Cloud, driver: str, said: str
) -> None:
    """An account's region written again in `driver`, differently, was used in silence while
    wm showed the account's; a secret in `driver` sat in the config file; a key in `driver`
    signed the calls instead of the credentials' own, in silence."""
    cloud.launch(cloud.ec2(), "web-1")
    bad = '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\nENDPOINT\n'
    config = write(cloud, bad + CREDS + driver + "\n")
    listed = CliRunner().invoke(main, ["--config", config, "ls"])
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert "web-1" in listed.stdout  # the other account still lists
    assert f"wm: dev: {said}\n" in listed.stderr
    assert "hunter2" not in listed.output
