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

import functools
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winged_monkey import credential_commands
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
    region: str
    #: The EC2 endpoint botocore would call for the region (the profile's `endpoint_url`, a
    #: `services` section, AWS_ENDPOINT_URL_EC2, else AWS's own); None when the account
    #: names its own `endpoint`.
    endpoint_url: str | None
    method: str
    credentials: Any = field(repr=False)
    #: The CAs botocore trusts (the profile's ca_bundle, AWS_CA_BUNDLE), for EC2's calls too.
    ca_bundle: str | None = None
    #: Where botocore read `ca_bundle`, and where to change it.
    ca_bundle_from: str = ""

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
                f"{self.source}: botocore could not get credentials: {_reason(exc)}"
                + _advice(exc, None, self.profile),
                account=self.account,
            ) from None
        return str(now.access_key), str(now.secret_key), now.token


def resolve(
    account: AccountConfig,
    prompt: Callable[[str, str], str | None] | None,
    *,
    terminal: bool = True,
) -> AwsIdentity:
    """botocore's resolution for `account`; `prompt` asks for an MFA code (mfa_serial);
    without `terminal`, a credential_process runs with none (credential_commands.py)."""
    import botocore.session
    from botocore.config import Config

    profile = account.credentials.aws_profile
    where = f"AWS profile {profile!r}" if profile else "AWS default chain"
    session = botocore.session.Session(profile=profile)
    # botocore's own calls (STS for a role, SSO, web identity) wait 60 s per attempt by
    # default, 3 minutes with its retries, with no deadline of wm's around them: each attempt
    # gets the account's timeout instead (the retries stay the profile's max_attempts).
    session.set_default_client_config(
        Config(connect_timeout=account.timeout, read_timeout=account.timeout)
    )
    try:
        _mfa_through(session, account.name, prompt)
        _process_through_commands(session, terminal=terminal)
        region = account.region or session.get_config_variable("region")
        credentials = session.get_credentials()
    except Exception as exc:
        raise CredentialError(
            f"{where}: {_reason(exc)}{_advice(exc, session, profile)}"
            + (
                ""
                if terminal or not _from_process(exc)
                else f"; {credential_commands.no_terminal('the credential_process')}"
            )
            + _unread_files(session, missing=_not_found(exc)),
            account=account.name,
        ) from None
    if credentials is None:
        hint = (
            f"the profile {profile!r} has no credentials"
            if profile
            else "none found (environment, AWS_PROFILE, ~/.aws/credentials and config, SSO, "
            "credential_process, web identity, container or instance metadata); set "
            "aws_profile, or credentials.key with secret_env or secret_command"
        )
        hint += skipped_section(session, profile) + _typos(session, _CREDENTIAL_KEYS)
        hint += _unread_files(session)
        raise CredentialError(f"{where}: {hint}", account=account.name)
    if not region:  # botocore's NoRegionError: the aws CLI refuses too, never guesses one
        hint = _no_region(session) + skipped_section(session, profile) + _unread_files(session)
        raise CredentialError(f"{where}: {hint}", account=account.name)
    try:
        endpoint, region = _ec2_endpoint(session, region)
    except Exception as exc:
        raise CredentialError(f"{where}: {_reason(exc)}", account=account.name) from None
    identity = AwsIdentity(
        account=account.name,
        profile=profile,
        region=region,
        endpoint_url=None if account.endpoint is not None else endpoint,
        method=str(getattr(credentials, "method", "") or "unknown"),
        credentials=credentials,
        ca_bundle=session.get_config_variable("ca_bundle"),
        ca_bundle_from=_ca_bundle_from(session),
    )
    # The first use now, while the backend is built: a role is assumed here (its MFA code
    # asked, if any), outside any call's deadline, and a refusal names the account at once.
    identity.frozen()
    return identity


def _ca_bundle_from(session: Any) -> str:
    import os

    if os.environ.get("AWS_CA_BUNDLE"):  # botocore reads it before the profile's
        return "it is AWS_CA_BUNDLE's: fix or unset that variable"
    name = session.get_config_variable("profile") or "default"
    where = session.get_config_variable("config_file")
    return f"it is the ca_bundle of the AWS profile {name!r} in {where}: fix or remove it there"


