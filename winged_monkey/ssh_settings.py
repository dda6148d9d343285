"""How `wm ssh` and the TUI's ssh key log in to an account's instances: keys any account may
carry, whatever its backend (shared, like `pool`; backends never see them)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from winged_monkey.account import AccountConfig
from winged_monkey.errors import ConfigError


class SshSettings(BaseModel):
    """The account's ssh keys. Unset ones are decided from the instance (address, user from
    the image, identity from the key pair) or left to the user's own ssh config."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    ssh_user: str | None = Field(
        None, description="Login name (else guessed from the image, else your ssh config's)."
    )
    ssh_port: int | None = Field(None, ge=1, le=65535, description="Port (else ssh's, 22).")
    ssh_identity: Path | None = Field(
        None, description="Private key file, e.g. ~/.ssh/prod.pem (else the key pair's name)."
    )
    ssh_proxy_jump: str | None = Field(
        None, description="Jump host for instances with only a private address: user@bastion."
    )
    ssh_address: Literal["public", "private"] = Field(
        "public", description="Which address to prefer (private: on a VPN or from a bastion)."
    )
    ssh_options: tuple[str, ...] = Field(
        (), description='Extra ssh options, as for -o: ["ServerAliveInterval=30"].'
    )
    ssh_config: Path | None = Field(
        None, description="An ssh config file used instead of ~/.ssh/config (ssh -F)."
    )

    @field_validator("ssh_user", "ssh_proxy_jump")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank: leave the key out for ssh's own choice")
        return value


#: The keys above, accepted in every account (backend_settings.SHARED_KEYS).
SSH_KEYS = frozenset(SshSettings.model_fields)


def ssh_settings(account: AccountConfig) -> SshSettings:
    """The account's ssh keys, validated (ConfigError naming the key otherwise)."""
    try:
        return SshSettings.model_validate(account.settings)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"ssh settings: {problems}", account=account.name) from None


def missing_identity(path: Path) -> str:
    """What a configured ssh_identity that is not a file means (`path` expanded)."""
    return (
        f"ssh_identity {path}: no such file (set ssh_identity to the private key of this "
        "account's key pair)"
    )


def missing_config(path: Path) -> str:
    """What a configured ssh_config that is not a file means (`path` expanded)."""
    return f"ssh_config {path}: no such file"


def missing_files(account: AccountConfig) -> list[str]:
    """The files the account's ssh keys name that are not there, said as `wm ssh` refuses
    them: for the checks, which find them before a login does (the listing needs none)."""
    try:
        settings = ssh_settings(account)
    except ConfigError:  # said by the config's own check of the account
        return []
    named = ((settings.ssh_identity, missing_identity), (settings.ssh_config, missing_config))
    return [
        said(path.expanduser())
        for path, said in named
        if path is not None and not path.expanduser().is_file()
    ]
