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


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            ("refresh_interval = 30", "refresh_intervall = 30"),
            "unknown key 'refresh_intervall' (did you mean 'refresh_interval'?)",
        ),
        (
            ("[keys]", "[events]\nmax_age = 7\n[keys]"),
            "unknown key 'events.max_age' (did you mean 'events.max_age_days'?)",
        ),
        (
            ("[keys]", "[[events]]\nmax_count = 5\n[keys]"),
            "field events: must be a table, not a list: write [events], not [[events]]",
        ),
        (
            ("[keys]", 'events = "90d"\n[keys]'),
            "field events: must be a table ([events]), not a string",
        ),
        (
            ("credentials = { key", 'credentials = "AKIAEXAMPLE"\nwas = { key'),
            "account 'prod', field credentials: must be a table ([accounts.credentials] after "
            "the account's [[accounts]]), not a string; account 'prod': unknown key 'was' for "
            "a libcloud account",
        ),
        (
            ("refresh_interval = 30", 'refresh_interval = "30s"'),
            "field refresh_interval: must be a number (no quotes, no unit)",
        ),
        (
            ("read_only = true", 'read_only = "perhaps"'),
            "account 'prod', field read_only: must be true or false (no quotes)",
        ),
        (
            ("port = 5000", "prot = 5000"),
            "account 'lab', unknown key 'endpoint.prot' (did you mean 'endpoint.port'?)",
        ),
        (
            ('secret_env = "PROD_SECRET"', 'secert_env = "PROD_SECRET"'),
            "account 'prod', unknown key 'credentials.secert_env' "
            "(did you mean 'credentials.secret_env'?)",
        ),
        (
            ('name = "lab"', 'name = "the lab"'),
            "account 'the lab', field name: use letters, digits, '_', '.' and '-', "
            "starting with a letter or a digit",
        ),
    ],
)
def test_a_mistyped_key_is_named_with_the_one_meant(
    tmp_path: Path, change: tuple[str, str], said: str
) -> None:
    """A typo anywhere in the file reads as a typo in an account's own keys does: the key,
    where it is, and the nearest key its table accepts, not pydantic's words."""
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: {said}"


def test_one_account_written_as_a_table_says_to_write_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, '[accounts]\nname = "prod"\nprovider = "ec2"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: field accounts: must be a list of tables: write [[accounts]] before each "
        "one, not [accounts]"
    )


@pytest.mark.parametrize("key", ["secret", "password", "token"])
def test_a_secret_written_in_credentials_is_told_where_secrets_go(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, GOOD.replace('secret_env = "PROD_SECRET"', f'{key} = "hunter2"'))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert f"account 'prod', unknown key 'credentials.{key}'" in message
    assert "a secret never goes in the config" in message
    assert "secret_env" in message
    assert "hunter2" not in message


def test_duplicate_account_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[[accounts]]\nname = "a"\n[[accounts]]\nname = "a"\n')
    with pytest.raises(ConfigError, match="'a' is used twice"):
        load_config(path)


def test_unknown_account_lists_the_configured_ones(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="configured: prod, lab"):
        config.account("dev")
