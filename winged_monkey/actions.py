"""Instance actions: what each one needs, where it leads, and when it is allowed."""

from __future__ import annotations

from enum import StrEnum

from winged_monkey.models import Instance, InstanceKind, InstanceState

S = InstanceState


class Action(StrEnum):
    START = "start"
    STOP = "stop"
    REBOOT = "reboot"
    DESTROY = "destroy"
    SUSPEND = "suspend"
    RESUME = "resume"
    #: A hard reboot: power cycled without asking the guest (Nova HARD, vSphere/libvirt reset).
    RESET = "reset"
    #: A hard stop: powered off without asking the guest (virsh destroy, vSphere power off,
    #: EC2's forced stop), for a guest that ignores the stop's shutdown request.
    POWEROFF = "poweroff"
    #: Verify an app's resources against the cloud (Heat stack check); the state stays.
    CHECK = "check"

    @property
    def destructive(self) -> bool:
        """Asks for confirmation before it runs."""
        return self in (Action.STOP, Action.DESTROY, Action.RESET, Action.POWEROFF)

    def reached(self, state: InstanceState, kind: InstanceKind) -> bool:
        """Whether `state` ends the action on a row of `kind`: a stop ends stopped, an app's
        (a Heat stack's, whose stop is its suspend) suspended too."""
        if self is Action.STOP and kind == "app":
            return state in _APP_STOP_ENDS
        return state in _REACHED[self]

    @property
    def transition(self) -> InstanceState | None:
        """The state the row shows while the action is in flight; None keeps the state."""
        return _TRANSITION.get(self)

    @property
    def past(self) -> str:
        return _PAST[self]

    def ended_as(self, state: InstanceState) -> str:
        """What the action did, in the words of the state it was seen to end in: an app's
        stop (a Heat stack's suspend) read "shop stopped" where its row reads suspended."""
        if self is Action.STOP and state is S.SUSPENDED:
            return _PAST[Action.SUSPEND]
        return _PAST[self]


_REACHED: dict[Action, frozenset[InstanceState]] = {
    Action.START: frozenset({S.RUNNING}),
    # A suspended VM or domain still holds (or saved) its memory: not stopped.
    Action.STOP: frozenset({S.STOPPED}),
    Action.REBOOT: frozenset({S.RUNNING}),
    Action.DESTROY: frozenset({S.TERMINATED}),
    Action.SUSPEND: frozenset({S.SUSPENDED}),
    Action.RESUME: frozenset({S.RUNNING}),
    Action.RESET: frozenset({S.RUNNING}),
    Action.POWEROFF: frozenset({S.STOPPED}),
    # A check ends wherever the app settles; the backend's `act` returns once it has begun.
    Action.CHECK: frozenset({S.RUNNING, S.STOPPED, S.SUSPENDED}),
}
_APP_STOP_ENDS = frozenset({S.STOPPED, S.SUSPENDED})
_TRANSITION = {
    Action.START: S.PENDING,
    Action.STOP: S.STOPPING,
    Action.REBOOT: S.REBOOTING,
    Action.DESTROY: S.STOPPING,
    Action.SUSPEND: S.STOPPING,
    Action.RESUME: S.PENDING,
    Action.RESET: S.REBOOTING,
    Action.POWEROFF: S.STOPPING,
}
_PAST = {
    Action.START: "started",
    Action.STOP: "stopped",
    Action.REBOOT: "rebooted",
    Action.DESTROY: "destroyed",
    Action.SUSPEND: "suspended",
    Action.RESUME: "resumed",
    Action.RESET: "reset",
    Action.POWEROFF: "powered off",
    Action.CHECK: "checked",
}

_ALLOWED_FROM: dict[Action, frozenset[InstanceState]] = {
    Action.START: frozenset({S.STOPPED, S.SUSPENDED}),
    # Suspended: a stop powers a VM or a domain off (`_allowed_from`: not an app).
    Action.STOP: frozenset({S.RUNNING, S.PENDING, S.REBOOTING, S.SUSPENDED, S.ERROR}),
    Action.REBOOT: frozenset({S.RUNNING}),
    Action.DESTROY: frozenset(set(S) - {S.TERMINATED}),
    Action.SUSPEND: frozenset({S.RUNNING}),
    Action.RESUME: frozenset({S.SUSPENDED}),
    Action.RESET: frozenset({S.RUNNING, S.REBOOTING, S.ERROR}),
    # What a stop runs from, and stopping: a stop whose guest has not finished (libvirt's
    # `shutdown`, EC2's `stopping`) is what a power-off is for.
    Action.POWEROFF: frozenset(
        {S.RUNNING, S.PENDING, S.REBOOTING, S.SUSPENDED, S.ERROR, S.STOPPING}
    ),
    Action.CHECK: frozenset({S.RUNNING, S.STOPPED, S.SUSPENDED, S.ERROR}),
}


def _allowed_from(action: Action, kind: InstanceKind) -> frozenset[InstanceState]:
    """The states `action` runs from on a row of `kind`: a stop from suspended too, but not
    an app's, whose stop (its suspend) ends there."""
    if action is Action.STOP and action.reached(S.SUSPENDED, kind):
        return _ALLOWED_FROM[action] - {S.SUSPENDED}
    return _ALLOWED_FROM[action]


def refusal(
    action: Action, instance: Instance, *, seen_now: bool = True, backend: str | None = None
) -> str | None:
    """Why `action` makes no sense in the instance's current state, or None if it does.
    A row not `seen_now` (kept as last seen) is in a state nobody knows: only what it is
    refuses it, the provider says whether its state does. `backend`: the backend's own
    refusal (Backend.refusal), in words that know the provider's state; they win over the
    portal's generic words ("is unknown; start needs it stopped or suspended"), not over
    what the state alone settles (already stopped, terminated)."""
    if action is Action.CHECK and instance.kind != "app":
        return f"{instance.name} is not an app; check verifies an app's resources"
    if not seen_now or instance.state in _allowed_from(action, instance.kind):
        return backend
    if instance.state is S.TERMINATED and action is not Action.DESTROY:
        # "already terminated" read as if the start were done, or would be later.
        return f"{instance.name} is terminated: it can no longer be {action.past}"
    if action.reached(instance.state, instance.kind) or instance.state is S.TERMINATED:
        return f"{instance.name} is already {instance.state}"
    if backend is not None:
        return backend
    allowed = sorted(_allowed_from(action, instance.kind))
    needs = " or ".join(allowed) if len(allowed) <= 2 else "running"
    said = str(instance.state)
    if instance.state is S.UNKNOWN and instance.raw_state and instance.raw_state != said:
        said += f" (provider state: {instance.raw_state})"  # what the portal cannot map
    return f"{instance.name} is {said}; {action} needs it {needs}"
