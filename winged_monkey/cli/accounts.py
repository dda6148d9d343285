"""`wm accounts`: the configured accounts, a check of each one's credentials and
reachability, a secret stored in the keyring (`wm accounts import` loads on demand)."""

from __future__ import annotations

import asyncio
import sys
from typing import ClassVar

import click

from winged_monkey import plugins
from winged_monkey.account import AccountConfig, Credentials, shown_secret_env
from winged_monkey.cli.base import (
    Context,
    ExitCode,
    LazyGroup,
    config_named,
    exit_code,
    fail,
    guard,
    no_accounts,
)
from winged_monkey.errors import WMError, describe
from winged_monkey.ssh_settings import missing_files
from winged_monkey.terminal.render import folded, output_width, render_table
from winged_monkey.user.config import BrokenAccount
from winged_monkey.user.credentials import store_in_keyring


class _LazyAccounts(LazyGroup):
    LAZY: ClassVar[dict[str, str]] = {"import": "winged_monkey.cli.accounts_import:import_accounts"}
    LISTED: ClassVar[dict[str, str]] = {
        "import": "Add accounts from clouds.yaml, OS_* variables or AWS profiles; secrets go to "
        "the keyring."
    }


@click.group(cls=_LazyAccounts, invoke_without_command=True)
@click.pass_context
def accounts(ctx: click.Context) -> None:
    """List configured accounts (and test or store their credentials)."""
    if ctx.invoked_subcommand is None:
        guard(lambda: _accounts_list(ctx.obj))


def _accounts_list(obj: Context) -> None:
    config, _store, _ = obj.setup()
    installed = set(plugins.available())
    rows = [("ACCOUNT", "BACKEND", "PROVIDER", "REGION/ENDPOINT", "FLAGS")]
    problems: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []  # said, but the account lists: no exit 3 for them
    for account in config.accounts:
        where = account.region or ""
        if account.endpoint:
            where = f"{account.endpoint.host}:{account.endpoint.port or ''}".rstrip(":")
        flags = ["read-only"] if account.read_only else []
        found = _problem(account, installed)
        if found is not None:
            flags.append(found[0])
            problems.append((account.name, found[1]))
        missing = missing_files(account)
        if missing:
            flags.append("ssh file missing (below)")
            notes.extend((account.name, problem) for problem in missing)
        rows.append((account.name, account.backend, account.provider or "", where, " ".join(flags)))
    if len(rows) == 1:
        no_accounts(obj, [])
        return
    click.echo(render_table(rows))
    for name, problem in problems:  # in the words `wm ls` uses for it
        click.echo(f"wm: {name}: {problem}", err=True)
    for name, problem in notes:
        click.echo(f"wm: {name}: {_FOR_SSH}{problem}", err=True)
    if problems:  # the others work, but the config is still wrong: as `wm ls` says it
        fail(config_named("an account's config or credentials are wrong"), ExitCode.CONFIG)


#: Leads a file an account's ssh keys name that is not there: only `wm ssh` needs it.
_FOR_SSH = "for wm ssh: "


def _problem(account: AccountConfig, installed: set[str]) -> tuple[str, str] | None:
    """What is wrong with the account that is known without contacting its cloud, as its
    flag in the table and its message below it: its table refused when the config loaded,
    its backend not installed, or what building its backend refuses (`offline_problem`:
    a libcloud provider or driver key libcloud does not know, a CA bundle that is not
    there); None when nothing is."""
    if isinstance(account, BrokenAccount):
        return "config refused (below)", account.refusal
    if account.backend not in installed:
        try:
            plugins.load(account.backend)
        except WMError as exc:
            return "backend not installed", exc.message
    problem = plugins.offline_problem(account)
    return ("config refused (below)", problem) if problem else None


@accounts.command("test")
@click.argument("names", nargs=-1)
@click.pass_obj
def accounts_test(obj: Context, names: tuple[str, ...]) -> None:
    """Check each account's credentials and reachability (exit 1 if one fails, 3 if its
    config or credentials are wrong or the cloud refuses them)."""
    guard(lambda: _accounts_test(obj, list(names)))


