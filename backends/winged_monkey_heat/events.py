"""Heat's stack events as the portal's native events: followed per stack after a marker
(its last event id), and the latest ones an app's detail view shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from winged_monkey.backend import NativeEvents
from winged_monkey.errors import NotFoundError
from winged_monkey.models import PART_SEPARATOR, Event, EventSource, Instance
from winged_monkey_heat.listing import MEMBER_FETCHES
from winged_monkey_heat.models import StackEvent
from winged_monkey_heat.stacks import EVENT_PAGE, Stacks


def portal_event(event: StackEvent, stack_name: str, account: str, now: datetime) -> Event:
    """A stack event in the portal's log: its action as the kind, its resource in the
    target's name (`shop/group`: at 80 columns the detail is dropped, and a stack's resources'
    events read as one event two or three times), Heat's reason as the detail."""
    action, _, _result = event.status.rpartition("_")
    if event.status.endswith("_IN_PROGRESS"):
        action = event.status.removesuffix("_IN_PROGRESS")
    resource = "" if event.resource_name == stack_name else event.resource_name
    return Event(
        key=event.key(account),
        at=event.at or now,
        source=EventSource.NATIVE,
        kind=(action or event.status).lower(),
        account=account,
        target=event.stack_id,
        target_name=f"{stack_name}{PART_SEPARATOR}{resource}" if resource else stack_name,
        new_state=event.status,
        detail=event.reason or None,
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
                try:
                    async for page in self._pages(row.id, marker):
                        found.extend(page)
                        marker = page[-1].id
                except NotFoundError:  # deleted since the listing
                    return row.id, found, marker
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
            latest = [
                e
                async for page in self._pages(stack_id, None, want=count, newest_first=True)
                for e in page
            ]
        else:
            newer = [e async for page in self._pages(stack_id, shown[0].id) for e in page]
            latest = [*reversed(newer), *shown]
        self._shown[stack_id] = latest[:count]
        return latest[:count]

    async def _pages(
        self,
        stack_id: str,
        marker: str | None,
        *,
        want: int | None = None,
        newest_first: bool = False,
    ) -> AsyncIterator[list[StackEvent]]:
        """The stack's events after `marker` (`want` of them at most), page by page, each
        after the last one's last event, until an empty page, as python-heatclient pages:
        a Heat (or a proxy before it) may answer fewer than asked while more remain, and
        stopping at a short page lost the rest."""
        seen: set[str] = set()
        got = 0
        while want is None or got < want:
            ask = EVENT_PAGE if want is None else min(EVENT_PAGE, want - got)
            page = await self.stacks.events(stack_id, marker, limit=ask, newest_first=newest_first)
            if not page:
                return
            yield page
            got += len(page)
            marker = page[-1].id
            if marker in seen:  # a server that answers the same page again would page forever
                return
            seen.add(marker)
