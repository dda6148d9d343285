"""One Heat project's stacks as requests: their paths, the listing, a stack's events,
resources, outputs and template. Every other part of the backend asks through here."""

from __future__ import annotations

from typing import Any

from winged_monkey.errors import WMError
from winged_monkey_heat.client import HeatClient
from winged_monkey_heat.models import StackEvent, StackOutput, StackResource, parse_time
from winged_monkey_heat.refusals import nested_types, unsure

#: Stacks per page of the listing.
PAGE = 200
#: Events per request when paging through a stack's events.
EVENT_PAGE = 100
#: Levels of nested stacks read, as deep as Heat nests by default (max_nested_stack_depth):
#: a ResourceGroup of a nested template holds its servers two levels down, where one level
#: showed only `web/0` (an app's detail; `wm ssh` found no server), and Heat's suspend and
#: resume walk every level.
NESTED_DEPTH = 5


def stack_path(stack_id: str, name: str | None) -> str:
    return f"/stacks/{name}/{stack_id}" if name else f"/stacks/{stack_id}"


class Stacks:
    """Requests about the stacks of one project, and the names their URLs need."""

    def __init__(self, client: HeatClient) -> None:
        self.client = client
        #: stack id -> name: Heat's URLs for a stack are /stacks/{name}/{id}.
        self.names: dict[str, str] = {}

    @property
    def account(self) -> str:
        return self.client.account

    def known_path(self, stack_id: str) -> str:
        # Heat also finds a stack by id alone (a 302 to /stacks/{name}/{id}): one more trip.
        return stack_path(stack_id, self.names.get(stack_id))

    async def listed(self) -> list[dict[str, Any]]:
        """Every stack of the project as Heat lists it, page by page: the next page after
        the last stack (python-heatclient's marker) while a page is full or links a next
        one. A Heat may answer fewer than asked (Rackspace's caps a page at 100, with a
        next link): stopping at a short page lost every stack past the first."""
        stacks: list[dict[str, Any]] = []
        marker: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if marker:
                params["marker"] = marker
            reply = await self.client.request("GET", "/stacks", params=params) or {}
            page = reply.get("stacks", [])
            stacks.extend(page)
            linked = any(link.get("rel") == "next" for link in reply.get("links") or [])
            if not page or not (linked or len(page) >= PAGE):
                break
            marker = str(page[-1]["id"])
            if marker in seen:  # a server that links back would page forever
                break
            seen.add(marker)
        for stack in stacks:
            self.names[str(stack["id"])] = str(stack["stack_name"])
        return stacks

    async def show(self, stack_id: str) -> dict[str, Any]:
        """Heat's stack show (status, parameters, outputs with their values)."""
        data = await self.client.request("GET", self.known_path(stack_id))
        stack: dict[str, Any] = data["stack"]
        self.names[stack_id] = str(stack["stack_name"])
        return stack

    async def events(
        self,
        stack_id: str,
        marker: str | None = None,
        limit: int = 100,
        *,
        newest_first: bool = False,
        resource_name: str | None = None,
    ) -> list[StackEvent]:
        """Events of a stack and its resources, oldest first, the page after `marker`;
        those of one `resource_name` alone if given (the stack's name: its own events)."""
        params: dict[str, Any] = {
            "sort_dir": "desc" if newest_first else "asc",
            "sort_keys": "created_at",
            "limit": limit,
        }
        if resource_name:
            params["resource_name"] = resource_name
        if marker:
            params["marker"] = marker
        path = self.known_path(stack_id)
        data = await self.client.request("GET", f"{path}/events", params=params)
        return [
            StackEvent(
                id=str(e["id"]),
                stack_id=stack_id,
                at=parse_time(e.get("event_time")),
                resource_name=str(e.get("resource_name") or e.get("logical_resource_id") or ""),
                physical_resource_id=e.get("physical_resource_id") or None,
                status=str(e.get("resource_status") or ""),
                reason=str(e.get("resource_status_reason") or ""),
            )
            for e in (data or {}).get("events", [])
        ]

    async def newest_event_id(self, stack_id: str) -> str | None:
        """The id of the stack's newest event: the marker to read what comes after."""
        newest = await self.events(stack_id, limit=1, newest_first=True)
        return newest[0].id if newest else None

    async def resources(self, stack_id: str, nested_depth: int = 0) -> list[StackResource]:
        """The stack's resources; with nested_depth=N also those of its nested stacks N
        levels down, each with its owner's path as `parent` (`web/0` for a member of
        group web's member 0: Heat's parent_resource names only `0`)."""
        path = self.known_path(stack_id)
        params = {"nested_depth": nested_depth} if nested_depth else None
        data = await self.client.request("GET", f"{path}/resources", params=params)
        listed = [r for r in (data or {}).get("resources", []) if isinstance(r, dict)]
        links = [_links(r) for r in listed]
        owners = {
            _last(link["nested"]): (r, link)
            for r, link in zip(listed, links, strict=True)
            if link.get("nested")
        }

        def path_of(resource: dict[str, Any], link: dict[str, str], depth: int = 0) -> str:
            name = _name(resource)
            owner = owners.get(_last(link.get("stack", "")))
            if owner is None or owner[0] is resource or depth > nested_depth:
                return name
            return f"{path_of(*owner, depth + 1)}/{name}"

        found = []
        for r, link in zip(listed, links, strict=True):
            owned = path_of(r, link).rpartition("/")[0]
            found.append(
                StackResource(
                    name=_name(r),
                    type=str(r.get("resource_type") or ""),
                    status=str(r.get("resource_status") or ""),
                    reason=str(r.get("resource_status_reason") or ""),
                    physical_id=r.get("physical_resource_id") or None,
                    updated_at=parse_time(r.get("updated_time")),
                    parent=owned or r.get("parent_resource"),
                    nested_stack_id=_last(link["nested"]) if link.get("nested") else None,
                )
            )
        return found

    async def nesting(self, stack_id: str, resources: list[StackResource]) -> list[StackResource]:
        """`resources`, where one was never created with a type its name does not say owns
        a nested stack (refusals.unsure), those of a type the app's environment maps to a
        template marked as owning one (refusals.nested_types): one more request, only
        then. An environment not read leaves them as they are (the action's own call
        meets what is wrong)."""
        if not any(unsure(r) for r in resources):
            return resources
        try:
            types = nested_types(await self.part(stack_id, "environment"))
        except WMError:
            return resources
        return [r.model_copy(update={"nesting": True}) if r.type in types else r for r in resources]

    async def outputs(self, stack_id: str) -> list[StackOutput]:
        """The stack's outputs with their values (Heat computes them on a stack show)."""
        return stack_outputs(await self.show(stack_id))

    async def part(self, stack_id: str, what: str) -> Any:
        """One of a stack's sub-resources by its path: `template`, `files`, `environment`."""
        return await self.client.request("GET", f"{self.known_path(stack_id)}/{what}")


def _links(resource: dict[str, Any]) -> dict[str, str]:
    return {
        str(link.get("rel")): str(link.get("href") or "")
        for link in resource.get("links") or []
        if isinstance(link, dict)
    }


def _last(href: str) -> str:
    """The id a stack's URL ends with (/stacks/NAME/ID)."""
    return href.rstrip("/").rsplit("/", 1)[-1]


def _name(resource: dict[str, Any]) -> str:
    return str(resource.get("resource_name") or resource.get("logical_resource_id") or "")


def stack_outputs(stack: dict[str, Any]) -> list[StackOutput]:
    return [
        StackOutput(
            key=str(o.get("output_key")),
            value=o.get("output_value"),
            description=str(o.get("description") or ""),
            error=o.get("output_error"),
        )
        for o in stack.get("outputs") or []
    ]
