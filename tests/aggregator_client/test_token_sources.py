"""Where an aggregator account's token comes from, as Heat reads its own: the variable
token_env names, else the account's secret (keyring, secret_env, secret_command). Against a
real `wm serve`; a token put where nothing reads it (token_env unset, credentials.key) is
told so by name, never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.aggregator.server import RunningAggregator
from winged_monkey.cli.main import ExitCode, main

PASTED = "wmtok_PASTEDSECRET9876"


def wm(tmp_path: Path, url: str, credentials: str, env: dict[str, str], *args: str) -> Result:
    config = tmp_path / "wm.toml"
    config.write_text(
        f'[[accounts]]\nname = "team"\nbackend = "aggregator"\nurl = "{url}"\n'
        f"credentials = {{ {credentials} }}\n",
        encoding="utf-8",
    )
    return CliRunner().invoke(main, ["--config", str(config), *args], env=env)


def test_the_token_may_come_from_token_env_as_heats_does(
    team: RunningAggregator, tmp_path: Path
) -> None:
    token = team.mint("vera", "viewer")
    env = {"WM_TEAM_TOKEN": token}
    credentials = 'token_env = "WM_TEAM_TOKEN", keyring = false'

    tested = wm(tmp_path, team.url, credentials, env, "accounts", "test")
    assert tested.exit_code == 0, tested.output
    assert "team: ok" in tested.stdout
    listed = wm(tmp_path, team.url, credentials, env, "ls", "--json")
    assert listed.exit_code == 0, listed.output
    assert token not in listed.output + tested.output


def test_token_env_wins_over_the_secret_as_heats_does(
    team: RunningAggregator, tmp_path: Path
) -> None:
    env = {"WM_TEAM_TOKEN": team.mint("vera", "viewer"), "WM_TEAM_SECRET": "not-a-token"}
    credentials = 'token_env = "WM_TEAM_TOKEN", secret_env = "WM_TEAM_SECRET", keyring = false'
    tested = wm(tmp_path, team.url, credentials, env, "accounts", "test")
    assert tested.exit_code == 0, tested.output


@pytest.mark.parametrize(
    ("credentials", "said"),
    [
        (
            'token_env = "WM_TEAM_TOKEN", keyring = false',
            "team: no token found: export WM_TEAM_TOKEN, the variable token_env names, before "
            "running wm (or name secret_env or secret_command (this account reads no keyring))",
        ),
        (
            f'key = "{PASTED}", keyring = false',
            "team: no token found: the aggregator reads no credentials.key (the token is not a "
            "key id); it reads the keyring, secret_env or secret_command: name secret_env or "
            "secret_command (this account reads no keyring), and remove credentials.key",
        ),
    ],
    ids=["token_env-unset", "token-in-key"],
)
def test_a_token_where_none_is_read_is_told_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: str, said: str
) -> None:
    monkeypatch.delenv("WM_TEAM_TOKEN", raising=False)
    for args in (("ls",), ("accounts", "test")):
        done = wm(tmp_path, "http://127.0.0.1:9", credentials, {}, *args)
        assert done.exit_code == ExitCode.CONFIG, done.output
        assert said in done.output.replace("team: FAILED: ", "team: ")
        assert PASTED not in done.output
