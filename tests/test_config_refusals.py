"""Values the config refuses when it loads, as a user sees it: exit 3 from `wm ls`, the
file, the account and the key named, no traceback, and no secret echoed back."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main
from winged_monkey.errors import ConfigError
from winged_monkey.serve.settings import load_server_config
from winged_monkey.user.config import load_config

PASTED = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def wm_ls(config: Path) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "ls"])


def refused(config: Path) -> str:
    """What `wm ls` says about `config`, checked to be a config error, not a crash."""
    result = wm_ls(config)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("key", ["secret_env", "key_env", "token_env"])
def test_a_secret_pasted_where_its_variable_goes_is_refused_unechoed(
    tmp_path: Path, key: str
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "prod"\nprovider = "ec2"\n'
        f'credentials = {{ key = "AKIAXX", {key} = "{PASTED}", keyring = false }}\n'
    )
    said = refused(config)
    assert (
        f"{config}: account 'prod', field credentials.{key}: must name an environment "
        "variable (letters, digits, _), not hold the secret"
    ) in said
    assert PASTED not in said
    assert PASTED[:8] not in said


def test_a_variable_written_with_its_dollar_is_told_to_drop_it(tmp_path: Path) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "prod"\nprovider = "ec2"\n'
        'credentials = { key = "AKIAXX", secret_env = "$PROD_SECRET", keyring = false }\n'
    )
    assert "credentials.secret_env: must name an environment variable: write its name " in (
        refused(config)
    )


ACCOUNT = '[[accounts]]\nname = "prod"\nprovider = "ec2"\nregion = "eu-west-1"\n'


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (ACCOUNT.encode("utf-16"), "not UTF-8 text (saved as UTF-16?): save it as UTF-8"),
        (ACCOUNT.encode("utf-16-le"), "not UTF-8 text (saved as UTF-16?): save it as UTF-8"),
        (
            ACCOUNT.encode() + 'region = "café"\n'.encode("latin-1"),
            "not UTF-8 text (byte 0xe9 on line 5): save it as UTF-8",
        ),
        (bytes(range(128, 256)), "not UTF-8 text (byte 0x80 on line 1): save it as UTF-8"),
    ],
    ids=["utf-16", "utf-16-no-bom", "latin-1", "binary"],
)
def test_a_file_not_in_utf8_is_told_how_to_save_it(tmp_path: Path, raw: bytes, said: str) -> None:
    config = tmp_path / "wm.toml"
    config.write_bytes(raw)
    assert f"{config}: {said}" in refused(config)
    with pytest.raises(ConfigError) as info:
        load_server_config(config)
    assert str(info.value) == f"{config}: {said}"


def test_a_utf8_file_with_the_bom_windows_editors_write_is_read(tmp_path: Path) -> None:
    config = tmp_path / "wm.toml"
    config.write_bytes(codecs.BOM_UTF8 + ACCOUNT.encode())
    assert [a.name for a in load_config(config).accounts] == ["prod"]
    assert [a.name for a in load_server_config(config).config.accounts] == ["prod"]
