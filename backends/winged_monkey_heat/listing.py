"""Stacks as the portal's rows (kind "app"): their normalised state, member counts kept
while a stack is unchanged, and the state a checked (or snapshotted) stack had before."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from winged_monkey.account import AccountConfig
from winged_monkey.errors import NotFoundError
from winged_monkey.models import Instance, InstanceState
from winged_monkey_heat.models import parse_time
from winged_monkey_heat.stacks import EVENT_PAGE, Stacks, stack_path
from winged_monkey_heat.states import KEEP_STATE, normalise

#: Requests at once while listing (member counts, pre-check states: each one is small).
MEMBER_FETCHES = 8
#: Pages of a checked stack's own events read (newest first) to find its state before.
PRE_CHECK_PAGES = 3


class Listing:
    """The rows of one Heat account, and what it remembers between polls to ask less."""

    def __init__(self, account: AccountConfig, stacks: Stacks) -> None:
        self.account = account
        self.stacks = stacks
        #: (stack id, status, updated) -> top-level resource count, so polls do not refetch.
        self._members: dict[tuple[str, str, str | None], int] = {}
        #: stack id -> its last stack status before the check or snapshot it is in
        #: (CHECK_COMPLETE, SNAPSHOT_COMPLETE): kept while it stays so, so a poll asks
        #: Heat's events once per check.
        self._pre_check: dict[str, str] = {}

    def recall(self, rows: Sequence[Instance]) -> None:
        """Member counts of the stacks last listed: one unchanged since (same status and
        update time) is not asked again, even by a new process (`wm ls`)."""
        for row in rows:
            status, members = row.extra.get("stack_status"), row.members
            if row.kind == "app" and isinstance(status, str) and members is not None:
                self._members.setdefault((row.id, status, row.extra.get("updated_at")), members)

    async def rows(self) -> list[Instance]:
        stacks = await self.stacks.listed()
        limit = asyncio.Semaphore(MEMBER_FETCHES)

        async def members(stack: dict[str, Any]) -> int | None:
            async with limit:
                return await self._member_count(stack)

        async def before_check(stack: dict[str, Any]) -> None:
            async with limit:
                await self._before_check(stack)

        counts = await asyncio.gather(*(members(s) for s in stacks))
        await asyncio.gather(*(before_check(s) for s in stacks))
        return [self._row(stack, count) for stack, count in zip(stacks, counts, strict=True)]

    async def row(self, stack_id: str) -> Instance | None:
        try:
            stack = await self.stacks.show(stack_id)
        except NotFoundError:
            return None
        await self._before_check(stack)
        return self._row(stack, await self._member_count(stack))

    async def read_with(self, stack: dict[str, Any], members: int) -> Instance:
        """The row of a stack read whole (an app's detail), its top-level `members` counted
        there: the state the detail shows is the one read with it."""
        await self._before_check(stack)
        return self._row(stack, members)

    async def _member_count(self, stack: dict[str, Any]) -> int | None:
        status = str(stack.get("stack_status") or "")
        if status == "DELETE_COMPLETE":
            return 0
        key = (str(stack["id"]), status, stack.get("updated_time"))
        if key not in self._members:
            try:
                data = await self.stacks.client.request(
                    "GET", f"{stack_path(key[0], stack.get('stack_name'))}/resources"
                )
            except NotFoundError:  # deleted between the list and this call
                return None
            self._members[key] = len((data or {}).get("resources", []))
        return self._members[key]

    async def _before_check(self, stack: dict[str, Any]) -> None:
        """Learn what a checked or snapshotted stack was before: Heat's status says only
        CHECK_COMPLETE or SNAPSHOT_COMPLETE (a suspended stack's too); its newest own
        event of another action says the rest."""
        stack_id, status = str(stack["id"]), str(stack.get("stack_status") or "")
        if status not in {f"{action}_COMPLETE" for action in KEEP_STATE}:
            self._pre_check.pop(stack_id, None)
            return
        if stack_id in self._pre_check:
            return
        name, marker = str(stack.get("stack_name") or ""), None
        self.stacks.names.setdefault(stack_id, name)
        for _ in range(PRE_CHECK_PAGES):
            try:
                page = await self.stacks.events(
                    stack_id, marker, EVENT_PAGE, newest_first=True, resource_name=name
                )
            except NotFoundError:
                return
            for event in page:
                done = not event.status.endswith("_IN_PROGRESS")
                kept = event.status.rpartition("_")[0] in KEEP_STATE
                if event.resource_name == name and done and not kept:
                    self._pre_check[stack_id] = event.status
                    return
            if len(page) < EVENT_PAGE:
                return
            marker = page[-1].id

    def _row(self, stack: dict[str, Any], members: int | None) -> Instance:
        status = str(stack.get("stack_status") or "UNKNOWN")
        state = normalise(status, self._pre_check.get(str(stack["id"])))
        reason = str(stack.get("stack_status_reason") or "")
        extra: dict[str, Any] = {
            "kind": "app",
            "stack_status": status,
            "stack_status_reason": reason,
            "members": members,
            "project": self.stacks.client.project,
        }
        if stack.get("updated_time"):
            extra["updated_at"] = stack["updated_time"]
        if state is InstanceState.ERROR:
            extra["fault"] = reason or status
        return Instance(
            account=self.account.name,
            id=str(stack["id"]),
            name=str(stack.get("stack_name") or stack["id"]),
            state=state,
            raw_state=status,
            provider="heat",
            region=self.account.region,
            created_at=parse_time(stack.get("creation_time")),
            price_hourly=self.account.price_hourly,
            extra=extra,
        )
