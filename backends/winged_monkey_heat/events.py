"""Heat's stack events as the portal's native events: followed per stack after a marker
(its last event id), and the latest ones an app's detail view shows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from winged_monkey.backend import NativeEvents
from winged_monkey.errors import NotFoundError
from winged_monkey.models import Event, EventSource, Instance
from winged_monkey_heat.listing import MEMBER_FETCHES
from winged_monkey_heat.models import StackEvent
from winged_monkey_heat.stacks import EVENT_PAGE, Stacks


def portal_event(event: StackEvent, stack_name: str, account: str, now: datetime) -> Event:
    """A stack event in the portal's log: its action as the kind, the resource and Heat's
    reason as the detail (the stack's own events name no resource)."""
    action, _, _result = event.status.rpartition("_")
    if event.status.endswith("_IN_PROGRESS"):
        action = event.status.removesuffix("_IN_PROGRESS")
    resource = "" if event.resource_name == stack_name else event.resource_name
    detail = ": ".join(part for part in (resource, event.reason) if part)
    return Event(
        key=event.key(account),
        at=event.at or now,
        source=EventSource.NATIVE,
        kind=(action or event.status).lower(),
        account=account,
        target=event.stack_id,
        target_name=stack_name,
        new_state=event.status,
        detail=detail or None,
    )


class StackEvents:
    """Reads stacks' events, asking Heat nothing for a stack at rest and unchanged."""

    def __init__(self, stacks: Stacks) -> None:
        self.stacks = stacks
        #: stack id -> (status, updated) when its events were last read: a stack at rest
        #: that has not changed since has no new events, so it costs no request.
        self._read: dict[str, tuple[str, Any]] = {}
        #: stack id -> the events an open detail view has shown, newest first: reading the
        #: detail again asks Heat only for what came after the newest (its `marker`).
        self._shown: dict[str, list[StackEvent]] = {}

    async def native(
        self, instances: Sequence[Instance], markers: Mapping[str, str]
    ) -> NativeEvents:
        """Heat's events of the listed stacks after each stack's marker (its last event id)."""
        account = self.stacks.account
        stacks = [
            i
            for i in instances
            if i.kind == "app" and i.account == account and i.raw_state != "DELETE_COMPLETE"
        ]
        limit = asyncio.Semaphore(MEMBER_FETCHES)

        async def read(row: Instance) -> tuple[str, list[StackEvent], str | None]:
            seen = (row.raw_state, row.extra.get("updated_at"))
            marker = markers.get(row.id)
            if marker and not row.state.transitional and self._read.get(row.id) == seen:
                return row.id, [], marker
            found: list[StackEvent] = []
            async with limit:
                while True:
                    try:
                        page = await self.stacks.events(row.id, marker, limit=EVENT_PAGE)
                    except NotFoundError:  # deleted since the listing
                        return row.id, found, marker
                    found.extend(page)
                    if page:
                        marker = page[-1].id
                    if len(page) < EVENT_PAGE:
                        break
            self._read[row.id] = seen
            return row.id, found, marker

        results = await asyncio.gather(*(read(row) for row in stacks))
        names = {row.id: row.name for row in stacks}
        now = datetime.now(UTC)
        events = tuple(
            portal_event(e, names[stack_id], account, now)
            for stack_id, found, _ in results
            for e in found
        )
        return NativeEvents(
            events=events,
            markers={stack_id: marker for stack_id, _, marker in results if marker},
        )

    async def latest(self, stack_id: str, count: int) -> list[StackEvent]:
        """The stack's `count` newest events, newest first; after the first read, only the
        pages after the newest one already shown are fetched."""
        shown = self._shown.get(stack_id)
        if not shown:
            latest = await self.stacks.events(stack_id, limit=count, newest_first=True)
        else:
            newer: list[StackEvent] = []
            marker: str | None = shown[0].id
            while marker is not None:
                page = await self.stacks.events(stack_id, marker, limit=EVENT_PAGE)
                newer.extend(page)
                marker = page[-1].id if len(page) == EVENT_PAGE else None
            latest = [*reversed(newer), *shown]
        self._shown[stack_id] = latest[:count]
        return latest[:count]