def _mfa_through(
    session: Any, account: str, prompt: Callable[[str, str], str | None] | None
) -> None:
    """An assumed role with mfa_serial asks through the portal's own prompt (the TUI's dialog
    or the terminal), never botocore's getpass on a terminal the TUI is drawing on."""

    def ask(text: str) -> str:
        if prompt is None:  # `wm ls` in a pipe or from cron, wm serve
            raise CredentialError(
                "the profile's role needs an MFA code (mfa_serial), and wm has no terminal "
                "to ask for it on (its input is not one, or it is wm serve): run it on a "
                "terminal, or name a profile without mfa_serial",
                account=account,
            )
        code = prompt(account, "MFA code (mfa_serial)")
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


def _process_through_commands(session: Any, *, terminal: bool) -> None:
    """The profile's credential_process started as wm's other credential commands are
    (credential_commands.py: without a terminal under the TUI; stopped when wm exits).
    botocore's provider takes how to start it (its `popen`) only when built, so an equal
    one replaces it in the chain, and in what a role's provider builds for its
    source_profile."""
    chain = session.get_component("credential_provider")
    ours = functools.partial(
        _process_provider(), load_config=lambda: session.full_config, terminal=terminal
    )
    chain.insert_after(
        "custom-process", ours(profile_name=session.get_config_variable("profile") or "default")
    )
    chain.remove("custom-process")  # the first of that name: botocore's own
    # A role's source_profile is read by providers the role's provider builds itself, from
    # a builder it takes only in its constructor (botocore builds it): the attribute is
    # where it keeps it; tests/test_credential_commands.py checks the command is wm's.
    role = chain.get_provider("assume-role")
    role._profile_provider_builder = _SourceProviders(role._profile_provider_builder, ours)


@functools.cache
def _process_provider() -> Callable[..., Any]:
    """botocore's ProcessProvider, its command started by credential_commands.popen, and
    its failures told without what the command printed. botocore puts a failing command's
    stderr in its error, and that is shown, logged and sent to wm serve's clients: a
    helper's debug output there can be the secret itself. Output that is no JSON object
    was told as json's bare `Expecting value: line 1 column 1 (char 0)`."""
    from botocore.credentials import ProcessProvider
    from botocore.exceptions import CredentialRetrievalError

    class WmProcessProvider(ProcessProvider):
        def __init__(self, profile_name: str, load_config: Any, *, terminal: bool) -> None:
            super().__init__(profile_name, load_config, popen=self._start)
            self._terminal = terminal
            self._started: subprocess.Popen[Any] | None = None

        def _start(self, args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
            self._started = credential_commands.popen(args, terminal=self._terminal, **kwargs)
            return self._started

        def _retrieve_credentials_using(self, credential_process: str) -> Any:
            self._started = None
            program = (credential_process.split() or [credential_process])[0]
            try:  # botocore's own (botocore-stubs lack this private method)
                return super()._retrieve_credentials_using(credential_process)  # type: ignore[misc]
            except CredentialRetrievalError:
                code = self._started.returncode if self._started is not None else None
                if not code:
                    raise  # botocore's own words (a Version or a key missing)
                said = (
                    f"{program} exited with status {code} (what it wrote on stderr is not "
                    "shown: it can hold a secret); run it in a shell to see why"
                )
            except (ValueError, AttributeError, TypeError) as exc:  # JSON, UTF-8, no object
                said = (
                    f"{program} printed no JSON credentials ({_reason(exc)}): it must print "
                    'only {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...} on '
                    "stdout; run it in a shell to see what it prints"
                )
            raise CredentialRetrievalError(provider=self.METHOD, error_msg=said) from None

    return WmProcessProvider


class _SourceProviders:
    """botocore's ProfileProviderBuilder with each ProcessProvider it makes replaced by
    `ours(profile_name=...)`, one that starts the command as wm does."""

    def __init__(self, builder: Any, ours: Callable[..., Any]) -> None:
        self._builder, self._ours = builder, ours

    def providers(self, profile_name: str, disable_env_vars: bool = False) -> list[Any]:
        from botocore.credentials import ProcessProvider

        return [
            self._ours(profile_name=profile_name)
            if isinstance(provider, ProcessProvider)
            else provider
            for provider in self._builder.providers(profile_name, disable_env_vars)
        ]


def _ec2_endpoint(session: Any, region: str) -> tuple[str, str]:
    """The EC2 endpoint botocore would call and the region it signs for. The endpoint is the
    profile's (endpoint_url, a services section, AWS_ENDPOINT_URL_EC2), else AWS's own for
    the region as botocore knows it (a region newer than libcloud's table, FIPS or
    dual-stack endpoints); the region is botocore's reading of it (`fips-us-east-1` and
    `us-east-1-fips` are us-east-1 on its FIPS endpoint)."""
    meta = session.create_client("ec2", region_name=region).meta
    return str(meta.endpoint_url), str(meta.region_name)


def ec2_regions() -> list[str]:
    """Every region botocore's bundled endpoint data names for EC2, in every partition."""
    resolver = _endpoints()
    return [
        region
        for partition in resolver.get_available_partitions()
        for region in resolver.get_available_endpoints("ec2", partition_name=partition)
    ]


def ec2_host(region: str) -> str | None:
    """EC2's host for `region` in botocore's bundled endpoint data (no profile or session:
    for an account whose keys are its own); None for a region it does not name (a region
    merely shaped like one, us-est-1, would resolve too)."""
    if region not in ec2_regions():
        return None
    found = _endpoints().construct_endpoint("ec2", region)
    return str(found["hostname"]) if found else None


def _endpoints() -> Any:
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    return EndpointResolver(create_loader().load_data("endpoints"))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, CredentialError):
        return exc.message
    text = str(exc).strip() or type(exc).__name__
    text = text.rstrip(".")  # a hint may follow
    return text if len(text) < 300 else text[:297] + "..."


