"""`wm`: the TUI by default, and the same portal for scripts (`wm ls --json`, `wm stop ID`).

Exit codes scripts can rely on are listed in `ExitCode`.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import ClassVar

import click

from winged_monkey.cli import actions, listing
from winged_monkey.cli.base import Context, ExitCode, LazyGroup, fail, guard, no_accounts
from winged_monkey.httppool import without_httpx_cli

__all__ = ["ExitCode", "main"]


class _LazyGroup(LazyGroup):
    LAZY: ClassVar[dict[str, str]] = {
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
    # The demo's cloud starts first (a child process): it seeds while Textual loads and paints.
    config, store, warnings = obj.setup(wait=False)
    import asyncio

    from winged_monkey.engine.portal import Portal
    from winged_monkey.ui.app import WMApp  # the core never imports Textual; only this path does
    from winged_monkey.user.credentials import CredentialResolver

    if not obj.demo and no_accounts(obj, [a.name for a in config.accounts]):
        return  # an empty screen would say less than these words
    resolver = CredentialResolver()
    portal = Portal(config, store, resolver=resolver)
    portal.store_warnings.extend(warnings)
    suffix = "demo" if obj.demo else None
    app = WMApp(portal=portal, config=config, title_suffix=suffix, starting=obj.demo_cloud)
    resolver.prompt = app.ask_secret  # the last credential source: a dialog, in memory only
    app.run()
    asyncio.run(portal.close())


main.add_command(listing.ls)
for _name, _command in actions.COMMANDS.items():
    main.add_command(_command, name=_name)
main.add_command(actions.COMMANDS["destroy"], name="delete")  # the issue says delete: an alias
