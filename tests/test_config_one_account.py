"""A mistake inside one [[accounts]] table fails that account alone, with the words the
whole file's check has for it: the other accounts list, `wm ls` and `wm accounts` say the
refusal and exit 3, `wm accounts test` reports it, and the TUI starts with it in the strip
and the accounts view. A mistake outside one account's table still refuses the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from textual.widgets import Static

from tests.conftest import DEV_KEY, DEV_SECRET, Cloud
from tests.ui.conftest import SLOW, settle, wait_for
from tests.ui.test_account_strip import flat, open_accounts, shown_text, strip_of
from winged_monkey.cli.main import ExitCode, main
from winged_monkey.engine.portal import Portal
from winged_monkey.store.sqlite import Store
from winged_monkey.ui.app import WMApp
from winged_monkey.user.config import load_config

PASTED = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PROD = '[[accounts]]\nname = "prod"\nprovider = "ec2"\nregion = "us-east-1"\n'

#: A line added to prod's table, and what the whole file's check says of it (after the path).
MISTAKES = [
    (
        "readonly = true",
        "unknown key 'readonly' for a libcloud account (did you mean 'read_only'?)",
    ),
    ('timeout = "20s"', "field timeout: must be a number (no quotes, no unit)"),
    (
        f'credentials = {{ key = "AKIAX", secret_env = "{PASTED}" }}',
        "field credentials.secret_env: must name an environment variable "
        "(letters, digits, _), not hold the secret: export the value under a name and write "
        "that name here, or store a secret with `wm accounts set-secret`",
    ),
    (
        'endpoint = { host = "http://127.0.0.1:5123" }',
        'field endpoint.host: takes a host name only: host = "127.0.0.1", '
        "port = 5123, secure = false",
    ),
    (
        'driver = "fast"',
        "field driver: must be a table ([accounts.driver.NAME] after the "
        "account's [[accounts]] for each), not a string",
    ),
    # The keys any account carries (wm serve's pool, wm ssh's), checked at load too: wm ls
    # and wm accounts said nothing of them; wm serve refused the file for a pool, and
    # wm ssh refused the account in pydantic's words, naming neither account nor file.
    ("pool = 5", "field pool: must be a string, in quotes"),
    (
        'pool = "  "',
        "field pool: must be a pool's name, not blank: leave it out for pool 'default'",
    ),
    # A pool's name goes in the aggregator's URLs and catalog ids (team/POOL/NAME, split at
    # its first '/'): accepted, it broke there, far from the config.
    (
        'pool = "data team/eu"',
        "field pool: 'data team/eu' cannot be a pool's name: use letters, digits, '_', '.' "
        "and '-', starting with a letter or a digit, at most 64 (it goes in the "
        "aggregator's URLs and in catalog ids team/POOL/NAME)",
    ),
    ("ssh_port = 0", "field ssh_port: must be at least 1"),
    ('ssh_port = "abc"', "field ssh_port: must be a whole number (no quotes, no unit)"),
    (
        'ssh_address = "Public"',
        "field ssh_address: must be 'public' or 'private' (in quotes, as written here)",
    ),
    (
        'ssh_options = "ServerAliveInterval=30"',
        'field ssh_options: must be a list, in brackets: ssh_options = ["...", "..."]',
    ),
    ("ssh_identity = 5", "field ssh_identity: must be a file's path, in quotes"),
    (
        'ssh_user = "   "',
        "field ssh_user: must not be blank: leave the key out for ssh's own choice",
    ),
]


def wm(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def good(cloud: Cloud) -> str:
    """The account `good` on moto, its secret in the environment."""
    cloud.monkeypatch.setenv("GOOD_SECRET", DEV_SECRET)
    return (
        '[[accounts]]\nname = "good"\nprovider = "ec2"\nregion = "us-east-1"\n'
        f'endpoint = {{ host = "127.0.0.1", port = {cloud.server.port}, secure = false }}\n'
        f'credentials = {{ key = "{DEV_KEY}", keyring = false, secret_env = "GOOD_SECRET" }}\n'
    )


def with_prod(cloud: Cloud, line: str) -> Path:
    config = cloud.tmp_path / "wm.toml"
    config.write_text(good(cloud) + "\n" + PROD + line + "\n")
    return config


@pytest.mark.parametrize(("line", "said"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_one_accounts_mistake_fails_it_alone(cloud: Cloud, line: str, said: str) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    config = with_prod(cloud, line)
    refusal = f"{said} (in {config})"  # the whole file's words for it, the problem first
    named = f"an account's config or credentials are wrong (config: {config})"

    listed = wm(config, "ls", "--width", "0")
    assert listed.exit_code == ExitCode.CONFIG, listed.output
    rows = [row.split() for row in listed.stdout.splitlines()[1:]]
    assert [(row[2], row[3]) for row in rows] == [("web-1", "good")]  # "● running web-1 good"
    assert f"wm: prod: {refusal}" in listed.stderr
    assert f"wm: {named}" in listed.stderr

    as_json = wm(config, "ls", "--json")
    assert as_json.exit_code == ExitCode.CONFIG
    statuses = {s["name"]: s for s in json.loads(as_json.stdout)["accounts"]}
    assert statuses["good"]["phase"] == "ok"
    assert statuses["prod"]["phase"] == "failed"
    assert statuses["prod"]["config_error"] is True
    assert statuses["prod"]["error"].startswith(refusal)

    only_good = wm(config, "ls", "--account", "good")
    assert only_good.exit_code == ExitCode.OK, only_good.output
    assert "web-1" in only_good.stdout
    assert only_good.stderr == ""

    accounts = wm(config, "accounts")
    assert accounts.exit_code == ExitCode.CONFIG, accounts.output
    table = [row.split() for row in accounts.stdout.splitlines()]
    assert table[1][:3] == ["good", "libcloud", "ec2"]
    assert table[2][:3] == ["prod", "libcloud", "ec2"]
    assert "config refused (below)" in accounts.stdout.splitlines()[2]
    assert f"wm: prod: {refusal}" in accounts.stderr
    assert f"wm: {named}" in accounts.stderr

    tested = wm(config, "accounts", "test")
    assert tested.exit_code == ExitCode.CONFIG, tested.output
    assert "good: ok" in tested.stdout
    assert f"prod: FAILED: {refusal}" in tested.stdout
    assert f"wm: {named}" in tested.stderr

    tested_good = wm(config, "accounts", "test", "good")
    assert tested_good.exit_code == ExitCode.OK, tested_good.output
    assert "good: ok" in tested_good.stdout

    for result in (listed, as_json, accounts, tested):
        assert PASTED not in result.output
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("lang = 1\n", "unknown key 'lang'"),
        ('[[accounts]]\nname = "good"\n', "account name 'good' is used twice"),
        ('[[accounts]]\nname = "no good"\nreadonly = true\n', "account 'no good', field name"),
        ('[[accounts]]\nprovider = "ec2"\n', "account #2, field name: Field required"),
    ],
    ids=["top-level key", "duplicate name", "invalid name", "no name"],
)
def test_a_mistake_outside_one_account_still_refuses_the_file(
    cloud: Cloud, extra: str, said: str
) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    config = cloud.tmp_path / "wm.toml"
    config.write_text(extra + good(cloud) if extra.startswith("lang") else good(cloud) + extra)
    for command in (("ls",), ("accounts",), ("accounts", "test", "good")):
        result = wm(config, *command)
        assert result.exit_code == ExitCode.CONFIG, result.output
        assert result.stdout == ""
        assert said in result.stderr
        assert result.stderr.startswith(f"wm: {config}: ")


def test_the_mistake_beside_a_file_wide_one_is_said_with_it(cloud: Cloud) -> None:
    """A file refused whole says every problem, the account's included, as before."""
    config = cloud.tmp_path / "wm.toml"
    config.write_text("lang = 1\n" + good(cloud) + "\n" + PROD + 'timeout = "20s"\n')
    result = wm(config, "ls")
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "unknown key 'lang'" in result.stderr
    assert "field timeout: must be a number" in result.stderr