def _accounts_test(obj: Context, names: list[str]) -> None:
    portal = obj.portal()
    for name in names:
        portal.config.account(name)
    targets = names or portal.account_names
    if no_accounts(obj, targets):
        return

    codes: set[ExitCode] = set()

    async def check(name: str) -> tuple[str, str | None, str]:
        try:
            return name, await portal.check(name), ""
        except WMError as exc:
            codes.add(exit_code(exc))
            return name, None, exc.message
        except Exception as exc:
            codes.add(ExitCode.FAILED)
            return name, None, describe(exc)

    async def run() -> list[tuple[str, str | None, str]]:
        try:
            return await asyncio.gather(*(check(n) for n in targets))
        finally:
            await portal.close()

    results = asyncio.run(run())
    width = output_width(None)  # on a terminal a long line folds under its account
    for name, ok, error in results:
        said = (f"{name}: ok: ", ok) if ok else (f"{name}: FAILED: ", error)
        click.echo(folded(*said, width))
        for problem in missing_files(portal.config.account(name)):  # said before a login
            click.echo(folded(f"{name}: ", _FOR_SSH + problem, width))
    if ExitCode.CONFIG in codes:  # a config or credential problem first: it is the user's to fix
        fail(config_named("an account's config or credentials are wrong"), ExitCode.CONFIG)
    if any(ok is None for _, ok, _ in results):
        sys.exit(ExitCode.FAILED)


@accounts.command("set-secret")
@click.argument("name")
@click.pass_obj
def accounts_set_secret(obj: Context, name: str) -> None:
    """Store an account's secret in the OS keyring (read from the terminal or stdin)."""

    def run() -> None:
        config, _store, _ = obj.setup()
        account = config.account(name)
        unread = _keyring_unread(account)
        if unread:  # before asking: a secret stored here would never be read
            if isinstance(account, BrokenAccount):  # what is refused is to be fixed as well
                click.echo(f"wm: {name}: {account.refusal}", err=True)
            fail(config_named(f"{name}: {unread}; nothing stored"), ExitCode.CONFIG)
        if sys.stdin.isatty():
            secret = click.prompt(f"secret for {name}", hide_input=True, err=True)
        else:
            secret = sys.stdin.readline().rstrip("\n")
        if not secret:
            fail("empty secret; nothing stored", ExitCode.USAGE)
        store_in_keyring(name, secret)
        click.echo(f"{name}: secret stored in the keyring")

    guard(run)


def _keyring_unread(account: AccountConfig) -> str | None:
    """Why the account never reads a secret stored in the keyring, if it does not."""
    import shlex

    from winged_monkey import aws

    creds = account.credentials
    # A refused table keeps its valid credentials (a secret stored for it is read once it is
    # fixed) and nothing to tell botocore's by: the rest is said when it is used.
    if not isinstance(account, BrokenAccount) and aws.uses_botocore(account):
        source = f"the AWS profile {creds.aws_profile!r}" if creds.aws_profile else "botocore"
        return (
            f"its credentials come from {source} (the AWS CLI's files and chain), which never "
            "reads wm's keyring: set them with `aws configure"
            + (f" --profile {shlex.quote(creds.aws_profile)}`" if creds.aws_profile else "`")
            + ", or name the key id in credentials.key to keep its secret in wm's keyring"
        )
    if not creds.keyring:
        return f"it reads no keyring (keyring = false): {_secret_instead(creds)}"
    return None


def _secret_instead(creds: Credentials) -> str:
    """Where an account that reads no keyring takes its secret from instead, by the keys of
    its [accounts.credentials] (a variable's name that may be a secret is not shown)."""
    keep = "or drop keyring = false from its [accounts.credentials] to keep it in the keyring"
    if creds.secret_env:
        variable = shown_secret_env(creds.secret_env)
        shown = variable if variable == creds.secret_env else "the variable secret_env names"
        command = ", else from the command secret_command names" if creds.secret_command else ""
        return (
            f"its secret comes from the environment variable {variable} (secret_env){command}: "
            f"export {shown} before running wm, {keep}"
        )
    if creds.secret_command:
        return (
            "its secret comes from the command secret_command names: have it print the "
            f"secret, {keep}"
        )
    return (
        "name an environment variable (secret_env) or a command (secret_command) for its "
        "secret in its [accounts.credentials], or drop keyring = false from them to keep it "
        "in the keyring"
    )