# -- what to do, where botocore's own words do not say it ---------------------------------

#: The keys from which botocore makes a profile's credentials (a near miss is named).
_CREDENTIAL_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
)


def _not_found(exc: BaseException) -> bool:
    from botocore import exceptions as bx

    return isinstance(exc, bx.ProfileNotFound)


def _from_process(exc: BaseException) -> bool:
    from botocore import exceptions as bx

    return isinstance(exc, bx.CredentialRetrievalError) and "custom-process" in str(exc)


def _advice(exc: BaseException, session: Any, profile: str | None) -> str:
    """What to do after botocore's reason, for the refusals whose words do not say it."""
    from botocore import exceptions as bx

    if isinstance(
        exc, bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError | bx.TokenRetrievalError
    ):
        import os
        import shlex

        # The profile botocore read: the account's, else the variables' (in its order).
        name = profile or os.environ.get("AWS_DEFAULT_PROFILE") or os.environ.get("AWS_PROFILE")
        login = f"aws sso login --profile {shlex.quote(name)}" if name else "aws sso login"
        return f"; log in to SSO first: {login}"
    if isinstance(exc, RuntimeError) and "still expired" in str(exc):
        return (
            "; they came with an expiry time already past: renew them at their source "
            "(the credential_process's login, the credentials file) or check this host's clock"
        )
    if isinstance(exc, bx.ProfileNotFound) and session is not None:
        return _missing_profile(session, profile)
    if isinstance(exc, bx.CredentialRetrievalError) and "Ec2InstanceMetadata" in str(exc):
        import os

        why = (
            "AWS_EC2_METADATA_DISABLED is set"
            if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true"
            else "it answers only on an EC2 instance with an instance profile"
        )
        return (
            f"; this host's instance metadata gave no role credentials ({why}): on another "
            "host, name source_profile or credential_source = Environment instead"
        )
    return ""


def _missing_profile(session: Any, profile: str | None) -> str:
    """Why a profile was not found: AWS_PROFILE, a section written the other file's way,
    a near name; and what the files do have."""
    import os

    # botocore reads AWS_DEFAULT_PROFILE first (configprovider's "profile" variable).
    named = [
        (v, os.environ[v]) for v in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE") if os.environ.get(v)
    ]
    name = profile or (named[0][1] if named else None)
    if not name:
        return ""
    hint = ""
    if not profile:
        hint = f"; {named[0][0]}={name} names it"
        if len(named) > 1 and named[1][1] != name:
            hint += f" (botocore reads it before {named[1][0]}={named[1][1]})"
    misnamed = skipped_section(session, name)
    if misnamed:
        return hint + misnamed
    have = sorted(session.available_profiles)
    near = _nearest(name, have)
    hint += f"; did you mean {near!r}?" if near else ""
    return hint + f"; the files have the profiles: {', '.join(have) or 'none'}"


