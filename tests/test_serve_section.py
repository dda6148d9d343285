"""The `[serve]` section of a config is wm serve's, but every command checks it: a typo there
is told at once (exit 3), not left for the day the server starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from winged_monkey.cli.base import ExitCode
from winged_monkey.cli.main import main

ACCOUNT = (
    '[[accounts]]\nname = "lab"\nprovider = "ec2"\nregion = "us-east-1"\n'
    'credentials = { key = "AKIAEXAMPLE", secret_env = "WM_NO_SUCH_VAR", keyring = false }\n'
)


@pytest.mark.parametrize(
    ("section", "said"),
    [
        (
            "pol_interval = 30",
            "unknown key 'serve.pol_interval' (did you mean 'serve.poll_interval'?)",
        ),
        ('rate = "20/s"', "field serve.rate: must be a number (no quotes, no unit)"),
        (
            '[serve.pools."data team"]\nwindow_hours = 2',
            "field serve.pools: [serve.pools] 'data team' cannot be a pool's name: use "
            "letters, digits, '_', '.' and '-', starting with a letter or a digit, at most 64 "
            "(it goes in the aggregator's URLs and in catalog ids team/POOL/NAME)",
        ),
    ],
)
@pytest.mark.parametrize("command", [("ls",), ("accounts",), ("accounts", "test")])
def test_a_mistake_in_serve_is_told_by_every_command(
    tmp_path: Path, section: str, said: str, command: tuple[str, ...]
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(f"[serve]\n{section}\n\n{ACCOUNT}", encoding="utf-8")
    env = {"WM_CONFIG": str(config), "WM_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(main, list(command), env=env, catch_exceptions=False)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"wm: {config}: {said}" in result.stderr
    assert "Traceback" not in result.output


def test_a_right_serve_section_is_left_to_wm_serve(tmp_path: Path) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(f"[serve]\npoll_interval = 30\nrate = 5\n\n{ACCOUNT}", encoding="utf-8")
    env = {"WM_CONFIG": str(config), "WM_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(main, ["accounts"], env=env, catch_exceptions=False)
    assert result.exit_code == ExitCode.OK, result.output
    assert "lab" in result.stdout
