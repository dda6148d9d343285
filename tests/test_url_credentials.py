"""No backend takes credentials in a URL: a `user:password@` in an aggregator's url, or in
Heat's endpoint_url or auth_url, fails that account in the config's words, never echoing
the password. httpx would have sent it as Basic auth in place of the token (the aggregator
then said it did not know the token), and a message naming the URL would have shown it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from winged_monkey.cli.main import ExitCode, main

PASSWORD = "s3cretPassw0rd"
GOOD = '[[accounts]]\nname = "good"\nprovider = "libvirt"\ndriver = { uri = "test:///default" }\n'
REFUSED = "must not carry a user or a password (the user:password@ before the host): "


def wm(tmp_path: Path, account: str, *args: str) -> Result:
    config = tmp_path / "wm.toml"
    config.write_text(f"{GOOD}\n[[accounts]]\n{account}\n")
    return CliRunner().invoke(main, ["--config", str(config), *args])


def refused(done: Result, account: str, said: str) -> None:
    assert done.exit_code == ExitCode.CONFIG, done.output
    assert PASSWORD not in done.output
    assert "Traceback" not in done.output
    lines = done.output.splitlines()
    assert any(
        line.startswith((f"wm: {account}: ", f"{account}: FAILED: ")) and said in line
        for line in lines
    ), done.output


@pytest.mark.parametrize(
    "url",
    [
        f"https://alice:{PASSWORD}@127.0.0.1:1",
        f"http://alice:{PASSWORD}@127.0.0.1:1/api/v1",
        f"https://alice:{PASSWORD}@[::1:8780",  # urlsplit refuses it: still not echoed
        f" https://alice:{PASSWORD}@127.0.0.1:1",  # the spaces' refusal echoes the url
        "https://alice@127.0.0.1:1",
    ],
)
@pytest.mark.parametrize("command", [("accounts",), ("ls",), ("accounts", "test")])
def test_an_aggregator_url_with_a_password_is_refused_naming_where_the_token_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("WM_TEAM_TOKEN", "wmtok_abc123456")
    account = (
        f'name = "team"\nbackend = "aggregator"\nurl = "{url}"\n'
        'credentials = { keyring = false, secret_env = "WM_TEAM_TOKEN" }\n'
    )
    done = wm(tmp_path, account, *command)
    refused(
        done,
        "team",
        f"aggregator settings: url: {REFUSED}the aggregator takes your token as the "
        "account's secret: `wm accounts set-secret team`, or secret_env or secret_command "
        "in its [accounts.credentials]",
    )
    assert "does not know your token" not in done.output


@pytest.mark.parametrize(
    "keys",
    [
        f'endpoint_url = "http://alice:{PASSWORD}@127.0.0.1:9/v1"\nproject = "p"',
        f'auth_url = "https://alice:{PASSWORD}@keystone:5000/v3"\nusername = "alice"\n'
        'project_name = "p"',
    ],
    ids=["endpoint_url", "auth_url"],
)
def test_a_heat_url_with_a_password_is_refused(tmp_path: Path, keys: str) -> None:
    key = keys.partition(" ")[0]
    done = wm(tmp_path, f'name = "stacks"\nbackend = "heat"\n{keys}\n', "accounts")
    refused(
        done,
        "stacks",
        f"Heat account: {key}: {REFUSED}the user goes in username, and the account's secret "
        "goes in the keyring (`wm accounts set-secret stacks`), or comes from secret_env or "
        "secret_command in its [accounts.credentials]",
    )
