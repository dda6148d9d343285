"""AWS credentials, region and endpoint as the aws CLI finds them: botocore's own resolution.

An EC2 account that names no credentials of its own uses botocore's default chain
(environment, AWS_PROFILE, the shared files, SSO, credential_process, web identity,
container and instance-metadata credentials); an `aws_profile` account resolves that
profile with everything it can say (role_arn with source_profile or credential_source,
mfa_serial, duration_seconds, region, endpoint_url, a services section). Temporary
credentials are botocore's RefreshableCredentials: `frozen()` before each call renews them
before they expire. botocore is imported here only (and by aws_hints, the hints after a
refusal), for the accounts that need it.
"""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winged_monkey import aws_hints as hints
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
    #: The profile's keys in the shared files, to read again once a file has changed.
    in_files: KeysInFiles | None = field(default=None, repr=False)
    #: The last secrets and session tokens `frozen` handed out, for Secrets.mask.
    handed: list[str] = field(default_factory=list, repr=False)

    @property
    def source(self) -> str:
        where = f"AWS profile {self.profile}" if self.profile else "AWS default chain"
        return f"{where} ({_METHODS.get(self.method, self.method)})"

    def frozen(self) -> tuple[str, str, str | None]:
        """Key id, secret and session token now; temporary credentials are renewed first
        when they are about to expire (botocore's refresh windows), and keys from the
        shared files are read again once a file has changed."""
        try:
            self._reread()
            now = self.credentials.get_frozen_credentials()
        except Exception as exc:  # botocore's and its HTTP library's errors, many types
            raise CredentialError(
                f"{self.source}: botocore could not get credentials: {_reason(exc)}"
                + hints.advice(exc, None, self.profile),
                account=self.account,
            ) from None
        for value in (now.secret_key, now.token):
            if value and value not in self.handed:
                self.handed[:] = [*self.handed[-3:], value]
        return str(now.access_key), str(now.secret_key), now.token

    def _reread(self) -> None:
        """Keys botocore read from the shared files (static: it never reads them again)
        are read again, as each aws CLI command does, once a file has changed: saml2aws,
        gimme-aws-creds or `aws configure` write new ones there while wm runs. Only
        keys from those files replace them; anything else (a file caught half-written,
        the profile become a role) keeps the ones in use until they are refused."""
        if self.method not in _FROM_FILES or self.in_files is None:
            return
        if (found := self.in_files.changed()) is not None:
            self.method, self.credentials = found.method, found


#: botocore's methods for keys it read from the shared files.
_FROM_FILES = ("shared-credentials-file", "config-file")


def _state(paths: tuple[str, ...]) -> tuple[tuple[int, int, int] | None, ...]:
    """Each file's inode, size and time of change; None for one that is not there."""
    import os

    def one(path: str) -> tuple[int, int, int] | None:
        try:
            found = os.stat(path)
        except OSError:
            return None
        return found.st_ino, found.st_size, found.st_mtime_ns

    return tuple(one(path) for path in paths)


@dataclass
class KeysInFiles:
    """One profile's keys as botocore reads them from the shared files (`load`), and the
    files' state when they were last read: what AwsIdentity and a role's source keys
    (_rereading_keys) read again, as each aws CLI command does, once a file has changed."""

    files: tuple[str, ...]
    read: tuple[tuple[int, int, int] | None, ...]
    load: Callable[[], Any]

    def changed(self) -> Any:
        """The keys read anew if a file has changed since the last reading; None if none
        has, or if they cannot be read now (a file caught half-written: the keys in use
        stay until they are refused)."""
        if (now := _state(self.files)) == self.read:
            return None
        self.read = now
        try:
            return self.load()
        except Exception:
            return None


