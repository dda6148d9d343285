"""A Heat account that names a cloud of clouds.yaml (`cloud = "lab"`) against the lab's
real Keystone and Heat: the cloud is read by openstacksdk's loader from shapes the
OpenStack tools accept (clouds.yml, hyphenated keys, tenant_name, a regions list, the
password in secure.yaml; an application credential by name with its user), and
`wm accounts test` reaches Heat in the cloud's project."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.clouds_files import only_these_files
from tests.openstack.conftest import OpenStack
from tests.openstack.helpers import Keystone
from winged_monkey.cli.main import main

pytestmark = pytest.mark.timeout(480)


def accounts_test_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clouds: str, secure: str
) -> str:
    """`wm accounts test` of a Heat account naming the cloud `lab`, with these files."""
    only_these_files(monkeypatch, tmp_path / "clouds.yml", tmp_path / "secure.yaml")
    (tmp_path / "clouds.yml").write_text(clouds)
    (tmp_path / "secure.yaml").write_text(secure)
    config = tmp_path / "wm.toml"
    config.write_text('[[accounts]]\nname = "lab"\nbackend = "heat"\ncloud = "lab"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    return result.output


def test_a_heat_account_logs_in_with_a_clouds_yaml_cloud(
    cloud: OpenStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, a Heat account took no `cloud` key: 'unknown key 'cloud' for a heat account'."""
    user = cloud.user("alpha")
    said = accounts_test_output(
        tmp_path,
        monkeypatch,
        "clouds:\n  lab:\n    identity-api-version: 3\n    regions: [RegionOne]\n"
        f"    auth:\n      auth-url: {cloud.auth_url}/v3\n      username: {user['user']}\n"
        "      tenant_name: alpha\n      user-domain-name: Default\n"
        "      project-domain-id: default\n",
        f"clouds:\n  lab:\n    auth:\n      password: {user['password']}\n",
    )
    heat = f"Heat at 127.0.0.1:{cloud.state['ports']['heat']}, project alpha: reachable"
    assert f"lab: ok: {heat}" in said, said
    assert user["password"] not in said


def test_an_application_credential_by_name_and_user(
    cloud: OpenStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bob = cloud.user("beta")
    ks = Keystone(cloud)
    token = cloud.stack.token(bob["user"], bob["password"], "beta")
    name = f"wm-{secrets.token_hex(3)}"
    made = ks.as_user(
        token,
        "POST",
        f"/users/{ks.id_of('user', bob['user'])}/application_credentials",
        json={"application_credential": {"name": name}},
    )
    assert made.status_code == 201, made.text
    said = accounts_test_output(
        tmp_path,
        monkeypatch,
        "clouds:\n  lab:\n    auth_type: v3applicationcredential\n    auth:\n"
        f"      auth_url: {cloud.auth_url}\n      application_credential_name: {name}\n"
        f"      username: {bob['user']}\n      user_domain_name: Default\n",
        "clouds:\n  lab:\n    auth:\n      application_credential_secret: "
        f"{made.json()['application_credential']['secret']}\n",
    )
    assert "lab: ok: Heat at " in said, said
    assert ", project beta: reachable" in said, said
