"""The server's configuration: the TUI's config file plus an optional `[serve]` section.

[serve]
poll_interval = 30      # seconds between polls of every account (default: refresh_interval)
rate = 20               # requests per second per token, sustained
burst = 60              # requests a token may send at once
header_timeout = 10     # seconds a client has to send a request's headers, then its body
database = "postgresql://wm@db.example:5432/wm"  # replicas share it (default: SQLite)
[serve.database_credentials]
secret_env = "WM_DATABASE_PASSWORD"  # or secret_command, or keyring = true

[[accounts]]
name = "prod"
pool = "production"     # accounts without a pool are in pool "default"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from winged_monkey.errors import ConfigError
from winged_monkey.names import POOL_NAME, POOL_NAME_WORDS
from winged_monkey.serve.pools import PoolSettings
from winged_monkey.user.config import (
    BrokenAccount,
    Config,
    Credentials,
    describe_each,
    parse_config,
    read_config,
)

DEFAULT_POOL = "default"


class ServeSettings(BaseModel):
    """`[serve]`: how the aggregator polls and how much each token may ask."""

    # Finite and bounded, as the rest of the file (winged_monkey.user.config).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True, allow_inf_nan=False)

    poll_interval: float | None = Field(
        None,
        ge=0.2,
        le=86_400,
        description="Seconds between polls of the accounts; default refresh_interval.",
    )
    rate: float = Field(
        20.0, gt=0, le=1_000_000, description="Requests per second per token, sustained."
    )
    burst: int = Field(
        60, ge=1, le=1_000_000, description="Requests a token may send in one burst."
    )
    catalog_ttl: float = Field(
        300.0, ge=0, le=86_400, description="Seconds a fetched catalog is reused."
    )
    tokens: Path | None = Field(None, description="Token database (default: beside the store).")
    header_timeout: float = Field(
        10.0,
        gt=0,
        le=300,
        description="Seconds a client has to send a request's headers, then its body, "
        "and may stay idle.",
    )
    pools: dict[str, PoolSettings] = Field(
        default_factory=dict, description="Pool -> its deployables and matching weights."
    )
    database: str | None = Field(
        None,
        description="postgresql://user@host:port/db: store, tokens and rate limits shared by "
        "replicas (default: SQLite beside the user's data). No password in it.",
    )
    database_credentials: Credentials = Field(
        default_factory=lambda: Credentials(keyring=False),
        description="Where the database's password comes from: secret_env, secret_command, "
        "or keyring = true (the keyring entry of 'serve-database').",
    )

    @field_validator("pools")
    @classmethod
    def _pool_names(cls, pools: dict[str, PoolSettings]) -> dict[str, PoolSettings]:
        for name in pools:
            if not re.fullmatch(POOL_NAME, name):
                raise ValueError(
                    f"[serve.pools] {name!r} cannot be a pool's name: {POOL_NAME_WORDS}"
                )
        return pools

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql:// URL (SQLite needs no setting)")
        userinfo = rest.rpartition("@")[0]
        if ":" in userinfo:
            raise ValueError(
                "has a password: never in the config file; name its source in "
                "[serve.database_credentials] (secret_env, secret_command or keyring)"
            )
        return value


@dataclass(frozen=True)
class ServerConfig:
    config: Config
    serve: ServeSettings
    #: Account -> why its [[accounts]] table was refused, naming the file: the server starts
    #: and serves the others; this one is a BrokenAccount, failed with `refused_words`.
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def poll_interval(self) -> float:
        return self.serve.poll_interval or self.config.refresh_interval

    def pool_of(self, account: str) -> str:
        return pool_of(self.config, account)

    def pools(self) -> dict[str, list[str]]:
        """Pool name -> its accounts, in config order."""
        found: dict[str, list[str]] = {}
        for account in self.config.accounts:
            found.setdefault(pool_of(self.config, account.name), []).append(account.name)
        return found

    def pool_settings(self, pool: str) -> PoolSettings:
        return self.serve.pools.get(pool) or PoolSettings()


def pool_of(config: Config, account: str) -> str:
    pool = config.account(account).settings.get("pool")
    return str(pool) if pool else DEFAULT_POOL


def serve_settings(path: Path, section: dict[str, Any]) -> ServeSettings:
    """The `[serve]` section checked, or a ConfigError naming the key (every command checks
    it: a typo there is not left for `wm serve` to find)."""
    try:
        return ServeSettings.model_validate(section)
    except ValidationError as exc:
        said = describe_each(exc, section, root=ServeSettings, within=("serve",))
        raise ConfigError.in_file(str(path), said) from None


def refused_words(account: str, problem: str) -> str:
    """What the server says of an account whose table its config refuses, to every client
    that sees the account (its status, its rows' and catalog's errors): the server cannot
    serve it, why, and who must act. The file's path is the server's own, left out."""
    return (
        f"the server's config refuses the [[accounts]] table of {account!r}, so the server "
        f"cannot serve it until the server's admin corrects it: {problem}"
    )


def load_server_config(path: Path) -> ServerConfig:
    """Read the file; the `[serve]` section is the server's, the rest is a normal config.

    As for every command, one account's own mistake (an unknown key, a value of the wrong
    type) fails that account alone: it is kept, in the pool its table names, as a
    BrokenAccount saying `refused_words`, and the server serves the others (one whose `pool`
    is itself the mistake, in pool "default"). A mistake of the file (TOML, a top-level key,
    a duplicate name, [serve]) still refuses the whole file."""
    try:
        data: dict[str, Any] = tomllib.loads(read_config(path) or "")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    serve = serve_settings(path, data.pop("serve", {}))
    config = parse_config(data, source=str(path), per_account=True)
    tables = {t.get("name"): t for t in data.get("accounts", ()) if isinstance(t, dict)}
    accounts = []
    refused: dict[str, str] = {}
    for account in config.accounts:
        # A refused table's pool is read from the table: who may see the account says so.
        broken = isinstance(account, BrokenAccount)
        pool = (tables[account.name] if broken else account.settings).get("pool")
        if not isinstance(pool, str) or not re.fullmatch(POOL_NAME, pool):
            pool = None  # no pool's name (the table's refusal says so): pool "default"
        if isinstance(account, BrokenAccount):
            refused[account.name] = account.refusal
            words = refused_words(account.name, account.problem)
            account = account.model_copy(update={"pool": pool, "problem": words, "source": ""})
        accounts.append(account)
    if refused:
        config = config.model_copy(update={"accounts": tuple(accounts)})
    server = ServerConfig(config, serve, refused)
    pools = server.pools()
    for name, settings in serve.pools.items():
        problems = settings.problems(name, pools.get(name, []))
        if name not in pools:
            problems.insert(0, f"no account is in pool {name!r}")
        if problems:
            raise ConfigError(f"{path}: [serve.pools.{name}] " + "; ".join(problems))
    return server
