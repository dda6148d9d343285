"""`cloud = "..."` accounts: clouds.yaml read by openstacksdk's own loader, turned into
libcloud's arguments without a network call; what libcloud cannot express is refused by
name. The live login is tests/openstack/test_clouds_yaml_live.py."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clouds_files import no_network, only_these_files
from tests.conftest import eventually
from tests.faultproxy import Fault, FaultProxy
from tests.processes import free_port
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ConfigError, DeadlineError
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import (
    AccountConfig,
    Config,
    Credentials,
    load_config,
    parse_config,
)
from winged_monkey.user.config_write import add_to_config
from winged_monkey.user.credentials import CredentialResolver
from winged_monkey.user.importing import each_of_clouds_yaml
from winged_monkey_libcloud import LibcloudBackend, cloudsyaml

CLOUDS = """
clouds:
  city:
    profile: citycloud
    region_name: Fra1
    auth:
      username: alice
      password: from-clouds-yaml
      project_name: web
      user_domain_name: Default
      project_domain_id: default
  hyphens:
    identity-api-version: 3
    regions: [RegionOne, RegionTwo]
    auth:
      auth-url: https://keystone.example:5000/v3
      username: bob
      tenant_name: ops
      user-domain-name: Default
      project-domain-id: default
  system:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: admin
      password: pw
      system_scope: all
      user_domain_name: Default
  foreign:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: carol
      password: pw
      project_name: p
      user_domain_name: Default
      project_domain_name: Customers
"""

SECURE = """
clouds:
  hyphens:
    auth:
      password: from-secure-yaml
