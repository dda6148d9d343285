"""Stacks as the portal's rows (kind "app"): their normalised state, member counts kept
while a stack is unchanged, the state a checked (or snapshotted) stack had before, and the
action a rolled-back stack undid."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from winged_monkey.account import AccountConfig
from winged_monkey.errors import NotFoundError
from winged_monkey.models import Instance, InstanceState
from winged_monkey_heat.models import StackEvent, StackResource, parse_time
from winged_monkey_heat.refusals import settled
from winged_monkey_heat.stacks import EVENT_PAGE, Stacks
from winged_monkey_heat.states import KEEP_STATE, normalise, split

#: Requests at once while listing (member counts, pre-check states: each one is small).
MEMBER_FETCHES = 8
#: What Heat says of a template without a description (the legacy engine's listing).
NO_DESCRIPTION = "No description"
#: A rollback's statuses: what it undoes is read from the stack's events.
ROLLBACK = frozenset({"ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"})
#: Pages of a checked stack's own events read (newest first) to find its state before.
PRE_CHECK_PAGES = 3


class Listing:
    """The rows of one Heat account, and what it remembers between polls to ask less."""

    def __init__(self, account: AccountConfig, stacks: Stacks) -> None:
        self.account = account
        self.stacks = stacks
        #: (stack id, status, updated) -> top-level resource count, so polls do not refetch.
        self._members: dict[tuple[str, str, str | None], int] = {}
        #: stack id -> its top-level resources as last read (counted, or in its detail),
        #: with the (id, status, updated) they were read at: what `kept` gives `refusal`.
        self._resources: dict[str, tuple[tuple[str, str, str | None], list[StackResource]]] = {}
        #: stack id -> its last own event before the check or snapshot it is in
        #: (CHECK_COMPLETE, SNAPSHOT_COMPLETE), or before its rollback (ROLLBACK_*):
        #: kept while it stays so (same status and update time), so a poll asks Heat's
        #: events once per check or rollback.
        self._pre_check: dict[str, tuple[tuple[str, Any], StackEvent]] = {}

    def recall(self, rows: Sequence[Instance]) -> None:
        """Member counts of the stacks last listed: one unchanged since (same status and
        update time) is not asked again, even by a new process (`wm ls`). Not those of a
        stack whose resources may hold one Heat refuses to suspend or resume (a failed
        action's, a check's: refusals.settled): read once by this process, they are kept
        for `refusal`."""
        for row in rows:
            status, members = row.extra.get("stack_status"), row.members
            if (
                row.kind == "app"
                and isinstance(status, str)
                and members is not None
                and settled(status)
            ):
                self._members.setdefault((row.id, status, row.extra.get("updated_at")), members)

    def kept(self, row: Instance) -> list[StackResource] | None:
        """The app's top-level resources as read with its row's status (by its count, or
        its detail); None when not read so: no network call."""
        read = self._resources.get(row.id)
        at = (row.id, row.extra.get("stack_status"), row.extra.get("updated_at"))
        return read[1] if read is not None and read[0] == at else None

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

    async def read_with(self, stack: dict[str, Any], resources: list[StackResource]) -> Instance:
        """The row of a stack read whole (an app's detail), with its top-level `resources`
        read there (counted, and kept): the state the detail shows is the one read with
        them."""
        await self._before_check(stack)
        self._keep(stack, await self.stacks.nesting(str(stack["id"]), resources))
        return self._row(stack, len(resources))

    def _keep(self, stack: dict[str, Any], resources: list[StackResource]) -> None:
        key = (str(stack["id"]), str(stack.get("stack_status") or ""), stack.get("updated_time"))
        self._members[key] = len(resources)
        self._resources[key[0]] = (key, resources)

    async def _member_count(self, stack: dict[str, Any]) -> int | None:
        status = str(stack.get("stack_status") or "")
        if status == "DELETE_COMPLETE":
            return 0
        key = (str(stack["id"]), status, stack.get("updated_time"))
        if key not in self._members:
            self.stacks.names.setdefault(key[0], str(stack.get("stack_name") or ""))
            try:
                read = await self.stacks.resources(key[0])
                self._keep(stack, await self.stacks.nesting(key[0], read))
            except NotFoundError:  # deleted between the list and this call
                return None
        return self._members[key]

    async def _before_check(self, stack: dict[str, Any]) -> None:
        """Learn what a checked or snapshotted stack was before, or what a rolled-back one
        undid: Heat's status says only CHECK_COMPLETE, SNAPSHOT_COMPLETE (a suspended
        stack's too) or ROLLBACK_* (a create's, which never ran, or an update's);
        its newest own event of another action says the rest."""
        stack_id, status = str(stack["id"]), str(stack.get("stack_status") or "")
        if status in ROLLBACK:
            # convergence: CREATE_FAILED (with the cause); legacy: CREATE_IN_PROGRESS
            skipped = {"ROLLBACK"}
        elif status in {f"{action}_COMPLETE" for action in KEEP_STATE}:
            skipped = set(KEEP_STATE)
        else:
            self._pre_check.pop(stack_id, None)
            return
        key = (status, stack.get("updated_time"))
        if stack_id in self._pre_check and self._pre_check[stack_id][0] == key:
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
                action, result = split(event.status)
                done = result != "IN_PROGRESS" or "ROLLBACK" in skipped
                if event.resource_name == name and done and action not in skipped:
                    self._pre_check[stack_id] = (key, event)
                    return
            if len(page) < EVENT_PAGE:
                return
            marker = page[-1].id

    def _row(self, stack: dict[str, Any], members: int | None) -> Instance:
        status = str(stack.get("stack_status") or "UNKNOWN")
        key = (status, stack.get("updated_time"))
        kept = self._pre_check.get(str(stack["id"]))
        before = kept[1] if kept and kept[0] == key else None
        state = normalise(status, before.status if before else None)
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
        description = str(stack.get("description") or "")  # the template's
        if description and description != NO_DESCRIPTION:
            extra["description"] = description
        tags = stack.get("tags")  # a list; a comma-separated string from some Heats
        if tags:
            extra["tags"] = [str(t) for t in (tags.split(",") if isinstance(tags, str) else tags)]
        if status in ROLLBACK and before is not None:
            extra["rolled_back"] = _rolled_back(before, reason, status == "ROLLBACK_COMPLETE")
        if state is InstanceState.ERROR and before is not None and status not in ROLLBACK:
            # checked or snapshotted since: Heat's reason is the check's ('Stack CHECK
            # completed successfully'); the fault is the one it had before
            extra["fault"] = before.reason or before.status
        elif state is InstanceState.ERROR:
            extra["fault"] = extra.get("rolled_back") or reason or status
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


def _rolled_back(before: StackEvent, reason: str, done: bool) -> str:
    """What a rollback undid (or is undoing), with the failure that caused it where Heat's
    event says it (the convergence engine's CREATE_FAILED or UPDATE_FAILED; the legacy
    one's says only that the action began): `create failed and was rolled back: Resource
    CREATE failed: ...`, `create failed and is being rolled back: ...`."""
    action, result = split(before.status)
    said = f"{action.lower()} failed and {'was' if done else 'is being'} rolled back"
    if result == "FAILED" and before.reason:
        return f"{said}: {before.reason}"
    return said + (f" ({reason})" if reason else "")
