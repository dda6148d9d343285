"""Values the config refuses when it loads, as a user sees it: exit 3 from `wm ls`, the
file, the account and the key named, no traceback, and no secret echoed back."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import DEV_KEY, DEV_SECRET, Cloud
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
        f"wm: prod: field credentials.{key}: must name an environment "
        "variable (letters, digits, _), not hold the secret"
    ) in said
    assert f"(in {config})\n" in said
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


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "[events]\nmax_age_days = 999999\n",
            "field events.max_age_days: must be at most 36500",
        ),
        ("[events]\nmax_age_days = 1e12\n", "field events.max_age_days: must be at most"),
        ("[events]\nmax_age_days = inf\n", "field events.max_age_days: must be a finite number"),
        ("action_timeout = inf\n", "field action_timeout: must be a finite number"),
        ("refresh_interval = nan\n", "field refresh_interval: must be a finite number"),
        (ACCOUNT + "timeout = inf\n", "prod: field timeout: must be a finite number"),
        (ACCOUNT + "timeout = nan\n", "prod: field timeout: must be a finite number"),
        (
            ACCOUNT + "timeout = 1e308\n",
            "prod: field timeout: must be at most 3600",
        ),
    ],
)
def test_a_number_too_large_to_use_is_refused_naming_its_key(
    tmp_path: Path, text: str, said: str
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(text)
    out = refused(config)
    if said.startswith("prod: "):  # it fails that account alone, the problem first
        assert f"wm: {said}" in out
        assert f"(in {config})\n" in out
    else:
        assert f"{config}: {said}" in out


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("poll_interval = inf", "field serve.poll_interval: must be a finite number"),
        ("catalog_ttl = 1e300", "field serve.catalog_ttl: must be at most"),
        ("rate = nan", "field serve.rate: must be a finite number"),
    ],
)
def test_a_serve_number_too_large_is_refused_naming_its_key(
    tmp_path: Path, key: str, said: str
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(f"[serve]\n{key}\n")
    with pytest.raises(ConfigError) as info:
        load_server_config(config)
    assert str(info.value).startswith(f"{config}: {said}")


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("http://127.0.0.1:5123", 'host = "127.0.0.1", port = 5123, secure = false'),
        ("https://nova.example/compute/v2", 'host = "nova.example", path = "/compute/v2"'),
        ("127.0.0.1:5123", 'host = "127.0.0.1", port = 5123'),
        ("127.0.0.1 ", 'host = "127.0.0.1"'),
    ],
)
def test_an_endpoint_host_written_as_a_url_is_told_how_to_split_it(
    tmp_path: Path, host: str, said: str
) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(ACCOUNT + f'endpoint = {{ host = "{host}", secure = false }}\n')
    said_in = f"field endpoint.host: takes a host name only: {said} (in {config})\n"
    assert said_in in refused(config)


@pytest.mark.parametrize("host", ["cloud.example.com", "127.0.0.1", "::1", "moto_server"])
def test_an_endpoint_host_as_a_name_or_address_is_taken(tmp_path: Path, host: str) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(ACCOUNT + f'endpoint = {{ host = "{host}", port = 5000 }}\n')
    endpoint = load_config(config).account("prod").endpoint
    assert endpoint is not None
    assert endpoint.host == host


KEYS_ADVICE = (
    "is not a key (write keys as x, R, ctrl+x, shift+tab, f5, slash, question_mark; "
    "several with commas)"
)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("ctrl+shift+banana", f"stop = 'ctrl+shift+banana' {KEYS_ADVICE}"),
        ("x,contrl+x", f"stop = 'x,contrl+x': 'contrl+x' {KEYS_ADVICE}"),
        ("", f"stop = '' {KEYS_ADVICE}"),
    ],
)
def test_a_remapped_key_that_is_no_key_is_refused(tmp_path: Path, written: str, said: str) -> None:
    config = tmp_path / "wm.toml"
    config.write_text(f'[keys]\nstop = "{written}"\n')
    assert f"{config}: field keys: {said}\n" in refused(config)


def test_every_key_textual_names_may_be_remapped(tmp_path: Path) -> None:
    """The core spells keys as Textual does without importing it: every key Textual names,
    and every printable ASCII character by its Textual name, is taken."""
    from textual.keys import Keys, _character_to_key

    # Not "<any>" and the like (no key), nor "ctrl-at", a stray old spelling of ctrl+@.
    named = [key.value for key in Keys if key.value[0] != "<" and key.value != "ctrl-at"]
    characters = [_character_to_key(chr(code)) for code in range(33, 127)]
    keys = ",".join([*named, *characters, *(f"ctrl+{c}" for c in characters)])
    config = tmp_path / "wm.toml"
    config.write_text(f"[keys]\nstop = {keys!r}\n".replace("'", "'''"))
    assert load_config(config).keys["stop"] == keys


def with_good(cloud: Cloud, bad: str, good_extra: str = "") -> Path:
    """The account `good` on moto (its secret in the environment; `good_extra` lines added to
    its table), then the table `bad` (its ENDPOINT line, moto's)."""
    cloud.monkeypatch.setenv("GOOD_SECRET", DEV_SECRET)
    endpoint = f'endpoint = {{ host = "127.0.0.1", port = {cloud.server.port}, secure = false }}'
    config = cloud.tmp_path / "wm.toml"
    config.write_text(
        '[[accounts]]\nname = "good"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f"{endpoint}\n"
        f'credentials = {{ key = "{DEV_KEY}", keyring = false, secret_env = "GOOD_SECRET" }}\n'
        f"{good_extra}\n" + bad.replace("ENDPOINT", endpoint)
    )
    return config


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        (
            '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\nENDPOINT\n'
            'credentials = { aws_profile = "dev", key = "AKIAOTHER", '
            'secret_env = "GOOD_SECRET" }\n',
            "field credentials: aws_profile reads the key, secret and token from "
            "the AWS profile 'dev', so key and secret_env would be ignored: drop them, or drop "
            "aws_profile",
        ),
        (
            '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\nENDPOINT\n'
            'credentials = { aws_profile = "dev", token_env = "DEV_TOKEN" }\n',
            "field credentials: aws_profile reads the key, secret and token from "
            "the AWS profile 'dev', so token_env would be ignored: drop it, or drop aws_profile",
        ),
        (
            '[[accounts]]\nname = "dev"\nprovider = "openstack"\n'
            'credentials = { aws_profile = "dev" }\n',
            "credentials.aws_profile is for EC2 accounts only (provider = "
            "\"ec2\"), and this account's provider is 'openstack': name its key (key or "
            "key_env) and its secret (keyring, secret_env or secret_command) instead",
        ),
        (
            # No key of its own made it botocore's chain, which reads no keyring.
            '[[accounts]]\nname = "dev"\nprovider = "ec2"\nregion = "us-east-1"\nENDPOINT\n'
            "credentials = { keyring = true }\n",
            "credentials.keyring = true holds an EC2 account's secret access "
            "key, and this account names no access key id beside it: name it (key or "
            "key_env), or drop keyring = true to use the AWS chain (AWS_* variables, ~/.aws, "
            "an instance role)",
        ),
    ],
    ids=[
        "key-and-secret-beside-a-profile",
        "token-beside-a-profile",
        "profile-on-openstack",
        "keyring-with-no-key",
    ],
)
def test_ec2_credentials_that_would_be_ignored_fail_that_account(
    cloud: Cloud, aws_files: Path, bad: str, said: str
) -> None:
    (aws_files / "credentials").write_text(
        f"[dev]\naws_access_key_id = {DEV_KEY}\naws_secret_access_key = {DEV_SECRET}\n"
    )
    cloud.launch(cloud.ec2(), "web-1")
    config = with_good(cloud, bad)
    listed = wm_ls(config)
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    assert "web-1" in listed.stdout  # the other account still lists
    assert f"wm: dev: {said} (in {config})\n" in listed.stderr
    tested = CliRunner().invoke(main, ["--config", str(config), "accounts", "test"])
    assert tested.exit_code == ExitCode.CONFIG, tested.output
    assert "good: ok" in tested.stdout
    assert f"dev: FAILED: {said} (in {config})" in tested.stdout
    for result in (listed, tested):
        assert "Traceback" not in result.output
        assert "AKIAOTHER" not in result.output
        assert DEV_SECRET not in result.output


