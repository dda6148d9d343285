"""Config and credential errors exit 3 from every command and name the config file; on a
host without a keyring, each message names the secret source that fits its command."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from click.testing import CliRunner, Result
from keyring.backends.fail import Keyring as FailKeyring

from tests.conftest import Cloud
from tests.test_portal_moto import iam_moto
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.user.credentials import KEYRING_SERVICE

__all__ = ["iam_moto"]  # the IAM-enforcing moto, a fixture of test_portal_moto


def wm(config: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], input=stdin)


def ec2_account(cloud: Cloud, name: str, credentials: str, extra: str = "") -> str:
    return (
        f'[[accounts]]\nname = "{name}"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f'endpoint = {{ host = "127.0.0.1", port = {cloud.server.port}, secure = false }}\n'
        f"credentials = {{ {credentials} }}\n{extra}"
    )


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (("ls",), ExitCode.CONFIG),
        (("accounts",), ExitCode.CONFIG),
        (("accounts", "test"), ExitCode.CONFIG),
        (("stop", "prod/i-1", "--yes"), ExitCode.CONFIG),
        # The typo fails its account alone, and wm catalog says any account it could not
        # read as a failure (1), as it says a provider that is no libcloud provider.
        (("catalog",), ExitCode.FAILED),
    ],
)
def test_a_typo_in_an_account_is_said_by_every_command(
    tmp_path: Path, command: tuple[str, ...], code: ExitCode
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text('[[accounts]]\nname = "prod"\nprovider = "ec2"\nreadonly = true\n')
    result = wm(config, *command)
    assert result.exit_code == code, result.output
    assert "unknown key 'readonly'" in result.output
    assert f"(did you mean 'read_only'?) (in {config})" in result.output


def test_no_secret_exits_3_from_ls_and_test_naming_the_config(cloud: Cloud, tmp_path: Path) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(
        ec2_account(cloud, "dev", f'key = "{"AKIA" + "DEV"}", secret_env = "DEV_SECRET"')
        + ec2_account(cloud, "nosecret", 'key = "AKIAX", keyring = false, secret_env = "UNSET"')
    )
    cloud.monkeypatch.setenv("DEV_SECRET", "s")
    listed = wm(config, "ls")
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert "nosecret: no secret found (tried env UNSET (not set))" in listed.output
    assert f"(config: {config})" in listed.output
    tested = wm(config, "accounts", "test")
    assert tested.exit_code == ExitCode.CONFIG
    assert "dev: ok" in tested.output
    assert f"(config: {config})" in tested.output


def test_a_cloud_that_refuses_the_credentials_exits_3(
    cloud: Cloud, tmp_path: Path, iam_moto: tuple[str, int, str, str]
) -> None:
    _host, port, key, secret = iam_moto
    cloud.monkeypatch.setenv("MALLORY_SECRET", "not-" + secret)
    config = tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "mallory"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f'endpoint = {{ host = "127.0.0.1", port = {port}, secure = false }}\n'
        f'credentials = {{ key = "{key}", keyring = false, secret_env = "MALLORY_SECRET" }}\n'
    )
    tested = wm(config, "accounts", "test", "mallory")
    assert tested.exit_code == ExitCode.CONFIG, tested.output
    assert "mallory: FAILED: credentials refused by ec2" in tested.output
    assert secret not in tested.output
    listed = wm(config, "ls", "--json")
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert "wm: mallory: credentials refused by ec2" in listed.output
    assert f"(config: {config})" in listed.output


def test_without_a_keyring_each_command_names_the_source_that_fits(
    cloud: Cloud, tmp_path: Path
) -> None:
    keyring.set_keyring(FailKeyring())  # type: ignore[no-untyped-call]
    config = tmp_path / "wm.toml"
    config.write_text(ec2_account(cloud, "prod-eu", 'key = "AKIAX"'))

    listed = wm(config, "ls")
    assert listed.exit_code == ExitCode.CONFIG
    assert 'secret_env = "WM_SECRET_PROD_EU"' in listed.output
    assert "wm accounts set-secret" not in listed.output  # it cannot store anything here

    stored = wm(config, "accounts", "set-secret", "prod-eu", stdin="s3cret\n")
    assert stored.exit_code == ExitCode.CONFIG
    assert "no keyring backend" in stored.output
    assert 'secret_env = "WM_SECRET_PROD_EU"' in stored.output
    assert 'secret_command = "pass show cloud/prod-eu"' in stored.output
    assert f"(config: {config})" in stored.output
    assert "s3cret" not in stored.output

    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(
        "clouds:\n  lab:\n    auth:\n      auth_url: https://k.example:5000/v3\n"
        "      username: u\n      password: pw\n      project_name: p\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
    )
    imported = wm(config, "accounts", "import", "--clouds-yaml", str(clouds))
    assert imported.exit_code == ExitCode.CONFIG
    assert "--no-secrets" in imported.output
    assert 'secret_env = "WM_SECRET_LAB"' in imported.output


_KEEP = (
    "or drop keyring = false from its [accounts.credentials] to keep it in the keyring; "
    "nothing stored"
)


@pytest.mark.parametrize(
    ("credentials", "extra", "said"),
    [
        (
            'aws_profile = "dev"',
            "",
            "prod: its credentials come from the AWS profile 'dev' (the AWS CLI's files and "
            "chain), which never reads wm's keyring: set them with `aws configure --profile dev`",
        ),
        (
            'key = "AKIAX", keyring = false, secret_env = "PROD_SECRET"',
            "",
            "prod: it reads no keyring (keyring = false): its secret comes from the environment "
            "variable PROD_SECRET (secret_env): export PROD_SECRET before running wm, " + _KEEP,
        ),
        (
            'key = "AKIAX", keyring = false',
            "",
            "prod: it reads no keyring (keyring = false): name an environment variable "
            "(secret_env) or a command (secret_command) for its secret in its "
            "[accounts.credentials], or drop keyring = false from them to keep it in the "
            "keyring; nothing stored",
        ),
        (  # refused at load (timeout), its credentials kept: it was asked for, and stored
            'key = "AKIAX", keyring = false, secret_command = "pass show cloud/prod"',
            'timeout = "soon"\n',
            "prod: it reads no keyring (keyring = false): its secret comes from the command "
            "secret_command names: have it print the secret, " + _KEEP,
        ),
        (  # refused in its credentials: only keyring = false is kept, nothing else shown
            'key = "AKIAX", keyring = false, secret_env = "$PROD_SECRET"',
            "",
            "prod: it reads no keyring (keyring = false): name an environment variable",
        ),
    ],
    ids=["aws-profile", "keyring-false", "keyring-false-alone", "refused", "refused-credentials"],
)
def test_set_secret_refuses_an_account_that_would_never_read_it(
    cloud: Cloud, tmp_path: Path, credentials: str, extra: str, said: str
) -> None:
    """It said "secret stored in the keyring", and the account went on failing or using
    other credentials: nothing reads the keyring for it. One refused at load was asked
    for the secret, which went to the keyring it never reads."""
    config = tmp_path / "wm.toml"
    config.write_text(ec2_account(cloud, "prod", credentials, extra))
    stored = wm(config, "accounts", "set-secret", "prod", stdin="s3cret\n")
    assert stored.exit_code == ExitCode.CONFIG, stored.output
    assert said in stored.output
    assert "stored in the keyring" not in stored.output
    assert "secret for prod" not in stored.output  # nothing was asked
    assert keyring.get_password(KEYRING_SERVICE, "prod") is None
    if extra:  # what is refused is said too, to fix with it
        assert "wm: prod: field timeout: must be a number" in stored.output


@pytest.mark.parametrize("command", [("ls",), ("accounts",), ("accounts", "test")])
def test_a_backend_not_installed_exits_3_naming_the_installed_ones(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text('[[accounts]]\nname = "stacks"\nbackend = "openstack-heat"\n')
    result = wm(config, *command)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "stacks: " in result.output  # `wm accounts test` says it as the account's result
    assert "backend 'openstack-heat' is not installed" in result.output
    assert "installed backends: " in result.output
    assert str(config) in result.stderr
