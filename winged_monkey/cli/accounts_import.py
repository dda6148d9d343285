"""`wm accounts import`: accounts from clouds.yaml, OS_* variables or AWS profiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from winged_monkey.errors import ConfigError, CredentialError, WMError
from winged_monkey.user import config_write, importing, importing_aws, paths
from winged_monkey.user.credentials import elsewhere, store_in_keyring


@click.command("import")
@click.option(
    "--clouds-yaml",
    "clouds_yaml",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[PATH]",
    help="Import from an OpenStack clouds.yaml (default: where openstacksdk looks).",
)
@click.option("--os-env", is_flag=True, help="Import from the OS_* variables (an openrc file).")
@click.option("--aws", is_flag=True, help="Import the profiles of ~/.aws/config and credentials.")
@click.option("--cloud", "clouds", multiple=True, help="Only this cloud of clouds.yaml (repeat).")
@click.option("--profile", "profiles", multiple=True, help="Only this AWS profile (repeat).")
@click.option("--name", help="Account name (one cloud or profile; default: its name).")
@click.option("--region", help="The region of a clouds.yaml cloud that lists several.")
@click.option(
    "--no-secrets",
    is_flag=True,
    help="Store no secret (a host without a keyring): set secret_env or secret_command after.",
)
@click.pass_context
def import_accounts(
    ctx: click.Context,
    clouds_yaml: str | None,
    os_env: bool,
    aws: bool,
    clouds: tuple[str, ...],
    profiles: tuple[str, ...],
    name: str | None,
    region: str | None,
    no_secrets: bool,
) -> None:
    """Add accounts from clouds.yaml, OS_* variables or AWS profiles; secrets go to the keyring.

    An AWS profile's account names the profile only: botocore reads it at each use.
    Existing accounts are never overwritten, and the config keeps its comments.
    """
    if [clouds_yaml is not None, os_env, aws].count(True) != 1:
        raise click.UsageError("give one of --clouds-yaml [PATH], --os-env or --aws")
    if clouds and clouds_yaml is None:
        raise click.UsageError("--cloud goes with --clouds-yaml")
    if profiles and not aws:
        raise click.UsageError("--profile goes with --aws")
    if region and clouds_yaml is None:
        raise click.UsageError("--region goes with --clouds-yaml (an AWS profile names its own)")
    config_path: Path = getattr(ctx.obj, "config_path", None) or paths.config_path()
    refused: list[ConfigError] = []
    try:
        if aws:
            found, refused = _aws_profiles(profiles, name)
            _say_refused(refused, asked=bool(profiles), found=bool(found), config=config_path)
        elif os_env:
            found = [importing.from_environment(os.environ, name)]
            if no_secrets:  # the openrc's variable stays the secret's source
                found = [importing.secret_from_environment(account) for account in found]
        else:
            source = Path(clouds_yaml).expanduser() if clouds_yaml else importing.find_clouds_yaml()
            try:
                found, refused = importing.each_of_clouds_yaml(source, clouds, name, region)
            except UnicodeDecodeError:
                raise ConfigError(f"{source}: not UTF-8 text: save it as UTF-8") from None
            _say_refused(refused, asked=bool(clouds), found=bool(found), config=config_path)
            if not found:  # `clouds: {}`, or clouds that are not tables
                raise ConfigError(
                    f"{source}: no cloud to import (its `clouds:` lists none as a table of "
                    "auth, region_name...); nothing imported"
                )
        config_write.add_to_config(
            config_path, found, store_secret=None if no_secrets else _store_or_say_no_secrets
        )
    except (ConfigError, CredentialError) as exc:  # wm's exit codes: 3 config, 1 other
        click.echo(f"wm: {exc} (config: {config_path})", err=True)
        sys.exit(3)
    except WMError as exc:
        click.echo(f"wm: {exc}", err=True)
        sys.exit(1)
    for account in found:
        where = "not stored (--no-secrets)" if no_secrets else "in the keyring"
        if "secret_env" in account.table["credentials"]:
            where = f"read from ${account.table['credentials']['secret_env']} (secret_env)"
        kept = f"secret {where}" if account.secret else "no secret"
        if "aws_profile" in account.table["credentials"]:
            kept = "botocore reads the profile at each use"
        click.echo(f"{account.name}: added to {config_path} from {account.source} ({kept})")
        for note in account.notes:
            click.echo(f"{account.name}: note: {note}")
    names = " ".join(a.name for a in found)
    click.echo(f"check them with: wm accounts test {names}")
    if refused:
        what = "profile(s)" if aws else "cloud(s)"
        click.echo(f"{len(refused)} {what} not imported (see above)", err=True)


def _say_refused(refused: list[ConfigError], *, asked: bool, found: bool, config: Path) -> None:
    """Each cloud or profile that cannot be imported, with why; the others go on, unless
    they were named (what was asked for cannot be done) or there are none."""
    for reason in refused:
        click.echo(f"wm: {reason.account}: not imported: {reason.message}", err=True)
    if refused and (asked or not found):
        click.echo(f"wm: nothing imported (config: {config})", err=True)
        sys.exit(3)


def _aws_profiles(
    profiles: tuple[str, ...], name: str | None
) -> tuple[list[importing.ImportedAccount], list[ConfigError]]:
    """importing_aws's accounts; a shared file botocore cannot parse is a ConfigError naming
    it (botocore's words hold the path only, never a line of the file: no key is shown)."""
    from botocore.exceptions import BotoCoreError

    from winged_monkey import aws_hints

    try:
        return importing_aws.each_of_aws_profiles(profiles, name)
    except BotoCoreError as exc:
        where = aws_hints.advice(exc, None, None) or (
            ": fix its syntax (`aws configure list` shows what the AWS tools make of it)"
        )
        raise ConfigError(f"{exc}{where}; nothing imported") from None


def _store_or_say_no_secrets(account: str, secret: str) -> None:
    """The keyring, or the way this command goes on without one."""
    store_in_keyring(
        account,
        secret,
        instead="import with --no-secrets (`wm accounts import ... --no-secrets`), then "
        f"{elsewhere(account)}",
    )
