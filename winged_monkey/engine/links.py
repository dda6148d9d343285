"""What listings observe, linked to the action of ours that made it.

While an action of ours changes an instance (or a launch of ours makes one), the change
a listing observes on it is the action's doing: it is linked to the action's intent
(`Event.cause`), so the change shows once, with the action. A change is linked only when
it goes to the action's transition or target state, while the action runs or in the
first listing that shows the instance moved on since; never by timing alone.

A launch's new instances have no id until its answer comes, and a listing may see them
first (the cloud made them before answering): while its call is out, an instance that
appears under a name the launch gave is the launch's (`expect`). A link whose outcome
is unknown (no answer, or the follow was cut) ends after the follow deadline at most, so
it never outlives what it could explain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from winged_monkey.actions import Action
from winged_monkey.models import Event, Instance, InstanceKind, InstanceState


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
    #: The row's kind: where a stop ends (`Action.reached`).
    kind: InstanceKind = "instance"
    finished: bool = False
    #: A new instance of a launch: its appearing is the launch's too.
    launch: bool = False
    #: Linked by its name, on appearing, before the launch's answer named it.
    arrived: bool = False
    #: When the outcome is unknown: the link ends at the first listing after this.
    until: datetime | None = None


@dataclass
class Expected:
    """A launch of ours whose call is out: what appears on `account` under one of `names`
    is its doing (each name once)."""

    account: str
    intent: str
    action: Action
    names: list[str] = field(default_factory=list)
    #: When the answer was lost: the expectation ends at the first listing after this.
    until: datetime | None = None


class Links:
    """The instances actions of ours are changing, until a listing shows where each led.

    `keep` (seconds, the follow deadline: `action_timeout`) bounds a link whose outcome is
    unknown, by `clock`: the cloud may still act on a lost request for that long, not
    forever, and an open link would claim a later, unrelated change."""

    def __init__(self, clock: Callable[[], datetime], keep: float) -> None:
        self._clock = clock
        self._keep = timedelta(seconds=keep)
        self._changing: dict[str, Change] = {}  # ACCOUNT/ID -> the action changing it
        self._expected: dict[str, Expected] = {}  # intent key -> a launch whose call is out

    def start(self, intent: str, action: Action, row: Instance, *, launch: bool = False) -> Change:
        """Link what listings observe of `row` to `intent`, the key of the intent of
        `action`, which is changing it now (`launch`: made it)."""
        change = Change(row.account, row.key, intent, action, row.state, row.kind, launch=launch)
        self._changing[row.key] = change
        return change

    def expect(self, intent: str, action: Action, account: str, names: Sequence[str]) -> None:
        """A launch (`intent`) is about to be sent: until `answered`, an instance that
        appears on `account` named one of `names` is its doing. Registered before the
        call, so no listing can see the new instance between the cloud making it and
        the answer naming it (`start`) unlinked."""
        self._expected[intent] = Expected(account, intent, action, list(names))

    def answered(self, intent: str, phase: str) -> None:
        """The call of the launch `intent` ended: "requested" (its answer named the new
        instances, each linked by `start` since), "failed" (refused: it made nothing) or
        "unknown" (no answer: the cloud may have made them, so what appears under their
        names stays the launch's, for the follow deadline at most)."""
        expected = self._expected.get(intent)
        arrived = [c for c in self._changing.values() if c.intent == intent and c.arrived]
        if phase == "unknown":
            until = self._clock() + self._keep
            if expected is not None:
                expected.until = until
            for change in arrived:
                change.finished, change.until = True, until
            return
        self._expected.pop(intent, None)
        for change in arrived:  # its answer did not name it (`start` replaces those it did)
            del self._changing[change.key]

    def ended(self, change: Change, phase: str) -> None:
        """The outcome of `change` is recorded: a failed one made nothing to observe; an
        action's unknown one stays linked until `settled`, a launch's for the follow
        deadline at most; otherwise the first listing that shows the instance moved on
        ends the link."""
        if phase == "failed":
            if self._changing.get(change.key) is change:
                del self._changing[change.key]
        elif phase != "unknown" or change.launch:
            change.finished = True
            if phase == "unknown":
                change.until = self._clock() + self._keep

    def launched(self, key: str, phase: str) -> None:
        """The outcome of the launch that made `key` (ACCOUNT/ID) is recorded (`ended`)."""
        change = self._changing.get(key)
        if change is not None and change.launch:
            self.ended(change, phase)

    def settled(self, key: str, intent: str) -> None:
        """A listing settled `intent`, whose action changed `key` (ACCOUNT/ID): the
        listing that saw it end was linked already."""
        self._expected.pop(intent, None)
        change = self._changing.get(key)
        if change is not None and change.intent == intent:
            del self._changing[key]

    def link(
        self, account: str, observed: Sequence[Event], listed: Mapping[str, Instance]
    ) -> list[Event]:
        """`observed` (a listing's changes) with each change an action of ours led to linked
        to its intent; the links whose instance `listed` shows moved on are ended."""
        self._expire()
        linked = []
        for event in observed:
            key = f"{account}/{event.target}"
            appeared = event.kind == "appeared"
            change = self._changing.get(key)
            if change is None and appeared and event.cause is None:
                change = self._arrived(account, key, event)
            if change is not None and event.cause is None and (not appeared or change.launch):
                state = InstanceState(event.new_state or InstanceState.TERMINATED)
                reached = change.action.reached(state, change.kind)
                if reached or state is change.action.transition:
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
            moved = state not in (change.before, action.transition)
            if moved or action.reached(state, change.kind):
                del self._changing[key]
        return linked

    def _arrived(self, account: str, key: str, event: Event) -> Change | None:
        """The link of an instance that appeared under a name a launch whose call is out
        (or whose answer was lost) gave, made now; None when no launch expects it."""
        for expected in self._expected.values():
            if expected.account == account and event.target_name in expected.names:
                expected.names.remove(event.target_name)
                change = Change(
                    account,
                    key,
                    expected.intent,
                    expected.action,
                    InstanceState.PENDING,  # as the launch's own rows start
                    finished=expected.until is not None,
                    launch=True,
                    arrived=True,
                    until=expected.until,
                )
                self._changing[key] = change
                return change
        return None

    def _expire(self) -> None:
        """End the links and expectations whose unknown outcome's time is up."""
        now = self._clock()
        for key, change in list(self._changing.items()):
            if change.until is not None and now > change.until:
                del self._changing[key]
        for intent, expected in list(self._expected.items()):
            if expected.until is not None and now > expected.until:
                del self._expected[intent]
