"""`wm ssh` (it becomes the system's ssh) and `wm console` (an instance's boot console)."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import click

from winged_monkey.cli.base import Context, ExitCode, fail, guard
from winged_monkey.engine.portal import Portal
from winged_monkey.errors import ActionNotAllowed, NotFoundError
from winged_monkey.models import Instance
from winged_monkey.terminal import ssh
from winged_monkey.terminal.console_text import new_text, printable


@click.command("ssh", context_settings={"ignore_unknown_options": True})
@click.argument("ref")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--print", "-n", "print_only", is_flag=True, help="Print the ssh command only.")
@click.pass_obj
def ssh_command(obj: Context, ref: str, command: tuple[str, ...], print_only: bool) -> None:
    """Log in to an instance (NAME, ID or ACCOUNT/ID) with the system's ssh, or run COMMAND
    there (after `--`); the exit code is ssh's. The address, user, key and jump host come
    from the account's ssh_* settings and the instance; your ~/.ssh/config applies."""
    guard(lambda: _ssh(obj, ref, list(command), print_only))


def _ssh(obj: Context, ref: str, command: list[str], print_only: bool) -> None:
    portal = obj.portal()
    instance = _target(portal, ref)
    try:
        plan = ssh.plan(instance, portal.account_config(instance.account))
    except ActionNotAllowed as exc:  # stopped, no address: refused in its state, as actions are
        fail(exc.message, ExitCode.NOT_FOUND)
    if print_only:
        click.echo(plan.command_line(command))
        return
    argv = plan.argv(command, ssh=ssh.ssh_client())
    click.echo(f"wm: {plan.describe()}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    obj.stack.close()  # the store, before this process becomes ssh
    os.execv(argv[0], argv)  # noqa: S606 (it becomes ssh: the user asked for exactly this)


@click.command("console")
@click.argument("ref")
@click.option("--follow", "-f", is_flag=True, help="Keep reading; print what is new (ctrl+c).")
@click.option(
    "--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.5), help="Seconds."
)
@click.pass_obj
def console_command(obj: Context, ref: str, follow: bool, interval: float) -> None:
    """Print an instance's boot console (EC2's console output, Nova's console log); exit 4
    where its provider keeps none."""
    guard(lambda: _console(obj, ref, follow, interval))


def _console(obj: Context, ref: str, follow: bool, interval: float) -> None:
    portal = obj.portal()
    instance = _target(portal, ref)
    shown = ""
    try:
        while True:
            text = asyncio.run(_read(portal, instance))
            fresh = new_text(shown, text)
            if fresh:
                # A guest writes this log: its escapes reach no terminal, nor a pager
                # reading a pipe (click strips only colour codes, and only there).
                click.echo(printable(fresh), nl=not fresh.endswith("\n"))
            elif not shown and not follow:
                click.echo(f"wm: {instance.name}: no console output yet", err=True)
            shown = text or shown
            if not follow:
                return
            time.sleep(interval)  # the provider has no push; poll gently
    except KeyboardInterrupt:
        sys.exit(ExitCode.OK)


async def _read(portal: Portal, instance: Instance) -> str:
    try:
        return await portal.console_output(instance)
    except ActionNotAllowed as exc:
        fail(exc.message, ExitCode.NOT_FOUND)
    finally:
        await portal.close()


def _target(portal: Portal, ref: str) -> Instance:
    """The instance `ref` names, its account (or every account) freshly listed; an app with
    one member server that another account lists is that server."""
    account = ref.split("/", 1)[0] if "/" in ref else None
    names = [account] if account in portal.account_names else None
    asyncio.run(_refresh(portal, names))
    matches = portal.find(ref)
    if not matches and names is not None:
        failed = portal.status(names[0])
        if failed.phase == "failed":
            fail(f"{failed.name}: {failed.error}", ExitCode.FAILED)
    found = portal.resolve_targets([ref])[0]
    if found.kind != "app":
        return found
    if names is not None:  # the members live in other accounts: list those too
        asyncio.run(_refresh(portal, None))
    members = asyncio.run(_members(portal, found))
    if len(members) == 1:
        return members[0]
    if not members:
        raise NotFoundError(
            f"{found.name} is an app and no configured account lists its servers "
            "(add the account of its compute service to log in to them)"
        )
    listed = ", ".join(f"{m.key} ({m.name})" for m in members)
    raise NotFoundError(f"{found.name} has {len(members)} servers; name one: {listed}")


async def _refresh(portal: Portal, names: list[str] | None) -> None:
    try:
        async for _update in portal.refresh(names, native_events=False):
            pass
    finally:
        await portal.close()


async def _members(portal: Portal, app: Instance) -> list[Instance]:
    try:
        detail = await portal.app_detail(app, events=0)
        return sorted(portal.members_elsewhere(app, detail).values(), key=lambda i: i.name)
    finally:
        await portal.close()
