"""`wm`: the TUI by default, and the same portal for scripts (`wm ls --json`, `wm stop ID`).

Exit codes scripts can rely on are listed in `ExitCode`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import click

from winged_monkey import plugins
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.cli.base import Context, ExitCode, config_named, exit_code, fail, guard
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import NotFoundError, WMError, describe
from winged_monkey.httppool import without_httpx_cli
from winged_monkey.models import KINDS, AccountStatus, InstanceKind
from winged_monkey.terminal.render import (
    fit_instance_table,
    instance_rows,
    output_width,
    render_table,
)
from winged_monkey.user import first_run, paths
from winged_monkey.user.credentials import CredentialResolver, store_in_keyring

if TYPE_CHECKING:
    from collections.abc import Callable

    from winged_monkey.engine.inventory import AccountUpdate
    from winged_monkey.models import Instance


__all__ = ["ExitCode", "main"]


class _LazyGroup(click.Group):
    """Commands that live in their own modules are imported when used (or listed by
    --help), not on every `wm`: `wm ls` need not load the server, the catalog, the event
    log's exports or the account importer."""

    LAZY: ClassVar[dict[str, str]] = {
        "serve": "winged_monkey.cli.serve:serve",
        "catalog": "winged_monkey.cli.catalog:catalog",
        "launch": "winged_monkey.cli.catalog:launch",
        "where": "winged_monkey.cli.catalog:where",
        "events": "winged_monkey.cli.events:events",
        "app": "winged_monkey.cli.apps:app_group",
        "ssh": "winged_monkey.cli.ssh:ssh_command",
        "console": "winged_monkey.cli.ssh:console_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, _, name = self.LAZY[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=_LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="WM_CONFIG",
    help="Config file (default: the platform config dir; or $WM_CONFIG).",
)
@click.option("--demo", is_flag=True, help="Use the embedded demo cloud (no config, no network).")
@click.version_option(package_name="winged-monkey", prog_name="wm")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, demo: bool) -> None:
    """Every instance you own, across clouds, in one terminal. Without a command: the TUI."""
    without_httpx_cli()
    stack = ctx.with_resource(contextlib.ExitStack())
    ctx.obj = Context(config_path, demo, stack)
    if ctx.invoked_subcommand is None:
        guard(lambda: _tui(ctx.obj))


@main.command()
@click.pass_obj
def demo(obj: Context) -> None:
    """Open the TUI on the embedded demo cloud (same as `wm --demo`)."""
    obj.demo = True
    guard(lambda: _tui(obj))


def _tui(obj: Context) -> None:
    if not sys.stdout.isatty():  # a pipe or a file would get escape sequences until killed
        fail(
            "the TUI needs a terminal and stdout is not one; for a listing use `wm ls` "
            "(or `wm ls --json`)",
            ExitCode.USAGE,
        )
    from winged_monkey.ui.app import WMApp  # the core never imports Textual; only this path does

    config, store, warnings = obj.setup()
    if not obj.demo and _no_accounts(obj, [a.name for a in config.accounts]):
        return  # an empty screen would say less than these words
    resolver = CredentialResolver()
    portal = Portal(config, store, resolver=resolver)
    portal.store_warnings.extend(warnings)
    app = WMApp(portal=portal, config=config, title_suffix="demo" if obj.demo else None)
    resolver.prompt = app.ask_secret  # the last credential source: a dialog, in memory only
    app.run()
    asyncio.run(portal.close())


# -- wm ls -----------------------------------------------------------------


