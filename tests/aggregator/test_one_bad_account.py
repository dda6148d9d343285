"""One person's typo in their [[accounts]] table no longer takes the team's `wm serve` down:
the server starts, serves the other accounts, says at start-up which account it does not
serve and why, and lists that account as failed with its config error, so a client (the
aggregator backend, `wm ls`) says the server cannot serve it and why. A mistake of the whole
file still refuses to start. Real `wm serve` over moto on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.aggregator.server import account_toml, two_pool_aggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.aggregator_client.test_cli import wm
from tests.conftest import wait_until
from winged_monkey.demo.server import MotoServer
from winged_monkey.errors import ConfigError
from winged_monkey.serve.settings import load_server_config

TYPO = "team-typo"  # pool alpha, a mistyped key
LEAKY = "team-leaky"  # pool beta, its secret pasted in its table
NOPOOL = "team-nopool"  # pool = 5: no pool's name (the file was refused whole)
PASTED = "hunter2-pasted-into-the-config"


def bad_toml(moto_port: int) -> str:
    typo = account_toml(TYPO, "us-east-1", "alpha", moto_port).replace("images = ", "imagse = ")
    leaky = account_toml(LEAKY, "eu-west-1", "beta", moto_port).replace(
        "keyring = false,", f'keyring = false, secret = "{PASTED}",'
    )
    nopool = account_toml(NOPOOL, "us-east-1", "alpha", moto_port).replace(
        'pool = "alpha"', "pool = 5"
    )
    return typo + leaky + nopool


def _accounts(client: httpx.Client) -> dict[str, dict[str, Any]]:
    reply = client.get("/api/v1/provider-accounts")
    assert reply.status_code == 200, reply.text
    return {a["id"]: a for a in reply.json()}


async def test_the_server_starts_and_fails_the_bad_account_alone(
    moto_server: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with two_pool_aggregator(
        moto_server,
        tmp_path / "agg",
        serve="rate = 1000\nburst = 1000",
        accounts=bad_toml(moto_server.port),
    ) as agg:  # before: the server exited at start (code 3) and served nobody
        # The start-up output names the account, the key to fix, and that the rest is served.
        started = agg.process.log.read_text(encoding="utf-8")
        assert f"account '{TYPO}' is not served (the other accounts are)" in started, started
        assert f"account '{LEAKY}' is not served (the other accounts are)" in started
        assert f"account '{NOPOOL}' is not served (the other accounts are)" in started
        assert "field pool: must be a string, in quotes" in started
        assert "unknown key 'imagse'" in started
        assert "did you mean 'images'" in started
        assert "a secret never goes in the config" in started
        assert PASTED not in started

        # The others are served; the bad ones are listed, in their pools, failed with why.
        with agg.client(agg.mint("ada", "admin")) as admin:
            wait_until(
                lambda: (
                    {a["status"]["phase"] for a in _accounts(admin).values()} == {"ok", "failed"}
                ),
                20,
            )
            accounts = _accounts(admin)
            rows = admin.get("/api/v1/instances").json()
        assert {n: a["status"]["phase"] for n, a in accounts.items()} == {
            "team-a": "ok",
            "team-b": "ok",
            TYPO: "failed",
            LEAKY: "failed",
            NOPOOL: "failed",
        }
        assert {r["account"] for r in rows} == {"team-a", "team-b"}
        assert (accounts[TYPO]["pool"], accounts[LEAKY]["pool"]) == ("alpha", "beta")
        assert accounts[NOPOOL]["pool"] == "default"  # its table names no pool
        for name, words in (
            (TYPO, "unknown key 'imagse'"),
            (LEAKY, "credentials.secret"),
            (NOPOOL, "field pool: must be a string, in quotes"),
        ):
            error = accounts[name]["status"]["error"]
            refused = f"the server's config refuses the [[accounts]] table of '{name}'"
            assert error.startswith(refused), error
            assert words in error
            assert PASTED not in error
            assert str(agg.process.config) not in error  # the server's own path stays its own
        with agg.client(agg.mint("bo", "viewer", pool="beta")) as beta:
            assert set(_accounts(beta)) == {"team-b", LEAKY}  # its pool's tokens only

        # A client of the server says the server cannot serve it and why, not silence.
        token = agg.mint("vera", "viewer", pool="alpha")
        portals = Portals(tmp_path)
        try:
            portal = portals(aggregator_account("team", agg.url, token, monkeypatch))
            status = (await refresh(portal))["team"].status
        finally:
            for opened, store in portals.opened:
                await opened.close()
                store.close()
        assert status.phase == "ok"  # team-a listed
        (said,) = (u.line for u in status.unlisted)
        assert said.startswith(
            f"the aggregator cannot list {TYPO}: the server's config refuses the [[accounts]] "
            f"table of '{TYPO}', so the server cannot serve it until the server's admin "
            "corrects it: "
        ), said
        assert "unknown key 'imagse'" in said

        result = await asyncio.to_thread(wm, tmp_path, agg.url, token, "ls")
        assert result.exit_code == 1, result.output  # not all there is
        assert f"wm: team: not listed: the aggregator cannot list {TYPO}: " in result.stderr
        assert "web" in result.stdout
        assert PASTED not in result.output


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('[[accounts]]\nname = "a"\n\n[[accounts]]\nname = "a"\n', "used twice"),
        ('refresh_intervall = 5\n[[accounts]]\nname = "a"\n', "refresh_intervall"),
        ('[serve]\nrat = 5\n[[accounts]]\nname = "a"\n', "serve.rat"),
    ],
    ids=["duplicate-name", "top-level-key", "serve-section"],
)
def test_a_mistake_of_the_whole_file_still_refuses_it(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "server.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_server_config(path)


def test_an_account_whose_pool_cannot_be_a_pools_name_is_refused_alone_in_pool_default(
    tmp_path: Path,
) -> None:
    """`pool = "data team/eu"` made a pool whose launches went to /pools/data team/eu/...
    and whose catalog ids (team/POOL/NAME) split at the wrong '/': the account is refused
    at load, naming the pool, and kept in pool "default", as one whose pool is not text."""
    path = tmp_path / "server.toml"
    path.write_text(
        account_toml("team-a", "us-east-1", "alpha", 9)
        + account_toml("team-eu", "eu-west-1", "data team/eu", 9),
        encoding="utf-8",
    )
    server = load_server_config(path)
    assert server.pools() == {"alpha": ["team-a"], "default": ["team-eu"]}
    assert "field pool: 'data team/eu' cannot be a pool's name" in server.refused["team-eu"]
