"""The portal's actions on a stack: stop = suspend, start = resume, destroy = delete,
check = Heat's stack check (followed until Heat's events show it began)."""

from __future__ import annotations

import asyncio
import time

from winged_monkey.actions import Action
from winged_monkey.backend import ActionEnd
from winged_monkey.errors import ActionNotAllowed, NotFoundError
from winged_monkey.models import Instance, InstanceState
from winged_monkey_heat.refusals import ARRIVED, by_resources, heat_action, walk
from winged_monkey_heat.stacks import EVENT_PAGE, NESTED_DEPTH, Stacks, stack_path

#: How long a check waits to show in Heat's events before leaving it to the follow.
CHECK_SHOWS_WITHIN = 10.0
_ACTION_BODY = {
    Action.STOP: {"suspend": None},
    Action.START: {"resume": None},
    Action.SUSPEND: {"suspend": None},
    Action.RESUME: {"resume": None},
}

#: What Heat takes again from a failure of the same action, where the portal's rules alone
#: refuse it on an app in error: a resource whose suspend failed suspends again, one whose
#: resume failed resumes again (heat.engine.resource.Resource.suspend and .resume; the
#: stack takes either from any state). A resume after a failed suspend, or a suspend after
#: a failed resume, meets a resource in a state Heat refuses ("invalid for resume"). A
#: suspended app checked since suspends again (refusals.suspended_then_checked).
RETRIED_FROM = {
    "SUSPEND_FAILED": frozenset({Action.STOP, Action.SUSPEND}),
    "RESUME_FAILED": frozenset({Action.START, Action.RESUME}),
}


async def act(stacks: Stacks, action: Action, stack: Instance, account_timeout: float) -> None:
    """Ask Heat for `action` on `stack`; returns once Heat accepted it."""
    path = stack_path(stack.id, stack.name)
    if action is Action.DESTROY:
        await stacks.client.request("DELETE", path)
    elif action is Action.CHECK:
        await _check(stacks, stack, path, min(CHECK_SHOWS_WITHIN, account_timeout / 2))
    elif action in _ACTION_BODY:
        await stacks.client.request("POST", f"{path}/actions", body=_ACTION_BODY[action])
    else:
        raise ActionNotAllowed(
            f"a Heat stack cannot {action} (stop suspends it, start resumes it)",
            account=stacks.account,
        )


def ended(action: Action, app: Instance) -> ActionEnd | None:
    """A check ends where Heat's stack check does (heat.engine.stack.Stack.check), whatever
    the app's state: CHECK_COMPLETE ('Stack CHECK completed successfully'; the legacy
    engine adds ". 'CHECK' not fully supported (see resources)" where a resource has no
    check of its own), the app in the state it had before (an app in error stays in
    error: the check found nothing wrong with its resources as they are); CHECK_FAILED,
    with what the check found ('Resource CHECK failed: ...')."""
    if action is not Action.CHECK or app.raw_state not in {"CHECK_COMPLETE", "CHECK_FAILED"}:
        return None
    reason = str(app.extra.get("stack_status_reason") or "")
    if app.raw_state == "CHECK_FAILED":
        said = f"Heat's check of {app.name} ended CHECK_FAILED"
        return ActionEnd("failed", f"{said}: {reason}" if reason else said)
    said = f"{app.name} checked" + (f" ({reason})" if reason else "")
    if app.state is InstanceState.UNKNOWN:
        return ActionEnd("done", f"{said}; its state before the check is not known")
    kept = f"{said}; it is {app.state}, as before the check"
    fault = app.extra.get("fault") if app.state is InstanceState.ERROR else None
    return ActionEnd("done", f"{kept}: {fault}" if fault else kept)


async def refusal(stacks: Stacks, action: Action, stack: Instance) -> str | None:
    """What Heat would refuse of a suspend or a resume of `stack` (refusals.by_resources),
    read now: its resources as deep as Heat nests them, then the status of each nested
    stack that holds one Heat refuses (Heat leaves a nested stack already where the action
    leads as it is): those requests only where a nested resource refuses."""
    heat = heat_action(action)
    if heat is None:
        return None
    stacks.names.setdefault(stack.id, stack.name)  # its resources at the same path
    resources = await stacks.resources(stack.id, nested_depth=NESTED_DEPTH)
    resources = await stacks.nesting(stack.id, resources)
    _, entered = walk(heat, resources)

    async def arrived(nested: str) -> bool:
        try:
            return (await stacks.show(nested)).get("stack_status") == ARRIVED[heat]
        except NotFoundError:  # gone since: Heat will not leave it as it is
            return False

    found = await asyncio.gather(*(arrived(n) for n in sorted(entered)))
    skipped = {n for n, done in zip(sorted(entered), found, strict=True) if done}
    return by_resources(action, stack, resources, skipped)


async def _check(stacks: Stacks, stack: Instance, path: str, within: float) -> None:
    """Ask for a check, then wait until Heat's events show it began: the engine starts
    it in a thread after answering, and a follow polling before then would find the
    stack's previous state (even a previous CHECK_COMPLETE) and call it done."""
    marker = await stacks.newest_event_id(stack.id)
    await stacks.client.request("POST", f"{path}/actions", body={"check": None})
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        page = await stacks.events(stack.id, marker, limit=EVENT_PAGE)
        if any(e.resource_name == stack.name and e.status.startswith("CHECK_") for e in page):
            return
        if page:
            marker = page[-1].id
        await asyncio.sleep(0.2)
