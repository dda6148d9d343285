"""What to do where botocore's own words do not say it: the hints after an AWS account's
refusal (winged_monkey.aws), from botocore's session and what it raised. botocore is
imported only when something is wrong."""

from __future__ import annotations

from typing import Any

#: The keys from which botocore makes a profile's credentials (a near miss is named).
CREDENTIAL_KEYS = (
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
    "login_session",
    "aws_security_token",  # botocore's older name for aws_session_token
)

#: Every other key botocore or the aws CLI reads in a profile (botocore's configprovider
#: variables and its credential providers' settings, the aws CLI's own): never taken for
#: a near miss of another (`sso_region` is not a mistyped `sso_session`).
READ_KEYS = (
    # what the credential providers read beside CREDENTIAL_KEYS
    "aws_account_id",
    "sso_region",
    "sso_registration_scopes",
    "mfa_serial",
    "external_id",
    "role_session_name",
    "duration_seconds",
    # botocore's configprovider, and the endpoints' settings
    "region",
    "endpoint_url",
    "services",
    "ignore_configured_endpoint_urls",
    "account_id_endpoint_mode",
    "api_versions",
    "auth_scheme_preference",
    "ca_bundle",
    "csm_client_id",
    "csm_enabled",
    "csm_host",
    "csm_port",
    "data_path",
    "defaults_mode",
    "disable_host_prefix_injection",
    "disable_request_compression",
    "ec2_metadata_service_endpoint",
    "ec2_metadata_service_endpoint_mode",
    "ec2_metadata_v1_disabled",
    "endpoint_discovery_enabled",
    "imds_use_ipv6",
    "max_attempts",
    "metadata_service_num_attempts",
    "metadata_service_timeout",
    "parameter_validation",
    "request_checksum_calculation",
    "request_min_compression_size_bytes",
    "response_checksum_validation",
    "retry_mode",
    "s3",
    "s3_disable_express_session_auth",
    "s3_use_arn_region",
    "s3_us_east_1_regional_endpoint",
    "sdk_ua_app_id",
    "sigv4a_signing_region_set",
    "sts_regional_endpoints",
    "tcp_keepalive",
    "use_dualstack_endpoint",
    "use_fips_endpoint",
    "proxy_ca_bundle",
    "proxy_client_cert",
    "proxy_use_forwarding_for_https",
    # the aws CLI's own
    "output",
    "cli_pager",
    "cli_timestamp_format",
    "cli_follow_urlparam",
    "cli_binary_format",
    "cli_auto_prompt",
    "cli_history",
)


def not_found(exc: BaseException) -> bool:
    from botocore import exceptions as bx

    return isinstance(exc, bx.ProfileNotFound)


def from_process(exc: BaseException) -> bool:
    from botocore import exceptions as bx

    return isinstance(exc, bx.CredentialRetrievalError) and "custom-process" in str(exc)


def advice(exc: BaseException, session: Any, profile: str | None) -> str:
    """What to do after botocore's reason, for the refusals whose words do not say it."""
    from botocore import exceptions as bx

    if isinstance(
        exc, bx.SSOTokenLoadError | bx.UnauthorizedSSOTokenError | bx.TokenRetrievalError
    ):
        import shlex

        # The profile botocore read: the account's, else the variables' (in its order).
        named = _profile_variables()
        name = _with_sso(profile or (named[0][1] if named else "") or "default")
        login = "aws sso login" + ("" if name == "default" else f" --profile {shlex.quote(name)}")
        return f"; log in to SSO first: {login}"
    if isinstance(exc, RuntimeError) and "still expired" in str(exc):
        return (
            "; they came with an expiry time already past: renew them at their source "
            "(the credential_process's login, the credentials file) or check this host's clock"
        )
    if isinstance(exc, bx.ProfileNotFound) and session is not None:
        return _missing_profile(session, profile)
    if isinstance(exc, bx.ConfigParseError):
        return _unparsed(exc.kwargs.get("error"))
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


def _with_sso(name: str) -> str:
    """The profile that holds the SSO settings `name` signs in with: itself, or the one
    its source_profile chain reaches (`aws sso login --profile` a role's profile refuses,
    missing sso_start_url and sso_region: it does not follow source_profile)."""
    import botocore.session

    try:
        profiles = botocore.session.Session().full_config.get("profiles", {})
    except Exception:  # the files' own trouble is said elsewhere
        return name
    found, seen = name, set()
    while found in profiles and found not in seen:
        seen.add(found)
        if {"sso_session", "sso_start_url"} & set(profiles[found]):
            return str(found)
        found = profiles[found].get("source_profile")
    return name


def _unparsed(error: object) -> str:
    """Where and why botocore could not parse a shared file (it says only that it could
    not): its configparser's error, told without a line's text (it can hold a secret)."""
    import configparser

    if isinstance(error, configparser.MissingSectionHeaderError):
        if error.lineno == 1 and error.line.startswith("\ufeff"):
            return (
                "; it starts with a byte order mark (saved as 'UTF-8 with BOM'): save it as "
                "UTF-8 without one"
            )
        return (
            f"; line {error.lineno} comes before any [section]: put it under its profile's "
            "[section]"
        )
    if isinstance(error, configparser.DuplicateSectionError):
        return f"; [{error.section}] is there twice (line {error.lineno}): merge the two"
    if isinstance(error, configparser.DuplicateOptionError):
        return (
            f"; [{error.section}] has {error.option} twice (line {error.lineno}): keep the "
            "one you mean"
        )
    if isinstance(error, configparser.ParsingError):
        numbers = [str(n) for n, _ in error.errors[:5]]
        lines = f"lines {', '.join(numbers)} are" if len(numbers) > 1 else f"line {numbers[0]} is"
        return (
            f"; {lines} neither [section], key = value nor a # comment (not shown here: "
            "a line can hold a secret)"
        )
    if isinstance(error, UnicodeDecodeError):
        return f"; it is not UTF-8 (byte {error.start}): save it as UTF-8"
    return ""


