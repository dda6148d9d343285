"""Accounts from the AWS shared files: one `[[accounts]]` table per profile botocore sees.

The table names the profile only (`credentials = { aws_profile = ... }`): botocore resolves
it at each use, so keys, roles, SSO and the profile's region stay in ~/.aws, never copied.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from winged_monkey import aws_hints
from winged_monkey.errors import ConfigError, nearest
from winged_monkey.user.importing import ImportedAccount, account_name, unnamable


def each_of_aws_profiles(
    names: Sequence[str] = (), rename: str | None = None
) -> tuple[list[ImportedAccount], list[ConfigError]]:
    """Accounts for the named profiles (all botocore sees when none is named); a profile
    that cannot be one (its name makes no account name) is returned with its reason beside
    the ones that can, as a clouds.yaml's cloud is (importing.each_of_clouds_yaml)."""
    import botocore.session  # only an AWS import needs it

    session = botocore.session.Session()
    where = session.get_config_variable("config_file")
    profiles = session.full_config.get("profiles", {})
    wanted = list(names) or sorted(profiles)
    missing = [n for n in wanted if n not in profiles]
    if missing:
        near = nearest(missing[0], profiles) if len(missing) == 1 else None
        raise ConfigError(
            f"no AWS profile {', '.join(map(repr, missing))} in {where} or "
            f"{session.get_config_variable('credentials_file')}"
            + (f" (did you mean {near!r}?)" if near else "")
            + f"; they have: {', '.join(sorted(profiles)) or 'none'}"
            + (aws_hints.skipped_section(session, missing[0]) if len(missing) == 1 else "")
            + "; nothing imported"
        )
    if not wanted:
        raise ConfigError(f"no AWS profiles in {where} (run `aws configure` first)")
    if rename is not None and len(wanted) != 1:
        raise ConfigError("--name renames one profile: name it with --profile")
    found, refused = [], []
    for profile in wanted:
        try:
            name = account_name(rename or profile)
        except ConfigError:
            alone = f"wm accounts import --aws --profile {shlex.quote(profile)} --name NAME"
            refused.append(unnamable(f"AWS profile {profile!r}", profile, alone))
            continue
        notes = []
        if not profiles[profile].get("region"):
            notes.append(_no_region(profile))
        keyless = not set(aws_hints.CREDENTIAL_KEYS) & set(profiles[profile])
        if keyless and (unread := aws_hints.unread_environment_keys()):
            notes.append("the profile holds no credentials" + unread)
        table: dict[str, Any] = {"name": name, "provider": "ec2"}
        table["credentials"] = {"aws_profile": profile}
        source = f"AWS profile {profile!r}"
        found.append(ImportedAccount(table["name"], table, source, notes=tuple(notes)))
    return found, refused


def _no_region(profile: str) -> str:
    """What botocore would make of a profile that names no region of its own."""
    import botocore.session

    session = botocore.session.Session(profile=profile)
    region = session.get_config_variable("region")
    if region:  # AWS_DEFAULT_REGION: the account works only where it is set
        return (
            f"the profile names no region; AWS_DEFAULT_REGION ({region}) gives it while it is "
            "set: set region in the account or the profile"
        )
    return (
        "the profile names no region: set region in the account or the profile"
        + aws_hints.skipped_section(session, profile)
    )
