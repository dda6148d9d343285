"""`wm ls`: every account's instances and apps, as a table, JSON, or JSON lines as each
account answers; `--cached` when the entry point left it to click."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING

import click

from winged_monkey.backend import Capability
from winged_monkey.cli.base import (
    Context,
    ExitCode,
    accounts_argument,
    accounts_chosen,
    config_named,
    guard,
    no_accounts,
    refresh,
)
from winged_monkey.models import KINDS, AccountStatus, InstanceKind
from winged_monkey.terminal.render import (
    fit_instance_table,
    instance_rows,
    natural,
    output_width,
    render_table,
)
from winged_monkey.user import paths

if TYPE_CHECKING:
    from winged_monkey.engine.inventory import AccountUpdate
    from winged_monkey.engine.portal import Portal
    from winged_monkey.models import Instance


@click.command("ls")
@accounts_argument
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="NAME",
    help="Only this account (repeatable; the same as naming it as ACCOUNT).",
)
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
    named: tuple[str, ...],
    accounts: tuple[str, ...],
    kind: InstanceKind | None,
    as_json: bool,
    as_lines: bool,
    cached: bool,
    width: int | None,
) -> None:
    """List instances and apps of every account, or of each ACCOUNT named (exit 1 if an
    account failed to answer, 3 if its config or credentials are wrong). `wm ls dev prod`
    is `wm ls --account dev --account prod`. The table waits for every account, each for
    its deadline at most (its `timeout`); --json-lines prints each account as it answers."""
    if as_json and as_lines:
        raise click.UsageError("--json and --json-lines: choose one")
    if cached and as_lines:
        raise click.UsageError("--cached answers at once: use --json with it")
    output = "json" if as_json else "lines" if as_lines else "table"
    chosen = accounts_chosen(named, accounts)
    if cached:
        guard(lambda: _ls_cached(obj, chosen, kind, as_json, width))
    else:
        guard(lambda: _ls(obj, chosen, kind, output, width))


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
        config = load_config(chosen, must_exist=obj.config_path is not None, per_account=True)
        path = paths.store_path()
    for name in accounts:
        config.account(name)  # raises ConfigError naming the configured ones
    names = accounts or [a.name for a in config.accounts]
    if no_accounts(obj, names) and not as_json:
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
    if no_accounts(obj, portal.account_names) and output == "table":
        return  # no empty table header: the words above say what to do
    if kind == "app":  # only backends that have apps can answer: ask no one else
        accounts = [
            n
            for n in accounts or portal.account_names
            if Capability.STACKS in portal.capabilities(n)
        ]
        if not accounts:
            if output == "json":
                _print_listing(portal, [], [], as_json=True)
            elif output == "table":  # no empty table: nobody here has apps to list
                click.echo("wm: no account has apps (a Heat or aggregator account)", err=True)
            return

    def print_answer(update: AccountUpdate) -> None:
        """--json-lines: an account's line as soon as it has answered (or failed)."""
        if update.status.refreshing:
            return
        # A failed account's instances are unknown (null), not none ([]): nobody saw them.
        found = update.instances
        line = {
            "account": status_json(update.status),
            "instances": None
            if found is None
            else [
                {**i.model_dump(mode="json"), "kind": i.kind}
                for i in found
                if kind is None or i.kind == kind
            ],
        }
        click.echo(json.dumps(line))

    each = print_answer if output == "lines" else None
    outcome = asyncio.run(refresh(portal, accounts or None, each))
    instances = sorted(
        (
            i
            for i in portal.instances()
            if (not accounts or i.account in accounts) and (kind is None or i.kind == kind)
        ),
        key=lambda i: (i.account, natural(i.name), i.id),
    )
    statuses = [s for s in portal.statuses() if not accounts or s.name in accounts]
    if output != "lines":
        _print_listing(portal, instances, statuses, output == "json", width, kind)
    for status in statuses:
        if status.phase == "failed":
            click.echo(f"wm: {status.name}: {status.error}", err=True)
    stale = Counter((i.account, i.stale) for i in instances if i.stale is not None)
    for (account, why), count in stale.items():
        rows = "1 row is" if count == 1 else f"{count} rows are"
        click.echo(f"wm: {account}: {rows} as last seen, not now: {why}", err=True)
    unlisted = [(s.name, u.line) for s in statuses if s.phase != "failed" for u in s.unlisted]
    for account, line in unlisted:
        click.echo(f"wm: {account}: not listed: {line}", err=True)
    if (stale or unlisted) and outcome == ExitCode.OK:
        outcome = ExitCode.FAILED  # a script must not take those states as current (or all)
    if outcome == ExitCode.CONFIG:
        click.echo(config_named("wm: an account's config or credentials are wrong"), err=True)
    if outcome != ExitCode.OK:
        sys.exit(outcome)


def status_json(status: AccountStatus) -> dict[str, object]:
    """An account's status as --json and --json-lines print it. A failed account's
    `count` and `stale` are null, unknown: its rows are not in the listing, and 0 would
    tell a script summing counts that it has no instances, which nobody saw. (The
    AccountStatus keeps the rows the TUI still shows of it: "failed (3 shown, 9h old)".)"""
    found: dict[str, object] = status.model_dump(mode="json")
    if status.phase == "failed":
        found.update(count=None, stale=None)
    return found


def _print_listing(
    portal: Portal,
    instances: list[Instance],
    statuses: list[AccountStatus],
    as_json: bool,
    width: int | None = None,
    kind: InstanceKind | None = None,
) -> None:
    if as_json:
        payload = {
            "accounts": [status_json(s) for s in statuses],
            "instances": [{**i.model_dump(mode="json"), "kind": i.kind} for i in instances],
        }
        click.echo(json.dumps(payload, indent=2))
    elif instances:
        rows = instance_rows(instances, now=portal.clock())
        click.echo(render_table(fit_instance_table(rows, output_width(width))))
    elif answered := [s.name for s in statuses if s.phase == "ok"]:
        # No bare header: say that none were found, and where (a failed account says
        # its own error after this; its rows are unknown, not none).
        what = {"app": "apps", "instance": "instances"}.get(kind or "", "instances or apps")
        where = ", ".join(answered) if len(answered) <= 3 else f"{len(answered)} accounts"
        click.echo(f"wm: no {what} in {where}", err=True)
