"""An argument a libcloud driver's constructor requires, left out of the account, fails it
when it is built (`wm accounts` too, exit 3) in the config's words, never Python's
("__init__() missing 2 required positional arguments: 'username' and 'password'"); the
vSphere driver's points to wm's own vSphere backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from winged_monkey.cli.main import ExitCode, main
from winged_monkey_libcloud import drivers

CREDS = 'credentials = { key = "me", secret_env = "WM_TEST_SECRET", keyring = false }\n'


@pytest.mark.parametrize(
    ("provider", "said"),
    [
        (
            'provider = "vsphere"\nendpoint = { host = "vc.lab" }',
            "libcloud's vsphere driver needs username and password: use wm's own vSphere "
            'backend instead: backend = "vsphere" in place of provider, with endpoint and '
            "credentials (user in key, password as the secret)",
        ),
        (
            'provider = "gce"',
            "libcloud's gce driver needs user_id: set it in the account's driver table "
            '(driver = { user_id = "..." })',
        ),
        (
            'provider = "azure_arm"',
            "libcloud's azure_arm driver needs tenant_id and subscription_id: set them in the "
            'account\'s driver table (driver = { tenant_id = "...", subscription_id = "..." })',
        ),
    ],
    ids=["vsphere", "gce", "azure_arm"],
)
def test_a_required_driver_argument_left_out_is_said_in_the_configs_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str, said: str
) -> None:
    monkeypatch.setenv("WM_TEST_SECRET", "hunter2-never-echoed")
    config = tmp_path / "wm.toml"
    config.write_text(f'[[accounts]]\nname = "dev"\n{provider}\n{CREDS}')
    for args in (("accounts",), ("ls",), ("accounts", "test")):
        done = CliRunner().invoke(main, ["--config", str(config), *args])
        assert done.exit_code == ExitCode.CONFIG, done.output
        assert f"wm: dev: {said}\n" in done.output or f"dev: FAILED: {said}\n" in done.output
        assert "positional argument" not in done.output
        assert "hunter2" not in done.output


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            TypeError("LibvirtNodeDriver.__init__() missing 1 required positional argument: 'uri'"),
            "libcloud's libvirt driver needs uri: set it in the account's driver table "
            '(driver = { uri = "..." })',
        ),
        (
            TypeError("X.__init__() missing 1 required keyword-only argument: 'project'"),
            "libcloud's libvirt driver needs project: set it in the account's driver table "
            '(driver = { project = "..." })',
        ),
        (
            ValueError("bad port"),
            "libcloud's libvirt driver refused the settings: bad port",
        ),
    ],
)
def test_a_constructors_refusal_is_said_in_the_configs_words(
    error: TypeError | ValueError, said: str
) -> None:
    """What the check at build cannot see (a factory class picking another constructor)
    is said the same way when the driver is made."""
    assert drivers.refusal("libvirt", error) == said


def test_a_driver_key_left_out_is_told_to_go_in_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenStack account without credentials.key (its driver is made by a factory the
    check at build cannot see) was told to set key in driver, which the config refuses."""
    monkeypatch.setenv("WM_TEST_SECRET", "hunter2-never-echoed")
    config = tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "os"\nprovider = "openstack"\n'
        'driver = { ex_force_auth_url = "https://127.0.0.1:9", ex_tenant_name = "p" }\n'
        'credentials = { secret_env = "WM_TEST_SECRET", keyring = false }\n'
    )
    done = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert done.exit_code == ExitCode.CONFIG, done.output
    assert (
        "os: FAILED: libcloud's openstack driver needs key: set the account's key in its "
        '[accounts.credentials] (key = "..." or key_env), not in driver\n'
    ) in done.output
    assert "hunter2" not in done.output
