"""`wm app ...`: launch an n-tier app from a template (with its environments, or only a
preview of it), and update a running one. Imported only when an `app` command runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from winged_monkey.backend import Capability
from winged_monkey.cli.base import Context, ExitCode, fail, guard, param_option, run_closing
from winged_monkey.errors import ActionNotAllowed, InvalidRequest, NotFoundError
from winged_monkey.terminal.render import render_table

if TYPE_CHECKING:
    from winged_monkey.backend import Backend
    from winged_monkey.catalog import Previewed
    from winged_monkey.engine.portal import ActionUpdate, Portal
    from winged_monkey.models import Instance

T = TypeVar("T")


@click.group("app")
def app_group() -> None:
    """N-tier apps (Heat stacks): launch from a template, update with new parameters."""


def _environments(function: Any) -> Any:
    return click.option(
        "-e",
        "--environment",
        "environments",
        multiple=True,
        metavar="ENV",
        help="An environment file, merged in the order given (repeatable).",
    )(function)


@app_group.command("launch")
@click.argument("template")
@click.option("--account", required=True, help="The account to launch in (a Heat account).")
@click.option("--name", help="The app's name (default: the template's file name).")
@param_option
@_environments
@click.option("--dry-run", is_flag=True, help="Show what the cloud would create; create nothing.")
@click.option("--wait", is_flag=True, help="Follow the app until it runs (exit 0) or fails (1).")
@click.pass_obj
def app_launch(
    obj: Context,
    template: str,
    account: str,
    name: str | None,
    params: dict[str, str],
    environments: tuple[str, ...],
    dry_run: bool,
    wait: bool,
) -> None:
    """Validate TEMPLATE with the cloud, then launch it as a new app.

    TEMPLATE is a file (with the files it reaches: nested templates, get_file) or a
    template's name in the account's catalog. Without -e, the environment beside it
    (NAME_env.yaml) is used if there is one.

    Exit 3 when the cloud rejects the template or its parameters (its reason on stderr).
    """
    name = name or Path(template).stem
    envs = list(environments) or None
    if dry_run:
        guard(lambda: _app_preview(obj, template, account, name, params, envs))
    else:
        guard(lambda: _app_launch(obj, template, account, name, params, envs, wait))


def _app_launch(
    obj: Context,
    template: str,
    account: str,
    name: str,
    params: dict[str, str],
    environments: Sequence[str] | None,
    wait: bool,
) -> None:
    portal = obj.portal()
    portal.config.account(account)  # raises ConfigError naming the configured ones

    async def run() -> ActionUpdate | None:
        last: ActionUpdate | None = None
        async for update in portal.launch_app(
            account, template, name, params, follow=wait, environments=environments
        ):
            last = update
            if update.phase == "requested":
                click.echo(f"{update.instance.key}: {name}: launched", err=True)
            elif not update.finished:
                click.echo(f"{update.instance.key}: {update.message}", err=True)
        return last

    try:
        final = run_closing(portal, run)
    except InvalidRequest as exc:
        fail(f"{account}: {Path(template).name} rejected: {exc.message}", ExitCode.CONFIG)
    except ActionNotAllowed as exc:  # no apps there: refused, as `wm launch` says it (4)
        fail(str(exc), ExitCode.NOT_FOUND)
    if final is None:
        fail(f"{account}: {name}: no answer", ExitCode.FAILED)
    app = final.instance
    if not final.finished:
        click.echo(f"{app.key}: {name} is being created (wm ls --kind app to see it)")
    elif final.phase == "done":
        click.echo(f"{app.key}: ok: {name} is {app.state} ({app.raw_state})")
    else:
        reason = str(app.extra.get("fault") or final.message)
        fail(f"{app.key}: {final.phase}: {name}: {reason}", ExitCode.FAILED)


async def _with_apps(portal: Portal, account: str, what: str) -> Backend:
    """The account's backend, once it says it has n-tier apps (Capability.APPS) to `what`."""
    portal.config.account(account)  # raises ConfigError naming the configured ones
    backend = await portal.backend(account)
    backend.ensure_apps(what)
    return backend


def _refused(run: Callable[[], T]) -> T:
    """`run`, where a backend without apps is a target refusing the action (exit 4)."""
    try:
        return run()
    except ActionNotAllowed as exc:
        fail(exc.message, ExitCode.NOT_FOUND)


