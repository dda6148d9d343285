"""Heat's stack status (ACTION_STATUS) onto the portal's states."""

from __future__ import annotations

from winged_monkey.models import InstanceState

S = InstanceState

#: In-progress actions that take an app down rather than up.
_GOING_DOWN = frozenset({"SUSPEND", "DELETE"})


def normalise(stack_status: str, before_check: str | None = None) -> InstanceState:
    """CREATE_COMPLETE -> running, SUSPEND_COMPLETE -> suspended, *_FAILED -> error, ...

    A check changes nothing: CHECK_COMPLETE is the state the stack was in before it
    (`before_check`, its last status that was not a check's), when known."""
    if stack_status == "CHECK_COMPLETE" and before_check:
        return normalise(before_check)
    action, _, result = stack_status.rpartition("_")
    if stack_status.endswith("IN_PROGRESS"):
        action = stack_status.removesuffix("_IN_PROGRESS")
        return S.STOPPING if action in _GOING_DOWN else S.PENDING
    if result == "FAILED":
        return S.ERROR
    if result == "COMPLETE":
        if action == "DELETE":
            return S.TERMINATED
        if action == "SUSPEND":
            return S.SUSPENDED
        if action == "INIT":
            return S.PENDING
        return S.RUNNING  # CREATE, RESUME, UPDATE, CHECK, ROLLBACK, SNAPSHOT, RESTORE, ADOPT
    return S.UNKNOWN
