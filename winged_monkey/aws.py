"""AWS credentials, region and endpoint as the aws CLI finds them: botocore's own resolution.

An EC2 account that names no credentials of its own uses botocore's default chain
(environment, AWS_PROFILE, the shared files, SSO, credential_process, web identity,
container and instance-metadata credentials); an `aws_profile` account resolves that
profile with everything it can say (role_arn with source_profile or credential_source,
mfa_serial, duration_seconds, region, endpoint_url, a services section). Temporary
credentials are botocore's RefreshableCredentials: `frozen()` before each call renews them
before they expire. botocore is imported here only, for the accounts that need it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winged_monkey.errors import CredentialError

if TYPE_CHECKING:
    from collections.abc import Callable

    from winged_monkey.account import AccountConfig

#: botocore's names for where credentials came from, as a person reads them.
_METHODS = {
    "env": "the AWS_* environment variables",
    "shared-credentials-file": "the shared credentials file",
    "config-file": "the shared config file",
    "assume-role": "an assumed role",
    "assume-role-with-web-identity": "a web identity token",
    "custom-process": "credential_process",
    "sso": "SSO",
    "container-role": "container credentials",
    "iam-role": "instance metadata",
}


def uses_botocore(account: AccountConfig) -> bool:
    """An `aws_profile` account, or an EC2 account that names no credentials of its own."""
    creds = account.credentials
    if creds.aws_profile:
        return True
    own = (creds.key, creds.key_env, creds.secret_env, creds.secret_command)
    return (account.provider or "").strip().lower() == "ec2" and all(v is None for v in own)


@dataclass
class AwsIdentity:
    """What botocore resolved for one account; `repr` shows no credential."""

    account: str
    profile: str | None
    region: str | None
    #: EC2's endpoint from the profile (`endpoint_url`, a `services` section,
    #: AWS_ENDPOINT_URL_EC2); None for AWS's own.
    endpoint_url: str | None
    method: str
    credentials: Any = field(repr=False)

    @property
    def source(self) -> str:
        where = f"AWS profile {self.profile}" if self.profile else "AWS default chain"
        return f"{where} ({_METHODS.get(self.method, self.method)})"

    def frozen(self) -> tuple[str, str, str | None]:
        """Key id, secret and session token now; temporary credentials are renewed first
        when they are about to expire (botocore's refresh windows)."""
        try:
            now = self.credentials.get_frozen_credentials()
        except Exception as exc:  # botocore's and its HTTP library's errors, many types
            raise CredentialError(
                f"{self.source}: botocore could not get credentials: {_reason(exc)}",
                account=self.account,
            ) from None
        return str(now.access_key), str(now.secret_key), now.token


def resolve(account: AccountConfig, prompt: Callable[[str, str], str | None] | None) -> AwsIdentity:
    """botocore's resolution for `account`; `prompt` asks for an MFA code (mfa_serial)."""
    import botocore.session

    profile = account.credentials.aws_profile
    where = f"AWS profile {profile!r}" if profile else "AWS default chain"
    try:
        session = botocore.session.Session(profile=profile)
        _mfa_through(session, account.name, prompt)
        region = account.region or session.get_config_variable("region")
        credentials = session.get_credentials()
        endpoint = None if account.endpoint is not None else _ec2_endpoint(session, region)
    except Exception as exc:
        raise CredentialError(f"{where}: {_reason(exc)}", account=account.name) from None
    if credentials is None:
        hint = (
            f"the profile {profile!r} has no credentials"
            if profile
            else "none found (environment, AWS_PROFILE, ~/.aws/credentials and config, SSO, "
            "credential_process, web identity, container or instance metadata); set "
            "aws_profile, or credentials.key with secret_env or secret_command"
        )
        raise CredentialError(f"{where}: {hint}", account=account.name)
    identity = AwsIdentity(
        account=account.name,
        profile=profile,
        region=region,
        endpoint_url=endpoint,
        method=str(getattr(credentials, "method", "") or "unknown"),
        credentials=credentials,
    )
    # The first use now, while the backend is built: a role is assumed here (its MFA code
    # asked, if any), outside any call's deadline, and a refusal names the account at once.
    identity.frozen()
    return identity


def _mfa_through(
    session: Any, account: str, prompt: Callable[[str, str], str | None] | None
) -> None:
    """An assumed role with mfa_serial asks through the portal's own prompt (the TUI's dialog
    or the terminal), never botocore's getpass on a terminal the TUI is drawing on."""

    def ask(text: str) -> str:
        code = prompt(account, "MFA code (mfa_serial)") if prompt is not None else None
        if not code:
            raise CredentialError(
                "the profile's role needs an MFA code (mfa_serial) and none was given",
                account=account,
            )
        return code

    provider = session.get_component("credential_provider").get_provider("assume-role")
    # AssumeRoleProvider takes its prompter only in its constructor (botocore builds it):
    # the attribute is where it keeps it; tests/test_aws_botocore.py checks it is used.
    provider._prompter = ask


def _ec2_endpoint(session: Any, region: str | None) -> str | None:
    """The EC2 endpoint the profile configures, or None for AWS's own for the region."""
    if not region:
        return None
    client = session.create_client("ec2", region_name=region)
    url = str(client.meta.endpoint_url)
    default = session.create_client(
        "ec2", region_name=region, config=_plain_config()
    ).meta.endpoint_url
    return None if url == default else url


def _plain_config() -> Any:
    from botocore.config import Config

    # botocore >= 1.31 has the option; its stubs do not know it yet.
    return Config(ignore_configured_endpoint_urls=True)  # type: ignore[call-arg]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, CredentialError):
        return exc.message
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."
