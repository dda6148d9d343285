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

import warnings
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
        from openstack import config as openstack_config
    except ImportError:
        raise ConfigError(
            f"cloud = {name!r} is read by openstacksdk, which is not installed: "
            "pip install 'winged-monkey[openstack]'",
            account=account.name,
        ) from None
    try:
        clouds = cloudfiles.check_read(cloud=name)  # the loader skips a file it cannot parse
    except ConfigError as exc:
        raise ConfigError(exc.message, account=account.name) from None
    raw: dict[str, Any] = {}  # the cloud as written, for the loader's errors
    warned: list[warnings.WarningMessage] = []  # told only to explain an error
    try:
        with warnings.catch_warnings(record=True) as warned:  # its deprecations (influxdb)
            warnings.simplefilter("always")
            loader = openstack_config.OpenStackConfig(  # the files checked above
                config_files=[str(p) for p in cloudfiles.search("clouds")],
                secure_files=[str(p) for p in cloudfiles.search("secure")],
            )
            key = cloudfiles.key_of(name, loader.get_cloud_names())  # `123:` is a number
            if key is None and name == loader.envvar_key:
                raise ConfigError(
                    f"cloud {name!r} is openstacksdk's name for the OS_* variables, and none "
                    "is set: source the project's openrc file before wm"
                )
            if key is None:
                names = [n for n in loader.get_cloud_names() if clouds or n == loader.envvar_key]
                raise cloudfiles.not_found(name, clouds, names)
            raw = dict(loader.cloud_config["clouds"][key])
            region = loader.get_one(cloud=key, region_name=account.region or None)
    except ConfigError as exc:
        raise ConfigError(exc.message, account=account.name) from None
    except Exception as exc:  # openstacksdk's ConfigException and keystoneauth's errors
        said = cloudfiles.loader_error(exc, raw, warned)
        raise ConfigError(f"clouds.yaml: cloud {name!r}: {said}", account=account.name) from None
    return from_config(account, name, dict(region.config))


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