def _missing_profile(session: Any, profile: str | None) -> str:
    """Why a profile was not found: AWS_PROFILE, a section written the other file's way,
    a near name; and what the files do have."""
    named = _profile_variables()
    if not profile and named and not named[0][1]:  # botocore took the empty value
        variable, after = named[0][0], [f"{v}={n}" for v, n in named[1:] if n]
        return (
            f"; {variable} is set but empty, and botocore reads it "
            + (f"before {after[0]}" if after else "as the profile's name")
            + f": unset it (unset {variable})"
        )
    named = [(v, n) for v, n in named if n]
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


def _profile_variables() -> list[tuple[str, str]]:
    """AWS_DEFAULT_PROFILE and AWS_PROFILE, those set (empty too), in botocore's order: it
    takes the first that is set, even to nothing (configprovider's "profile" variable)."""
    import os

    return [(v, os.environ[v]) for v in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE") if v in os.environ]


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


def shared_files(session: Any) -> tuple[str, str]:
    """The config and credentials files' paths as botocore reads them
    (configloader.raw_config_parse)."""
    import os

    def path(variable: str) -> str:
        return os.path.expanduser(os.path.expandvars(str(session.get_config_variable(variable))))

    return path("config_file"), path("credentials_file")


def unread_files(session: Any, *, missing: bool = True) -> str:
    """The shared files botocore reads as empty, without a word: one this user cannot read
    (mode 000, another user's), a directory; with `missing` (where what the files would
    give was not found), one that AWS_CONFIG_FILE or AWS_SHARED_CREDENTIALS_FILE names and
    that is not there (a typo). `; <path> ...`."""
    import os

    said = ""
    for path, env in zip(
        shared_files(session), ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"), strict=True
    ):
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


#: Said of a value that runs on to the next line.
RUNS_ON = (
    " runs on to the line after it, which is indented (an indented line continues the value "
    "above it): unindent that line"
)


def spaced(value: str | None) -> str:
    """What is wrong with a space in `value` and what to do (` holds a space: ...`), which
    no region, endpoint or key holds; "" when it holds none. Most often a comment written
    after the value, which botocore keeps as part of it (the files take `#` and `;` only at
    the start of a line), or the next line, indented, which continues it."""
    import re

    if not value or not re.search(r"\s", value.strip()):
        return ""
    if "\n" in value.strip():
        return RUNS_ON
    if re.search(r"\s[#;]", value):
        return (
            " holds a space: botocore keeps a comment written after a value as part of it "
            "(# and ; start a comment only at the start of a line): move the comment to a "
            "line of its own"
        )
    return " holds a space: remove it"


def runs_on(session: Any) -> str:
    """`; its <key> runs on ...` for each key of the profile whose value took in the
    indented line after it (`  aws_secret_access_key = ...` under the key id), never the
    value: the line it took in can be a secret."""
    try:
        profile = session.get_scoped_config()
    except Exception:
        return ""
    return "".join(
        f"; its {key}{RUNS_ON}"
        for key, value in profile.items()
        if isinstance(value, str) and "\n" in value.strip()
    )


def typos(session: Any, wanted: tuple[str, ...]) -> str:
    """The profile's keys botocore does not read that are near one it would: `rolearn`
    (never one botocore or the aws CLI reads for something else: READ_KEYS)."""
    try:
        profile = session.get_scoped_config()
    except Exception:
        return ""
    read = {*wanted, *CREDENTIAL_KEYS, *READ_KEYS}
    missed = {
        key: near
        for key in profile
        if key not in read and (near := _nearest(key, wanted)) and near not in profile
    }
    return "".join(
        f"; its {key} is not a key botocore reads: {near}?" for key, near in missed.items()
    )


def unread_environment_keys() -> str:
    """`; AWS_ACCESS_KEY_ID ... set, but ...` when the environment holds keys that an
    account naming a profile never gets: botocore leaves its environment provider out of
    the chain of a session given a profile (the aws CLI's `--profile` does the same)."""
    import os

    if not os.environ.get("AWS_ACCESS_KEY_ID"):  # botocore reads none without it
        return ""
    named = [
        v
        for v in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        if os.environ.get(v)
    ]
    which = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]
    are, them = ("are", "them") if len(named) > 1 else ("is", "it")
    return (
        f"; {which} {are} set, but botocore does not read {them} for an account that names "
        f"a profile: to use {them}, remove aws_profile from the account (botocore's default "
        f"chain reads {them} first), or put keys in the profile"
    )


def no_region(session: Any) -> str:
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
    return text + typos(session, ("region",)) + _default_region(session)


def _default_region(session: Any) -> str:
    """[default]'s region, which botocore never reads for another profile."""
    name = session.get_config_variable("profile") or "default"
    try:
        region = session.full_config.get("profiles", {}).get("default", {}).get("region")
    except Exception:
        return ""
    if name == "default" or not isinstance(region, str) or spaced(region):
        return ""  # a region that took in the next line is not shown: it can be a secret
    return (
        f"; [default] has region = {region}, which botocore does not read for another "
        f"profile: copy it into the profile {name!r}"
    )


def _nearest(key: str, valid: Any) -> str | None:
    from winged_monkey.errors import nearest  # only when something is wrong

    return nearest(key, valid, cutoff=0.75)