def _app_preview(
    obj: Context,
    template: str,
    account: str,
    name: str,
    params: dict[str, str],
    environments: Sequence[str] | None,
) -> None:
    portal = obj.portal()

    async def run() -> Sequence[Previewed]:
        backend = await _with_apps(portal, account, "preview")
        return await portal.within(
            account, backend.preview_app(template, name, params, environments)
        )

    try:
        resources = _refused(lambda: run_closing(portal, run))
    except InvalidRequest as exc:
        fail(f"{account}: {Path(template).name} rejected: {exc.message}", ExitCode.CONFIG)
    rows = [("RESOURCE", "TYPE")]
    rows += [(f"{r.nested_in}/{r.name}" if r.nested_in else r.name, r.type) for r in resources]
    click.echo(render_table(rows))
    click.echo(f"{account}: {name} would have {len(resources)} resources (nothing was created)")


@app_group.command("update")
@click.argument("app")
@param_option
@_environments
@click.option("--template", help="A new template (default: the app's own).")
@click.option("--no-wait", is_flag=True, help="Return once the cloud accepted the update.")
@click.pass_obj
def app_update(
    obj: Context,
    app: str,
    params: dict[str, str],
    environments: tuple[str, ...],
    template: str | None,
    no_wait: bool,
) -> None:
    """Update APP (name, id, ACCOUNT/NAME or ACCOUNT/ID) with new parameters or
    environments; what is not given is kept. Followed until the cloud says it is done
    (exit 0) or failed (1).

    Exit 3 when the cloud rejects the update (its reason on stderr).
    """
    guard(lambda: _app_update(obj, app, params, environments, template, not no_wait))


def _app_update(
    obj: Context,
    ref: str,
    params: dict[str, str],
    environments: Sequence[str],
    template: str | None,
    wait: bool,
) -> None:
    portal = obj.portal()
    app = _one_app(portal, ref)

    async def run() -> ActionUpdate | None:
        # The engine's update, as the TUI's: an intent and its outcome in the event log,
        # and what a listing sees of the app meanwhile linked to it (one row in wm events).
        last: ActionUpdate | None = None
        updates = portal.update_app(app, params, environments, template=template, follow=wait)
        async for update in updates:
            last = update
            if update.phase == "requested":
                click.echo(f"{app.key}: {app.name}: update requested", err=True)
        return last

    try:
        final = _refused(lambda: run_closing(portal, run))
    except InvalidRequest as exc:
        fail(f"{app.key}: {app.name}: update rejected: {exc.message}", ExitCode.CONFIG)
    if final is None:
        fail(f"{app.key}: {app.name}: no answer", ExitCode.FAILED)
    if not wait:
        click.echo(f"{app.key}: {app.name} is being updated (wm ls --kind app to see it)")
    elif final.phase == "done":
        click.echo(f"{app.key}: ok: {final.message}")
    elif final.phase == "failed":  # the message is Heat's: NAME: UPDATE_FAILED: reason
        fail(f"{app.key}: {final.message}", ExitCode.FAILED)
    else:
        fail(f"{app.key}: {final.phase}: {final.message}", ExitCode.FAILED)


def _one_app(portal: Portal, ref: str) -> Instance:
    """The one app `ref` (name, id, ACCOUNT/NAME or ACCOUNT/ID) names, from a listing of
    the accounts that have apps (only the named account for ACCOUNT/...)."""
    account = ref.split("/", 1)[0] if "/" in ref else None
    names = (
        [account]
        if account in portal.account_names
        else [n for n in portal.account_names if Capability.STACKS in portal.capabilities(n)]
    )

    async def listing() -> None:
        try:
            async for _ in portal.refresh(names, native_events=False):
                pass
        finally:
            await portal.close()

    if not names:
        raise NotFoundError(f"no app matches {ref!r}: no configured account has apps (Heat stacks)")
    asyncio.run(listing())
    named = [i for i in portal.instances() if f"{i.account}/{i.name}" == ref]
    try:
        (found,) = named if len(named) == 1 else portal.resolve_targets([ref])
    except NotFoundError as exc:
        if portal.find(ref):  # several: the engine's words name them
            raise
        raise NotFoundError(
            portal.no_match(ref, "app", where="`wm ls --kind app` lists them")
        ) from exc
    if found.kind != "app":
        raise NotFoundError(f"{ref!r} is an instance, not an app")
    return found
