"""Launching and changing apps: Heat's create (validated first), its preview of a launch,
and its PATCH update followed by the app's own events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from winged_monkey.errors import BackendError, InvalidRequest
from winged_monkey.models import Instance
from winged_monkey_heat.client import ConflictError
from winged_monkey_heat.models import LaunchedStack, StackEvent
from winged_monkey_heat.sources import Sources
from winged_monkey_heat.stacks import EVENT_PAGE, Stacks, stack_path
from winged_monkey_heat.validation import validate

if TYPE_CHECKING:
    from winged_monkey.catalog import Previewed
    from winged_monkey_heat.files import Bundle

_UPDATE_ENDS = frozenset({"UPDATE_COMPLETE", "UPDATE_FAILED"})
#: The legacy engine rolls a failed update back (rollback on) with no UPDATE_FAILED event
#: of the stack's: the rollback's end is the update's.
_ROLLBACK_ENDS = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED"})


class Apps:
    """Creates, previews and updates the stacks of one account."""

    def __init__(self, stacks: Stacks, sources: Sources) -> None:
        self.stacks = stacks
        self.sources = sources

    async def launch(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> str:
        """Heat validates the template with the parameters first (its reason on a 400)."""
        bundle = await self.sources.bundle(template, environments)
        await validate(self.stacks.client, bundle, parameters)
        return (await self.create(bundle, name, parameters)).id

    async def create(
        self,
        template: str | Bundle,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout_mins: int | None = None,
    ) -> LaunchedStack:
        """Create a stack; returns once Heat accepted it."""
        from winged_monkey_heat.files import Bundle

        client = self.stacks.client
        body: dict[str, Any] = {
            "stack_name": name,
            **(template.body() if isinstance(template, Bundle) else {"template": template}),
            "parameters": dict(parameters or {}),
            "disable_rollback": True,  # keep a failed stack so its reason can be shown
        }
        if timeout_mins is not None:
            body["timeout_mins"] = timeout_mins
        try:
            data = await client.request("POST", "/stacks", body=body, creates=True)
        except ConflictError as exc:  # a name taken: Heat rejects what the user gave it
            raise InvalidRequest(exc.message, account=client.account) from None
        except BackendError as exc:
            if type(exc) is not BackendError or client.settings.method != (
                "application_credential"
            ):
                raise
            # Heat's trusts: Keystone refuses to let an application credential's token
            # create one ("Delegated tokens cannot manage trusts"); Heat only says 500.
            raise BackendError(
                f"{exc.message}. Heat clouds that create a trust per stack (the default) "
                "cannot create stacks through an application credential: launch with a "
                "password account (listing and actions work with either)",
                account=client.account,
            ) from None
        stack_id = str(data["stack"]["id"])
        self.stacks.names[stack_id] = name
        return LaunchedStack(id=stack_id, name=name)

    async def preview(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> list[Previewed]:
        """What Heat says a launch would create (POST /stacks/preview), nested stacks'
        resources under their parent; nothing is created."""
        bundle = await self.sources.bundle(template, environments)
        body = {"stack_name": name, "parameters": dict(parameters), **bundle.body()}
        data = await self.stacks.client.request("POST", "/stacks/preview", body=body) or {}
        return previewed(data.get("stack", {}).get("resources") or [], 0, name)

    async def update(
        self,
        app: Instance,
        parameters: Mapping[str, str],
        environments: Sequence[str] = (),
        template: str | None = None,
    ) -> str | None:
        """Heat's PATCH update: parameters, environment and template not given are kept
        from the app as it is. Returns the newest event's id before the update, the
        marker `update_finished` reads after."""
        if template is not None:
            body = (await self.sources.bundle(template, environments)).body()
        else:
            body = await self.sources.environments(environments)
        body["parameters"] = dict(parameters)
        marker = await self.stacks.newest_event_id(app.id)
        await self.stacks.client.request("PATCH", stack_path(app.id, app.name), body=body)
        return marker

    async def update_finished(self, app: Instance, marker: str | None) -> StackEvent | None:
        """The app's own UPDATE_COMPLETE or UPDATE_FAILED event after `marker`, if any yet
        (the stack's status alone may still be the one before the update began), or the
        end of the rollback of an update that failed, said with the failure of the
        resource it rolled back for."""
        failure = ""
        while True:
            page = await self.stacks.events(app.id, marker, limit=EVENT_PAGE)
            for event in page:
                if event.resource_name != app.name:
                    if event.status.endswith("_FAILED") and event.reason:
                        failure = event.reason
                elif event.status in _UPDATE_ENDS:
                    return event
                elif event.status in _ROLLBACK_ENDS:
                    said = f"update failed and was rolled back: {failure or event.reason}"
                    return event.model_copy(update={"reason": said})
            if len(page) < EVENT_PAGE:
                return None
            marker = page[-1].id


def previewed(resources: list[Any], depth: int, app: str) -> list[Previewed]:
    """Heat's preview lists a stack's resources; a nested stack stands as a list of its
    own resources in its parent's place, each naming its stack (APP-db-tag for `tag` in
    `db`)."""
    from winged_monkey.catalog import Previewed

    found: list[Previewed] = []
    for item in resources:
        if isinstance(item, list):
            found.extend(previewed(item, depth + 1, app))
        elif isinstance(item, dict):
            stack = str(item.get("stack_name") or app)
            found.append(
                Previewed(
                    name=str(item.get("resource_name") or ""),
                    type=str(item.get("resource_type") or ""),
                    depth=depth,
                    nested_in=stack.removeprefix(f"{app}-") if stack != app else "",
                )
            )
    return found
