"""Which file `--config` and `WM_CONFIG` name, read the same way by every command: a `~`
left unexpanded (`--config=~/wm.toml`, a systemd unit's or an env file's WM_CONFIG) is the
home directory, and a directory is a config error (exit 3) naming it, not click's usage
error (exit 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import Cloud
from tests.test_config_one_account import good
from winged_monkey.cli.main import ExitCode, main


def wm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_a_tilde_in_wm_config_or_config_is_the_home_directory(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wm ls --cached` read ~/wm.toml; `wm ls`, `wm accounts`, `wm serve` and
    `wm --config=~/wm.toml` said "~/wm.toml: no such file"."""
    cloud.launch(cloud.ec2(), "web-1")
    tokens = cloud.tmp_path / "team-tokens.sqlite3"
    home = Path(os.environ["HOME"])
    (home / "wm.toml").write_text(f'[serve]\ntokens = "{tokens}"\n\n' + good(cloud))

    monkeypatch.setenv("WM_CONFIG", "~/wm.toml")
    listed = wm("ls", "--width", "0")
    assert listed.exit_code == ExitCode.OK, listed.output
    assert [row.split()[2:4] for row in listed.stdout.splitlines()[1:]] == [["web-1", "good"]]
    accounts = wm("accounts")
    assert accounts.exit_code == ExitCode.OK, accounts.output
    assert accounts.stdout.splitlines()[1].split()[:2] == ["good", "libcloud"]
    created = wm("serve", "token", "create", "--user", "ann", "--role", "viewer")
    assert created.exit_code == ExitCode.OK, created.output
    assert tokens.exists()  # the [serve] section of ~/wm.toml was read

    monkeypatch.delenv("WM_CONFIG")
    option = wm("--config=~/wm.toml", "ls", "--width", "0")
    assert option.exit_code == ExitCode.OK, option.output
    assert "web-1" in option.stdout
    served = wm("serve", "--config=~/wm.toml", "token", "list")
    assert served.exit_code == ExitCode.OK, served.output
    assert "ann" in served.stdout


@pytest.mark.parametrize(
    ("by_env", "args"),
    [
        (True, ("ls",)),
        (False, ("ls",)),
        (True, ("accounts",)),
        (False, ("accounts", "test")),
        (True, ("serve", "--port", "0")),
        (False, ("serve", "token", "list")),
    ],
    ids=["env-ls", "option-ls", "env-accounts", "option-test", "env-serve", "option-serve"],
)
def test_a_directory_for_the_config_is_a_config_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by_env: bool, args: tuple[str, ...]
) -> None:
    """It exited 2 with click's "Invalid value for '--config'", even from WM_CONFIG."""
    folder = tmp_path / "etc"
    folder.mkdir()
    if by_env:
        monkeypatch.setenv("WM_CONFIG", str(folder))
    result = wm(*args) if by_env else wm("--config", str(folder), *args)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert (
        f"{folder}: is a directory, not a config file: name the file itself "
        f"(e.g. {folder / 'config.toml'}) in --config or WM_CONFIG"
    ) in result.stderr
    assert "Invalid value" not in result.output
    assert "Traceback" not in result.output
