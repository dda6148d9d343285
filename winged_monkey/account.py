"""One account as a backend receives it: its settings (`AccountConfig`, with where its
credentials come from) and its resolved secrets (`Secrets`).

This is the bottom of the backend contract: it imports neither the config loader, nor the
credential chain, nor anything above them, so a backend needs nothing else of the core.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from winged_monkey.errors import CredentialError
from winged_monkey.names import ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN

if TYPE_CHECKING:
    from winged_monkey.aws import AwsIdentity

KEYRING_SERVICE = "winged-monkey"
#: How a keyring that cannot be used starts its note in `Secrets.tried`.
KEYRING_MISSING = "keyring (no keyring backend"
KEYRING_UNAVAILABLE = "keyring (unavailable"
#: What `key_env`, `secret_env` and `token_env` may hold: a variable's name, as a shell writes it.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: A host name or an IPv4 address as `Endpoint.host` takes it (IPv6 is checked apart).
_HOST = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?")


class Credentials(BaseModel):
    """Where an account's credentials come from (tried in this order for the secret:
    keyring, `secret_env`, `secret_command`, then a prompt). An `aws_profile` account, or an
    EC2 account that names none of key, key_env, secret_env and secret_command, is resolved
    by botocore as the aws CLI does (winged_monkey.aws)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    key: str | None = Field(None, description="Public part: access key id, user name. Not secret.")
    key_env: str | None = Field(None, description="Environment variable holding the public part.")
    keyring: bool = Field(True, description="Look in the OS keyring (service 'winged-monkey').")
    secret_env: str | None = Field(None, description="Environment variable holding the secret.")
    secret_command: str | None = Field(
        None, description="Command printing the secret on stdout, e.g. 'pass show cloud/prod'."
    )
    token_env: str | None = Field(None, description="Environment variable with a session token.")
    aws_profile: str | None = Field(
        None,
        description="Profile in the AWS shared config/credentials files, resolved by botocore "
        "(roles, credential_process, SSO, MFA, region, endpoint_url, services).",
    )

    @field_validator("key_env", "secret_env", "token_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        # Never echoes `value`: what is not a variable's name is likely the secret itself,
        # pasted where its variable's name goes.
        if value is None or _ENV_NAME.fullmatch(value):
            return value
        if value.startswith("$") and _ENV_NAME.fullmatch(value[1:]):
            raise ValueError("must name an environment variable: write its name without '$'")
        raise ValueError(
            "must name an environment variable (letters, digits, _), not hold the secret: "
            "export the value under a name and write that name here, or store a secret with "
            "`wm accounts set-secret`"
        )

    @model_validator(mode="after")
    def _profile_alone(self) -> Credentials:
        # botocore reads the key, secret and token from the profile: a key or secret
        # named beside it would be dropped in silence. Names the keys, never their values.
        beside = [k for k in _NOT_WITH_PROFILE if getattr(self, k) is not None]
        if self.keyring and "keyring" in self.model_fields_set:  # written: the default is too
            beside.append("keyring = true")
        if self.aws_profile is not None and beside:
            named = " and ".join([", ".join(beside[:-1]), beside[-1]] if beside[1:] else beside)
            them = "them" if beside[1:] else "it"
            raise ValueError(
                f"aws_profile reads the key, secret and token from the AWS profile "
                f"{self.aws_profile!r}, so {named} would be ignored: drop {them}, or drop "
                "aws_profile"
            )
        return self


#: What an `aws_profile` account's profile gives, and so cannot name beside it.
_NOT_WITH_PROFILE = ("key", "key_env", "secret_env", "secret_command", "token_env")


class Endpoint(BaseModel):
    """A compatible endpoint instead of the provider's public one (moto, LocalStack, ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    host: str = Field(description="A host name or address only: no scheme, port or path.")
    port: int | None = Field(None, ge=1, le=65535)
    secure: bool = Field(True, description="Use TLS.")
    path: str = "/"

    @field_validator("host")
    @classmethod
    def _host_only(cls, value: str) -> str:
        # A URL here would be dialled as a host name ("http://x:5000:80"), failing as DNS.
        written = value.strip()
        if written == value and _HOST.fullmatch(value):
            return value
        parts: SplitResult | None = None
        try:
            ipaddress.ip_address(written)
        except ValueError:
            parts = urlsplit(written if "://" in written else "//" + written)
        else:
            if written == value:
                return value  # an IPv6 address, whose colons are no port
        host = written if parts is None else parts.hostname
        if not host or any(c.isspace() for c in host):
            raise ValueError('takes a host name only, e.g. host = "cloud.example"')
        said = [f'host = "{host}"']
        if parts is not None:
            try:
                if parts.port is not None:
                    said.append(f"port = {parts.port}")
            except ValueError:
                pass  # a port that is no number: the suggestion leaves it to the user
            if parts.scheme == "http":
                said.append("secure = false")
            if parts.path.strip("/"):
                said.append(f'path = "{parts.path}"')
        raise ValueError("takes a host name only: " + ", ".join(said))


class AccountConfig(BaseModel):
    """One cloud account. Backend-specific settings are extra keys the backend validates."""

    # Finite and bounded: a deadline of `timeout` seconds from now must be a date.
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True, allow_inf_nan=False)

    name: str = Field(pattern=f"^{ACCOUNT_NAME_PATTERN}$", max_length=ACCOUNT_NAME_MAX)
    backend: str = Field("libcloud", description="Entry point name of the backend plugin.")
    provider: str | None = Field(None, description="Provider name within the backend, e.g. 'ec2'.")
    region: str | None = None
    endpoint: Endpoint | None = None
    read_only: bool = Field(False, description="Never send a mutating call for this account.")
    timeout: float = Field(
        20.0, gt=0, le=3600, description="Seconds before a call counts as failed."
    )
    price_hourly: float | None = Field(
        None,
        ge=0,
        le=1_000_000,
        description="Flat hourly rate for private clouds that publish no prices.",
    )
    driver: dict[str, Any] = Field(
        default_factory=dict, description="Extra keyword arguments for the provider's driver."
    )
    credentials: Credentials = Field(default_factory=Credentials)

    @property
    def takes_aws_profile(self) -> bool:
        """Whether `credentials.aws_profile` is accepted: EC2's only. Any other provider
        would get no key from it (libcloud's driver then fails wanting one)."""
        return isinstance(self.provider, str) and self.provider.strip().lower() == "ec2"

    @model_validator(mode="after")
    def _profile_for_ec2(self) -> AccountConfig:
        provider = (self.provider or "").strip().lower()
        if self.credentials.aws_profile is not None and not self.takes_aws_profile:
            which = (
                f"this account's provider is {self.provider!r}"
                if self.provider
                else f"this {self.backend} account names no provider"
            )
            raise ValueError(
                f'credentials.aws_profile is for EC2 accounts only (provider = "ec2"), and '
                f"{which}: name its key (key or key_env) and its secret (keyring, secret_env "
                "or secret_command) instead"
            )
        creds = self.credentials
        written = "keyring" in creds.model_fields_set and creds.keyring
        no_key = creds.key is None and creds.key_env is None and creds.aws_profile is None
        if provider == "ec2" and written and no_key:
            # With no key of its own the account is botocore's (aws.uses_botocore), which
            # reads no keyring: the secret stored there was ignored in silence.
            raise ValueError(
                "credentials.keyring = true holds an EC2 account's secret access key, and "
                "this account names no access key id beside it: name it (key or key_env), "
                "or drop keyring = true to use the AWS chain (AWS_* variables, ~/.aws, an "
                "instance role)"
            )
        return self

    @property
    def settings(self) -> dict[str, Any]:
        """The backend-specific keys (anything the core does not know)."""
        return dict(self.model_extra or {})


def _echoed_forms(value: str) -> list[str]:
    """A secret as an error may quote it: as it is, and escaped as Python's repr of the
    text or of its bytes (`Illegal header value b'...'`) and JSON write it, longest first
    (a form inside another is masked with it)."""
    import json

    forms = {value, repr(value)[1:-1], repr(value.encode())[2:-1], json.dumps(value)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def shown_secret_env(name: str) -> str:
    """The variable `secret_env` names, as a message may show it: a name like OS_PASSWORD
    as it is; anything else may be the secret itself, pasted where its variable's name
    goes (a hex key or a token is a valid name), and is not shown."""
    if re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+_?|[A-Z]{1,12}", name):
        return name
    return "<not shown>"


@dataclass(frozen=True)
class Secrets:
    """Resolved credentials for one account. `repr` never shows the secret."""

    account: str
    key: str | None = None
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    source: str = "none"
    tried: tuple[str, ...] = ()
    #: botocore's resolution, for an `aws_profile` account or an EC2 account that names no
    #: credentials: the key, secret and token come from `aws.frozen()` before each call.
    aws: AwsIdentity | None = field(default=None, repr=False)
    #: The variable `key_env` names, when the key was to come from it and it was not set.
    key_env_unset: str | None = None
    #: The variable `secret_env` names, when the secret was to come from it and it was not set.
    secret_env_unset: str | None = None
    #: Of those two, the variables that are set but empty (`export X=`: `env` lists them).
    env_empty: frozenset[str] = frozenset()
    #: What the key is for the account's backend ("user name"), for the words.
    key_is: str = "key id"
    #: Whether the account may name an `aws_profile` instead (AccountConfig.takes_aws_profile).
    takes_aws_profile: bool = False

    def require_secret(self) -> str:
        if self.secret is None:
            tried = f" (tried {'; '.join(self.tried)})" if self.tried else ""
            raise CredentialError(
                "no secret found" + tried + self._secret_advice(), account=self.account
            )
        return self.secret

    def _secret_advice(self) -> str:
        """Where the account's secret can come from, of the sources it reads: the keyring
        only when it reads the keyring and the host has one."""
        keyring = next((n for n in self.tried if n.startswith("keyring")), None)
        unset = self.secret_env_unset
        if keyring is not None and not keyring.startswith((KEYRING_MISSING, KEYRING_UNAVAILABLE)):
            return (
                f". Store one with `wm accounts set-secret {self.account}`, or name an "
                "environment variable (secret_env) or a command (secret_command) in the "
                "account's [accounts.credentials]"
            )
        if unset and shown_secret_env(unset) != unset:
            return (
                ": secret_env names a variable that is not set, by a name that looks like a "
                "secret, not a variable's (so not shown): write there the name of the "
                "variable that holds the secret, and export it before running wm"
            )
        if unset in self.env_empty:
            return f": give {unset}, the variable secret_env names, the secret before running wm"
        if unset:
            return f": export {unset}, the variable secret_env names, before running wm"
        if keyring is not None:  # `wm accounts set-secret` cannot help here: name what can
            return "; " + elsewhere(self.account)
        return (
            "; this account reads no keyring (keyring = false): name an environment variable "
            "(secret_env) or a command (secret_command) in the account's "
            "[accounts.credentials], or drop keyring = false and store one with "
            f"`wm accounts set-secret {self.account}`"
        )

    def mask(self, text: str) -> str:
        """`text` with every secret value of the account replaced, should a provider or a
        library ever echo one (the one place that rule is written; the engine applies it
        to every error a backend raises)."""
        handed = self.aws.handed if self.aws is not None else ()  # botocore's, as used
        for value in (self.secret, self.token, *handed):
            if value and len(value) >= 4:
                for form in _echoed_forms(value):
                    text = text.replace(form, "***")
        return text

    def require_key(self) -> str:
        if self.key is None:
            unset = self.key_env_unset
            if unset in self.env_empty:
                said = (
                    f"key_env {unset} is set but empty: give it the {self.key_is} before "
                    "running wm, or set credentials.key"
                )
            elif unset:
                said = f"key_env {unset} is not set (export it, or set credentials.key)"
            else:
                profile = ", or aws_profile" if self.takes_aws_profile else ""
                said = f"no {self.key_is} configured: set credentials.key or key_env{profile}"
            raise CredentialError(said, account=self.account)
        return self.key


def secret_env_name(account: str) -> str:
    """The environment variable proposed for an account's secret."""
    return "WM_SECRET_" + "".join(c if c.isalnum() else "_" for c in account.upper())


def elsewhere(account: str) -> str:
    """Where a secret can live when the keyring cannot hold it, as the lines to write."""
    var = secret_env_name(account)
    return (
        f'in the account\'s [accounts.credentials] set secret_env = "{var}" (and export {var} '
        f'before running wm) or secret_command = "pass show cloud/{account}"'
    )
