"""`wm accounts` builds each account's backend, as `wm ls` does but with no secret and no
network call, so that what a backend can tell is wrong before it calls anything (a libcloud
provider or driver key libcloud does not know, a CA bundle or clouds.yaml that is not there)
is said in the words `wm ls` has for it; the other accounts still list; exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main
from winged_monkey_libcloud.backend import LibcloudBackend

ACCOUNTS = """\
[[accounts]]
name = "good"
provider = "EC2"
region = "us-east-1"
credentials = { key = "AKIAEXAMPLE", keyring = false, secret_env = "WM_TEST_UNSET" }

[[accounts]]
name = "typo"
provider = "openstak"

[[accounts]]
name = "made-up"
provider = "nosuchcloud"

[[accounts]]
name = "stacks"
backend = "heat"
endpoint_url = "http://127.0.0.1:9/v1"
project = "p"
"""


def wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "wm.toml"
    path.write_text(ACCOUNTS)
    return path


def test_a_provider_libcloud_does_not_know_is_said_as_wm_ls_says_it(config: Path) -> None:
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    rows = {row[0]: " ".join(row[1:]) for row in map(str.split, listed.stdout.splitlines()[1:])}
    assert rows == {  # every account still listed; "EC2" is ec2; heat checks nothing
        "good": "libcloud EC2 us-east-1",
        "typo": "libcloud openstak config refused (below)",
        "made-up": "libcloud nosuchcloud config refused (below)",
        "stacks": "heat",
    }
    said = listed.stderr.splitlines()
    assert len(said) == 3, said
    assert said[0] == "wm: typo: unknown libcloud provider 'openstak'; did you mean openstack?"
    # the close names for it depend on libcloud's version
    assert said[1].startswith("wm: made-up: unknown libcloud provider 'nosuchcloud'; did you ")
    assert said[2] == f"wm: an account's config or credentials are wrong (config: {config})"
    # The very lines `wm ls` prints for them when it builds their backends.
    ls = wm(config, "ls")
    assert ls.exit_code == ExitCode.CONFIG, ls.output
    assert said[0] in ls.stderr.splitlines()
    assert said[1] in ls.stderr.splitlines()


def test_a_check_that_breaks_is_said_for_its_account_not_as_a_traceback(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plugin whose check fails on its own (its library half installed) fails the
    accounts it checks, in words; the listing is still printed."""

    def broken(self: object, *args: object) -> None:
        raise ModuleNotFoundError("No module named 'libcloud.compute.providers'")

    monkeypatch.setattr(LibcloudBackend, "__init__", broken)
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert len(listed.stdout.splitlines()) == 5
    assert (
        "wm: good: backend 'libcloud' failed to build (unexpected ModuleNotFoundError: "
        "No module named 'libcloud.compute.providers')"
    ) in listed.stderr.splitlines()
    assert "Traceback" not in listed.output


MORE = """\
[[accounts]]
name = "fine"
provider = "ec2"
region = "us-east-1"
credentials = { key = "AKIAEXAMPLE", keyring = false, secret_env = "WM_TEST_UNSET" }

[[accounts]]
name = "driver-typo"
provider = "ec2"
region = "us-east-1"
driver = { sigv = "4" }
credentials = { key = "AKIAEXAMPLE", keyring = false, secret_env = "WM_TEST_UNSET" }

[[accounts]]
name = "no-ca"
provider = "ec2"
region = "us-east-1"
ca_bundle = "/nonexistent/ca.pem"
credentials = { key = "AKIAEXAMPLE", keyring = false, secret_env = "WM_TEST_UNSET" }

[[accounts]]
name = "no-cloud"
provider = "openstack"
cloud = "nowhere"
"""


def test_what_building_the_backend_refuses_is_said_without_a_secret_or_a_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver key libcloud's driver would drop, a CA bundle or a clouds.yaml that is not
    there: `wm ls` refuses them when it builds the backends; `wm accounts` said nothing. The
    `fine` account has no secret anywhere: not something `wm accounts` flags."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none" / "clouds.yaml"))
    config = tmp_path / "wm.toml"
    config.write_text(MORE)
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    flags = {row.split()[0]: row.split()[3:] for row in listed.stdout.splitlines()[1:]}
    assert flags["fine"] == ["us-east-1"]
    said = {line.split(":")[1].strip(): line for line in listed.stderr.splitlines()[:-1]}
    assert set(said) == {"driver-typo", "no-ca", "no-cloud"}
    assert "unknown key 'sigv' in driver" in said["driver-typo"]
    assert "ca_bundle /nonexistent/ca.pem: no such file" in said["no-ca"]
    assert "cloud 'nowhere'" in said["no-cloud"]
    ls = wm(config, "ls")  # the same words, from building the same backends
    for line in said.values():
        assert line in ls.stderr.splitlines()


@pytest.mark.parametrize(
    ("written", "meant"), [('"false"', "false"), ('"No"', "false"), ('"TRUE"', "true")]
)
def test_a_quoted_boolean_in_heats_verify_is_not_taken_for_a_ca_path(
    tmp_path: Path, written: str, meant: str
) -> None:
    """`verify = "false"` was a CA bundle's path: "ca_bundle false: no such file"."""
    config = tmp_path / "wm.toml"
    config.write_text(ACCOUNTS + f"verify = {written}\n")
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert listed.stdout.splitlines()[1].split()[0] == "good"  # the others still listed
    assert (
        f"wm: stacks: Heat account: verify: write {meant} without quotes (a quoted string is "
        "a CA bundle's path)\n"
    ) in listed.stderr
    assert "no such file" not in listed.stderr


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            "limits = { cpus = 8 }",
            "limits: unknown key 'cpus' (did you mean 'vcpus'?): limits takes instances, "
            "vcpus, ram_mb",
        ),
        (
            "limits = { vcpus = -1 }",
            "limits: vcpus must be a whole number, 0 or more (no quotes), "
            "e.g. limits = {vcpus = 8}",
        ),
        (
            'images = "ami-123"',
            'images: must be a list of image ids, e.g. images = ["ami-1e749f67"]',
        ),
    ],
    ids=["limits-key", "limits-negative", "images-string"],
)
def test_a_libcloud_accounts_limits_or_images_are_checked_when_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, said: str
) -> None:
    """They were read only by `wm catalog`, `wm where` and `wm launch` (exit 1, naming no
    config file); `wm ls` and `wm accounts` said nothing. `capped` has its secret, and an
    endpoint where nothing listens: `wm ls` refuses it when it builds it, before any call."""
    monkeypatch.setenv("WM_TEST_CAPPED", "not-a-real-secret")
    config = tmp_path / "wm.toml"
    config.write_text(
        ACCOUNTS.split("\n\n")[0]
        + '\n\n[[accounts]]\nname = "capped"\nprovider = "ec2"\nregion = "us-east-1"\n'
        + 'endpoint = { host = "127.0.0.1", port = 9, secure = false }\n'
        + 'credentials = { key = "AKIAEXAMPLE", keyring = false, secret_env = "WM_TEST_CAPPED" }\n'
        + line
        + "\n"
    )
    listed = wm(config, "accounts")

    assert listed.exit_code == ExitCode.CONFIG, listed.output
    rows = [row.split()[0] for row in listed.stdout.splitlines()[1:]]
    assert rows == ["good", "capped"]
    words = f"wm: capped: libcloud settings: {said}\n"
    assert words in listed.stderr
    assert f"(config: {config})" in listed.stderr
    ls = wm(config, "ls")  # the same words, from building the same backend
    assert ls.exit_code == ExitCode.CONFIG, ls.output
    assert words in ls.stderr
