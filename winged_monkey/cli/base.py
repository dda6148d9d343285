"""What every `wm` command shares: exit codes, the run's config, store and portal, and
turning the portal's errors into one line and an exit code.

Kept apart from main.py so the commands that load on demand (catalog, events)
import it without importing the whole command tree.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from gettext import gettext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeVar

import click

from winged_monkey.errors import ConfigError, NotFoundError, StoreError, WMError, is_config_error
from winged_monkey.user import paths

T = TypeVar("T")

# What a command's run needs (asyncio, the portal, pydantic's models, the store) is imported
# where it runs, not with this module: a command's help or a usage error needs click only.
if TYPE_CHECKING:
    from winged_monkey.demo.cloud import DemoCloud
    from winged_monkey.engine.inventory import AccountUpdate
    from winged_monkey.engine.portal import Portal
    from winged_monkey.models import AccountStatus
    from winged_monkey.store.sqlite import Store
    from winged_monkey.user.config import Config


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # an account did not answer, or an action failed or timed out
    USAGE = 2  # click's own code for bad arguments
    CONFIG = 3  # the config or the credentials are wrong
    NOT_FOUND = 4  # a target matched nothing, several things, or refused the action
    DECLINED = 5  # confirmation refused, or needed and no terminal to ask


@dataclass
class Context:
    config_path: Path | None
    demo: bool
    stack: contextlib.ExitStack
    #: With --demo: its cloud, started by setup (the TUI waits for it behind its first paint).
    demo_cloud: DemoCloud | None = None

    def setup(self, *, wait: bool = True) -> tuple[Config, Store, list[str]]:
        """Config and store for this run; with --demo, a throwaway cloud and directory
        (once seeded, unless not `wait`: then `demo_cloud.ready()` says when)."""
        from winged_monkey.store.sqlite import Store
        from winged_monkey.user.config import load_config

        warnings: list[str] = []
        if self.demo:
            config, store_path, self.demo_cloud = self.stack.enter_context(_demo_environment(wait))
        else:
            path = self.config_path or paths.config_path()
            # One account's own mistake fails that account alone, where it is used.
            config = load_config(path, must_exist=self.config_path is not None, per_account=True)
            if config.serve:  # the server's own section: its model is wm serve's
                from winged_monkey.serve.settings import serve_settings

                serve_settings(path, config.serve)
            store_path = paths.store_path()
        try:
            store = Store.open(store_path)
        except StoreError as exc:
            warnings.append(str(exc))  # it says the app runs without history
            store = Store.memory()
        self.stack.callback(store.close)
        return config, store, warnings

    def portal(self, *, interactive_prompt: bool = True) -> Portal:
        from winged_monkey.engine.portal import Portal
        from winged_monkey.user.credentials import CredentialResolver

        config, store, warnings = self.setup()
        for warning in warnings:
            click.echo(f"wm: {warning}", err=True)
        prompt = _terminal_prompt if interactive_prompt and sys.stdin.isatty() else None
        return Portal(config, store, resolver=CredentialResolver(prompt))


@contextlib.contextmanager
def _demo_environment(wait: bool) -> Iterator[tuple[Config, Path, DemoCloud]]:
    import tempfile
    from importlib.util import find_spec

    if find_spec("moto") is None:  # asked here: the cloud itself starts in a child process
        raise ConfigError(
            "the demo needs moto (moto is missing): pip install 'winged-monkey[demo]'"
        )
    from winged_monkey.demo.cloud import DemoCloud
    from winged_monkey.demo.seed import STORE_NAME

    cloud = DemoCloud()
    with tempfile.TemporaryDirectory(prefix="wm-demo-") as tmp:
        try:
            config = cloud.start(Path(tmp))
            if wait:
                cloud.wait()
            yield config, Path(tmp) / STORE_NAME, cloud
        finally:
            cloud.stop()


def _terminal_prompt(account: str, what: str) -> str | None:
    value = click.prompt(
        f"{what} for account {account} (kept in memory only)",
        hide_input=True,
        default="",
        show_default=False,
        err=True,
    )
    return str(value) or None


def given_config(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    """`--config` or `WM_CONFIG` as every command reads it (paths.given_path: `~` expanded);
    a directory is the config's reading to refuse, exit 3, not click's."""
    return None if value is None else paths.given_path(value)


def fail(message: str, code: ExitCode) -> NoReturn:
    """`message` on stderr, then exit with `code`. A name in it (an instance's may hold any
    character its cloud takes) reaches the terminal without its control characters."""
    from winged_monkey.terminal.render import printable_lines  # not loaded for `wm --help`

    click.echo(printable_lines(f"wm: {message}"), err=True)
    sys.exit(code)


def exit_code(exc: BaseException) -> ExitCode:
    """The exit code an error means (README: "Exit codes")."""
    if is_config_error(exc):
        return ExitCode.CONFIG
    if isinstance(exc, NotFoundError):
        return ExitCode.NOT_FOUND
    return ExitCode.FAILED


def config_named(message: str) -> str:
    """`message` naming the config file it is about (once)."""
    obj = click.get_current_context(silent=True)
    found = obj.find_object(Context) if obj is not None else None
    path = (found.config_path if found is not None else None) or paths.config_path()
    if found is not None and found.demo:
        return message
    return message if str(path) in message else f"{message} (config: {path})"


def guard(run: Any) -> None:
    """Turn the portal's errors into words on stderr (one line, or a config file's problems
    one a line) and a meaningful exit code; a config or credential error names the file."""
    try:
        run()
    except WMError as exc:
        code = exit_code(exc)
        said = exc.listed() if isinstance(exc, ConfigError) else str(exc)
        fail(config_named(said) if code == ExitCode.CONFIG else said, code)


def key_values(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """Repeated KEY=VALUE options as a dict; a value without "=" is a usage error."""
    found: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", ctx, param)
        found[key.strip()] = text
    return found


class LazyGroup(click.Group):
    """A group whose commands in `LAZY` (name: "module:attribute") are imported when used,
    not on every `wm`: `wm ls` need not load the server, the catalog, the event log's
    exports or the account importer. The attribute is the command, or a dict of commands
    by name (the actions). A command in `LISTED` too is listed by --help from the sentence
    there (its help's first, which is all click lists), so that --help imports none of them;
    one missing there is imported to be listed."""

    LAZY: ClassVar[dict[str, str]] = {}
    LISTED: ClassVar[dict[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, _, name = self.LAZY[cmd_name].partition(":")
            found = getattr(importlib.import_module(module), name)
            command = found[cmd_name] if isinstance(found, dict) else found
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """click's; a word that names no command is told the close ones among all of them
        (click, from 8.4, suggests only from those it holds, not the lazy ones)."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            missing: Any = getattr(click.exceptions, "NoSuchCommand", ())
            if not isinstance(error, missing):
                raise
            suggested = self.list_commands(ctx)
            raise missing(error.command_name, possibilities=suggested, ctx=ctx) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing (click.Group.format_commands), each command in `LISTED`
        shortened by click from its sentence there instead of from the imported command."""
        commands: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            if name in self.LISTED:
                command: click.Command | None = click.Command(name, help=self.LISTED[name])
            else:
                command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
            with formatter.section(gettext("Commands")):  # as click translates it
                formatter.write_dl(rows)


def run_closing(portal: Portal, work: Callable[[], Awaitable[T]]) -> T:
    """`work()` on an event loop of its own, the portal closed after it (its clients and
    threads) whatever happens: how a command runs its part of the portal."""
    import asyncio

    async def run() -> T:
        try:
            return await work()
        finally:
            await portal.close()

    return asyncio.run(run())


def no_accounts(obj: Context, names: list[str]) -> bool:
    """With no account configured, say so on stderr with the config's path and how to
    start (`wm --demo`, an example account); True then."""
    if names:
        return False
    from winged_monkey.user import first_run

    click.echo(first_run.no_accounts(obj.config_path or paths.config_path()), err=True)
    return True


async def refresh(
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


def accounts_argument(function: Any) -> Any:
    """`[ACCOUNT]...`: the accounts a command is about, as words (`wm ls dev prod`), which
    users type first; the same as `--account dev --account prod`, and taken with it."""
    return click.argument("named", nargs=-1, metavar="[ACCOUNT]...")(function)


def accounts_chosen(named: tuple[str, ...], options: tuple[str, ...]) -> list[str]:
    """The accounts named as words and by `--account`, each once, in the order given."""
    return list(dict.fromkeys([*named, *options]))


def param_option(function: Any) -> Any:
    """`--param KEY=VALUE` (repeatable): a template's parameters, as `params` (a dict)."""
    return click.option(
        "--param",
        "params",
        multiple=True,
        callback=key_values,
        metavar="KEY=VALUE",
        help="A template parameter (repeatable).",
    )(function)