@main.command("ls")
@click.option("--account", "accounts", multiple=True, help="Only this account (repeatable).")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="Only apps (stacks, deployments) or only single instances.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--json-lines",
    "as_lines",
    is_flag=True,
    help="One JSON object per account ({account, instances}), printed as soon as it answers.",
)
@click.option(
    "--cached",
    is_flag=True,
    help="The last known inventory and each account's age: no cloud call, no credentials.",
)
@click.option(
    "--width",
    type=click.IntRange(min=0),
    help="Fit the table in this many columns (default: the terminal's; 0: no limit).",
)
@click.pass_obj
def ls(
    obj: Context,
    accounts: tuple[str, ...],
    kind: InstanceKind | None,
    as_json: bool,
    as_lines: bool,
    cached: bool,
    width: int | None,
) -> None:
    """List instances and apps of every account (exit 1 if an account failed to answer, 3 if
    its config or credentials are wrong). The table waits for every account, each for its
    deadline at most (its `timeout`); --json-lines prints each account as it answers."""
    if as_json and as_lines:
        raise click.UsageError("--json and --json-lines: choose one")
    if cached and as_lines:
        raise click.UsageError("--cached answers at once: use --json with it")
    output = "json" if as_json else "lines" if as_lines else "table"
    if cached:
        guard(lambda: _ls_cached(obj, list(accounts), kind, as_json, width))
    else:
        guard(lambda: _ls(obj, list(accounts), kind, output, width))


def _ls_cached(
    obj: Context, accounts: list[str], kind: InstanceKind | None, as_json: bool, width: int | None
) -> None:
    """`wm ls --cached` when the entry point (winged_monkey.cli.entry) left it to click: the
    same code, after the config is validated (only its account names are used)."""
    from winged_monkey.cli import cached
    from winged_monkey.terminal.render import output_width
    from winged_monkey.user.config import load_config

    if obj.demo:
        config, store, _ = obj.setup()
        path = store.path or paths.store_path()
    else:
        chosen = obj.config_path or paths.config_path()
        config = load_config(chosen, must_exist=obj.config_path is not None)
        path = paths.store_path()
    for name in accounts:
        config.account(name)  # raises ConfigError naming the configured ones
    names = accounts or [a.name for a in config.accounts]
    if _no_accounts(obj, names) and not as_json:
        return
    width = output_width(width)
    code = cached.run(
        path, names, kind, as_json=as_json, width=width, out=sys.stdout, err=sys.stderr
    )
    if code:
        sys.exit(code)


def _ls(
    obj: Context, accounts: list[str], kind: InstanceKind | None, output: str, width: int | None
) -> None:
    portal = obj.portal()
    for name in accounts:
        portal.config.account(name)  # raises ConfigError naming the configured ones
    if _no_accounts(obj, portal.account_names) and output == "table":
        return  # no empty table header: the words above say what to do
    if kind == "app":  # only backends that have apps can answer: ask no one else
        accounts = [
            n
            for n in accounts or portal.account_names
            if Capability.STACKS in portal.capabilities(n)
        ]
        if not accounts:
            if output != "lines":
                _print_listing(portal, [], [], output == "json", width)
            return

    def print_answer(update: AccountUpdate) -> None:
        """--json-lines: an account's line as soon as it has answered (or failed)."""
        if update.status.refreshing:
            return
        rows = [i for i in update.instances or () if kind is None or i.kind == kind]
        line = {
            "account": update.status.model_dump(mode="json"),
            "instances": [{**i.model_dump(mode="json"), "kind": i.kind} for i in rows],
        }
        click.echo(json.dumps(line))

    each = print_answer if output == "lines" else None
    outcome = asyncio.run(_refresh(portal, accounts or None, each))
    instances = sorted(
        (
            i
            for i in portal.instances()
            if (not accounts or i.account in accounts) and (kind is None or i.kind == kind)
        ),
        key=lambda i: (i.account, i.name, i.id),
    )
    statuses = [s for s in portal.statuses() if not accounts or s.name in accounts]
    if output != "lines":
        _print_listing(portal, instances, statuses, output == "json", width)
    for status in statuses:
        if status.phase == "failed":
            click.echo(f"wm: {status.name}: {status.error}", err=True)
    if outcome == ExitCode.CONFIG:
        click.echo(config_named("wm: an account's config or credentials are wrong"), err=True)
    if outcome != ExitCode.OK:
        sys.exit(outcome)


