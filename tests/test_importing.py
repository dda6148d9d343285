"""`wm accounts import`: clouds.yaml and OS_* variables into the config, secrets to the keyring.

These run without a cloud: they check what lands in the config file and the keyring.
tests/openstack/test_openstack_import.py imports against the real Keystone and lists.
"""

from __future__ import annotations

import os
import stat
import sys
import tomllib
from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backends.fail import Keyring as FailKeyring

from tests.conftest import MemoryKeyring
from winged_monkey.cli.main import main
from winged_monkey.errors import ConfigError
from winged_monkey.user.config import load_config
from winged_monkey.user.config_write import add_to_config
from winged_monkey.user.credentials import KEYRING_SERVICE, CredentialResolver
from winged_monkey.user.importing import from_clouds_yaml, from_environment

CLOUDS = """\
clouds:
  lab:
    auth:
      auth_url: https://keystone.lab.example:5000/v3/
      username: alice
      password: pw-in-clouds-yaml
      project_name: alpha
      user_domain_name: Users
      project_domain_id: 3f1c
    region_name: RegionTwo
    interface: public
    identity_api_version: 3
    cacert: /etc/ssl/lab-ca.pem
  ci:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.lab.example:5000
      application_credential_id: 0a1b2c
"""
SECURE = """\
clouds:
  ci:
    auth:
      application_credential_secret: appcred-secret-in-secure-yaml
"""
EXISTING = """\
# my accounts; keep this comment
refresh_interval = 30  # seconds

[[accounts]]
name = "aws"  # the old one
provider = "ec2"
region = "eu-west-1"
"""


