from __future__ import annotations

from pathlib import Path

import pytest

from winged_monkey.errors import ConfigError
from winged_monkey.user.config import load_config

GOOD = """
refresh_interval = 30

[keys]
stop = "x,ctrl+x"

[[accounts]]
name = "prod"
provider = "ec2"
region = "eu-west-1"
read_only = true
credentials = { key = "AKIAEXAMPLE", secret_env = "PROD_SECRET" }

[[accounts]]
name = "lab"
provider = "ec2"
endpoint = { host = "127.0.0.1", port = 5000, secure = false }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_a_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.refresh_interval == 30
    assert [a.name for a in config.accounts] == ["prod", "lab"]
    prod = config.account("prod")
    assert prod.read_only
    assert prod.backend == "libcloud"
    assert prod.credentials.secret_env == "PROD_SECRET"
    lab = config.account("lab")
    assert lab.endpoint is not None
    assert lab.endpoint.port == 5000
    assert config.keys["stop"] == "x,ctrl+x"


def test_missing_default_file_is_an_empty_config(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.toml").accounts == ()


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", must_exist=True)


def test_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[[accounts]]\nname = prod\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 2" in message


def test_validation_error_names_file_account_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("port = 5000", 'port = "high"'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "account 'lab'" in message
    assert "field endpoint.port" in message


def test_secrets_in_the_config_are_refused(tmp_path: Path) -> None:
    """A `secret = ...` key in credentials is a mistake we must not silently accept."""
    path = write(tmp_path, GOOD.replace('secret_env = "PROD_SECRET"', 'secret = "hunter2"'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "account 'prod'" in str(info.value)
    assert "credentials.secret" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_duplicate_account_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[[accounts]]\nname = "a"\n[[accounts]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="'a' is used twice"):
        load_config(path)


def test_unknown_account_lists_the_configured_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="configured: prod, lab"):
        config.account("dev")
