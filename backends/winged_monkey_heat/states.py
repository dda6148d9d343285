"""Heat's stack status (ACTION_STATUS) onto the portal's states."""

from __future__ import annotations

from winged_monkey.models import InstanceState

S = InstanceState

#: In-progress actions that take an app down rather than up.
_GOING_DOWN = frozenset({"SUSPEND", "DELETE"})
#: Actions that change nothing that runs: a check reads the resources, a snapshot copies
#: them. Once done, the app is in the state it was in before (a suspended app stays so).
KEEP_STATE = frozenset({"CHECK", "SNAPSHOT"})
#: Actions a rollback undoes that leave nothing running: a create (or an adopt) rolled back
#: never ran, its resources deleted; an update rolled back runs on its old template.
NEVER_RAN = frozenset({"CREATE", "ADOPT"})
#: Every action a Heat stack takes (heat.engine.stack.Stack.ACTIONS); a status with any
#: other (a newer Heat's) is one wm cannot map, so `unknown`, with the status kept raw.
_ACTIONS = frozenset(
    {
        "INIT",
        "CREATE",
        "DELETE",
        "UPDATE",
        "ROLLBACK",
        "SUSPEND",
        "RESUME",
        "ADOPT",
        "SNAPSHOT",
        "CHECK",
        "RESTORE",
    }
)


def split(stack_status: str) -> tuple[str, str]:
    """CREATE_IN_PROGRESS -> (CREATE, IN_PROGRESS), SUSPEND_FAILED -> (SUSPEND, FAILED)."""
    if stack_status.endswith("_IN_PROGRESS"):
        return stack_status.removesuffix("_IN_PROGRESS"), "IN_PROGRESS"
    action, _, result = stack_status.rpartition("_")
    return action, result


def normalise(stack_status: str, before: str | None = None) -> InstanceState:
    """CREATE_COMPLETE -> running, SUSPEND_COMPLETE -> suspended, *_FAILED -> error, ...

    A check or a snapshot changes nothing: CHECK_COMPLETE and SNAPSHOT_COMPLETE are the
    state the stack was in before it (`before`, its last status of another action), or
    unknown while that is not known. ROLLBACK_COMPLETE is error after a create (it never
    ran: convergence keeps the stack, with no resources), running after an update (on its
    old template), unknown while the action rolled back (`before`) is not known; while in
    progress, a create's rollback deletes its resources (stopping), an update's puts the
    old template back (pending)."""
    action, result = split(stack_status)
    if action not in _ACTIONS:
        return S.UNKNOWN
    if action == "ROLLBACK" and result == "IN_PROGRESS":
        if not before:
            return S.UNKNOWN
        return S.STOPPING if split(before)[0] in NEVER_RAN else S.PENDING
    if result == "IN_PROGRESS":
        return S.STOPPING if action in _GOING_DOWN else S.PENDING
    if result == "FAILED":
        return S.ERROR
    if result != "COMPLETE":
        return S.UNKNOWN
    if action in KEEP_STATE:
        kept = before.rpartition("_")[0] if before else ""
        return S.UNKNOWN if not before or kept in KEEP_STATE else normalise(before)
    if action == "ROLLBACK":
        if not before:
            return S.UNKNOWN
        return S.ERROR if split(before)[0] in NEVER_RAN else S.RUNNING
    if action == "DELETE":
        return S.TERMINATED
    if action == "SUSPEND":
        return S.SUSPENDED
    if action == "INIT":
        return S.PENDING
    return S.RUNNING  # CREATE, RESUME, UPDATE, RESTORE, ADOPT
