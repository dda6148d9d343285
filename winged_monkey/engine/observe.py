"""Observed events: what changed between an account's previous and current inventory."""

from __future__ import annotations

from datetime import datetime

from winged_monkey.models import AccountSnapshot, Event, EventSource, Instance


def diff_inventories(
    account: str, previous: AccountSnapshot, current: dict[str, Instance], now: datetime
) -> list[Event]:
    """Events for instances that appeared, vanished or changed state.

    The key names the previous snapshot's time, so two processes that diff the
    same pair of inventories record one event, not two.
    """
    before = {i.id: i for i in previous.instances}
    since = f"{previous.fetched_at.timestamp():.6f}"
    events: list[Event] = []

    def event(kind: str, inst: Instance, old: str | None, new: str | None) -> Event:
        return Event(
            key=f"observed:{account}:{inst.id}:{kind}:{old}>{new}:{since}",
            at=now,
            source=EventSource.OBSERVED,
            kind=kind,
            account=account,
            target=inst.id,
            target_name=inst.name,
            old_state=old,
            new_state=new,
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