def test_a_wrong_value_and_a_typo_in_one_table_are_both_said(tmp_path: Path) -> None:
    """The unknown-key check ran only once the values validated: the typo was said on the
    run after the value was mended."""
    config = tmp_path / "wm.toml"
    config.write_text(ACCOUNT + 'timeout = "20s"\nreadonly = true\n')
    assert (
        "wm: prod: field timeout: must be a number (no quotes, no unit); "
        "unknown key 'readonly' for a libcloud account (did you mean "
        f"'read_only'?) (in {config})\n"
    ) in refused(config)


def test_a_files_several_problems_are_said_one_a_line(tmp_path: Path) -> None:
    """Joined on one line, five typos wrapped into a paragraph at 80 columns with each
    `did you mean` cut across two lines; each is now a line of its own under the file."""
    config = tmp_path / "wm.toml"
    config.write_text(
        "refresh_intervl = 15\nrefresh_interval = 0\n[event]\nmax_age_days = 3\n"
        + ACCOUNT
        + "regoin = 'eu-west-1'\n"
    )
    said = refused(config)
    assert said == (
        f"wm: {config}: 4 problems\n"
        "  field refresh_interval: must be at least 1\n"
        "  unknown key 'refresh_intervl' (did you mean 'refresh_interval'?)\n"
        "  unknown key 'event' (did you mean 'events'?)\n"
        "  account 'prod': unknown key 'regoin' for a libcloud account (did you mean 'region'?)\n"
    )


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            ACCOUNT + '[accounts.credentials]\nsecret_env = "PROD_SECRET"\nrefresh_interval = 5\n',
            "wm: prod: unknown key 'credentials.refresh_interval': refresh_interval is a "
            "top-level setting: move it above the first [[accounts]] (TOML puts keys after a "
            "table's header, here [accounts.credentials], into that table)",
        ),
        ('accounts = "prod"\n', "field accounts: must be [[accounts]] tables, one per account"),
        (
            'accounts = [{ name = "a", provider = "ec2" }]\n' + ACCOUNT,
            "accounts is written whole (`accounts = ...`) and then again as a table "
            "([accounts] or [[accounts]]) (at line 2, column 11): TOML takes one or the other; "
            "write every account as a [[accounts]] table",
        ),
    ],
    ids=["top-level-key-in-credentials", "accounts-a-string", "accounts-inline-and-tables"],
)
def test_a_config_shaped_wrong_is_told_in_the_files_words(
    tmp_path: Path, written: str, said: str
) -> None:
    """Each was said in the parser's words: `unknown key` alone, `Input should be a valid
    tuple`, `Cannot mutate immutable namespace ('accounts',)`."""
    config = tmp_path / "wm.toml"
    config.write_text(written)
    assert said in " ".join(refused(config).split())
