"""A `cloud = "..."` account against the real Keystone and Nova: the cloud is read by
openstacksdk's loader from shapes the OpenStack tools accept (clouds.yml, hyphenated
keys, tenant_name, a regions list, the password in secure.yaml), and logs in and lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clouds_files import only_these_files
from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import (  # noqa: F401 (passwords: autouse fixture)
    boot,
    close,
    listed,
    make_portal,
    passwords,
)
from winged_monkey.user.config import AccountConfig

pytestmark = pytest.mark.timeout(420)


@pytest.fixture
def clouds(openstack: OpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    user = openstack.user("alpha")
    path = tmp_path / "clouds.yml"
    path.write_text(
        "clouds:\n  lab:\n    identity-api-version: 3\n    regions: [RegionOne]\n"
        f"    auth:\n      auth-url: {openstack.auth_url}/v3\n      username: {user['user']}\n"
        "      tenant_name: alpha\n      user-domain-name: Default\n"
        "      project-domain-id: default\n"
    )
    secure = tmp_path / "secure.yaml"
    secure.write_text(f"clouds:\n  lab:\n    auth:\n      password: {user['password']}\n")
    only_these_files(monkeypatch, path, secure)
    yield path
    openstack.delete_all_servers()


def test_a_cloud_named_in_the_account_logs_in_and_lists(
    openstack: OpenStack, clouds: Path, tmp_path: Path
) -> None:
    boot(openstack, "alpha", "via-clouds-yml")
    account = AccountConfig.model_validate({"name": "lab", "provider": "openstack", "cloud": "lab"})
    portal = make_portal(tmp_path, account)
    try:
        assert "via-clouds-yml" in listed(portal, "lab")
    finally:
        close(portal)


def test_verify_false_in_clouds_yaml_is_honoured_and_said(
    openstack: OpenStack, clouds: Path, tmp_path: Path
) -> None:
    """A lab's self-signed Keystone: `openstack server list` works with `verify: false`,
    so does `wm ls`, and `wm accounts test` says TLS is not verified; the same cloud
    without it is refused on the certificate."""
    from click.testing import CliRunner

    from tests.openstack.test_openstack_import import names
    from tests.openstack.tlsproxy import TLSProxy
    from winged_monkey.cli.main import main

    boot(openstack, "alpha", "via-unverified-tls")
    text = clouds.read_text()
    with TLSProxy(tmp_path / "tls", openstack.state["ports"]["keystone"]) as proxy:
        https = text.replace(openstack.auth_url, f"https://127.0.0.1:{proxy.port}")
        lab = https.split("clouds:\n", 1)[1]
        clouds.write_text(
            "clouds:\n"
            + lab.replace("  lab:\n", "  lab:\n    verify: false\n", 1)
            + lab.replace("  lab:\n", "  strict:\n", 1)
        )
        (tmp_path / "secure.yaml").write_text(
            (tmp_path / "secure.yaml").read_text() + "  strict:\n    auth:\n      password: "
            f"{openstack.user('alpha')['password']}\n"
        )
        config = tmp_path / "wm.toml"
        config.write_text(
            '[[accounts]]\nname = "lab"\nprovider = "openstack"\ncloud = "lab"\n\n'
            '[[accounts]]\nname = "strict"\nprovider = "openstack"\ncloud = "strict"\n'
        )
        run = CliRunner()
        listed = run.invoke(main, ["--config", str(config), "ls", "--json", "--account", "lab"])
        tested = run.invoke(main, ["--config", str(config), "accounts", "test"])
    assert names(listed, "lab") == {"via-unverified-tls"}
    assert "lab: ok: openstack" in tested.output, tested.output
    assert "TLS NOT VERIFIED (clouds.yaml: verify: false)" in tested.output
    strict = next(line for line in tested.output.splitlines() if line.startswith("strict: "))
    keystone = f"Keystone (identity, 127.0.0.1:{proxy.port})"  # the cloud's, not the account's
    assert f"TLS: the certificate of {keystone} is signed by an unknown authority" in strict, (
        tested.output
    )


def test_cert_and_key_in_clouds_yaml_are_presented_to_a_keystone_that_asks(
    openstack: OpenStack, clouds: Path, tmp_path: Path
) -> None:
    """A Keystone behind mutual TLS: the cloud's `cert` and `key` log in as they do for
    `openstack server list` (its `cacert` beside them), and `wm ls --json` lists; the same
    cloud without them is told what to set."""
    from click.testing import CliRunner

    from tests.openstack.test_openstack_import import names
    from tests.openstack.tlsproxy import TLSProxy
    from winged_monkey.cli.main import main

    boot(openstack, "alpha", "via-client-cert")
    password = openstack.user("alpha")["password"]
    keystone = openstack.state["ports"]["keystone"]
    with TLSProxy(tmp_path / "mtls", keystone, client_certificates=True) as proxy:
        https = clouds.read_text().replace(openstack.auth_url, f"https://127.0.0.1:{proxy.port}")
        lab = https.split("clouds:\n", 1)[1] + f"    cacert: {proxy.ca}\n"
        clouds.write_text(
            "clouds:\n"
            + lab
            + f"    cert: {proxy.client_cert}\n    key: {proxy.client_key}\n"
            + lab.replace("  lab:\n", "  bare:\n", 1)
        )
        (tmp_path / "secure.yaml").write_text(
            f"clouds:\n  lab:\n    auth:\n      password: {password}\n"
            f"  bare:\n    auth:\n      password: {password}\n"
        )
        config = tmp_path / "wm.toml"
        config.write_text(
            '[[accounts]]\nname = "lab"\nprovider = "openstack"\ncloud = "lab"\n\n'
            '[[accounts]]\nname = "bare"\nprovider = "openstack"\ncloud = "bare"\n'
        )
        run = CliRunner()
        listed = run.invoke(main, ["--config", str(config), "ls", "--json", "--account", "lab"])
        tested = run.invoke(main, ["--config", str(config), "accounts", "test"])
    assert names(listed, "lab") == {"via-client-cert"}
    assert "lab: ok: openstack" in tested.output, tested.output
    bare = next(line for line in tested.output.splitlines() if line.startswith("bare: "))
    assert (
        f"TLS: Keystone (identity, 127.0.0.1:{proxy.port}) asks for a client certificate: "
        "set client_cert and client_key (clouds.yaml: cert and key) for account bare"
    ) in bare, tested.output


def test_a_compute_endpoint_override_is_where_wm_reaches_nova(
    openstack: OpenStack, clouds: Path, tmp_path: Path
) -> None:
    """compute_endpoint_override: Nova at another address than the catalog's (a TLS front
    here, as a cloud whose catalog lists internal names has): `openstack server list`
    goes there, so does wm ls; wm went to the catalog's Nova."""
    from tests.openstack.tlsproxy import TLSProxy

    boot(openstack, "alpha", "via-nova-override")
    with TLSProxy(tmp_path / "nova-tls", openstack.state["ports"]["nova"]) as proxy:
        clouds.write_text(
            clouds.read_text()
            + f"    compute_endpoint_override: https://127.0.0.1:{proxy.port}/v2.1\n"
            + f"    cacert: {proxy.ca}\n"
        )
        account = AccountConfig.model_validate(
            {"name": "lab", "provider": "openstack", "cloud": "lab"}
        )
        portal = make_portal(tmp_path, account)
        try:
            assert "via-nova-override" in listed(portal, "lab")
        finally:
            close(portal)
    assert proxy.connections > 0  # Nova was reached through the override
