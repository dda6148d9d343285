"""Observed events: what changed between an account's previous and current inventory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from winged_monkey.models import AccountSnapshot, Event, EventSource, Instance


def diff_inventories(
    account: str,
    previous: AccountSnapshot,
    current: dict[str, Instance],
    now: datetime,
    *,
    gap: float | None = None,
) -> list[Event]:
    """Events for instances that appeared, vanished or changed state.

    The key names the previous snapshot's time, so two processes that diff the
    same pair of inventories record one event, not two. Where that listing is more than
    `gap` seconds old (the account failed its polls, or no wm ran), each event's `since`
    says when it was last seen: the change happened at some moment in between, not at `now`.
    """
    before = {i.id: i for i in previous.instances}
    listed = f"{previous.fetched_at.timestamp():.6f}"
    unseen = (now - previous.fetched_at).total_seconds()
    since = previous.fetched_at if gap is not None and unseen > gap else None
    detail = gap_text(since, now) if since is not None else None
    events: list[Event] = []

    def event(kind: str, inst: Instance, old: str | None, new: str | None) -> Event:
        return Event(
            key=f"observed:{account}:{inst.id}:{kind}:{old}>{new}:{listed}",
            at=now,
            source=EventSource.OBSERVED,
            kind=kind,
            account=account,
            target=inst.id,
            target_name=inst.name,
            old_state=old,
            new_state=new,
            detail=detail,
            since=since,
        )

    for instance_id, inst in current.items():
        old = before.get(instance_id)
        if old is None:
            events.append(event("appeared", inst, None, inst.state))
        elif old.state != inst.state:
            events.append(event("state", inst, old.state, inst.state))
    for instance_id, old in before.items():
        if instance_id not in current:
            events.append(event("vanished", old, old.state, None))
    return events


def explained(changes: list[Event], outcomes: Sequence[Event]) -> list[Event]:
    """`changes` (a listing's, as `diff_inventories` found them) with each that an action's
    outcome in `outcomes` (the log's action events since the previous listing, newest
    first) had already seen happen linked to it (`cause`): a `wm stop` in one process, then
    a listing in another, is one change in the log, not a stop and a state change beside it.
    Only an outcome that reached the state the listing found explains it."""
    reached: dict[str, Event] = {}
    for outcome in outcomes:
        if outcome.outcome == "ok" and outcome.cause is not None:
            reached.setdefault(outcome.target, outcome)  # the newest, per target
    linked = []
    for change in changes:
        ended = reached.get(change.target)
        state = change.new_state or "terminated"  # vanished: as a destroy's outcome says
        if change.cause is None and ended is not None and ended.new_state == state:
            change = change.model_copy(update={"cause": ended.cause})
        linked.append(change)
    return linked


def gap_text(since: datetime, at: datetime) -> str:
    """What a change found after a gap says of it (its `since`, in words)."""
    return (
        f"not listed for {_hours((at - since).total_seconds())} before this (last listed "
        f"{since.astimezone(UTC):%Y-%m-%d %H:%M} UTC): changed some time between"
    )


def _hours(seconds: float) -> str:
    """A gap as a person reads it: 40 min, 9 h 30 min, 3 d 2 h."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{max(mins, 1)} min"