"""


@pytest.fixture
def clouds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """clouds.yml (openstacksdk reads .yml too) and secure.yaml where the variables say."""
    path = tmp_path / "clouds.yml"
    path.write_text(CLOUDS)
    (tmp_path / "secure.yaml").write_text(SECURE)
    only_these_files(monkeypatch, path, tmp_path / "secure.yaml")
    no_network(monkeypatch, "resolving a cloud")
    return path


def kwargs(cloud: str, region: str | None = None) -> dict[str, Any]:
    account = AccountConfig.model_validate(
        {"name": "os", "provider": "openstack", "cloud": cloud, "region": region}
    )
    secrets = CredentialResolver(lambda account, what: "never asked").resolve(account)
    assert secrets.secret is None  # a clouds.yaml account is never prompted
    return LibcloudBackend(account, secrets).driver_kwargs()


def test_a_vendor_profile_resolves_to_its_endpoints(clouds: Path) -> None:
    found = kwargs("city")
    assert found["ex_force_auth_url"] == "https://Fra1.citycloud.com:5000"
    assert found["ex_force_service_region"] == "Fra1"
    assert (found["key"], found["secret"]) == ("alice", "from-clouds-yaml")
    assert found["ex_tenant_name"] == "web"


def test_hyphens_aliases_regions_and_secure_yaml(clouds: Path) -> None:
    found = kwargs("hyphens")
    assert found["ex_force_auth_url"] == "https://keystone.example:5000"
    assert found["ex_tenant_name"] == "ops"  # tenant_name, openstacksdk's alias
    assert found["secret"] == "from-secure-yaml"
    assert found["ex_force_service_region"] == "RegionOne"  # the list's first
    assert kwargs("hyphens", region="RegionTwo")["ex_force_service_region"] == "RegionTwo"


def test_what_libcloud_cannot_express_is_refused_by_name(clouds: Path) -> None:
    with pytest.raises(ConfigError) as system:
        kwargs("system")
    assert str(system.value) == (
        "os: clouds.yaml: cloud 'system': system-scoped (system_scope: all); "
        "libcloud scopes a token to a project only"
    )
    with pytest.raises(ConfigError, match=r"add auth.project_domain_id .*'Customers'"):
        kwargs("foreign")


def test_a_cloud_not_there_is_told_with_the_clouds_there_are(clouds: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        kwargs("nope")
    assert str(missing.value) == (
        f"os: {clouds} has no cloud 'nope' (its clouds: city, foreign, hyphens, system)"
    )


def test_without_any_clouds_yaml_the_error_says_where_it_looked(
    clouds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "gone.yaml"))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(tmp_path / "gone-secure.yaml"))
    monkeypatch.chdir(tmp_path / "home")
    with pytest.raises(ConfigError) as missing:
        kwargs("city")
    message = str(missing.value)
    assert message.startswith("os: cloud 'city': no clouds.yaml found (looked in ")
    assert str(Path.home() / ".config" / "openstack") in message
    assert "/etc/openstack" in message


def test_a_yaml_error_names_the_file_and_line_not_a_missing_cloud(
    clouds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openstacksdk's loader skips a file it cannot parse: "Cloud city was not found"
    clouds.write_text(CLOUDS.replace("password: from-clouds-yaml", "password: [unclosed"))
    with pytest.raises(ConfigError) as broken:
        kwargs("city")
    assert str(broken.value).startswith(f"os: {clouds}: not valid YAML at line 9 (")

    clouds.write_text(CLOUDS)
    (tmp_path / "secure.yaml").write_text("clouds:\n  hyphens:\n  auth: {password: x\n")
    with pytest.raises(ConfigError, match=rf"^os: {tmp_path / 'secure.yaml'}: not valid YAML at"):
        kwargs("city")


def test_a_typo_in_cloud_is_a_typo() -> None:
    typo = {"accounts": [{"name": "os", "provider": "openstack", "clod": "x"}]}
    with pytest.raises(ConfigError, match="did you mean 'cloud'"):
        parse_config(typo, source="c")


def test_the_accounts_own_secret_wins(clouds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_PW", "from-env")
    account = AccountConfig.model_validate(
        {
            "name": "os",
            "provider": "openstack",
            "cloud": "city",
            "credentials": Credentials(keyring=False, secret_env="CITY_PW"),
        }
    )
    secrets = CredentialResolver().resolve(account)
    assert LibcloudBackend(account, secrets).driver_kwargs()["secret"] == "from-env"


DEVSTACK = """
clouds:
  devstack:
    auth:
      auth_url: http://10.0.0.5/identity
      username: demo
      password: secretpw
      project_name: demo
      user_domain_id: default
      project_domain_id: default
    identity_api_version: '3'
    region_name: RegionOne
  devstack-system-admin:
    auth:
      auth_url: http://10.0.0.5/identity
      username: admin
      password: secretpw
      system_scope: all
      user_domain_id: default
    identity_api_version: '3'
    region_name: RegionOne
