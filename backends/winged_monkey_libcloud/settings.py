"""The libcloud account's own keys (extra keys in `[[accounts]]`), read in one place.

Imports no libcloud: the config checks an account's keys against `LibcloudSettings`
when it loads, before any driver exists.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError, field_validator

from winged_monkey import aws
from winged_monkey.account import AccountConfig
from winged_monkey.backend_settings import (
    NOT_BLANK,
    BackendSettings,
    own_settings,
)
from winged_monkey.config_words import settings_problems
from winged_monkey.errors import ConfigError, nearest

LIMIT_KEYS = ("instances", "vcpus", "ram_mb")

#: libcloud providers that authenticate without a secret (libvirt: a local socket or ssh).
NO_SECRET_PROVIDERS = frozenset({"libvirt"})


#: Keys other tools (the aws CLI's profiles, Terraform, Ansible, clouds.yaml) set once and
#: `wm launch` takes per launch, and its option for each.
_LAUNCH_OPTIONS = {
    **dict.fromkeys(("key_name", "keypair", "key_pair", "keypair_name"), "--key-pair"),
    **dict.fromkeys(("instance_type", "flavor", "flavor_name", "size"), "--size"),
    **dict.fromkeys(("zone", "availability_zone", "az"), "--location"),
    **dict.fromkeys(("subnet", "subnet_id", "network_id"), "--network"),
}


def _at_launch(option: str) -> str:
    return f"wm asks for it at each launch: wm launch {option}, or the TUI's launch form"


class LibcloudSettings(BackendSettings):
    """Keys a libcloud account may carry besides the portal's own."""

    MISPLACED: ClassVar[dict[str, str]] = {
        "uri": 'it goes in the driver table: driver = { uri = "..." }',  # libvirt's
        # What other tools keep in a profile, wm asks at each launch (`key_name` is not
        # `name`, nor `zone` a region).
        **{key: _at_launch(option) for key, option in _LAUNCH_OPTIONS.items()},
    }

    ca_bundle: Annotated[str | None, NOT_BLANK] = Field(
        None, description="PEM file of the CAs to trust for this account (else the system's)."
    )
    client_cert: Annotated[str | None, NOT_BLANK] = Field(
        None,
        description="PEM file of the client certificate to present to a server that asks "
        "for one (mutual TLS); it may hold the key too.",
    )
    client_key: Annotated[str | None, NOT_BLANK] = Field(
        None, description="PEM file of client_cert's private key, when not in client_cert's."
    )
    images: list[str] = Field(
        default_factory=list,
        description='Images to offer besides the ones the account owns: ["ami-...", ...].',
    )
    cloud: str | None = Field(
        None,
        description="OpenStack: a cloud of clouds.yaml, read when the account is used by "
        "openstacksdk's loader (secure.yaml, vendor profiles, regions, OS_CLIENT_CONFIG_FILE).",
    )
    limits: dict[str, int] = Field(
        default_factory=dict,
        description="Caps the user sets on the account, e.g. {vcpus = 8} "
        f"(keys: {', '.join(LIMIT_KEYS)}).",
    )

    # Both are checked when the account is built (`wm accounts`, `wm ls`, the TUI), so a
    # mistake fails the account there, not only when the catalog, where or launch read them.
    @field_validator("images", mode="before")
    @classmethod
    def _image_ids(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ValueError('must be a list of image ids, e.g. images = ["ami-1e749f67"]')
        return list(dict.fromkeys(value))

    @field_validator("limits", mode="before")
    @classmethod
    def _caps(cls, value: Any) -> Any:
        example = "e.g. limits = {vcpus = 8}"
        if not isinstance(value, dict):
            raise ValueError(f"must be a table of caps, {example}")
        for key, cap in value.items():
            if key not in LIMIT_KEYS:
                close = nearest(key, LIMIT_KEYS)
                hint = f" (did you mean {close!r}?)" if close else ""
                raise ValueError(f"unknown key {key!r}{hint}: limits takes {', '.join(LIMIT_KEYS)}")
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
                raise ValueError(f"{key} must be a whole number, 0 or more (no quotes), {example}")
        return value

    @classmethod
    def needs_secret(cls, account: AccountConfig) -> bool:
        """Not for libvirt, nor for an account whose AWS credentials botocore resolves, nor
        for a clouds.yaml cloud (its password is in clouds.yaml or secure.yaml, or the
        keyring's is used)."""
        if aws.uses_botocore(account) or "cloud" in account.settings:
            return False
        return (account.provider or "").strip().lower() not in NO_SECRET_PROVIDERS

    @classmethod
    def key_is(cls, account: AccountConfig) -> str | None:
        """None for libvirt (a socket or ssh: no key); OpenStack's and vSphere's log in by
        user name, or an application credential's id (README "credentials")."""
        provider = account.provider.strip().lower() if isinstance(account.provider, str) else ""
        if provider in NO_SECRET_PROVIDERS:
            return None
        if provider == "openstack":
            driver = account.driver if isinstance(account.driver, dict) else {}
            version = driver.get("ex_force_auth_version")
            appcred = isinstance(version, str) and version.endswith("appcred")
            return "application credential id" if appcred else "user name"
        return "user name" if provider == "vsphere" else "key id"


def read_settings(account: AccountConfig) -> LibcloudSettings:
    try:
        return LibcloudSettings.model_validate(own_settings(account))
    except ValidationError as exc:
        raise ConfigError(
            f"libcloud settings: {settings_problems(exc)}", account=account.name
        ) from None


def configured_images(account: AccountConfig) -> list[str]:
    """`images = ["ami-...", ...]`: images to offer besides the ones the account owns."""
    return read_settings(account).images


def own_limits(account: AccountConfig) -> dict[str, int]:
    """`limits = {vcpus = 8}`: caps the user sets on the account (a budget, a shared lab),
    applied on top of whatever the provider says."""
    return dict(read_settings(account).limits)