async def test_the_tui_starts_and_shows_the_refused_account(cloud: Cloud) -> None:
    config = with_prod(cloud, "readonly = true")
    refusal = (
        f"unknown key 'readonly' for a libcloud account (did you mean 'read_only'?) (in {config})"
    )
    loaded = load_config(config, per_account=True)
    assert [a.name for a in loaded.accounts] == ["good", "prod"]
    polled_once = loaded.model_copy(update={"refresh_interval": SLOW})
    portal = Portal(polled_once, Store.open(cloud.tmp_path / "wm.sqlite3"), user="tester")
    cloud.launch(cloud.ec2(), "web-1")
    app = WMApp(portal, title_suffix="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: portal.status("good").phase == "ok", "good listed")
        assert "web-1" in [i.name for i in portal.instances()]
        assert portal.status("prod").error == refusal
        # Cut at 80 columns, the problem first (the file's path ate the line), with where to
        # read it whole.
        line = flat(strip_of(app)[0])
        assert line.startswith("✗ prod failed: unknown key 'readonly'"), line
        assert line.endswith("(a: all)")
        screen = await open_accounts(pilot)
        assert screen.sub_title == "2 accounts: 1 failed, 1 ok"
        assert flat(refusal) in flat(shown_text(screen.query_one("#accounts-body", Static)))
