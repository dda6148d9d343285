"""A Heat account that names a cloud of clouds.yaml (`cloud = "devstack"`), resolved when
the account is used by openstacksdk's own loader (winged_monkey.user.cloudfiles), the
reference for clouds.yaml: the same files, secure.yaml, vendor profiles, regions.

The resolved cloud becomes the account's Keystone settings as keystoneauth would log in
with them (a password, a token or an application credential, by id or by name with its
user); the account's own keys win over the cloud's (`service_type`, `templates`, ...).
What the Heat backend cannot do is refused by name, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from winged_monkey.account import AccountConfig
from winged_monkey.backend_settings import own_settings
from winged_monkey.errors import ConfigError, CredentialError
from winged_monkey.user import cloudfiles

#: keystoneauth's plugins by name, as the Heat backend's auth_type
AUTH_TYPES = {
    "password": "password",
    "v3password": "password",
    "token": "token",
    "v3token": "token",
    "v3applicationcredential": "application_credential",
    "applicationcredential": "application_credential",
}
_COPIED = ("username", "user_id", "project_name", "project_id")
_APPCRED = ("application_credential_id", "application_credential_name")


@dataclass(frozen=True)
class HeatCloud:
    """The cloud as the Heat backend's settings; `repr` shows no secret."""

    name: str
    settings: dict[str, Any]
    region: str | None
    secret: str | None = field(default=None, repr=False)


def resolve(account: AccountConfig, name: str) -> HeatCloud:
    try:
        config = cloudfiles.load_cloud(name, account.region)
    except ConfigError as exc:
        raise ConfigError(exc.message, account=account.name) from None
    return from_config(account, name, config)


def from_config(account: AccountConfig, name: str, config: dict[str, Any]) -> HeatCloud:
    """The loader's resolved cloud as Heat settings (or the reason it cannot be)."""

    def refuse(why: str) -> ConfigError:
        return ConfigError(f"clouds.yaml: cloud {name!r}: {why}", account=account.name)

    auth: dict[str, Any] = dict(config.get("auth") or {})
    version = str(config.get("identity_api_version") or "3").split(".")[0]
    auth_type = str(config.get("auth_type") or "password").lower()
    if version != "3" or auth_type.startswith("v2"):
        raise refuse("Keystone v2 is not supported, only v3")
    if auth_type not in AUTH_TYPES:
        raise refuse(
            f"auth_type {auth_type!r} is not supported: the Heat backend logs in with a "
            "password, a token or an application credential (auth_type "
            "v3applicationcredential)"
        )
    if auth.get("system_scope"):
        raise refuse(f"system-scoped (system_scope: {auth['system_scope']}); Heat is a project's")
    settings: dict[str, Any] = {
        "auth_url": auth.get("auth_url"),
        "auth_type": AUTH_TYPES[auth_type],
    }
    wanted = _COPIED + (_APPCRED if settings["auth_type"] == "application_credential" else ())
    settings |= {key: str(auth[key]) for key in wanted if auth.get(key)}
    for whose in ("user", "project"):  # keystoneauth's `password`: default_domain_* else
        for what in ("id", "name"):
            value = auth.get(f"{whose}_domain_{what}") or auth.get(f"default_domain_{what}")
            if value:
                settings[f"{whose}_domain_{what}"] = str(value)
    scope = {**settings, **own_settings(account)}  # the account's own keys win
    if scope.get("project_name") and not any(
        scope.get(key) for key in ("project_id", "project_domain_id", "project_domain_name")
    ):
        # The openstack CLI's domain (osc-lib's default domain, id `default`), as wm's
        # clouds.yaml import does for libcloud: keystoneauth alone sends the name bare,
        # which Keystone refuses (400), and the Heat backend's own fallback, the user's
        # domain, could find another project of that name.
        settings["project_domain_id"] = "default"
    secret_key = {"password": "password", "token": "token"}.get(
        settings["auth_type"], "application_credential_secret"
    )
    # Heat's interface (orchestration_interface), then the cloud's: publicURL is public
    interface = config.get("orchestration_interface") or config.get("interface") or "public"
    settings["interface"] = str(interface).lower().removesuffix("url")
    override = config.get("orchestration_endpoint_override") or config.get("orchestration_endpoint")
    if override:
        settings["endpoint_url"] = _heat_url(str(override), refuse)
    if config.get("verify") is False or str(config.get("insecure", "")).lower() in ("1", "true"):
        settings["verify"] = False
    elif config.get("cacert"):
        settings["ca_bundle"] = str(config["cacert"])
    if config.get("cert"):
        settings["client_cert"] = str(config["cert"])
        if config.get("key"):
            settings["client_key"] = str(config["key"])
    secret = auth.get(secret_key)
    return HeatCloud(
        name=name,
        settings=settings,
        region=str(config["region_name"]) if config.get("region_name") else None,
        secret=str(secret) if secret else None,
    )


def no_secret(account: AccountConfig, cloud: HeatCloud, method: str) -> CredentialError:
    """A cloud without its password (or token, or credential's secret), nor the account."""
    what = {"password": "password", "token": "token"}.get(method, "application_credential_secret")
    return CredentialError(
        f"clouds.yaml: cloud {cloud.name!r} has no auth.{what} (clouds.yaml, secure.yaml); "
        f"store one with `wm accounts set-secret {account.name}` or name secret_env or "
        "secret_command in the account's [accounts.credentials]",
        account=account.name,
    )


def file_names(account: AccountConfig, cloud: HeatCloud) -> dict[str, str]:
    """The settings the files come from, for the words of a file that is not there: the
    cloud's cacert, cert and key, unless the account names its own."""
    own = account.settings
    names = {}
    if "ca_bundle" in cloud.settings and "ca_bundle" not in own and "verify" not in own:
        names["ca"] = "clouds.yaml cacert"
    if "client_cert" in cloud.settings and "client_cert" not in own:
        names |= {"client_cert": "clouds.yaml cert", "client_key": "clouds.yaml key"}
    return names


def _heat_url(override: str, refuse: Any) -> str:
    """orchestration_endpoint_override as the Heat backend's endpoint_url (Heat's v1 URL,
    the project added after it): keystoneauth fills in %(project_id)s, the backend too."""
    url = re.sub(r"/%\((project|tenant)_id\)s/?$", "", override.rstrip("/"))
    if "%(" in url or not url.endswith("/v1"):
        raise refuse(
            f"orchestration_endpoint_override {override} is not Heat's v1 URL with the "
            "project as %(project_id)s (e.g. https://heat.example:8004/v1/%(project_id)s)"
        )
    return url
