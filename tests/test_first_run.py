"""A first run with no config: every command says where the config is and how to start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from winged_monkey.cli.main import ExitCode, main
from winged_monkey.user import paths


@pytest.fixture(autouse=True)
def _first_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No WM_CONFIG (it names a file that must exist): the platform's default path, empty."""
    monkeypatch.delenv("WM_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.mark.parametrize("args", [["ls"], ["ls", "--cached"], ["accounts"], ["accounts", "test"]])
def test_no_config_says_where_and_how_to_start(args: list[str]) -> None:
    config = paths.config_path()
    assert not config.exists()
    result = CliRunner().invoke(main, args)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout == ""  # no empty table header
    assert f"no accounts configured in {config}" in result.stderr
    assert "wm --demo" in result.stderr
    assert "[[accounts]]" in result.stderr


def test_no_config_as_json_is_still_json() -> None:
    result = CliRunner().invoke(main, ["ls", "--json"])
    assert result.exit_code == ExitCode.OK
    assert json.loads(result.stdout) == {"accounts": [], "instances": []}
    assert "wm --demo" in result.stderr


def test_the_example_account_is_a_valid_config() -> None:
    """The example the words show loads as written."""
    from winged_monkey.user.config import load_config
    from winged_monkey.user.first_run import EXAMPLE

    path = paths.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(EXAMPLE + "\n")
    (account,) = load_config(path).accounts
    assert (account.name, account.provider) == ("dev", "ec2")


@pytest.mark.parametrize("args", [[], ["--demo"], ["demo"]])
def test_the_tui_refuses_a_stdout_that_is_no_terminal(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)  # stdout is captured: not a terminal
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""  # not one escape sequence
    assert "needs a terminal" in result.stderr
    assert "wm ls" in result.stderr


def test_the_tui_with_no_account_says_how_to_start_in_a_terminal() -> None:
    """In a real terminal (a pty), with no config: the words, not an empty screen."""
    controller, terminal = os.openpty()
    env = {k: v for k, v in os.environ.items() if k != "WM_CONFIG"}
    process = subprocess.Popen(
        [sys.executable, "-c", "from winged_monkey.cli.main import main; main()"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    try:
        assert process.wait(timeout=60) == ExitCode.OK
        output = b""
        while chunk := _read(controller):
            output += chunk
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    text = output.decode()
    assert "no accounts configured in" in text
    assert "wm --demo" in text
    assert "\x1b[" not in text  # no screen was drawn


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal closed: everything was read
        return b""
