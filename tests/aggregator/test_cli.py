"""`wm serve token ...` as an admin on the bastion uses it, and what `wm` loads for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from winged_monkey.cli.main import main
from winged_monkey.serve.tokens import TokenError, TokenStore

CONFIG = """
[serve]
tokens = "{tokens}"

[[accounts]]
name = "prod"
provider = "ec2"
pool = "production"

[[accounts]]
name = "lab"
provider = "ec2"
"""


def write_config(tmp_path: Path) -> tuple[Path, Path]:
    tokens = tmp_path / "tokens.sqlite3"
    config = tmp_path / "server.toml"
    config.write_text(CONFIG.format(tokens=tokens), encoding="utf-8")
    return config, tokens


def test_token_create_list_revoke(tmp_path: Path) -> None:
    config, tokens = write_config(tmp_path)
    runner = CliRunner()
    created = runner.invoke(
        main,
        ["serve", "--config", str(config), "token", "create", "--user", "alice", "--role",
         "operator", "--pool", "production", "--expires", "30d"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("wm_")
    assert "shown only now" in created.stderr
    store = TokenStore(tokens)
    try:
        record = store.authenticate(token)
        assert (record.user, record.role, record.pool) == ("alice", "operator", "production")
        # Only a hash is kept: the token itself is nowhere in the file.
        assert token.encode() not in tokens.read_bytes()
    finally:
        store.close()

    listed = runner.invoke(main, ["serve", "--config", str(config), "token", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.stdout)
    assert (row["user"], row["pool"], row["revoked_at"]) == ("alice", "production", None)
    assert token not in listed.stdout

    revoked = runner.invoke(main, ["serve", "--config", str(config), "token", "revoke", row["id"]])
    assert revoked.exit_code == 0, revoked.output
    store = TokenStore(tokens)
    try:
        with pytest.raises(TokenError) as refused:
            store.authenticate(token)
        assert refused.value.code == "token_revoked"
    finally:
        store.close()
    again = runner.invoke(main, ["serve", "--config", str(config), "token", "revoke", row["id"]])
    assert again.exit_code == 4
    assert "no active token" in again.stderr


def test_token_create_refuses_unknown_pool_and_bad_expiry(tmp_path: Path) -> None:
    config, tokens = write_config(tmp_path)
    runner = CliRunner()
    base = ["serve", "--config", str(config), "token", "create", "--user", "bob"]
    unknown = runner.invoke(main, [*base, "--role", "viewer", "--pool", "staging"])
    assert unknown.exit_code == 3
    assert "no pool 'staging'" in unknown.stderr
    assert "production" in unknown.stderr
    assert "default" in unknown.stderr  # "lab" has no pool: it is in "default"
    expiry = runner.invoke(main, [*base, "--role", "viewer", "--expires", "soon"])
    assert expiry.exit_code == 2
    assert "30d" in expiry.output
    role = runner.invoke(main, [*base, "--role", "root"])
    assert role.exit_code == 2
    assert not tokens.exists() or TokenStore(tokens).list() == []


def test_serve_with_a_broken_config_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "server.toml"
    bad.write_text("[serve]\nrate = -1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--config", str(bad)])
    assert result.exit_code == 3
    assert "serve.rate" in result.stderr
    assert "must be more than 0" in result.stderr
    assert "Traceback" not in result.output


def test_wm_and_its_ui_never_load_the_web_framework() -> None:
    code = (
        "import sys, json\n"
        "import winged_monkey.cli.main, winged_monkey.ui.app\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert not {m for m in loaded if m.split(".")[0] in ("fastapi", "starlette", "uvicorn")}
