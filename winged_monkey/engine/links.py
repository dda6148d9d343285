"""What listings observe, linked to the action of ours that made it.

While an action of ours changes an instance (or a launch of ours makes one), the change
a listing observes on it is the action's doing: it is linked to the action's intent
(`Event.cause`), so the change shows once, with the action. A change is linked only when
it goes to the action's transition or target state, while the action runs or in the
first listing that shows the instance moved on since; never by timing alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from winged_monkey.actions import Action
from winged_monkey.models import Event, Instance, InstanceState


@dataclass
class Change:
    """An action of ours changing an instance: its intent, where it started, and whether
    its outcome is recorded."""

    account: str
    #: The instance's ACCOUNT/ID.
    key: str
    #: The key of the action's intent in the event log.
    intent: str
    action: Action
    before: InstanceState
    finished: bool = False
    #: A new instance of a launch: its appearing is the launch's too.
    launch: bool = False


class Links:
    """The instances actions of ours are changing, until a listing shows where each led."""

    def __init__(self) -> None:
        self._changing: dict[str, Change] = {}  # ACCOUNT/ID -> the action changing it

    def start(self, intent: str, action: Action, row: Instance, *, launch: bool = False) -> Change:
        """Link what listings observe of `row` to `intent`, the key of the intent of
        `action`, which is changing it now (`launch`: made it)."""
        change = Change(row.account, row.key, intent, action, row.state, launch=launch)
        self._changing[row.key] = change
        return change

    def ended(self, change: Change, phase: str) -> None:
        """The outcome of `change` is recorded: a failed one made nothing to observe; an
        action's unknown one stays linked until `settled`; otherwise the first listing
        that shows the instance moved on ends the link."""
        if phase == "failed":
            if self._changing.get(change.key) is change:
                del self._changing[change.key]
        elif phase != "unknown" or change.launch:
            change.finished = True

    def launched(self, key: str, phase: str) -> None:
        """The outcome of the launch that made `key` (ACCOUNT/ID) is recorded (`ended`)."""
        change = self._changing.get(key)
        if change is not None and change.launch:
            self.ended(change, phase)

    def settled(self, key: str, intent: str) -> None:
        """A listing settled `intent`, whose action changed `key` (ACCOUNT/ID): the
        listing that saw it end was linked already."""
        change = self._changing.get(key)
        if change is not None and change.intent == intent:
            del self._changing[key]

    def link(
        self, account: str, observed: Sequence[Event], listed: Mapping[str, Instance]
    ) -> list[Event]:
        """`observed` (a listing's changes) with each change an action of ours led to linked
        to its intent; the links whose instance `listed` shows moved on are ended."""
        linked = []
        for event in observed:
            change = self._changing.get(f"{account}/{event.target}")
            appeared = event.kind == "appeared"
            if change is not None and event.cause is None and (not appeared or change.launch):
                state = InstanceState(event.new_state or InstanceState.TERMINATED)
                if change.action.reached(state) or state is change.action.transition:
                    event = event.model_copy(update={"cause": change.intent})
            linked.append(event)
        for key, change in list(self._changing.items()):
            if not change.finished or change.account != account:
                continue
            seen = listed.get(key.removeprefix(f"{account}/"))  # ACCOUNT/ID
            state = seen.state if seen is not None else InstanceState.TERMINATED
            action = change.action
            # A listing begun before the action still shows where it started: wait for one
            # that shows the instance moved on (to the target, or past it: someone else's).
            if action.reached(state) or state not in (change.before, action.transition):
                del self._changing[key]
        return linked
