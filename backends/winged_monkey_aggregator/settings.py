"""The aggregator account's own keys (extra keys in `[[accounts]]`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from winged_monkey.account import AccountConfig
from winged_monkey.backend_settings import (
    NOT_BLANK,
    BackendSettings,
    http_url,
    own_settings,
)
from winged_monkey.config_words import settings_problems
from winged_monkey.errors import ConfigError

KNOWN_KEYS = "url, ca_bundle, verify, client_cert, client_key"


class AggregatorSettings(BackendSettings):
    """Keys an aggregator account carries besides the portal's own.

    TLS is verified against the system's trust store, or only against `ca_bundle`
    when it is set; `verify = false` turns verification off (a lab only). `client_cert`
    (and `client_key`) is presented to a server that asks for a client certificate.
    """

    url: str = Field(
        description="Where `wm serve` answers, e.g. https://bastion.example:8780 "
        "(a path prefix is kept when a reverse proxy serves it under one)."
    )
    ca_bundle: Annotated[Path | None, NOT_BLANK] = Field(
        None, description="PEM file of the CA(s) that signed the aggregator's certificate."
    )
    verify: bool = Field(True, description="Verify the aggregator's TLS certificate.")
    client_cert: Annotated[str | None, NOT_BLANK] = Field(
        None,
        description="PEM file of the client certificate to present when the aggregator (or "
        "its reverse proxy) asks for one (mutual TLS); it may hold the key too.",
    )
    client_key: Annotated[str | None, NOT_BLANK] = Field(
        None, description="PEM file of client_cert's private key, when not in client_cert's."
    )

    @classmethod
    def needs_secret(cls, account: AccountConfig) -> bool:
        """Not when the token comes from token_env (set), as Heat reads it: no prompt then."""
        token_env = account.credentials.token_env
        return not (token_env and os.environ.get(token_env, "").strip())

    @classmethod
    def key_is(cls, account: AccountConfig) -> str | None:
        return None  # a token, the account's secret, is all it sends

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str, info: ValidationInfo) -> str:
        name = (info.context or {}).get("account", "NAME")
        url = http_url(
            value,
            credentials="the aggregator takes your token as the account's secret: "
            f"`wm accounts set-secret {name}`, or secret_env or secret_command in its "
            "[accounts.credentials]",
        )
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or a fragment")
        return url


def read_settings(account: AccountConfig) -> AggregatorSettings:
    try:
        return AggregatorSettings.model_validate(
            own_settings(account), context={"account": account.name}
        )
    except ValidationError as exc:
        raise ConfigError(
            f"aggregator settings: {settings_problems(exc)} (known keys: {KNOWN_KEYS}; e.g. "
            'url = "https://bastion.example:8780")',
            account=account.name,
        ) from None
