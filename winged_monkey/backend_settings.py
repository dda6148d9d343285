"""What a backend declares about its own account keys, checked when the config loads.

A backend names a `BackendSettings` subclass: the keys an `[[accounts]]` table may carry
besides the portal's own (`AccountConfig`'s fields). The config refuses any other key with
the file, the account, the key and the nearest valid one, so `readonly = true` (meant
`read_only`) never leaves a production account writable in silence.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from winged_monkey.account import AccountConfig, Credentials
from winged_monkey.config_words import SYNONYMS, TURNS_OFF, a, meant
from winged_monkey.names import POOL_NAME, POOL_NAME_WORDS
from winged_monkey.ssh_settings import SshSettings


class SharedSettings(SshSettings):
    """The keys any account may carry whatever its backend (backends never see them):
    `wm serve`'s pool and `wm ssh`'s keys, checked when the config loads, so that a
    mistake in one fails its account alone, in the config's words."""

    pool: str | None = Field(
        None, description="`wm serve`'s pool of the account (else pool 'default')."
    )

    @field_validator("pool")
    @classmethod
    def _a_name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must be a pool's name, not blank: leave it out for pool 'default'")
        if value is not None and not re.fullmatch(POOL_NAME, value):
            raise ValueError(f"{value!r} cannot be a pool's name: {POOL_NAME_WORDS}")
        return value


#: Keys any account may carry whatever its backend: `wm serve` reads an account's `pool`,
#: `wm ssh` its ssh_* keys (SharedSettings, checked when the config loads).
SHARED_KEYS = frozenset(SharedSettings.model_fields)


class BackendSettings(BaseModel):
    """Base of a backend's own keys: every field is a key an account may write."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: False for a backend that never uses a secret (libvirt over a local socket): the
    #: portal then never prompts for one.
    NEEDS_SECRET: ClassVar[bool] = True

    #: Keys written at the account's top level that belong elsewhere, with where they go
    #: ("it goes in the driver table: ..."), said instead of a close name.
    MISPLACED: ClassVar[dict[str, str]] = {}

    @classmethod
    def needs_secret(cls, account: AccountConfig) -> bool:
        """Whether this account asks for a secret at all (a backend may decide per account)."""
        return cls.NEEDS_SECRET

    @classmethod
    def key_is(cls, account: AccountConfig) -> str | None:
        """What `credentials.key` holds for this account, in a message's words ("key id",
        "user name"), or None when the account reads no key (a backend may decide per
        account): what a hint and a missing key's refusal call it."""
        return "key id"

    @classmethod
    def keys(cls) -> frozenset[str]:
        names = set()
        for name, field in cls.model_fields.items():
            names.add(field.alias or name)
        return frozenset(names)


