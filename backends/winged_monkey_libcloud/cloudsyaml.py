"""An OpenStack account that names a cloud of clouds.yaml (`cloud = "devstack"`), resolved
when it is used by openstacksdk's own config loader, the reference for clouds.yaml.

The loader reads what the OpenStack tools read: clouds.yaml or clouds.yml in their usual
places or OS_CLIENT_CONFIG_FILE, secure.yaml, vendor profiles (`profile: citycloud`),
hyphenated keys, aliases (`tenant_name`), `regions` lists (the account's `region` picks
one). What comes out is turned into libcloud driver arguments by the same rules as
`wm accounts import` (winged_monkey.user.importing): what libcloud cannot express is refused
by name, with the reason. openstacksdk is imported only for such accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from winged_monkey.account import AccountConfig
from winged_monkey.errors import ConfigError
from winged_monkey.user import cloudfiles
from winged_monkey_libcloud.settings import read_settings


@dataclass(frozen=True)
class Cloud:
    """A clouds.yaml cloud as libcloud takes it; `repr` shows no secret."""

    name: str
    driver: dict[str, Any]
    key: str
    secret: str | None
    ca_bundle: str | None
    notes: tuple[str, ...]
    verify: bool = True  # False: `verify: false` or `insecure: true`, as openstacksdk reads it
    client_cert: str | None = None  # `cert` (and `key`): presented on every request
    client_key: str | None = None

    def __repr__(self) -> str:
        return f"Cloud({self.name!r}, driver={self.driver!r}, key={self.key!r})"


def cloud_name(account: AccountConfig) -> str | None:
    return read_settings(account).cloud


def resolve(account: AccountConfig) -> Cloud:
    """The account's cloud, read now (the files may have changed since the last time)."""
    name = cloud_name(account)
    if name is None:
        raise ConfigError("no cloud named (cloud = ...)", account=account.name)
    try:
        config = cloudfiles.load_cloud(name, account.region)
    except ConfigError as exc:
        raise ConfigError(exc.message, account=account.name) from None
    return from_config(account, name, config)


def from_config(account: AccountConfig, name: str, config: dict[str, Any]) -> Cloud:
    """The loader's resolved cloud as libcloud's arguments (or the reason it cannot be)."""
    from winged_monkey.user.importing import TLS_NOTE, openstack_account

    try:
        imported = openstack_account(name, config, source=f"clouds.yaml: cloud {name!r}")
    except ConfigError as exc:
        message = exc.message.removesuffix("; nothing imported")
        raise ConfigError(message, account=account.name) from None
    notes = [n for n in imported.notes if n != TLS_NOTE]  # verify: false is kept here
    seconds = imported.table.get("timeout")  # api_timeout: the engine's deadline is wm's
    if seconds is not None and seconds != account.timeout:
        notes.append(
            f"api_timeout {seconds:g} s not carried over: the account's timeout "
            f"({account.timeout:g} s) applies; set timeout = {seconds:g} in it to match"
        )
    return Cloud(
        name=name,
        driver=dict(imported.table["driver"]),
        key=str(imported.table["credentials"]["key"]),
        secret=imported.secret,
        ca_bundle=imported.table.get("ca_bundle"),
        notes=tuple(notes),
        verify=not (config.get("insecure") is True or config.get("verify") is False),
        client_cert=imported.table.get("client_cert"),
        client_key=imported.table.get("client_key"),
    )
