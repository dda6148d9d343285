"""Heat's stack status (ACTION_STATUS) onto the portal's states."""

from __future__ import annotations

from winged_monkey.models import InstanceState

S = InstanceState

#: In-progress actions that take an app down rather than up.
_GOING_DOWN = frozenset({"SUSPEND", "DELETE"})
#: Actions that change nothing that runs: a check reads the resources, a snapshot copies
#: them. Once done, the app is in the state it was in before (a suspended app stays so).
KEEP_STATE = frozenset({"CHECK", "SNAPSHOT"})
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


def normalise(stack_status: str, before: str | None = None) -> InstanceState:
    """CREATE_COMPLETE -> running, SUSPEND_COMPLETE -> suspended, *_FAILED -> error, ...

    A check or a snapshot changes nothing: CHECK_COMPLETE and SNAPSHOT_COMPLETE are the
    state the stack was in before it (`before`, its last status of another action), or
    unknown while that is not known."""
    action, _, result = stack_status.rpartition("_")
    if stack_status.endswith("_IN_PROGRESS"):
        action, result = stack_status.removesuffix("_IN_PROGRESS"), "IN_PROGRESS"
    if action not in _ACTIONS:
        return S.UNKNOWN
    if result == "IN_PROGRESS":
        return S.STOPPING if action in _GOING_DOWN else S.PENDING
    if result == "FAILED":
        return S.ERROR
    if result != "COMPLETE":
        return S.UNKNOWN
    if action in KEEP_STATE:
        kept = before.rpartition("_")[0] if before else ""
        return S.UNKNOWN if not before or kept in KEEP_STATE else normalise(before)
    if action == "DELETE":
        return S.TERMINATED
    if action == "SUSPEND":
        return S.SUSPENDED
    if action == "INIT":
        return S.PENDING
    return S.RUNNING  # CREATE, RESUME, UPDATE, ROLLBACK, RESTORE, ADOPT
