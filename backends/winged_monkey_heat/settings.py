"""The Heat-specific keys of an account: a direct endpoint, or Keystone v3 and its catalog."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from winged_monkey.account import AccountConfig
from winged_monkey.backend_settings import (
    NOT_BLANK,
    BackendSettings,
    credentials_elsewhere,
    http_url,
    own_settings,
)
from winged_monkey.config_words import settings_problems
from winged_monkey.errors import ConfigError

AuthType = Literal["token", "password", "application_credential"]


#: What a user writes in quotes meaning a boolean, and which one it means.
_QUOTED_BOOLS = {"false": False, "no": False, "0": False, "true": True, "yes": True, "1": True}


class HeatSettings(BackendSettings):
    """Extra keys of a Heat account's `[[accounts]]` table.

    Direct: `endpoint_url` + `project` (a standalone Heat, or a known URL and token).
    Keystone v3: `auth_url` + a password (`username` and its domain, or `user_id`;
    `project_name`/`project_id`, domains)
    or an application credential; Heat's URL comes from the token's service catalog
    (`interface`, the account's `region`) unless `endpoint_url` overrides it.
    """

    # Unknown keys are refused when the config loads (`BackendSettings`), not again here.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    endpoint_url: str | None = Field(
        None, description="Heat's v1 URL without the project, e.g. http://127.0.0.1:8004/v1."
    )
    project: str | None = Field(None, description="Direct endpoint: the project id in Heat's URL.")
    auth_url: str | None = Field(None, description="Keystone's URL, e.g. https://cloud:5000/v3.")
    auth_type: AuthType | None = Field(
        None, description="Inferred: application_credential when one is named, else password."
    )
    username: str | None = Field(None, description="Keystone user (else credentials.key).")
    user_id: str | None = Field(
        None,
        description="Instead of username: the user's id, which needs no domain (and wins over "
        "username, as in keystoneauth).",
    )
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_name: str | None = None
    project_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    application_credential_id: str | None = Field(
        None, description="The credential's id (else credentials.key); its secret is the secret."
    )
    application_credential_name: str | None = Field(
        None,
        description="Instead of the id: the credential's name, with its user (user_id, or "
        "username + domain).",
    )
    interface: Literal["public", "internal", "admin"] = "public"
    service_type: str = Field("orchestration", description="Heat's type in the catalog.")
    verify: Annotated[bool | str, NOT_BLANK] = Field(
        True, description="Verify TLS; or a CA bundle path."
    )
    ca_bundle: Annotated[str | None, NOT_BLANK] = Field(
        None, description="CA bundle path (same as verify = PATH)."
    )
    client_cert: Annotated[str | None, NOT_BLANK] = Field(
        None,
        description="PEM file of the client certificate to present to Heat and Keystone when "
        "they ask for one (mutual TLS); it may hold the key too.",
    )
    client_key: Annotated[str | None, NOT_BLANK] = Field(
        None, description="PEM file of client_cert's private key, when not in client_cert's."
    )
    templates: Annotated[str | None, NOT_BLANK] = Field(
        None, description="Folder of HOT templates offered in the catalog, e.g. ~/heat-templates."
    )
    cloud: str | None = Field(
        None,
        description="A cloud of clouds.yaml, read when the account is used by openstacksdk's "
        "loader (secure.yaml, vendor profiles, regions): its Keystone, user and project; the "
        "account's own keys win.",
    )

    @classmethod
    def needs_secret(cls, account: AccountConfig) -> bool:
        """A direct endpoint takes a token if one is stored (keyring, token_env, ...) but
        never asks for one: a standalone Heat may need none. Keystone needs its secret."""
        return "auth_url" in account.settings and "cloud" not in account.settings

    @classmethod
    def key_is(cls, account: AccountConfig) -> str | None:
        """Keystone's user name (unless `username` names it), or an application
        credential's id; a direct endpoint takes a token only."""
        named = account.settings
        if "auth_url" not in named and "cloud" not in named:
            return None
        appcred = "application_credential_name" in named or "application_credential_id" in named
        return "application credential id" if appcred else "user name"

    @field_validator("endpoint_url", "auth_url")
    @classmethod
    def _urls(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Keystone's user is the account's username (or user_id), its password or token
        # the account's secret: a user:password@ would reach Heat as Basic auth.
        account = (info.context or {}).get("account")
        where = "the user goes in username, and " + credentials_elsewhere(account)
        return None if value is None else http_url(value, credentials=where)

    @field_validator("verify")
    @classmethod
    def _unquoted_bool(cls, value: bool | str) -> bool | str:
        # A quoted boolean is a string, which verify takes as a CA bundle's path: "false"
        # turned into "ca_bundle false: no such file", and "true" into the same.
        if isinstance(value, str) and value.strip().lower() in _QUOTED_BOOLS:
            meant = "true" if _QUOTED_BOOLS[value.strip().lower()] else "false"
            raise ValueError(
                f"write {meant} without quotes (a quoted string is a CA bundle's path)"
            )
        return value

    @model_validator(mode="after")
    def _one_way_in(self) -> HeatSettings:
        if self.auth_url is None and self.cloud is None:  # a cloud's is read when used
            if self.endpoint_url is None or not self.project:
                raise ValueError(
                    "set auth_url (Keystone v3), or endpoint_url and project (a direct endpoint)"
                )
            return self
        if self.auth_url is None:
            return self
        if self.method != "application_credential" and not (self.project_name or self.project_id):
            # an application credential carries its project; without one, a password or a
            # token asks for an unscoped token, which Heat (a project's service) refuses
            keys = (
                "auth.project_name or auth.project_id"
                if self.cloud
                else "project_name or project_id"
            )
            raise ValueError(
                f"Keystone {self.method} auth needs {keys}: Heat serves a project, and "
                "without one Keystone's token is unscoped"
            )
        return self

    @property
    def keystone(self) -> bool:
        return self.auth_url is not None

    @property
    def method(self) -> AuthType:
        if self.auth_type is not None:
            return self.auth_type
        if not self.keystone:
            return "token"
        if self.application_credential_id or self.application_credential_name:
            return "application_credential"
        return "password"

    @property
    def tls_verify(self) -> tuple[bool, str | None]:
        """Verify or not, and the CA bundle to trust (`ca_bundle`, or a path in `verify`)."""
        if self.ca_bundle is not None:
            return True, self.ca_bundle
        if isinstance(self.verify, str):
            return True, self.verify
        return self.verify, None

    @property
    def project_label(self) -> str:
        """The project as the user named it (before Keystone says more)."""
        return self.project or self.project_name or self.project_id or "the credential's project"


def read_settings(account: AccountConfig, cloud: dict[str, Any] | None = None) -> HeatSettings:
    """The account's settings; with `cloud` (a clouds.yaml cloud's), over the cloud's."""
    data = {**(cloud or {}), **own_settings(account)}
    if "endpoint_url" not in data and account.endpoint is not None:
        ep = account.endpoint
        scheme = "https" if ep.secure else "http"
        port = f":{ep.port}" if ep.port else ""
        data["endpoint_url"] = f"{scheme}://{ep.host}{port}/{ep.path.strip('/') or 'v1'}"
    try:
        return HeatSettings.model_validate(data, context={"account": account.name})
    except ValidationError as exc:
        problems = settings_problems(exc)
        where = f"clouds.yaml: cloud {data['cloud']!r}" if cloud is not None else "Heat account"
        raise ConfigError(f"{where}: {problems}", account=account.name) from None