def _keys_from_files(name: str, files: tuple[str, ...]) -> Callable[[], Any]:
    """Keys of the profile `name` botocore read from its two files, in its order (the
    credentials file first), by its own providers: none of the chain's others, which
    could assume a role, ask for an MFA code or start a command."""
    from botocore.credentials import ConfigProvider, SharedCredentialProvider

    config, credentials = files

    def load() -> Any:
        for provider in (SharedCredentialProvider(credentials, name), ConfigProvider(config, name)):
            if (found := provider.load()) is not None:
                return found
        return None

    return load


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
    files = hints.shared_files(session)
    read = _state(files)  # before the chain reads them: a change after that is seen
    try:
        _mfa_through(session, account.name, prompt)
        _process_through_commands(session, terminal=terminal)
        _source_keys_reread(session, files)
        region = account.region or session.get_config_variable("region")
        credentials = session.get_credentials()
    except Exception as exc:
        raise CredentialError(
            f"{where}: {_reason(exc)}{hints.advice(exc, session, profile)}"
            + (
                ""
                if terminal or not hints.from_process(exc)
                else f"; {credential_commands.no_terminal('the credential_process')}"
            )
            + hints.unread_files(session, missing=hints.not_found(exc))
            + hints.runs_on(session),
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
        hint += hints.unread_environment_keys() if profile else ""
        hint += hints.skipped_section(session, profile) + hints.typos(
            session, hints.CREDENTIAL_KEYS
        )
        hint += hints.unread_files(session) + hints.runs_on(session)
        raise CredentialError(f"{where}: {hint}", account=account.name)
    if not region:  # botocore's NoRegionError: the aws CLI refuses too, never guesses one
        hint = (
            hints.no_region(session)
            + hints.skipped_section(session, profile)
            + hints.unread_files(session)
        )
        raise CredentialError(f"{where}: {hint}", account=account.name)
    if spaced := hints.spaced(region):  # botocore's refusal would show it, and the line
        # it took in can be a secret (an indented aws_secret_access_key under the region)
        raise CredentialError(f"{where}: the region botocore read{spaced}", account=account.name)
    try:
        endpoint, region = _ec2_endpoint(session, region)
    except Exception as exc:
        raise CredentialError(f"{where}: {_reason(exc)}", account=account.name) from None
    if account.endpoint is None and (spaced := hints.spaced(endpoint)):
        # botocore takes it, and its HTTP library refuses it at the first call
        raise CredentialError(
            f"{where}: EC2's endpoint botocore read{spaced}", account=account.name
        )
    identity = AwsIdentity(
        account=account.name,
        profile=profile,
        region=region,
        endpoint_url=None if account.endpoint is not None else endpoint,
        method=str(getattr(credentials, "method", "") or "unknown"),
        credentials=credentials,
        ca_bundle=session.get_config_variable("ca_bundle"),
        ca_bundle_from=_ca_bundle_from(session),
        in_files=KeysInFiles(
            files,
            read,
            _keys_from_files(session.get_config_variable("profile") or "default", files),
        ),
    )
    # The first use now, while the backend is built: a role is assumed here (its MFA code
    # asked, if any), outside any call's deadline, and a refusal names the account at once.
    now = identity.frozen()
    for what, value in zip(("access key id", "secret", "session token"), now, strict=True):
        if spaced := hints.spaced(value):  # AWS would refuse the signature, not say why
            raise CredentialError(
                f"{identity.source}: the {what} botocore read{spaced}",
                account=account.name,
            )
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
    from botocore.compat import compat_shell_split
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
            try:  # the program as botocore splits the command (a quoted path with a space)
                program = (compat_shell_split(credential_process) or [credential_process])[0]
            except ValueError as exc:  # botocore's split refuses it too, before running it
                raise CredentialRetrievalError(
                    provider=self.METHOD,
                    error_msg=f"the command cannot be split as a shell would ({exc}): "
                    "close its quote",
                ) from None
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
            except FileNotFoundError:
                said = f"{program} is not there" + (
                    " (botocore runs the command without a shell, so ~ and $VARIABLES stay "
                    "as written): write the full path"
                    if program.startswith("~") or "$" in program
                    else ": check the path, or put the program on PATH"
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


def _source_keys_reread(session: Any, files: tuple[str, ...]) -> None:
    """A role's source_profile keys from the shared files are read again, as each aws CLI
    command reads them, once a file has changed: saml2aws and gimme-aws-creds write new
    ones there while wm runs, and botocore's role provider would sign every renewal of the
    role with the keys it read at start. Each renewal asks its source for keys anew
    (AssumeRoleCredentialFetcher), so the role itself, and its MFA code, are untouched:
    only the keys that sign the next AssumeRole change."""
    role = session.get_component("credential_provider").get_provider("assume-role")
    # As in _process_through_commands: the role's provider takes the builder of its
    # source_profile's providers only in its constructor; the attribute is where it keeps it.
    role._profile_provider_builder = _RereadSourceKeys(role._profile_provider_builder, files)


class _RereadSourceKeys:
    """botocore's ProfileProviderBuilder with the keys its shared-file providers find read
    again from the files once one has changed (_rereading_keys)."""

    def __init__(self, builder: Any, files: tuple[str, ...]) -> None:
        self._builder, self._files = builder, files

    def providers(self, profile_name: str, disable_env_vars: bool = False) -> list[Any]:
        from botocore.credentials import ConfigProvider, SharedCredentialProvider

        return [
            _RereadProvider(provider, _keys_from_files(profile_name, self._files), self._files)
            if isinstance(provider, SharedCredentialProvider | ConfigProvider)
            else provider
            for provider in self._builder.providers(profile_name, disable_env_vars)
        ]


class _RereadProvider:
    """One of botocore's shared-file providers, its keys those of _rereading_keys."""

    def __init__(self, provider: Any, load: Callable[[], Any], files: tuple[str, ...]) -> None:
        self._provider, self._load, self._files = provider, load, files
        self.METHOD = provider.METHOD
        self.CANONICAL_NAME = provider.CANONICAL_NAME

    def load(self) -> Any:
        read = _state(self._files)  # before the provider reads them: a change after is seen
        found = self._provider.load()
        keys = KeysInFiles(self._files, read, self._load)
        return None if found is None else _rereading_keys()(found, keys)


@functools.cache
def _rereading_keys() -> type[Any]:
    """botocore's Credentials whose keys are read again from the shared files once one has
    changed (KeysInFiles, as AwsIdentity._reread)."""
    from botocore.credentials import Credentials

    class RereadingKeys(Credentials):
        def __init__(self, found: Any, in_files: KeysInFiles) -> None:
            super().__init__(
                found.access_key,
                found.secret_key,
                found.token,
                method=found.method,
                account_id=found.account_id,
            )
            self._in_files = in_files

        def get_frozen_credentials(self) -> Any:
            if (found := self._in_files.changed()) is not None:
                self.access_key, self.secret_key = found.access_key, found.secret_key
                self.token, self.account_id = found.token, found.account_id
                self.method = found.method
            return super().get_frozen_credentials()

    return RereadingKeys


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