"""


def test_import_takes_every_cloud_it_can_and_reports_the_others(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from winged_monkey.cli.main import main

    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(DEVSTACK)  # devstack always writes a system-scoped cloud
    config = tmp_path / "wm.toml"
    result = CliRunner().invoke(
        main, ["--config", str(config), "accounts", "import", "--clouds-yaml", str(clouds)]
    )
    assert result.exit_code == 0, result.output
    assert f"devstack: added to {config}" in result.output
    assert (
        "wm: devstack-system-admin: not imported: "
        f"{clouds} (cloud 'devstack-system-admin'): system-scoped (system_scope: all); "
        "libcloud scopes a token to a project only"
    ) in result.output
    assert 'name = "devstack"' in config.read_text()
    assert "devstack-system-admin" not in config.read_text()

    asked = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "accounts",
            "import",
            "--clouds-yaml",
            str(clouds),
            "--cloud",
            "devstack-system-admin",
        ],
    )
    assert asked.exit_code == 3
    assert f"wm: nothing imported (config: {config})" in asked.output


def test_import_reads_clouds_as_the_openstack_tools_do(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from winged_monkey.cli.main import main

    clouds = tmp_path / "clouds.yml"  # .yml, a vendor profile, hyphens, tenant_name, regions
    clouds.write_text(CLOUDS)
    (tmp_path / "secure.yaml").write_text(SECURE)
    config = tmp_path / "wm.toml"
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(config),
            "accounts",
            "import",
            "--clouds-yaml",
            str(clouds),
            "--no-secrets",
        ],
    )
    assert result.exit_code == 0, result.output
    text = config.read_text()
    assert 'ex_force_auth_url = "https://Fra1.citycloud.com:5000"' in text  # the profile's
    assert 'ex_tenant_name = "ops"' in text  # tenant_name
    assert "hyphens: note: regions RegionOne, RegionTwo: imported with RegionOne" in result.output
    assert "wm: system: not imported: " in result.output
    assert "wm: foreign: not imported: " in result.output
    assert "from-secure-yaml" not in text
    assert "from-clouds-yaml" not in text


def test_an_openrc_import_without_secrets_reads_the_openrc_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from winged_monkey.cli.main import main

    openrc = {
        "OS_AUTH_URL": "https://keystone.example:5000/v3",
        "OS_USERNAME": "alice",
        "OS_PASSWORD": "from-openrc",
        "OS_PROJECT_NAME": "web",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_ID": "default",
    }
    for key, value in openrc.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "wm.toml"
    result = CliRunner().invoke(
        main, ["--config", str(config), "accounts", "import", "--os-env", "--no-secrets"]
    )
    assert result.exit_code == 0, result.output
    assert "secret read from $OS_PASSWORD (secret_env)" in result.output
    assert 'secret_env = "OS_PASSWORD"' in config.read_text()
    assert "from-openrc" not in config.read_text()


def test_a_vendor_profile_by_url_is_fetched_and_a_silent_one_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`profile: vexxhost` (or ovh) names a URL: the loader fetches the vendor's
    /.well-known/openstack/api. Here a vendor on loopback answers, then one that is gone."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.processes import free_port

    profile = {"auth": {"auth_url": "https://ks.vendor.example:5000/v3"}, "regions": ["v1", "v2"]}

    class Vendor(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"name": "wm-test-vendor", "profile": profile}).encode()
            self.send_response(200 if self.path == "/.well-known/openstack/api" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    gone = free_port()
    path = tmp_path / "clouds.yaml"
    with ThreadingHTTPServer(("127.0.0.1", 0), Vendor) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        auth = "    auth: {username: a, password: p, project_name: web}\n"
        path.write_text(
            f"clouds:\n  vendor:\n    profile: http://127.0.0.1:{server.server_address[1]}\n"
            f"{auth}  gone:\n    profile: http://127.0.0.1:{gone}\n{auth}"
        )
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(tmp_path / "no-secure.yaml"))
        found = kwargs("vendor")
        server.shutdown()
    assert found["ex_force_auth_url"] == "https://ks.vendor.example:5000"
    assert found["ex_force_service_region"] == "v1"
    with pytest.raises(ConfigError) as silent:
        kwargs("gone")
    assert str(silent.value) == (
        f"os: clouds.yaml: cloud 'gone': its vendor profile 'http://127.0.0.1:{gone}' is fetched "
        f"from http://127.0.0.1:{gone}/.well-known/openstack/api, which did not answer "
        "(ConnectionError; the OpenStack tools need it too); or write auth.auth_url and "
        "region_name in the cloud"
    )


def test_an_application_credential_without_its_auth_type_says_which_to_set(
    clouds: Path,
) -> None:
    clouds.write_text(
        "clouds:\n  ci:\n    auth:\n      auth_url: https://keystone.example:5000/v3\n"
        "      application_credential_id: 0a1b\n      application_credential_secret: s\n"
    )
    with pytest.raises(ConfigError) as refused:
        kwargs("ci")
    assert str(refused.value) == (
        "os: clouds.yaml: cloud 'ci': auth_type password takes no "
        "auth.application_credential_id; an application credential needs "
        "auth_type: v3applicationcredential"
    )


def test_a_clouds_json_indented_with_tabs_is_read_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openstacksdk reads clouds.json with json.load; YAML refuses a tab before a token, so
    wm said 'not valid YAML at line 2' of a file `openstack server list` reads."""
    path = tmp_path / "clouds.json"
    cloud = {
        "auth": {
            "auth_url": "https://keystone.example:5000/v3",
            "username": "alice",
            "password": "pw",
            "project_name": "web",
            "domain_id": "default",
        },
        "regions": ["RegionOne", {"name": "RegionTwo", "values": {}}],
    }
    path.write_text(json.dumps({"clouds": {"tabbed": cloud}}, indent="\t"))
    only_these_files(monkeypatch, path, tmp_path / "secure.json")
    no_network(monkeypatch, "resolving a cloud")
    found = kwargs("tabbed", region="RegionTwo")
    assert (found["key"], found["ex_tenant_name"]) == ("alice", "web")
    assert found["ex_force_service_region"] == "RegionTwo"

    path.write_text(
        json.dumps({"clouds": {"tabbed": cloud}}, indent="\t").replace('"web",', '"web"')
    )
    with pytest.raises(ConfigError) as broken:
        kwargs("tabbed")
    assert str(broken.value) == (f"os: {path}: not valid JSON at line 9 (Expecting ',' delimiter)")


