"""What Heat would refuse, said before wm sends it.

A stack's resume runs heat.engine.resource.Resource.resume on each of its resources, its
suspend Resource.suspend (either engine, legacy or convergence): each refuses a resource
in a state it does not take ("State ('SNAPSHOT', 'COMPLETE') invalid for resume"), and
one refusal fails the whole stack's action. wm reads the resources first and says so
instead, with what to do."""

from __future__ import annotations

from collections.abc import Sequence

from winged_monkey.actions import Action
from winged_monkey.models import Instance, InstanceState
from winged_monkey_heat.models import StackResource
from winged_monkey_heat.states import KEEP_STATE, split

#: The only states Resource.resume takes.
RESUMABLE = frozenset({"SUSPEND_COMPLETE", "RESUME_FAILED", "RESUME_COMPLETE"})
#: Statuses of a suspended stack whose resources all left SUSPEND_COMPLETE (a check or a
#: snapshot runs on each): Heat resumes none of them, but suspends each again.
SUSPENDED_THEN = frozenset(f"{action}_COMPLETE" for action in KEEP_STATE)
RESUMES = frozenset({Action.START, Action.RESUME})
SUSPENDS = frozenset({Action.STOP, Action.SUSPEND})
#: Resources named in a refusal; the rest are counted.
NAMED = 3


def suspendable(status: str) -> bool:
    """Resource.suspend: not a deleted (or deleting) one, and not one whose last action
    is unfinished or failed, unless that was a suspend."""
    action, result = split(status)
    return action != "DELETE" and (action == "SUSPEND" or result == "COMPLETE")


def suspended_then_checked(app: Instance) -> bool:
    """A suspended app checked or snapshotted since, with resources: each is CHECK_COMPLETE
    or SNAPSHOT_COMPLETE now, which Heat's resume refuses and its suspend takes."""
    return (
        app.state is InstanceState.SUSPENDED
        and app.raw_state in SUSPENDED_THEN
        and bool(app.members)
    )


def by_status(action: Action, app: Instance) -> str | None:
    """What the app's status alone says Heat would refuse (no network call)."""
    if action in RESUMES and suspended_then_checked(app):
        after = "check" if app.raw_state.startswith("CHECK") else "snapshot"
        return (
            f"Heat would refuse to resume {app.name}: since its {after}, its resources are "
            f"{app.raw_state}, and Heat resumes only suspended ones; suspend it again "
            f"(`wm stop {app.name}`), then start it"
        )
    return None


def by_resources(action: Action, app: Instance, resources: Sequence[StackResource]) -> str | None:
    """What Heat would refuse given the app's resources as just read (top level)."""
    statuses = [app.raw_state, *(r.status for r in resources)]
    if any(split(status)[1] == "IN_PROGRESS" for status in statuses):
        return None  # Heat's own words say it best: an action in progress, to wait for
    if action in RESUMES:
        refused = [r for r in resources if r.status not in RESUMABLE]
        if not refused:
            return None
        said = (
            f"Heat would refuse to resume {app.name}: {_which(refused)} (Heat resumes a "
            "resource only when suspended, or when its last action was a resume)"
        )
        if all(suspendable(r.status) for r in refused):
            said += f"; suspend it again (`wm stop {app.name}`), then start it"
        return said
    if action in SUSPENDS:
        refused = [r for r in resources if not suspendable(r.status)]
        if not refused:
            return None
        said = (
            f"Heat would refuse to suspend {app.name}: {_which(refused)} (Heat suspends a "
            "resource only once its last action completed, or its suspend failed)"
        )
        return f"{said}; {_instead(app, refused)}"
    return None


def _instead(app: Instance, refused: Sequence[StackResource]) -> str:
    """What Heat takes instead: a resume again, a delete again (Heat updates no stack
    whose delete it began), else an update."""
    if all(r.status == "RESUME_FAILED" for r in refused):
        return f"start it again first (`wm start {app.name}`)"
    if split(app.raw_state)[0] == "DELETE":
        return f"destroy it (`wm destroy {app.name}`)"
    return f"fix it with `wm app update {app.name}`, or destroy it"


def _which(resources: Sequence[StackResource]) -> str:
    """`resource vm is SNAPSHOT_COMPLETE`, `resources a (X), b (Y) and 2 more`."""
    if len(resources) == 1:
        return f"resource {resources[0].name} is {resources[0].status}"
    named = ", ".join(f"{r.name} ({r.status})" for r in resources[:NAMED])
    more = len(resources) - NAMED
    return f"resources {named}" + (f" and {more} more" if more > 0 else "")
