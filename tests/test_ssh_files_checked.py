"""A file an account's ssh keys name (ssh_identity, ssh_config) that is not there was found
only by `wm ssh`: `wm accounts test` and `wm accounts` say it for the account, naming the
key and the path with ~ expanded; the account still lists (moto) and nothing exits 3."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cloud
from tests.test_exit_codes import ec2_account
from winged_monkey.cli.main import ExitCode, main

SSH_KEYS = 'ssh_identity = "~/.ssh/prod.pem"\nssh_config = "~/.ssh/wm_config"\n'


def wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def test_missing_ssh_files_are_said_by_the_checks_and_the_account_still_lists(
    cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WM_PROD_SECRET", "moto-takes-any")
    cloud.launch(cloud.ec2(), "web-1")
    config = tmp_path / "wm.toml"
    creds = 'key = "AKIAPROD", keyring = false, secret_env = "WM_PROD_SECRET"'
    config.write_text(ec2_account(cloud, "prod", creds, SSH_KEYS))
    identity = f"ssh_identity {home}/.ssh/prod.pem: no such file (set ssh_identity to the "
    ssh_config = f"ssh_config {home}/.ssh/wm_config: no such file"

    tested = wm(config, "accounts", "test")
    assert tested.exit_code == ExitCode.OK, tested.output
    assert "prod: ok: " in tested.stdout
    assert f"prod: for wm ssh: {identity}" in tested.stdout
    assert f"prod: for wm ssh: {ssh_config}\n" in tested.stdout

    listed = wm(config, "accounts")
    assert listed.exit_code == ExitCode.OK, listed.output
    assert "ssh file missing (below)" in listed.stdout
    assert f"wm: prod: for wm ssh: {identity}" in listed.stderr

    rows = wm(config, "ls")
    assert rows.exit_code == ExitCode.OK, rows.output
    assert "web-1" in rows.stdout

    (home / ".ssh" / "prod.pem").write_text("a key\n")  # there now: nothing said of it
    (home / ".ssh" / "wm_config").write_text("")
    tested = wm(config, "accounts", "test")
    assert "for wm ssh" not in tested.output
