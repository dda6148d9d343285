"""`wm start|stop|reboot|destroy|poweroff|...`: an action on instances named by id, name or
ACCOUNT/ID, confirmed where it destroys, each instance's outcome on its own line."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TextIO

import click

from winged_monkey.actions import Action
from winged_monkey.cli.base import Context, ExitCode, exit_code, fail, guard, refresh
from winged_monkey.errors import ActionNotAllowed, NotFoundError, WMError
from winged_monkey.terminal.render import printable_lines

if TYPE_CHECKING:
    from winged_monkey.engine.portal import Portal
    from winged_monkey.models import Instance


#: An action's help where its name alone would not say it (main.py's _ACTION_HELP too).
HELP = {
    Action.POWEROFF: "Power off instances without asking their guests (a stop their guest "
    "ignores), by id, name or ACCOUNT/ID.",
}


def _action_command(action: Action) -> click.Command:
    @click.command(
        str(action),
        help=HELP.get(action, f"{str(action).capitalize()} instances (by id, name or ACCOUNT/ID)."),
    )
    @click.argument("refs", nargs=-1, required=True)
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @click.pass_obj
    def command(obj: Context, refs: tuple[str, ...], yes: bool) -> None:
        guard(lambda: _act(obj, action, list(refs), yes))

    return command


def _act(obj: Context, action: Action, refs: list[str], yes: bool) -> None:
    portal = obj.portal()
    names = set(portal.account_names)
    if all("/" in r and r.split("/", 1)[0] in names for r in refs):
        targets = asyncio.run(_fetch(portal, action, refs))  # each by itself: none listed
    else:
        asyncio.run(refresh(portal, None))
        targets = _resolve(portal, refs)
    targets = list({i.key: i for i in targets}.values())  # named twice (web-1 and its id): once
    refused = asyncio.run(_refusals(portal, action, targets))
    if refused:
        for instance, why in refused:
            _echo(f"wm: {instance.key}: {why}", err=True)
        _nothing_done(action, [i.key for i in targets if all(i is not r for r, _ in refused)])
        sys.exit(ExitCode.NOT_FOUND)
    asked = action.destructive and not yes
    if asked:
        _confirm(action, targets)
    # What the provider said is passed on unless a prompt stood between (it may have
    # waited minutes): one action, one reading of a Heat app's resources.
    sys.exit(asyncio.run(_run_actions(portal, action, targets, read=not asked)))


async def _refusals(
    portal: Portal, action: Action, targets: list[Instance]
) -> list[tuple[Instance, str]]:
    """Each target the portal refuses `action` on, with why: by its state, then by what its
    provider says now (a Heat app's resources, read at once for all), before anything is
    sent to any."""
    said = await asyncio.gather(*(portal.read_refusal(action, i) for i in targets))
    return [(i, why) for i, why in zip(targets, said, strict=True) if why]


async def _fetch(portal: Portal, action: Action, refs: list[str]) -> list[Instance]:
    """The instances `ACCOUNT/ID` refs name, each fetched by itself, at once. An account that
    does not answer is its error (exit 1); an id its cloud does not know, exit 4. Either
    way nothing is done to the others, and the command that acts on them is said."""
    answers = await asyncio.gather(*(portal.fetch(r) for r in refs), return_exceptions=True)
    found: list[Instance] = []
    code: int | None = None
    for ref, answer in zip(refs, answers, strict=True):
        if isinstance(answer, WMError):
            _echo(f"wm: {ref.split('/', 1)[0]}: {answer.message}", err=True)
            code = code or exit_code(answer)
        elif isinstance(answer, BaseException):
            raise answer
        elif answer is None:
            _echo(f"wm: no instance matches {ref!r}", err=True)
            code = code or ExitCode.NOT_FOUND
        else:
            found.append(answer)
    if code is not None:
        _nothing_done(action, [i.key for i in found])
        sys.exit(code)
    return found


def _echo(text: str, *, err: bool = False, file: TextIO | None = None) -> None:
    """A line that names instances: a name (vSphere's and libvirt's may hold any character
    XML carries) reaches the terminal without its control characters, as in `wm ls`."""
    click.echo(printable_lines(text), err=err, file=file)


def _nothing_done(action: Action, others: list[str]) -> None:
    """All or nothing: what can be done is left undone, with the command that does it."""
    rest = f"; to {action} the others alone: wm {action} {' '.join(others)}" if others else ""
    _echo(f"wm: nothing was done{rest}", err=True)


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
            _echo(f"wm: {missing.message} among the accounts that answered", err=True)
        for status in failed:
            _echo(f"wm: {status.name}: {status.error}", err=True)
        sys.exit(ExitCode.FAILED)


def _confirm(action: Action, targets: list[Instance]) -> None:
    if not sys.stdin.isatty():
        fail(
            f"{action} needs confirmation: pass --yes to run without a terminal", ExitCode.DECLINED
        )
    for instance in targets:
        _echo(f"  {instance.name} ({instance.id}) on {instance.account}", err=True)
    if action is Action.DESTROY and len(targets) > 1:
        typed = click.prompt(f"Destroy {len(targets)} instances? Type the count", err=True)
        if typed.strip() != str(len(targets)):
            fail("not confirmed; nothing was changed", ExitCode.DECLINED)
    elif not click.confirm(question(action, targets), err=True):
        fail("not confirmed; nothing was changed", ExitCode.DECLINED)


def question(action: Action, targets: list[Instance]) -> str:
    """What the confirmation asks: `Stop web-1?`, `Power off 3 instances?`, `Stop 2 apps?`
    (it asked "Stop 1 instance(s)?", and "Poweroff")."""
    verb = "power off" if action is Action.POWEROFF else str(action)
    if len(targets) == 1:
        return f"{verb.capitalize()} {targets[0].name}?"
    noun = "apps" if all(i.kind == "app" for i in targets) else "instances"
    return f"{verb.capitalize()} {len(targets)} {noun}?"


async def _run_actions(
    portal: Portal, action: Action, targets: list[Instance], *, read: bool
) -> ExitCode:
    """Run `action` on each target at once: OK when each was done, FAILED when one failed
    (or timed out, or its outcome is unknown), else NOT_FOUND when one was refused as it
    was sent (its state changed since the check): said as a refusal, not a failure.
    `read`: `_refusals` read each from its provider just now (Portal.run_action)."""

    async def one(instance: Instance) -> ExitCode:
        try:
            async for update in portal.run_action(action, instance, read=read):
                if update.finished and update.refused:  # as the call was sent: nothing done
                    _echo(f"wm: {instance.key}: {update.message}", err=True)
                    return ExitCode.NOT_FOUND
                if update.finished:
                    stream = sys.stdout if update.phase == "done" else sys.stderr
                    label = "ok" if update.phase == "done" else update.phase
                    _echo(f"{instance.key}: {label}: {update.message}", file=stream)
                    return ExitCode.OK if update.phase == "done" else ExitCode.FAILED
                _echo(f"{instance.key}: {update.message}", err=True)
        except ActionNotAllowed as exc:
            _echo(f"wm: {instance.key}: {exc.message}", err=True)
            return ExitCode.NOT_FOUND
        except WMError as exc:
            _echo(f"{instance.key}: failed: {exc.message}", err=True)
        return ExitCode.FAILED

    try:
        results = set(await asyncio.gather(*(one(i) for i in targets)))
    finally:
        await portal.close()
    return next((c for c in (ExitCode.FAILED, ExitCode.NOT_FOUND) if c in results), ExitCode.OK)


#: One command per action, by name, and `delete` (the issue's word): destroy's alias. main.py
#: lists them (its _ACTIONS) and imports this module when one runs.
COMMANDS = {str(action): _action_command(action) for action in Action}
COMMANDS["delete"] = COMMANDS["destroy"]