def test_a_clouds_yaml_that_is_not_utf8_is_told_not_a_traceback(
    clouds: Path,
) -> None:
    clouds.write_bytes(CLOUDS.replace("alice", "al\xefce").encode("latin-1"))
    with pytest.raises(ConfigError) as broken:
        kwargs("city")
    offset = CLOUDS.index("alice") + 2
    assert str(broken.value) == (
        f"os: {clouds}: not UTF-8 text (byte 0xef at offset {offset}); save it as UTF-8"
    )


def test_a_region_entry_the_loader_refuses_is_named_without_its_password(clouds: Path) -> None:
    """`value:` for `values:` under a region that carries its own password: openstacksdk's
    loader says 'Invalid region entry at: {...}' with the entry, password and all."""
    clouds.write_text(
        "clouds:\n  split:\n    auth:\n      auth_url: https://keystone.example:5000/v3\n"
        "      username: alice\n      project_name: web\n      domain_id: default\n"
        "    regions:\n      - RegionOne\n      - name: east\n        value:\n"
        "          auth: {password: hunter2-east}\n"
    )
    with pytest.raises(ConfigError) as refused:
        kwargs("split")
    assert str(refused.value) == (
        "os: clouds.yaml: cloud 'split': regions: region 'east' has value: an entry takes "
        "name and values (the region's own settings go under values)"
    )


NUMBERED = """
clouds:
  2024:
    auth:
      auth_url: https://keystone.example:5000/v3
      username: alice
      password: pw
      project_name: web
      domain_id: default
  left-empty:
  a-string: RegionOne
  auth-string:
    auth: https://keystone.example:5000/v3
  regions-string:
    regions: RegionOne
    auth: {auth_url: https://keystone.example:5000/v3, username: a, password: p, project_name: web}
"""