@pytest.fixture(autouse=True)
def no_openstack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own OS_* variables stay out."""
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clouds(tmp_path: Path) -> Path:
    folder = tmp_path / "openstack"
    folder.mkdir()
    (folder / "clouds.yaml").write_text(CLOUDS)
    (folder / "secure.yaml").write_text(SECURE)
    return folder / "clouds.yaml"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(EXISTING)
    path.chmod(0o600)
    return path


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


def test_clouds_yaml_becomes_accounts_with_secrets_only_in_the_keyring(
    clouds: Path, config: Path, vault: MemoryKeyring
) -> None:
    result = wm(config, "accounts", "import", "--clouds-yaml", str(clouds))
    assert result.exit_code == 0, result.output
    assert "ci: added to" in result.output
    assert "lab: added to" in result.output

    text = config.read_text()
    assert text.startswith(EXISTING)  # every existing line and comment as it was
    assert "pw-in-clouds-yaml" not in text
    assert "appcred-secret-in-secure-yaml" not in text
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert vault.items == {
        (KEYRING_SERVICE, "lab"): "pw-in-clouds-yaml",
        (KEYRING_SERVICE, "ci"): "appcred-secret-in-secure-yaml",
    }

    loaded = {a.name: a for a in load_config(config).accounts}
    assert set(loaded) == {"aws", "lab", "ci"}
    lab = loaded["lab"]
    assert lab.provider == "openstack"
    assert lab.driver == {
        "ex_force_auth_url": "https://keystone.lab.example:5000",  # libcloud adds /v3 itself
        "ex_force_auth_version": "3.x_password",
        "ex_tenant_name": "alpha",
        "ex_domain_name": "Users",
        "ex_tenant_domain_id": "3f1c",
        "ex_force_service_region": "RegionTwo",
    }
    assert lab.settings == {"ca_bundle": "/etc/ssl/lab-ca.pem"}
    assert lab.credentials.key == "alice"
    assert loaded["ci"].driver["ex_force_auth_version"] == "3.x_appcred"
    assert loaded["ci"].credentials.key == "0a1b2c"
    # What the portal resolves for them: the keyring, as for `wm accounts set-secret`.
    secrets = CredentialResolver().resolve(lab)
    assert (secrets.secret, secrets.source) == ("pw-in-clouds-yaml", "keyring")


def test_an_existing_account_name_is_never_overwritten(
    clouds: Path, config: Path, vault: MemoryKeyring
) -> None:
    result = wm(config, "accounts", "import", "--clouds-yaml", str(clouds), "--cloud", "lab")
    assert result.exit_code == 0, result.output
    before = config.read_text()
    vault.items.clear()

    again = wm(config, "accounts", "import", "--clouds-yaml", str(clouds), "--cloud", "lab")
    assert again.exit_code == 3
    assert "an account named lab is already in" in again.output
    assert "--name" in again.output
    assert config.read_text() == before
    assert vault.items == {}  # nothing stored either

    renamed = wm(
        config,
        "accounts",
        "import",
        "--clouds-yaml",
        str(clouds),
        "--cloud",
        "lab",
        "--name",
        "lab2",
    )
    assert renamed.exit_code == 0, renamed.output
    assert {a.name for a in load_config(config).accounts} == {"aws", "lab", "lab2"}


def test_os_environment_import(config: Path, vault: MemoryKeyring) -> None:
    env = {
        "OS_AUTH_URL": "http://127.0.0.1:5000/v3",
        "OS_USERNAME": "bob",
        "OS_PASSWORD": "pw-in-openrc",
        "OS_PROJECT_NAME": "beta",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "internal",
        "OS_CACERT": "/etc/ssl/ca.pem",
        "OS_CERT": "/etc/ssl/alice.pem",  # a client certificate, as openstacksdk reads it
        "OS_KEY": "/etc/ssl/alice.key",
    }
    result = wm(config, "accounts", "import", "--os-env", env=env)
    assert result.exit_code == 0, result.output
    assert "os-beta: added to" in result.output
    # Said, not hidden: libcloud uses the catalog's public endpoints only.
    assert "interface 'internal' not carried over" in result.output
    assert "pw-in-openrc" not in config.read_text()
    assert vault.items == {(KEYRING_SERVICE, "os-beta"): "pw-in-openrc"}
    account = next(a for a in load_config(config).accounts if a.name == "os-beta")
    assert account.driver == {
        "ex_force_auth_url": "http://127.0.0.1:5000",
        "ex_force_auth_version": "3.x_password",
        "ex_tenant_name": "beta",
        "ex_domain_name": "Default",
        "ex_force_service_region": "RegionOne",
    }
    assert account.settings == {
        "ca_bundle": "/etc/ssl/ca.pem",
        "client_cert": "/etc/ssl/alice.pem",
        "client_key": "/etc/ssl/alice.key",
    }


def test_os_environment_with_an_application_credential() -> None:
    imported = from_environment(
        {
            "OS_AUTH_URL": "https://k.example/v3",
            "OS_AUTH_TYPE": "v3applicationcredential",
            "OS_APPLICATION_CREDENTIAL_ID": "id-1",
            "OS_APPLICATION_CREDENTIAL_SECRET": "s-1",
        },
        name="ci",
    )
    assert imported.table["credentials"] == {"key": "id-1"}
    assert imported.table["driver"]["ex_force_auth_version"] == "3.x_appcred"
    assert imported.secret == "s-1"
    assert "s-1" not in repr(imported)


def test_without_os_auth_url_the_message_says_what_to_do(config: Path) -> None:
    result = wm(config, "accounts", "import", "--os-env", env={"OS_CLOUD": "lab"})
    assert result.exit_code == 3
    assert "OS_AUTH_URL is not set; OS_CLOUD=lab names a cloud: use --clouds-yaml" in result.output


@pytest.mark.parametrize(
    ("auth", "extra", "reason"),
    [
        ({"username": "a", "password": "p"}, {}, "no auth.project_name"),
        (
            {"username": "a", "project_name": "p", "project_domain_name": "Corp"},
            {},
            "add auth.project_domain_id (for 'Corp')",
        ),
        ({"username": "a", "project_name": "p"}, {"identity_api_version": 2}, "Keystone v2"),
        ({"token": "t"}, {"auth_type": "token"}, "auth_type 'token' is not supported"),
        (
            {
                "application_credential_name": "n",
                "application_credential_secret": "s",
                "username": "a",
                "user_domain_name": "D",
            },
            {"auth_type": "v3applicationcredential"},
            "needs application_credential_id",
        ),
    ],
)
def test_what_libcloud_cannot_do_is_refused_with_the_reason(
    tmp_path: Path, auth: dict[str, str], extra: dict[str, object], reason: str
) -> None:
    path = tmp_path / "clouds.yaml"
    body = {"auth_url": "https://k.example:5000", **auth}
    lines = ["clouds:", "  c:", "    auth:"] + [f"      {k}: {v}" for k, v in body.items()]
    lines += [f"    {k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as refused:
        from_clouds_yaml(path)
    assert refused.value.account == "c"
    assert reason in refused.value.message
    assert refused.value.message.endswith("; nothing imported")


def test_a_keyring_that_refuses_leaves_the_config_untouched(clouds: Path, config: Path) -> None:
    keyring.set_keyring(FailKeyring())  # type: ignore[no-untyped-call]
    result = wm(config, "accounts", "import", "--clouds-yaml", str(clouds), "--cloud", "lab")
    assert result.exit_code == 3
    assert "no keyring backend" in result.output
    assert "Traceback" not in result.output
    assert config.read_text() == EXISTING

    # --no-secrets: the account is added; its secret is the user's to place.
    result = wm(
        config, "accounts", "import", "--clouds-yaml", str(clouds), "--cloud", "lab", "--no-secrets"
    )
    assert result.exit_code == 0, result.output
    assert "secret not stored (--no-secrets)" in result.output
    assert "pw-in-clouds-yaml" not in config.read_text()


def test_the_default_clouds_yaml_is_found_where_openstacksdk_looks(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home_clouds = Path.home() / ".config" / "openstack"
    home_clouds.mkdir(parents=True)
    (home_clouds / "clouds.yaml").write_text(CLOUDS)
    monkeypatch.chdir(tmp_path)
    result = wm(config, "accounts", "import", "--clouds-yaml", "--cloud", "lab", "--no-secrets")
    assert result.exit_code == 0, result.output
    assert f"from {home_clouds / 'clouds.yaml'} (cloud 'lab')" in result.output


def test_clouds_yml_in_the_current_folder_with_secure_yaml_in_the_users_is_found(
    tmp_path: Path, config: Path, vault: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openstacksdk reads clouds.yml (and .json) too, and its secure.yaml from its own search
    # path, not only beside the clouds file
    work = tmp_path / "work"
    work.mkdir()
    (work / "clouds.yml").write_text(CLOUDS)
    home_secure = Path.home() / ".config" / "openstack" / "secure.yaml"
    home_secure.parent.mkdir(parents=True)
    home_secure.write_text(
        SECURE.replace("ci:", "lab:").replace("application_credential_secret", "password")
    )
    monkeypatch.chdir(work)
    result = wm(config, "accounts", "import", "--clouds-yaml", "--cloud", "lab")
    assert result.exit_code == 0, result.output
    assert f"from {work / 'clouds.yml'} (cloud 'lab')" in result.output
    assert vault.get_password(KEYRING_SERVICE, "lab") == "appcred-secret-in-secure-yaml"


@pytest.mark.parametrize(
    ("regions", "first", "second"),
    [
        (
            "    regions:\n      - name: R1\n        values: {interface: public}\n      - R2\n",
            "R1",
            "R2",
        ),
        ("    region_name: [R1, R2]\n", "R1", "R2"),
        ("    region_name: R1,R2\n", "R1", "R2"),  # deprecated, still read
        ("    profile: citycloud\n", "Buf1", "Fra1"),  # a vendor profile's regions
    ],
)
def test_a_cloud_of_several_regions_is_noted_with_how_to_import_another(
    tmp_path: Path, config: Path, regions: str, first: str, second: str
) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(CLOUDS.replace("    region_name: RegionTwo\n", regions))

    def imported(*args: str) -> Result:
        result = wm(
            config,
            "accounts",
            "import",
            "--clouds-yaml",
            str(clouds),
            "--cloud",
            "lab",
            "--no-secrets",
            *args,
        )
        assert result.exit_code == 0, result.output
        return result

    told = " ".join(imported().output.split())
    assert f"lab: note: regions {first}, {second}" in told, told
    assert f"imported with {first} (openstacksdk's choice, the first)" in told
    again = told.split("another as an account of its own: ")[1].split(" check them")[0]
    assert again == (
        f"wm accounts import --clouds-yaml {clouds} --cloud lab --region {second} "
        f"--name lab-{second}"
    )
    imported("--region", second, "--name", f"lab-{second}")  # as the note says
    accounts = {a.name: a for a in load_config(config).accounts}
    regions_of = {n: a.driver.get("ex_force_service_region") for n, a in accounts.items()}
    assert (regions_of["lab"], regions_of[f"lab-{second}"]) == (first, second)


@pytest.mark.parametrize("source", ["--clouds-yaml", "--os-env"])
def test_without_openstacksdk_an_import_says_to_install_it_and_writes_nothing(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """Read as written without openstacksdk's loader, a region list became the region
    "['R1', 'R2']" (OS_REGION_NAME=R1,R2 the region "R1,R2"), a `regions` list none."""
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(CLOUDS.replace("    region_name: RegionTwo\n", "    region_name: [R1, R2]\n"))
    openrc = {"OS_AUTH_URL": "https://k.example/v3", "OS_USERNAME": "a", "OS_PROJECT_NAME": "p"}
    before = config.read_text()
    monkeypatch.setitem(sys.modules, "openstack", None)  # `pip install winged-monkey` alone
    args = [str(clouds), "--cloud", "lab"] if source == "--clouds-yaml" else []
    result = wm(
        config,
        "accounts",
        "import",
        source,
        *args,
        "--no-secrets",
        env={**openrc, "OS_REGION_NAME": "R1,R2"},
    )
    assert result.exit_code == 3, result.output
    assert "openstacksdk is not installed: pip install 'winged-monkey[openstack]'" in " ".join(
        result.output.split()
    )
    assert config.read_text() == before


def test_a_cloud_whose_name_makes_no_account_name_is_refused_alone(
    tmp_path: Path, config: Path
) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(CLOUDS.replace("  ci:\n", "  開発:\n"))
    result = wm(config, "accounts", "import", "--clouds-yaml", str(clouds), "--no-secrets")
    assert result.exit_code == 0, result.output
    told = " ".join(result.output.split())
    assert "lab: added to" in told
    assert (
        f"wm: 開発: not imported: {clouds} (cloud '開発'): cannot make an account name from "
        f"it (letters, digits, _.-): import it alone, named: wm accounts import --clouds-yaml "
        f"{clouds} --cloud '開発' --name NAME"
    ) in told, told
    assert [a.name for a in load_config(config).accounts][-1] == "lab"


def test_a_region_the_cloud_does_not_have_is_refused_with_its_regions(
    tmp_path: Path, config: Path
) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(CLOUDS.replace("    region_name: RegionTwo\n", "    region_name: [R1, R2]\n"))
    result = wm(
        config,
        "accounts",
        "import",
        "--clouds-yaml",
        str(clouds),
        "--cloud",
        "lab",
        "--region",
        "R3",
        "--no-secrets",
    )
    assert result.exit_code == 3
    assert "region 'R3' is not one of the cloud's (R1, R2; case counts)" in result.output
    assert "Traceback" not in result.output


def test_what_libcloud_scopes_or_logs_in_by_otherwise_is_noted(
    tmp_path: Path, config: Path
) -> None:
    """keystoneauth scopes by project_id when both are given, logs in to the user's domain
    by its id (here openstacksdk's `domain_id` shorthand's), and discovers what a v2.0 url
    serves; libcloud scopes and names domains by name and logs in with v3: said, not done
    silently."""
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        CLOUDS.replace("project_name: alpha\n", "project_name: alpha\n      project_id: 0123abcd\n")
        .replace("user_domain_name: Users\n", "user_domain_name: Users\n      domain_id: 7c2e\n")
        .replace("5000/v3/", "5000/v2.0")
        .replace("    identity_api_version: 3\n", "")
    )
    result = wm(
        config, "accounts", "import", "--clouds-yaml", str(clouds), "--cloud", "lab", "--no-secrets"
    )
    assert result.exit_code == 0, result.output
    told = " ".join(result.output.split())
    assert (
        "lab: note: project_id 0123abcd not carried over: libcloud scopes by the project's "
        "name (alpha), the same project only if the id is alpha's"
    ) in told
    assert (
        "lab: note: user domain id 7c2e not carried over: libcloud names the user's domain "
        "(Users), the same domain only if 7c2e is the id of Users"
    ) in told
    assert (
        "lab: note: auth_url names Keystone v2.0: wm logs in with v3 at "
        "https://keystone.lab.example:5000"
    ) in told


def test_a_compute_interface_is_noted_like_an_interface(tmp_path: Path, config: Path) -> None:
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        CLOUDS.replace("    interface: public\n", "    compute_interface: internal\n")
    )
    result = wm(
        config, "accounts", "import", "--clouds-yaml", str(clouds), "--cloud", "lab", "--no-secrets"
    )
    assert result.exit_code == 0, result.output
    assert "lab: note: interface 'internal' not carried over" in result.output


def test_a_client_certificate_is_carried_over_with_its_key(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openstacksdk's `cert` and `key` (keystoneauth presents them on every request) become
    the account's client_cert and client_key, `~` expanded as openstacksdk does; a key
    without a certificate is ignored by openstacksdk, and said."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "secure.yaml").write_text(SECURE)
    clouds = tmp_path / "clouds.yaml"
    pair = "    cert: ~/certs/alice.pem\n    key: ~/certs/alice.key\n"
    clouds.write_text(
        CLOUDS.replace("    cacert: /etc/ssl/lab-ca.pem\n", pair).replace(
            "  ci:\n", "  ci:\n    key: /etc/ssl/lonely.key\n"
        )
    )
    result = wm(config, "accounts", "import", "--clouds-yaml", str(clouds), "--no-secrets")
    assert result.exit_code == 0, result.output
    loaded = {a.name: a for a in load_config(config).accounts}
    assert loaded["lab"].settings == {
        "client_cert": f"{tmp_path}/home/certs/alice.pem",
        "client_key": f"{tmp_path}/home/certs/alice.key",
    }
    assert loaded["ci"].settings == {}
    assert "ci: note: key without cert not carried over (openstacksdk ignores it too)" in (
        result.output
    )


def test_a_new_config_file_is_created_private(tmp_path: Path, clouds: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    add_to_config(path, from_clouds_yaml(clouds, ["lab"]), store_secret=None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [a.name for a in load_config(path).accounts] == ["lab"]
    assert tomllib.loads(path.read_text())["accounts"][0]["credentials"] == {"key": "alice"}


def test_garbled_inputs_are_config_errors(tmp_path: Path, config: Path) -> None:
    bad = tmp_path / "clouds.yaml"
    bad.write_text("clouds: [unclosed\n")
    result = wm(config, "accounts", "import", "--clouds-yaml", str(bad))
    assert result.exit_code == 3
    assert f"{bad}: not valid YAML" in result.output

    good = tmp_path / "good.yaml"
    good.write_text(CLOUDS)
    config.write_text("accounts = [ {name = 'x'} ]\n")
    result = wm(config, "accounts", "import", "--clouds-yaml", str(good), "--no-secrets")
    assert result.exit_code == 3
    assert "inline array" in result.output

    result = wm(config, "accounts", "import", "--clouds-yaml", str(good), "--cloud", "nope")
    assert result.exit_code == 3
    assert "no cloud 'nope' (it has: ci, lab)" in result.output