def skipped_section(session: Any, name: str | None) -> str:
    """A section botocore skips because it is written the other file's way: `[x]` in the
    config file (there it is `[profile x]`), `[profile x]` in the credentials file; or
    `[profile my dev]` with the name unquoted. `; <file> has [...], ...`, or nothing."""
    from botocore.configloader import raw_config_parse

    if not name or name == "default":
        return ""
    files = (
        ("config", "config_file", name, f"[profile {name}]"),
        ("credentials", "credentials_file", f"profile {name}", f"[{name}]"),
    )
    for kind, variable, wrong, right in files:
        path = session.get_config_variable(variable)
        try:
            sections = raw_config_parse(path, parse_subsections=False)
        except Exception:  # no such file, or unreadable: botocore's own words said enough
            sections = {}
        written = {" ".join(str(s).split()): str(s) for s in sections}
        if wrong in written:
            return f"; {path} has [{wrong}], which botocore skips: in the {kind} file write {right}"
        # `[ profile x ]`: botocore takes the spaces inside the brackets as part of the name.
        spaced = written.get(right[1:-1])
        if spaced is not None and spaced != spaced.strip():
            return (
                f"; {path} has [{spaced}], which botocore skips (the spaces inside the "
                f"brackets are part of the name): write {right}"
            )
        # botocore splits a config section's name as a shell would: `[profile my dev]` is
        # three words, and skipped; such a name is quoted there.
        unquoted = written.get(f"profile {name}") if kind == "config" else None
        if unquoted is not None and _shell_words(unquoted) != ["profile", name]:
            return (
                f"; {path} has [{unquoted}], which botocore skips (it splits the name as a "
                f'shell would): write [profile "{name}"]'
            )
    return ""


def _unread_files(session: Any, *, missing: bool = True) -> str:
    """The shared files botocore reads as empty, without a word: one this user cannot read
    (mode 000, another user's), a directory; with `missing` (where what the files would
    give was not found), one that AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE names and
    that is not there (a typo). `; <path> ...`."""
    import os

    said = ""
    for variable, env in (
        ("config_file", "AWS_CONFIG_FILE"),
        ("credentials_file", "AWS_SHARED_CREDENTIALS_FILE"),
    ):
        path = os.path.expanduser(str(session.get_config_variable(variable)))
        if os.path.isdir(path):
            said += f"; {path} is a directory, which botocore reads as empty: name the file"
            continue
        try:
            with open(path, "rb"):
                pass
        except FileNotFoundError:
            if missing and os.environ.get(env):  # the default ~/.aws files may be absent
                said += f"; {env} names {path}, which does not exist"
        except OSError as exc:
            said += (
                f"; {path} cannot be read ({exc.strerror or type(exc).__name__}), so "
                f"botocore reads it as empty: let this user read it (chmod 600 {path})"
            )
    return said


def _shell_words(text: str) -> list[str]:
    import shlex

    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote: botocore skips the section as well
        return []


def _typos(session: Any, wanted: tuple[str, ...]) -> str:
    """The profile's keys botocore does not read that are near one it would: `rolearn`."""
    try:
        profile = session.get_scoped_config()
    except Exception:
        return ""
    missed = {
        key: near
        for key in profile
        if key not in wanted and (near := _nearest(key, wanted)) and near not in profile
    }
    return "".join(
        f"; its {key} is not a key botocore reads: {near}?" for key, near in missed.items()
    )


def _no_region(session: Any) -> str:
    import os

    where = session.get_config_variable("config_file")
    text = (
        "no region (botocore's NoRegionError): set region in the account, "
        f"or region in the profile ({where}), or AWS_DEFAULT_REGION"
    )
    if os.environ.get("AWS_DEFAULT_REGION") == "":  # botocore takes it before the profile's
        text += (
            "; AWS_DEFAULT_REGION is set but empty, and botocore reads it before the "
            "profile's region: unset it (unset AWS_DEFAULT_REGION) or give it the region"
        )
    elif os.environ.get("AWS_REGION"):
        text += "; AWS_REGION is set, but botocore reads AWS_DEFAULT_REGION"
    return text + _typos(session, ("region",))


def _nearest(key: str, valid: Any) -> str | None:
    from winged_monkey.errors import nearest  # only when something is wrong

    return nearest(key, valid, cutoff=0.75)