def test_a_cloud_named_by_a_number_is_that_cloud(clouds: Path, tmp_path: Path) -> None:
    """YAML reads `2024:` as a number: cloud = "2024" was told "(its clouds: ...)" in
    Python's words ('<' not supported between instances of 'str' and 'int'), and
    wm accounts import said 'Cloud 2024 was not found'."""
    clouds.write_text(NUMBERED)
    found = kwargs("2024")
    assert (found["key"], found["secret"], found["ex_tenant_name"]) == ("alice", "pw", "web")
    with pytest.raises(ConfigError) as missing:
        kwargs("2025")
    assert str(missing.value) == (
        f"os: {clouds} has no cloud '2025' (its clouds: 2024, a-string, auth-string, "
        "hyphens, left-empty, regions-string)"
    )
    imported, _ = each_of_clouds_yaml(clouds, ["2024"])
    assert [(a.name, a.table["credentials"]["key"]) for a in imported] == [("2024", "alice")]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("left-empty", "is empty: give it auth (auth_url, username, project_name, ...)"),
        ("a-string", "is a string, not a mapping of settings (auth:, region_name:, ...)"),
        ("auth-string", "has an auth that is a string, not a mapping (auth_url:, ...)"),
        # openstacksdk reads it letter by letter: region 'R'
        ("regions-string", "has regions that are a string, not a list ([RegionOne, ...])"),
    ],
)
def test_a_cloud_of_the_wrong_shape_is_told_in_the_files_terms(
    clouds: Path, name: str, said: str
) -> None:
    """openstacksdk's loader says 'NoneType' object has no attribute 'get' of a cloud
    left empty; wm accounts import skipped it without a word."""
    clouds.write_text(NUMBERED)
    with pytest.raises(ConfigError) as refused:
        kwargs(name)
    assert str(refused.value) == f"os: {clouds}: cloud '{name}' {said}"
    imported, not_imported = each_of_clouds_yaml(clouds)
    assert name not in [a.name for a in imported]
    assert f"{clouds} (cloud '{name}'): {said}; nothing imported" in [
        e.message for e in not_imported
    ]


def test_api_timeout_is_the_imported_accounts_timeout_and_told_for_a_cloud_account(
    clouds: Path, tmp_path: Path
) -> None:
    """openstacksdk waits api_timeout seconds for each request; wm ignored it without a
    word (its own timeout, 20 s, applied)."""
    clouds.write_text(
        "clouds:\n  slow:\n    api_timeout: 90\n    auth:\n"
        "      auth_url: https://keystone.example:5000/v3\n      username: alice\n"
        "      password: pw\n      project_name: web\n      domain_id: default\n"
    )
    imported, _ = each_of_clouds_yaml(clouds)
    assert imported[0].table["timeout"] == 90
    config = tmp_path / "wm.toml"
    add_to_config(config, imported, store_secret=None)
    (account,) = load_config(config).accounts
    assert account.timeout == 90

    def notes(timeout: float | None) -> tuple[str, ...]:
        extra = {} if timeout is None else {"timeout": timeout}
        account = AccountConfig.model_validate(
            {"name": "os", "provider": "openstack", "cloud": "slow", **extra}
        )
        return cloudsyaml.resolve(account).notes

    assert notes(None) == (
        "api_timeout 90 s not carried over: the account's timeout (20 s) applies; "
        "set timeout = 90 in it to match",
    )
    assert notes(90) == ()


@pytest.mark.parametrize(
    ("cloud", "said"),
    [
        (  # a typo in the vendor's name: the loader warns, then misses auth_url
            "profile: citycluod\n    auth: {username: a, password: p, project_name: w}",
            "no auth.auth_url: its profile 'citycluod' is no vendor profile openstacksdk "
            "knows (nor one of clouds-public.yaml): check its name, or write auth.auth_url",
        ),
        (  # the openrc variable's name, lower-cased
            "auth: {os_auth_url: 'https://keystone.example:5000/v3', username: a, "
            "password: p, project_name: w}",
            "no auth.auth_url (auth.os_auth_url is there: clouds.yaml names it without os_)",
        ),
        ("region_name: RegionOne", "no auth.auth_url"),
    ],
)
def test_a_cloud_without_auth_url_says_why(clouds: Path, cloud: str, said: str) -> None:
    """The loader says 'Auth plugin requires parameters which were not given: auth_url'
    whatever the cause, and keeps its warning that the profile was not found to itself."""
    clouds.write_text(f"clouds:\n  c:\n    {cloud}\n")
    with pytest.raises(ConfigError) as refused:
        kwargs("c")
    assert str(refused.value) == f"os: clouds.yaml: cloud 'c': {said}"
    _, not_imported = each_of_clouds_yaml(clouds)
    assert [e.message for e in not_imported] == [f"{clouds} (cloud 'c'): {said}; nothing imported"]


