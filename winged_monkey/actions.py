"""Instance actions: what each one needs, where it leads, and when it is allowed."""

from __future__ import annotations

from enum import StrEnum

from winged_monkey.models import Instance, InstanceState

S = InstanceState


class Action(StrEnum):
    START = "start"
    STOP = "stop"
    REBOOT = "reboot"
    DESTROY = "destroy"

    @property
    def destructive(self) -> bool:
        """Asks for confirmation before it runs."""
        return self in (Action.STOP, Action.DESTROY)

    def reached(self, state: InstanceState) -> bool:
        """Whether `state` ends the action: a stop ends stopped, or suspended where the
        backend's stop suspends (a Heat app)."""
        return state in _REACHED[self]

    @property
    def transition(self) -> InstanceState:
        """The state the row shows while the action is in flight."""
        return _TRANSITION[self]

    @property
    def past(self) -> str:
        return _PAST[self]


_REACHED: dict[Action, frozenset[InstanceState]] = {
    Action.START: frozenset({S.RUNNING}),
    Action.STOP: frozenset({S.STOPPED, S.SUSPENDED}),
    Action.REBOOT: frozenset({S.RUNNING}),
    Action.DESTROY: frozenset({S.TERMINATED}),
}
_TRANSITION = {
    Action.START: S.PENDING,
    Action.STOP: S.STOPPING,
    Action.REBOOT: S.REBOOTING,
    Action.DESTROY: S.STOPPING,
}
_PAST = {
    Action.START: "started",
    Action.STOP: "stopped",
    Action.REBOOT: "rebooted",
    Action.DESTROY: "destroyed",
}

_ALLOWED_FROM: dict[Action, frozenset[InstanceState]] = {
    Action.START: frozenset({S.STOPPED, S.SUSPENDED}),
    Action.STOP: frozenset({S.RUNNING, S.PENDING, S.REBOOTING, S.ERROR}),
    Action.REBOOT: frozenset({S.RUNNING}),
    Action.DESTROY: frozenset(set(S) - {S.TERMINATED}),
}


def refusal(action: Action, instance: Instance) -> str | None:
    """Why `action` makes no sense in the instance's current state, or None if it does."""
    if instance.state in _ALLOWED_FROM[action]:
        return None
    if action.reached(instance.state) or instance.state is S.TERMINATED:
        return f"{instance.name} is already {instance.state}"
    allowed = sorted(_ALLOWED_FROM[action])
    needs = " or ".join(allowed) if len(allowed) <= 2 else "running"
    return f"{instance.name} is {instance.state}; {action} needs it {needs}"
