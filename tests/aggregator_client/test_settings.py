"""An aggregator account's own keys and its token: mistakes are told with the account's name
and what to write, before any request; the token comes from the usual credential chain."""

from __future__ import annotations

import keyring
import pytest

from tests.aggregator.server import RunningAggregator
from tests.aggregator_client.conftest import Portals, aggregator_account, refresh
from tests.conftest import Cloud
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import KEYRING_SERVICE


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, "url: Field required"),
        ({"url": "ftp://bastion:8780"}, "url: must be an http:// or https:// URL"),
        ({"url": "bastion:8780"}, "url: must be an http:// or https:// URL"),
        ({"url": " https://127.0.0.1:1 "}, 'url: must have no spaces: "https://127.0.0.1:1"'),
        (
            {"url": "https://bastion:87o0"},
            "url: must have a port from 1 to 65535 after the host's ':'",
        ),
        (
            {"url": "http://bastion:8780", "ca_bundel": "/etc/ca.pem"},
            "ca_bundel: Extra inputs are not permitted",
        ),
    ],
)
async def test_bad_settings_name_the_key(
    cloud: Cloud, portals: Portals, settings: dict[str, str], expected: str
) -> None:
    account = AccountConfig.model_validate(
        {
            "name": "team",
            "backend": "aggregator",
            "credentials": Credentials(keyring=False, secret_env="WM_AGG_TOKEN"),
            **settings,
        }
    )
    cloud.monkeypatch.setenv("WM_AGG_TOKEN", "t")
    updates = await refresh(portals(account))
    assert updates["team"].status.error == (
        f"aggregator settings: {expected} (known keys: url, ca_bundle, verify, client_cert, "
        'client_key; e.g. url = "https://bastion.example:8780")'
    )


async def test_no_token_says_where_it_looked_and_how_to_store_one(
    cloud: Cloud, portals: Portals
) -> None:
    account = aggregator_account("team", "http://127.0.0.1:9", None, cloud.monkeypatch)
    updates = await refresh(portals(account))
    assert updates["team"].status.error == (
        "no secret found (tried env WM_AGG_TEAM (not set)): export WM_AGG_TEAM, the variable "
        "secret_env names, before running wm"
    )


async def test_the_token_may_come_from_the_keyring(
    team: RunningAggregator, portals: Portals
) -> None:
    keyring.set_password(KEYRING_SERVICE, "team", team.mint("vera", "viewer"))
    account = AccountConfig.model_validate(
        {"name": "team", "backend": "aggregator", "url": team.url}
    )
    updates = await refresh(portals(account))
    assert updates["team"].status.phase == "ok", updates["team"].status.error
    assert updates["team"].status.count == 4