def test_the_envvars_cloud_is_the_os_variables(
    clouds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cloud = "envvars": openstacksdk's cloud of the OS_* variables (an openrc sourced).
    Without them wm said clouds.yaml had no such cloud, or that there was no clouds.yaml."""
    with pytest.raises(ConfigError) as unset:
        kwargs("envvars")
    assert str(unset.value) == (
        "os: cloud 'envvars' is openstacksdk's name for the OS_* variables, and none is set: "
        "source the project's openrc file before wm"
    )
    openrc = {
        "OS_AUTH_URL": "https://keystone.example:5000/v3",
        "OS_USERNAME": "alice",
        "OS_PASSWORD": "from-openrc",
        "OS_PROJECT_NAME": "web",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_ID": "default",
        "OS_REGION_NAME": "RegionTwo",
    }
    for key, value in openrc.items():
        monkeypatch.setenv(key, value)
    found = kwargs("envvars")
    assert (found["key"], found["secret"]) == ("alice", "from-openrc")
    assert found["ex_force_service_region"] == "RegionTwo"


def test_a_cacert_that_is_not_there_is_named_as_clouds_yaml_names_it(
    clouds: Path, tmp_path: Path
) -> None:
    """wm said 'ca_bundle /x: no such file' of a cloud's cacert, a key the user never wrote
    (the account has no ca_bundle), for OpenStack and Heat accounts alike."""
    from click.testing import CliRunner

    from winged_monkey.cli.main import main

    clouds.write_text(
        CLOUDS.replace("  hyphens:\n", f"  hyphens:\n    cacert: {tmp_path / 'gone.pem'}\n", 1)
    )
    config = tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "os"\nprovider = "openstack"\ncloud = "hyphens"\n\n'
        '[[accounts]]\nname = "apps"\nbackend = "heat"\ncloud = "hyphens"\n'
    )
    said = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"]).output
    gone = f"clouds.yaml cacert {tmp_path / 'gone.pem'}: no such file"
    assert f"os: FAILED: {gone}" in said, said
    assert f"apps: FAILED: {gone}" in said, said


def test_a_clouds_public_yaml_with_a_yaml_error_is_told_not_skipped(
    clouds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openstacksdk's loader skips a clouds-public.yaml it cannot parse: the cloud's own
    vendor profile (profile: acme) was then 'no vendor profile openstacksdk knows'."""
    monkeypatch.chdir(tmp_path)  # the loader's first folder; its list is fixed at import
    monkeypatch.setattr(
        "openstack.config.loader.VENDOR_FILES", [str(tmp_path / "clouds-public.yaml")]
    )
    public = tmp_path / "clouds-public.yaml"
    public.write_text(
        "public-clouds:\n  acme:\n    auth: {auth_url: 'https://ks.acme.example:5000/v3'}\n"
        "    regions: [acme-1\n"
    )
    clouds.write_text(
        "clouds:\n  mine:\n    profile: acme\n"
        "    auth: {username: a, password: p, project_name: web, domain_id: default}\n"
    )
    with pytest.raises(ConfigError) as broken:
        kwargs("mine")
    assert str(broken.value).startswith(f"os: {public}: not valid YAML at line 5 (")
    public.write_text(public.read_text().replace("[acme-1\n", "[acme-1]\n"))
    found = kwargs("mine")
    assert found["ex_force_auth_url"] == "https://ks.acme.example:5000"
    assert found["ex_force_service_region"] == "acme-1"


def test_two_accounts_reading_clouds_at_once_leave_the_warning_filters_as_they_were(
    clouds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """wm builds its accounts in threads at once; each read of clouds.yaml set the
    process's warning filters (catch_warnings, not thread-safe before Python 3.14). One
    inside while the other came out left them set: an openstacksdk deprecation was then
    printed over the TUI (`always`), or every later warning went into one read's list."""
    import threading

    from openstack.config.loader import OpenStackConfig

    real = OpenStackConfig.get_one
    first_in, second_trying, second_in, first_waited, first_out = (
        threading.Event() for _ in range(5)
    )
    inside_together: list[bool] = []
    main = threading.get_ident()

    def get_one(self: OpenStackConfig, *args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != main:
            first_inside = not first_waited.is_set()
            second_in.set()
            if first_inside:  # inside together: the second comes out after the first
                assert first_out.wait(10)
        elif not first_in.is_set():  # the first stays inside until the second tries
            first_in.set()
            assert second_trying.wait(10)
            inside_together.append(second_in.wait(1))  # a deadline: the fix keeps it out
            first_waited.set()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(OpenStackConfig, "get_one", get_one)
    filters, shown = list(warnings.filters), warnings._showwarnmsg_impl  # type: ignore[attr-defined]

    def second() -> None:
        assert first_in.wait(10)
        second_trying.set()
        kwargs("hyphens")

    other = threading.Thread(target=second)
    other.start()
    kwargs("city")
    first_out.set()
    other.join(10)
    assert (warnings.filters, warnings._showwarnmsg_impl) == (filters, shown)  # type: ignore[attr-defined]
    assert inside_together == [False]


def test_an_accounts_region_the_cloud_has_not_is_told_with_the_clouds_regions(
    clouds: Path,
) -> None:
    """openstacksdk: 'Region RegionThree is not a valid region name for cloud hyphens.
    Valid choices are RegionOne,RegionTwo. Please note that region names are case
    sensitive.', which never says the region was the account's."""
    with pytest.raises(ConfigError) as wrong:
        kwargs("hyphens", region="regiontwo")
    assert str(wrong.value) == (
        "os: clouds.yaml: cloud 'hyphens': region 'regiontwo' is not one of the cloud's "
        "(RegionOne, RegionTwo; case counts)"
    )
    _, refused = each_of_clouds_yaml(clouds, ["hyphens"], region="RegionThree")
    assert [e.message for e in refused] == [
        f"{clouds} (cloud 'hyphens'): region 'RegionThree' is not one of the cloud's "
        "(RegionOne, RegionTwo; case counts); nothing imported"
    ]


async def test_a_vendor_profile_that_hangs_holds_back_no_other_cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault_proxy: Callable[[int], FaultProxy]
) -> None:
    """openstacksdk fetches a remote vendor profile (vexxhost's and ovh's are URLs) while it
    resolves a cloud, 10 s a read, which a dripping server outlasts. The fetch ran inside
    the lock every clouds.yaml resolution takes: every other OpenStack and Heat account
    waited behind it, then gave up saying its own credential source had not answered."""
    vendor = fault_proxy(free_port())  # the fault answers; nothing behind it is reached
    vendor.fault = Fault("hang")
    path = tmp_path / "clouds.yaml"
    auth = (
        "    auth: {auth_url: 'https://keystone.example:5000/v3', username: a, password: p,"
        " project_name: web}\n"
    )
    path.write_text(
        f"clouds:\n  slow:\n    profile: http://127.0.0.1:{vendor.port}\n{auth}  fine:\n{auth}"
    )
    only_these_files(monkeypatch, path, tmp_path / "no-secure.yaml")
    # Under 10 s for the other one: the hung fetch held the lock that long.
    accounts = tuple(
        AccountConfig.model_validate(
            {"name": name, "provider": "openstack", "cloud": name, "timeout": timeout}
        )
        for name, timeout in (("slow", 2), ("fine", 8))
    )
    portal = Portal(Config(accounts=accounts), Store.open(tmp_path / "wm.sqlite3"))
    slow = asyncio.create_task(portal.accounts.backend("slow"))
    await eventually(lambda: vendor.requests == 1)  # the slow cloud's profile is asked for
    fine = await portal.accounts.backend("fine")
    assert fine.account.name == "fine"
    with pytest.raises(DeadlineError) as slow_one:  # the slow one alone runs out of time
        await slow
    assert "a clouds.yaml vendor profile's URL" in str(slow_one.value)
    await portal.close()
