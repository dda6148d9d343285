"""`wm accounts import` against the real Keystone and Nova: what is imported logs in and lists.

The stack of test_openstack.py (Neutron is its stub; nothing here needs it). The
keyring is the tests' in-memory one (tests/conftest.py), as a desktop's would be.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result

from tests.conftest import MemoryKeyring
from tests.openstack.conftest import AppCredential, OpenStack
from tests.openstack.helpers import boot
from winged_monkey.cli.main import main
from winged_monkey.user.credentials import KEYRING_SERVICE

pytestmark = pytest.mark.timeout(420)


@pytest.fixture(autouse=True)
def clean(openstack: OpenStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    yield
    openstack.delete_all_servers()


@pytest.fixture
def vault() -> MemoryKeyring:
    """The tests' in-memory keyring (tests/conftest.py), to see what was stored."""
    found = keyring.get_keyring()
    assert isinstance(found, MemoryKeyring)
    return found


def wm(config: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        main, ["--config", str(config), *args], env=env, catch_exceptions=False
    )


def names(result: Result, account: str) -> set[str]:
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    return {i["name"] for i in listing["instances"] if i["account"] == account}


def test_a_clouds_yaml_cloud_logs_in_and_lists(
    openstack: OpenStack,
    appcred: AppCredential,
    tmp_path: Path,
    vault: MemoryKeyring,
) -> None:
    boot(openstack, "alpha", "imported-sees-me")
    boot(openstack, "beta", "not-alphas")
    alpha = openstack.user("alpha")
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        f"""clouds:
  alpha:
    auth:
      auth_url: {openstack.auth_url}/v3
      username: {alpha["user"]}
      password: {alpha["password"]}
      project_name: alpha
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  alpha-ci:
    auth_type: v3applicationcredential
    auth:
      auth_url: {openstack.auth_url}/v3
      application_credential_id: {appcred.id}
      application_credential_secret: {appcred.secret}
    region_name: RegionOne
"""
    )
    config = tmp_path / "config.toml"
    config.write_text("# mine\nrefresh_interval = 20\n")

    result = wm(config, "accounts", "import", "--clouds-yaml", str(clouds))
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert text.startswith("# mine\nrefresh_interval = 20\n")
    assert alpha["password"] not in text
    assert appcred.secret not in text
    assert vault.items[(KEYRING_SERVICE, "alpha")] == alpha["password"]

    tested = wm(config, "accounts", "test")
    assert tested.exit_code == 0, tested.output
    assert "alpha: ok: openstack" in tested.output
    assert "alpha-ci: ok: openstack" in tested.output
    assert "credentials from keyring" in tested.output

    listed = wm(config, "ls", "--json")
    assert names(listed, "alpha") == {"imported-sees-me"}
    assert names(listed, "alpha-ci") == {"imported-sees-me"}


def test_an_openrc_environment_logs_in_and_lists(
    openstack: OpenStack, tmp_path: Path, vault: MemoryKeyring
) -> None:
    boot(openstack, "beta", "from-openrc")
    beta = openstack.user("beta")
    openrc = {
        "OS_AUTH_URL": f"{openstack.auth_url}/v3",
        "OS_USERNAME": beta["user"],
        "OS_PASSWORD": beta["password"],
        "OS_PROJECT_NAME": "beta",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
        "OS_IDENTITY_API_VERSION": "3",
    }
    config = tmp_path / "config.toml"
    result = wm(config, "accounts", "import", "--os-env", env=openrc)
    assert result.exit_code == 0, result.output
    assert beta["password"] not in config.read_text()

    # A new shell: the openrc variables are gone, the keyring has the password.
    tested = wm(config, "accounts", "test", "os-beta")
    assert tested.exit_code == 0, tested.output
    assert names(wm(config, "ls", "--json"), "os-beta") == {"from-openrc"}
