"""`wm`: the TUI by default, and the same portal for scripts (`wm ls --json`, `wm stop ID`).

Exit codes scripts can rely on are listed in `ExitCode`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import ClassVar

import click

from winged_monkey.cli.base import (
    Context,
    ExitCode,
    LazyGroup,
    fail,
    given_config,
    guard,
    no_accounts,
)
from winged_monkey.httppool import without_httpx_cli
from winged_monkey.terminal.encoding import carries, encoding_of

__all__ = ["ExitCode", "main"]

#: The instance actions (winged_monkey.actions.Action, which imports the models) and
#: `delete`, destroy's alias (the issue's word): each command in cli/actions.py's COMMANDS.
_ACTIONS = (
    "check",
    "delete",
    "destroy",
    "poweroff",
    "reboot",
    "reset",
    "resume",
    "start",
    "stop",
    "suspend",
)
#: An action's help where its name alone would not say it (cli/actions.py's HELP).
_ACTION_HELP = {
    "poweroff": "Power off instances without asking their guests (a stop their guest "
    "ignores), by id, name or ACCOUNT/ID.",
}


class _LazyGroup(LazyGroup):
    """Every command but `demo` is imported when it runs, and listed by --help from its
    help's first sentence here, so that `wm --help` imports neither pydantic nor asyncio
    (tests/test_cli_startup.py holds each sentence to its command's own)."""

    LAZY: ClassVar[dict[str, str]] = {
        "ls": "winged_monkey.cli.listing:ls",
        **{name: "winged_monkey.cli.actions:COMMANDS" for name in _ACTIONS},
        "serve": "winged_monkey.cli.serve:serve",
        "catalog": "winged_monkey.cli.catalog:catalog",
        "launch": "winged_monkey.cli.catalog:launch",
        "where": "winged_monkey.cli.catalog:where",
        "events": "winged_monkey.cli.events:events",
        "app": "winged_monkey.cli.apps:app_group",
        "ssh": "winged_monkey.cli.ssh:ssh_command",
        "console": "winged_monkey.cli.ssh:console_command",
        "accounts": "winged_monkey.cli.accounts:accounts",
    }
    LISTED: ClassVar[dict[str, str]] = {
        "ls": "List instances and apps of every account, or of each ACCOUNT named (exit 1 if "
        "an account failed to answer, 3 if its config or credentials are wrong).",
        **{
            name: _ACTION_HELP.get(name)
            or f"{('destroy' if name == 'delete' else name).capitalize()} instances "
            "(by id, name or ACCOUNT/ID)."
            for name in _ACTIONS
        },
        "serve": "Run the team aggregator: a Conductor-style API over this config's accounts.",
        "catalog": "What each account (or each ACCOUNT named) can launch: images, templates, "
        "sizes with prices, locations, key pairs, networks and quota (exit 1 if an account "
        "failed to answer).",
        "launch": "Launch an image (an id or name from `wm catalog`) or a HOT template (a file, "
        "for Heat accounts) after showing what it costs.",
        "where": 'Rank accounts for a size name (t3.large) or a spec ("2cpu 4gb"): cheapest '
        "fitting size first, unknown prices after known ones, then the most quota left; "
        "each with why.",
        "events": "The event log, newest first: state changes seen, actions taken, cloud events.",
        "app": "N-tier apps (Heat stacks): launch from a template, update with new parameters.",
        "ssh": "Log in to an instance (NAME, ID or ACCOUNT/ID) with the system's ssh, or run "
        "COMMAND there (after `--`); the exit code is ssh's.",
        "console": "Print an instance's boot console (EC2's console output, Nova's console "
        "log); exit 4 where its provider keeps none.",
        "accounts": "List configured accounts (and test or store their credentials).",
    }


@click.group(
    cls=_LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="WM_CONFIG",
    callback=given_config,
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
    if not carries(sys.__stderr__):  # where Textual draws
        fail(
            f"the TUI draws with Unicode (box lines, state glyphs) and this terminal's "
            f"encoding is {encoding_of(sys.__stderr__)}, from the locale (LC_ALL, LC_CTYPE, "
            "LANG): start it in a UTF-8 one, e.g. `LC_ALL=C.UTF-8 wm`; `wm ls` works as it is",
            ExitCode.USAGE,
        )
    # The demo's cloud starts first (a child process): it seeds while Textual loads and paints.
    config, store, warnings = obj.setup(wait=False)
    import asyncio

    from winged_monkey.engine.portal import Portal
    from winged_monkey.ui.app import WMApp  # the core never imports Textual; only this path does
    from winged_monkey.user.credentials import CredentialResolver

    if not obj.demo and no_accounts(obj, [a.name for a in config.accounts]):
        return  # an empty screen would say less than these words
    resolver = CredentialResolver(terminal=False)  # the TUI draws on the terminal
    portal = Portal(config, store, resolver=resolver)
    portal.store_warnings.extend(warnings)
    suffix = "demo" if obj.demo else None
    app = WMApp(portal=portal, config=config, title_suffix=suffix, starting=obj.demo_cloud)
    resolver.prompt = app.ask_secret  # the last credential source: a dialog, in memory only
    app.run()
    asyncio.run(portal.close())