def _no_accounts(obj: Context, names: list[str]) -> bool:
    """With no account configured, say so on stderr with the config's path and how to
    start (`wm --demo`, an example account); True then."""
    if names:
        return False
    click.echo(first_run.no_accounts(obj.config_path or paths.config_path()), err=True)
    return True


def _print_listing(
    portal: Portal,
    instances: list[Instance],
    statuses: list[AccountStatus],
    as_json: bool,
    width: int | None = None,
) -> None:
    if as_json:
        payload = {
            "accounts": [s.model_dump(mode="json") for s in statuses],
            "instances": [{**i.model_dump(mode="json"), "kind": i.kind} for i in instances],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        rows = instance_rows(instances, now=portal.clock())
        click.echo(render_table(fit_instance_table(rows, output_width(width))))


async def _refresh(
    portal: Portal,
    accounts: list[str] | None,
    each: Callable[[AccountUpdate], None] | None = None,
) -> ExitCode:
    """Refresh; FAILED if an account failed, CONFIG if one failed on its config or
    credentials (a cloud refusing them included)."""
    last: dict[str, AccountStatus] = {}
    try:
        # The listing only: a cloud's own events are read by the TUI's polls, whose markers
        # last; a one-shot command would read every stack's whole history each time.
        async for update in portal.refresh(accounts, native_events=False):
            last[update.status.name] = update.status
            if each is not None:
                each(update)
    finally:
        await portal.close()
    failed = [status for status in last.values() if status.phase == "failed"]
    if any(status.config_error for status in failed):
        return ExitCode.CONFIG
    return ExitCode.FAILED if failed else ExitCode.OK


# -- wm start|stop|reboot|destroy ------------------------------------------


def _action_command(action: Action) -> None:
    @main.command(
        str(action), help=f"{str(action).capitalize()} instances (by id, name or ACCOUNT/ID)."
    )
    @click.argument("refs", nargs=-1, required=True)
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @click.pass_obj
    def command(obj: Context, refs: tuple[str, ...], yes: bool) -> None:
        guard(lambda: _act(obj, action, list(refs), yes))


def _act(obj: Context, action: Action, refs: list[str], yes: bool) -> None:
    portal = obj.portal()
    names = set(portal.account_names)
    if all("/" in r and r.split("/", 1)[0] in names for r in refs):
        targets = asyncio.run(_fetch(portal, refs))  # each by itself: no account listed
    else:
        asyncio.run(_refresh(portal, None))
        targets = _resolve(portal, refs)
    refused = [(i, why) for i in targets if (why := portal.refusal(action, i))]
    if refused:
        for instance, why in refused:
            click.echo(f"wm: {instance.key}: {why}", err=True)
        sys.exit(ExitCode.NOT_FOUND)
    if action.destructive and not yes:
        _confirm(action, targets)
    ok = asyncio.run(_run_actions(portal, action, targets))
    sys.exit(ExitCode.OK if ok else ExitCode.FAILED)


async def _fetch(portal: Portal, refs: list[str]) -> list[Instance]:
    """The instances `ACCOUNT/ID` refs name, each fetched by itself, at once. An account that
    does not answer is its error (exit 1); an id its cloud does not know, exit 4."""
    answers = await asyncio.gather(*(portal.fetch(r) for r in refs), return_exceptions=True)
    found: list[Instance] = []
    for ref, answer in zip(refs, answers, strict=True):
        if isinstance(answer, WMError):
            fail(f"{ref.split('/', 1)[0]}: {answer.message}", exit_code(answer))
        if isinstance(answer, BaseException):
            raise answer
        if answer is None:
            raise NotFoundError(f"no instance matches {ref!r}")
        found.append(answer)
    return found


def _resolve(portal: Portal, refs: list[str]) -> list[Instance]:
    """The instances `refs` name. A ref that matches nothing while an account it may live in
    did not answer is that account's failure (its error, as `wm ls` prints it; exit 1), not
    a wrong name."""
    try:
        return portal.resolve_targets(refs)
    except NotFoundError as missing:
        unmatched = [r for r in refs if not portal.find(r)]
        failed = [
            s
            for s in portal.statuses()
            if s.phase == "failed"
            and any("/" not in r or r.split("/", 1)[0] == s.name for r in unmatched)
        ]
        if not failed:
            raise
        if any("/" not in r for r in unmatched):  # a bare id or name: it may be anywhere
            click.echo(f"wm: {missing.message} among the accounts that answered", err=True)
        for status in failed:
            click.echo(f"wm: {status.name}: {status.error}", err=True)
        sys.exit(ExitCode.FAILED)


def _confirm(action: Action, targets: list[Instance]) -> None:
    if not sys.stdin.isatty():
        fail(
            f"{action} needs confirmation: pass --yes to run without a terminal", ExitCode.DECLINED
        )
    for instance in targets:
        click.echo(f"  {instance.name} ({instance.id}) on {instance.account}", err=True)
    if action is Action.DESTROY and len(targets) > 1:
        typed = click.prompt(f"Destroy {len(targets)} instances? Type the count", err=True)
        if typed.strip() != str(len(targets)):
            fail("not confirmed; nothing was changed", ExitCode.DECLINED)
    elif not click.confirm(f"{str(action).capitalize()} {len(targets)} instance(s)?", err=True):
        fail("not confirmed; nothing was changed", ExitCode.DECLINED)


async def _run_actions(portal: Portal, action: Action, targets: list[Instance]) -> bool:
    async def one(instance: Instance) -> bool:
        try:
            async for update in portal.run_action(action, instance):
                if update.finished:
                    stream = sys.stdout if update.phase == "done" else sys.stderr
                    label = "ok" if update.phase == "done" else update.phase
                    click.echo(f"{instance.key}: {label}: {update.message}", file=stream)
                    return update.phase == "done"
                click.echo(f"{instance.key}: {update.message}", err=True)
        except WMError as exc:
            click.echo(f"{instance.key}: failed: {exc.message}", err=True)
        return False

    try:
        results = await asyncio.gather(*(one(i) for i in targets))
    finally:
        await portal.close()
    return all(results)


for _action in Action:
    _action_command(_action)


# -- wm accounts -------------------------------------------------------------


class _LazyAccounts(_LazyGroup):
    LAZY: ClassVar[dict[str, str]] = {"import": "winged_monkey.cli.accounts_import:import_accounts"}


@main.group(cls=_LazyAccounts, invoke_without_command=True)
@click.pass_context
def accounts(ctx: click.Context) -> None:
    """List configured accounts (and test or store their credentials)."""
    if ctx.invoked_subcommand is None:
        guard(lambda: _accounts_list(ctx.obj))


def _accounts_list(obj: Context) -> None:
    config, _store, _ = obj.setup()
    installed = set(plugins.available())
    rows = [("ACCOUNT", "BACKEND", "PROVIDER", "REGION/ENDPOINT", "FLAGS")]
    for account in config.accounts:
        where = account.region or ""
        if account.endpoint:
            where = f"{account.endpoint.host}:{account.endpoint.port or ''}".rstrip(":")
        flags = ["read-only"] if account.read_only else []
        if account.backend not in installed:
            flags.append("backend not installed")
        rows.append((account.name, account.backend, account.provider or "", where, " ".join(flags)))
    if len(rows) == 1:
        _no_accounts(obj, [])
        return
    click.echo(render_table(rows))


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
    if _no_accounts(obj, targets):
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
    for name, ok, error in results:
        click.echo(f"{name}: ok: {ok}" if ok else f"{name}: FAILED: {error}")
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
        config.account(name)
        if sys.stdin.isatty():
            secret = click.prompt(f"secret for {name}", hide_input=True, err=True)
        else:
            secret = sys.stdin.readline().rstrip("\n")
        if not secret:
            fail("empty secret; nothing stored", ExitCode.USAGE)
        store_in_keyring(name, secret)
        click.echo(f"{name}: secret stored in the keyring")

    guard(run)


main.add_command(main.commands["destroy"], name="delete")  # the issue says delete: an alias
