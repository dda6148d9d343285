"""The vSphere account's own settings (extra keys in `[[accounts]]`) and its TLS context."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from winged_monkey.account import AccountConfig
from winged_monkey.backend_settings import (
    NOT_BLANK,
    BackendSettings,
    own_settings,
)
from winged_monkey.config_words import settings_problems
from winged_monkey.errors import ConfigError

DEFAULT_SDK_PATH = "/sdk"


class VSphereSettings(BackendSettings):
    """Keys a vSphere account may carry besides the portal's own.

    TLS is always verified unless `insecure = true` is written in the account,
    and the portal says so wherever it describes the account.
    """

    ca_bundle: Annotated[Path | None, NOT_BLANK] = Field(
        None,
        description="PEM file of the CA(s) that signed vCenter's certificate; "
        "the system's trust store when unset.",
    )
    insecure: bool = Field(
        False, description="Do not verify the server's certificate (a lab only; never default)."
    )

    @classmethod
    def key_is(cls, account: AccountConfig) -> str | None:
        return "user name"


class Target:
    """Where and how to reach one vSphere endpoint."""

    def __init__(self, account: AccountConfig) -> None:
        if account.endpoint is None:
            raise ConfigError(
                "a vSphere account needs an endpoint: [accounts.endpoint] host = "
                '"vcenter.example.com" (port 443 unless set)',
                account=account.name,
            )
        try:
            self.settings = VSphereSettings.model_validate(own_settings(account))
        except ValidationError as exc:
            raise ConfigError(
                f"vSphere settings: {settings_problems(exc)} (known keys: ca_bundle, insecure)",
                account=account.name,
            ) from None
        endpoint = account.endpoint
        self.host = endpoint.host
        self.secure = endpoint.secure
        self.port = endpoint.port or (443 if endpoint.secure else 80)
        self.path = endpoint.path if endpoint.path not in ("", "/") else DEFAULT_SDK_PATH
        self.timeout = account.timeout
        self.account = account.name

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def verified(self) -> bool:
        return self.secure and not self.settings.insecure

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying context (the CA bundle or the system store), or the explicit opt-out.

        pyVim's helpers silently disable verification for localhost when given no
        context, so a context is always built and always passed.
        """
        if self.settings.insecure:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        bundle = self.settings.ca_bundle
        if bundle is None:
            return ssl.create_default_context()
        bundle = bundle.expanduser()
        try:
            # Only the bundle is trusted (as with requests' `verify=PATH`), not the system store.
            context = ssl.create_default_context(cafile=str(bundle))
        except FileNotFoundError:
            raise ConfigError(f"ca_bundle {bundle}: no such file", account=self.account) from None
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"ca_bundle {bundle}: not a readable PEM CA bundle ({_reason(exc)})",
                account=self.account,
            ) from None
        return context


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__)