def _not_blank(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        raise ValueError("must not be blank: leave the key out")
    return value


#: For a backend setting that is a file's or a folder's path (`Annotated[Path | None,
#: NOT_BLANK]`): a blank one is refused, as pathlib reads "" as the current directory
#: (`ca_bundle = ""` trusted the certificates in whatever folder wm ran from).
NOT_BLANK = BeforeValidator(_not_blank)


def own_settings(account: AccountConfig) -> dict[str, Any]:
    """The account's keys for its backend to validate (the shared ones left out)."""
    return {key: value for key, value in account.settings.items() if key not in SHARED_KEYS}


#: Keys that would put a secret in the file, in an account's table or its credentials.
SECRET_KEYS = frozenset(
    {"secret", "password", "passwd", "token", "secret_key", "api_key", "api_token"}
    | {"access_token", "secret_access_key", "aws_secret_access_key"}
)


def secret_hint(account: str | None) -> str:
    """Where a secret goes instead of the config (never echoing the one written)."""
    if account is None:  # a table of credentials not an account's (wm serve's database)
        return (
            " (a secret never goes in the config: name secret_env or secret_command, or "
            "store it with `wm accounts set-secret`)"
        )
    return (
        " (a secret never goes in the config: name secret_env or secret_command in the "
        f"account's [accounts.credentials], or store it with `wm accounts set-secret {account}`)"
    )


def unknown_keys(
    account: AccountConfig,
    settings: type[BackendSettings] | None,
    *,
    top_level: Iterable[str] = (),
) -> list[str]:
    """One line per key of `account` that neither the portal nor its backend knows (with
    `settings` None, a backend not installed, only the keys of `top_level`: the file's own
    settings, which TOML puts in the last [[accounts]] when they are written below it)."""
    known = (settings.keys() if settings is not None else frozenset()) | SHARED_KEYS
    key_is = settings.key_is(account) if settings is not None else None
    # The keys of its tables a synonym may name, as written from the account's table.
    inner = {"endpoint.host", *(["credentials.key"] if key_is else [])}
    if account.takes_aws_profile:
        inner.add("credentials.aws_profile")
    valid = sorted(known | set(AccountConfig.model_fields) | inner)
    top = frozenset(top_level)
    lines = []
    for key in account.settings:
        if key in known:
            continue
        if key in top:
            lines.append(_top_level(key, account.settings[key]))
        elif settings is not None:
            hint = _hint(key, valid, account, key_is, settings.MISPLACED)
            lines.append(f"unknown key {key!r} for {a(account.backend)} account{hint}")
    return lines


def _top_level(key: str, value: object) -> str:
    why = "(TOML puts keys after a table's header into that table)"
    if isinstance(value, dict):
        return (
            f"{key} is a top-level table: write it under its own [{key}] header, or above the "
            f"first [[accounts]] {why}"
        )
    return f"{key} is a top-level setting: move it above the first [[accounts]] {why}"


def _hint(
    key: str,
    valid: Collection[str],
    account: AccountConfig,
    key_is: str | None,
    misplaced: dict[str, str],
) -> str:
    if key.lower() in SECRET_KEYS:
        return secret_hint(account.name)
    if key in misplaced:
        return f" ({misplaced[key]})"
    if key in Credentials.model_fields and key.lower() not in SYNONYMS:
        # Written beside `url` as README's `token_env` reads; its table is the credentials.
        return f" (it goes in the account's credentials: credentials = {{ {key} = ... }})"
    close = meant(key, valid)
    if close is None:
        return ""
    if close == "credentials.key":
        how = f'the {key_is} goes there: credentials = {{ key = "..." }}'
    elif close == "credentials.aws_profile":
        how = 'the profile\'s name goes there: credentials = { aws_profile = "..." }'
    elif close == "endpoint.host":
        how = 'endpoint = { host = "..." }'
    elif close in TURNS_OFF and close in SYNONYMS.get(key.lower(), ()) and close != key.lower():
        how = f"{a(account.backend)} account turns verification off with {TURNS_OFF[close]}"
    else:
        return f" (did you mean {close!r}?)"
    return f" (did you mean {close!r}? {how})"


def credentials_elsewhere(account: str | None) -> str:
    """Where the credentials go that a URL's userinfo (`user:password@host`) would carry."""
    return (
        "the account's secret goes in the keyring (`wm accounts set-secret "
        f"{account or 'NAME'}`), or comes from secret_env or secret_command in its "
        "[accounts.credentials]"
    )


def http_url(value: str, *, credentials: str | None = None) -> str:
    """An http(s) URL as a backend's setting takes it, without a trailing '/'; for a
    field validator, so a mistake is the key's error when the account is read.

    No backend takes credentials in a URL: httpx would send a `user:password@` as Basic
    auth in place of the token or Keystone's, and a message naming the URL would show it.
    It is refused (never echoed) first, with `credentials`: where they go instead."""
    if userinfo(value) is not None:
        raise ValueError(
            "must not carry a user or a password (the user:password@ before the host): "
            + (credentials or credentials_elsewhere(None))
        )
    if value != value.strip() or any(c.isspace() for c in value):
        # urllib keeps the spaces, and they surface as a port or a host that is wrong.
        raise ValueError(f'must have no spaces: "{"".join(value.split())}"')
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - urllib checks the port only when asked for it
    except ValueError:
        raise ValueError("must have a port from 1 to 65535 after the host's ':'") from None
    return value.rstrip("/")


def userinfo(url: str) -> str | None:
    """The `user:password` (or `user`) before the host of `url`, as written; None if none.
    Read by hand: urlsplit refuses some URLs (a bracket unclosed) whose words would be
    shown instead."""
    _, sep, rest = url.partition("//")
    if not sep:
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    found, at, _ = authority.rpartition("@")
    return found if at else None
