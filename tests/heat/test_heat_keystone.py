"""Keystone settings and the one fault the real servers will not produce on demand.

The Keystone v3 flows themselves (password, application credential, catalog lookup,
a revoked token, a wrong password) run against the real Keystone and Heat in
tests/openstack/test_heat_full.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from winged_monkey.errors import AuthError, ConfigError
from winged_monkey.user.config import AccountConfig, Credentials
from winged_monkey.user.credentials import Secrets
from winged_monkey_heat import HeatBackend
from winged_monkey_heat.client import parameter_named


def account(**settings: Any) -> AccountConfig:
    return AccountConfig(
        name="cloud", backend="heat", credentials=Credentials(keyring=False), **settings
    )


def test_an_account_with_neither_keystone_nor_an_endpoint_says_what_to_set() -> None:
    with pytest.raises(ConfigError) as bad:
        HeatBackend(account(project="p"), Secrets(account="cloud"))
    assert bad.value.account == "cloud"
    assert "set auth_url (Keystone v3), or endpoint_url and project" in bad.value.message


def test_password_auth_needs_a_project() -> None:
    with pytest.raises(ConfigError) as bad:
        HeatBackend(account(auth_url="https://keystone:5000/v3"), Secrets(account="cloud"))
    assert "needs project_name or project_id" in bad.value.message


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ("The Parameter (db_password) was not provided.", "db_password"),
        ("Parameter 'size' is invalid: 7 is out of range (min: 1, max: 5)", "size"),
        ("Unknown resource Type : OS::Nope", None),
    ],
)
def test_heat_validation_messages_name_their_parameter(message: str, name: str | None) -> None:
    assert parameter_named(message) == name


async def test_heat_refusing_a_fresh_token_fails_after_one_new_token() -> None:
    """Mock transport: a Heat that refuses every token Keystone issues (a Heat trusting
    another Keystone) cannot be set up on the shared test cloud without breaking it."""
    issued: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/auth/tokens":
            issued.append(f"t{len(issued)}")
            catalog = [
                {
                    "type": "orchestration",
                    "endpoints": [
                        {"interface": "public", "region_id": "R", "url": "http://heat:8004/v1/p1"}
                    ],
                }
            ]
            body = {"token": {"project": {"id": "p1", "name": "web"}, "catalog": catalog}}
            return httpx.Response(201, json=body, headers={"X-Subject-Token": issued[-1]})
        return httpx.Response(
            401, json={"error": {"message": "The request you have made requires authentication."}}
        )

    backend = HeatBackend(
        account(auth_url="http://keystone:5000", project_name="web", username="u"),
        Secrets(account="cloud", secret="pw"),
    )
    mock = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    backend.client._http = lambda: mock  # type: ignore[method-assign]
    with pytest.raises(AuthError) as refused:
        await backend.list_instances()
    assert issued == ["t0", "t1"]
    assert "refused a token Keystone had just issued" in refused.value.message
    assert "pw" not in str(refused.value)
    await mock.aclose()
