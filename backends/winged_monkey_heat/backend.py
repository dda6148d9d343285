"""The Heat backend: one OpenStack Heat project's stacks as portal rows (n-tier apps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability, NativeEvents
from winged_monkey.errors import (
    ActionNotAllowed,
    BackendError,
    ConfigError,
    InvalidRequest,
    NotFoundError,
)
from winged_monkey.models import (
    AppDetail,
    AppOutput,
    AppParameter,
    AppResource,
    Event,
    EventSource,
    Instance,
    InstanceState,
)
from winged_monkey_heat.client import ConflictError, HeatClient
from winged_monkey_heat.files import Bundle
from winged_monkey_heat.models import (
    LaunchedStack,
    ParameterGroup,
    PreviewResource,
    StackEvent,
    StackOutput,
    StackResource,
    TemplateParameter,
    TemplateValidation,
    parse_time,
)
from winged_monkey_heat.settings import HeatSettings
from winged_monkey_heat.states import normalise

if TYPE_CHECKING:  # the catalog loads with the catalog's commands, not with every listing
    from winged_monkey.catalog import AccountCatalog, TemplateForm

PAGE = 200
#: Events per request when following a stack's events into the portal's log.
EVENT_PAGE = 100
#: Resource counts fetched at once while listing (each is one small request).
MEMBER_FETCHES = 8
#: Pages of a checked stack's events read (newest first) to find its state before checks.
PRE_CHECK_PAGES = 3
#: How long `act` waits for a check to show in Heat's events before leaving it to the follow.
CHECK_SHOWS_WITHIN = 10.0
_MUTATING = frozenset(
    {
        Capability.START,
        Capability.STOP,
        Capability.DESTROY,
        Capability.LAUNCH,
        Capability.SUSPEND,
        Capability.RESUME,
        Capability.CHECK,
    }
)
_UPDATE_ENDS = frozenset({"UPDATE_COMPLETE", "UPDATE_FAILED"})
_ACTION_BODY = {
    Action.STOP: {"suspend": None},
    Action.START: {"resume": None},
    Action.SUSPEND: {"suspend": None},
    Action.RESUME: {"resume": None},
}


class HeatBackend(Backend):
    """Stacks of one Heat project. stop = suspend, start = resume, destroy = delete,
    check = Heat's stack check.

    Stacks are rows of kind "app" (`extra["kind"]`) until the core has an App model;
    reboot does not exist for a stack.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = (
        frozenset({Capability.LIST, Capability.STACKS, Capability.EVENTS}) | _MUTATING
    )
    SETTINGS = HeatSettings

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self.client = HeatClient(account, secrets)
        #: stack id -> name: Heat's URLs for a stack are /stacks/{name}/{id}.
        self._names: dict[str, str] = {}
        #: (stack id, status, updated) -> top-level resource count, so polls do not refetch.
        self._members: dict[tuple[str, str, str | None], int] = {}
        #: stack id -> (status, updated) when its events were last read: a stack at rest
        #: that has not changed since has no new events, so it costs no request.
        self._events_read: dict[str, tuple[str, Any]] = {}
        #: stack id -> its last stack status before the check it is in (CHECK_COMPLETE):
        #: kept while it stays checked, so a poll asks Heat's events once per check.
        self._pre_check: dict[str, str] = {}
        #: stack id -> the events an open detail view has shown, newest first: reading the
        #: detail again asks Heat only for what came after the newest (its `marker`).
        self._detail_events: dict[str, list[StackEvent]] = {}

    @property
    def capabilities(self) -> frozenset[Capability]:
        found = super().capabilities
        return found | {Capability.CATALOG} if self.client.settings.templates else found

    # -- rows ------------------------------------------------------------------

    def recall(self, rows: Sequence[Instance]) -> None:
        """Member counts of the stacks last listed: one unchanged since (same status and
        update time) is not asked again, even by a new process (`wm ls`)."""
        for row in rows:
            status, members = row.extra.get("stack_status"), row.members
            if row.kind == "app" and isinstance(status, str) and members is not None:
                self._members.setdefault((row.id, status, row.extra.get("updated_at")), members)

    async def list_instances(self) -> list[Instance]:
        stacks = await self._list_stacks()
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

    async def get_instance(self, instance_id: str) -> Instance | None:
        try:
            stack = await self._stack(instance_id)
        except NotFoundError:
            return None
        await self._before_check(stack)
        return self._row(stack, await self._member_count(stack))

    async def act(self, action: Action, instance: Instance) -> None:
        self.ensure_writable()
        path = self._path(instance.id, instance.name)
        if action is Action.DESTROY:
            await self.client.request("DELETE", path)
        elif action is Action.CHECK:
            await self._check(instance, path)
        elif action in _ACTION_BODY:
            await self.client.request("POST", f"{path}/actions", body=_ACTION_BODY[action])
        else:
            raise ActionNotAllowed(
                f"a Heat stack cannot {action} (stop suspends it, start resumes it)",
                account=self.account.name,
            )

    async def _check(self, stack: Instance, path: str) -> None:
        """Ask for a check, then wait until Heat's events show it began: the engine starts
        it in a thread after answering, and a follow polling before then would find the
        stack's previous state (even a previous CHECK_COMPLETE) and call it done."""
        newest = await self.stack_events(stack.id, limit=1, newest_first=True)
        marker = newest[0].id if newest else None
        await self.client.request("POST", f"{path}/actions", body={"check": None})
        deadline = time.monotonic() + min(CHECK_SHOWS_WITHIN, self.account.timeout / 2)
        while time.monotonic() < deadline:
            page = await self.stack_events(stack.id, marker, limit=EVENT_PAGE)
            if any(e.resource_name == stack.name and e.status.startswith("CHECK_") for e in page):
                return
            if page:
                marker = page[-1].id
            await asyncio.sleep(0.2)

    async def native_events(
        self, instances: Sequence[Instance], markers: Mapping[str, str]
    ) -> NativeEvents:
        """Heat's events of the listed stacks after each stack's marker (its last event id)."""
        stacks = [
            i
            for i in instances
            if i.kind == "app"
            and i.account == self.account.name
            and i.raw_state != "DELETE_COMPLETE"
        ]
        limit = asyncio.Semaphore(MEMBER_FETCHES)

        async def read(row: Instance) -> tuple[str, list[StackEvent], str | None]:
            seen = (row.raw_state, row.extra.get("updated_at"))
            marker = markers.get(row.id)
            if marker and not row.state.transitional and self._events_read.get(row.id) == seen:
                return row.id, [], marker
            found: list[StackEvent] = []
            async with limit:
                while True:
                    try:
                        page = await self.stack_events(row.id, marker, limit=EVENT_PAGE)
                    except NotFoundError:  # deleted since the listing
                        return row.id, found, marker
                    found.extend(page)
                    if page:
                        marker = page[-1].id
                    if len(page) < EVENT_PAGE:
                        break
            self._events_read[row.id] = seen
            return row.id, found, marker

        results = await asyncio.gather(*(read(row) for row in stacks))
        names = {row.id: row.name for row in stacks}
        now = datetime.now(UTC)
        events = tuple(
            self._event(e, names[stack_id], now) for stack_id, found, _ in results for e in found
        )
        return NativeEvents(
            events=events,
            markers={stack_id: marker for stack_id, _, marker in results if marker},
        )

    def _event(self, event: StackEvent, stack_name: str, now: datetime) -> Event:
        action, _, _result = event.status.rpartition("_")
        if event.status.endswith("_IN_PROGRESS"):
            action = event.status.removesuffix("_IN_PROGRESS")
        resource = "" if event.resource_name == stack_name else event.resource_name
        detail = ": ".join(part for part in (resource, event.reason) if part)
        return Event(
            key=event.key(self.account.name),
            at=event.at or now,
            source=EventSource.NATIVE,
            kind=(action or event.status).lower(),
            account=self.account.name,
            target=event.stack_id,
            target_name=stack_name,
            new_state=event.status,
            detail=detail or None,
        )

    async def check(self) -> str:
        count = len(await self._list_stacks())
        return (
            f"Heat at {self.client.where}, project {self.client.project}: "
            f"reachable, {count} stack{'s' if count != 1 else ''}"
        )

    async def close(self) -> None:
        await self.client.close()

    # -- apps: detail, events, launch --------------------------------------------

    async def stack_events(
        self,
        stack_id: str,
        marker: str | None = None,
        limit: int = 100,
        *,
        newest_first: bool = False,
    ) -> list[StackEvent]:
        """Events of a stack and its resources, oldest first, the page after `marker`."""
        params: dict[str, Any] = {
            "sort_dir": "desc" if newest_first else "asc",
            "sort_keys": "created_at",
            "limit": limit,
        }
        if marker:
            params["marker"] = marker
        path = await self._known_path(stack_id)
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

    async def resources(self, stack_id: str, nested_depth: int = 0) -> list[StackResource]:
        """The stack's resources; with nested_depth=1 also those of its nested stacks."""
        path = await self._known_path(stack_id)
        params = {"nested_depth": nested_depth} if nested_depth else None
        data = await self.client.request("GET", f"{path}/resources", params=params)
        found = []
        for r in (data or {}).get("resources", []):
            links = {link.get("rel"): link.get("href", "") for link in r.get("links", [])}
            nested = links.get("nested")
            found.append(
                StackResource(
                    name=str(r.get("resource_name") or r.get("logical_resource_id") or ""),
                    type=str(r.get("resource_type") or ""),
                    status=str(r.get("resource_status") or ""),
                    reason=str(r.get("resource_status_reason") or ""),
                    physical_id=r.get("physical_resource_id") or None,
                    updated_at=parse_time(r.get("updated_time")),
                    parent=r.get("parent_resource"),
                    nested_stack_id=nested.rstrip("/").rsplit("/", 1)[-1] if nested else None,
                )
            )
        return found

    async def outputs(self, stack_id: str) -> list[StackOutput]:
        """The stack's outputs with their values (Heat computes them on a stack show)."""
        stack = await self._stack(stack_id)
        return [
            StackOutput(
                key=str(o.get("output_key")),
                value=o.get("output_value"),
                description=str(o.get("description") or ""),
                error=o.get("output_error"),
            )
            for o in stack.get("outputs") or []
        ]

    async def _latest_events(self, stack_id: str, count: int) -> list[StackEvent]:
        """The stack's `count` newest events, newest first; after the first read, only the
        pages after the newest one already shown are fetched."""
        shown = self._detail_events.get(stack_id)
        if not shown:
            latest = await self.stack_events(stack_id, limit=count, newest_first=True)
        else:
            newer: list[StackEvent] = []
            marker: str | None = shown[0].id
            while marker is not None:
                page = await self.stack_events(stack_id, marker, limit=EVENT_PAGE)
                newer.extend(page)
                marker = page[-1].id if len(page) == EVENT_PAGE else None
            latest = [*reversed(newer), *shown]
        self._detail_events[stack_id] = latest[:count]
        return latest[:count]

    async def app_detail(self, app: Instance, events: int = 50) -> AppDetail:
        """Resources (nested stacks to one level), outputs, parameters (hidden ones masked
        by name from the template, whatever Heat answers) and the latest events."""
        stack_id = app.id
        path = await self._known_path(stack_id)
        resources, stack, template, latest = await asyncio.gather(
            self.resources(stack_id, nested_depth=1),
            self._stack(stack_id),
            self.client.request("GET", f"{path}/template"),
            self._latest_events(stack_id, events),
        )
        declared = (template or {}).get("parameters") or {}
        hidden = {
            name
            for name, spec in declared.items()
            if isinstance(spec, Mapping)
            and str(spec.get("hidden", spec.get("NoEcho", "false"))).lower() == "true"
        }
        values: Mapping[str, Any] = stack.get("parameters") or {}
        now = datetime.now(UTC)
        return AppDetail(
            resources=tuple(
                AppResource(
                    name=r.name,
                    type=r.type,
                    status=r.status,
                    reason=r.reason,
                    physical_id=r.physical_id,
                    parent=r.parent,
                )
                for r in resources
            ),
            outputs=tuple(
                AppOutput(
                    key=str(o.get("output_key")),
                    value=o.get("output_value"),
                    description=str(o.get("description") or ""),
                    error=o.get("output_error"),
                )
                for o in stack.get("outputs") or []
            ),
            parameters=tuple(
                AppParameter(
                    name=name,
                    value=None if name in hidden else str(value),
                    hidden=name in hidden,
                )
                for name, value in sorted(values.items())
                if not name.startswith("OS::")
            ),
            events=tuple(self._event(e, app.name, now) for e in latest),
        )

    async def launch_app(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> str:
        """Heat validates the template with the parameters first (its reason on a 400).

        `template` is a file, a URL, a catalog name or template text (see `bundle`)."""
        self.ensure_writable()
        bundle = await self.bundle(template, environments)
        await self.validate(bundle, parameters)
        return (await self.create_stack(bundle, name, parameters)).id

    async def bundle(self, template: str, environments: Sequence[str] | None = None) -> Bundle:
        """What Heat needs besides name and parameters, gathered as python-heatclient does:
        a template file (a path, a URL, or a name of the templates folder's catalog) with
        every file it reaches, and its environments merged in order. With no environments
        given (None), a template file's own environment beside it (NAME_env.yaml, see
        templates.companion) is used. Template text (a line break in it) goes as it is."""
        from winged_monkey_heat import files, templates

        def build() -> Bundle:
            if _is_text(template):
                env_files, env, urls = files.environments_and_files(environments or ())
                return files.Bundle(template, env_files, env, urls)
            where = self._template_ref(template)
            envs = environments
            if envs is None:
                own = templates.companion(where) if isinstance(where, Path) else None
                envs = [str(own)] if own else []
            return files.gather(where, envs)

        try:
            return await asyncio.to_thread(build)
        except files.FileError as exc:
            raise InvalidRequest(str(exc), account=self.account.name) from None

    def _template_ref(self, ref: str) -> Path | str:
        """A file, a URL, or a catalog name (the path in the templates folder, no suffix)."""
        from urllib.parse import urlparse

        from winged_monkey_heat import templates

        path = _expand(ref)
        if path.is_file() or len(urlparse(ref).scheme) > 1:  # not a Windows drive letter
            return path if path.is_file() else ref
        folder = self.client.settings.templates
        if folder:
            for suffix in templates.SUFFIXES:
                named = Path(folder).expanduser() / f"{ref}{suffix}"
                if named.is_file():
                    return named
        where = f"nor a template of {folder}" if folder else "and no templates folder is set"
        raise InvalidRequest(f"no template {ref}: not a file, {where}", account=self.account.name)

    async def preview(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> list[PreviewResource]:
        """What Heat says a launch would create (POST /stacks/preview), nested stacks'
        resources under their parent; nothing is created."""
        bundle = await self.bundle(template, environments)
        body = {"stack_name": name, "parameters": dict(parameters), **bundle.body()}
        data = await self.client.request("POST", "/stacks/preview", body=body) or {}
        return _previewed(data.get("stack", {}).get("resources") or [], 0, name)

    async def update_app(
        self,
        app: Instance,
        parameters: Mapping[str, str],
        environments: Sequence[str] = (),
        template: str | None = None,
    ) -> str | None:
        """Heat's PATCH update: parameters, environment and template not given are kept
        from the app as it is. Returns the newest event's id before the update, the
        marker `update_finished` reads after."""
        self.ensure_writable()
        if template is not None:
            body = (await self.bundle(template, environments)).body()
        else:
            from winged_monkey_heat import files

            try:
                env_files, env, urls = await asyncio.to_thread(
                    files.environments_and_files, environments
                )
            except files.FileError as exc:
                raise InvalidRequest(str(exc), account=self.account.name) from None
            body = files.Bundle("", env_files, env, urls).body()
            del body["template"]
        body["parameters"] = dict(parameters)
        newest = await self.stack_events(app.id, limit=1, newest_first=True)
        await self.client.request("PATCH", self._path(app.id, app.name), body=body)
        return newest[0].id if newest else None

    async def update_finished(self, app: Instance, marker: str | None) -> StackEvent | None:
        """The app's own UPDATE_COMPLETE or UPDATE_FAILED event after `marker`, if any yet
        (the stack's status alone may still be the one before the update began)."""
        while True:
            page = await self.stack_events(app.id, marker, limit=EVENT_PAGE)
            for event in page:
                if event.resource_name == app.name and event.status in _UPDATE_ENDS:
                    return event
            if len(page) < EVENT_PAGE:
                return None
            marker = page[-1].id

    async def validate(
        self, template: str | Bundle, parameters: Mapping[str, Any] | None = None
    ) -> TemplateValidation:
        """Heat's reading of a template, text or gathered with its files and environment
        (raises TemplateError with Heat's reason)."""
        body: dict[str, Any] = (
            template.body() if isinstance(template, Bundle) else {"template": template}
        )
        if parameters:
            body["parameters"] = dict(parameters)
        data = await self.client.request("POST", "/validate", body=body) or {}
        params = data.get("Parameters") or {}
        return TemplateValidation(
            description=str(data.get("Description") or ""),
            parameters=tuple(_parameter(name, spec) for name, spec in params.items()),
            parameter_groups=tuple(
                ParameterGroup(
                    label=str(g.get("label") or ""),
                    description=str(g.get("description") or ""),
                    parameters=tuple(g.get("parameters") or ()),
                )
                for g in data.get("ParameterGroups") or []
            ),
        )

    async def create_stack(
        self,
        template: str | Bundle,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        timeout_mins: int | None = None,
    ) -> LaunchedStack:
        """Create a stack; returns once Heat accepted it (follow it with get_instance)."""
        self.ensure_writable()
        body: dict[str, Any] = {
            "stack_name": name,
            **(template.body() if isinstance(template, Bundle) else {"template": template}),
            "parameters": dict(parameters or {}),
            "disable_rollback": True,  # keep a failed stack so its reason can be shown
        }
        if timeout_mins is not None:
            body["timeout_mins"] = timeout_mins
        try:
            data = await self.client.request("POST", "/stacks", body=body)
        except ConflictError as exc:  # a name taken: Heat rejects what the user gave it
            raise InvalidRequest(exc.message, account=self.account.name) from None
        except BackendError as exc:
            if type(exc) is not BackendError or self.client.settings.method != (
                "application_credential"
            ):
                raise
            # Heat's trusts: Keystone refuses to let an application credential's token
            # create one ("Delegated tokens cannot manage trusts"); Heat only says 500.
            raise BackendError(
                f"{exc.message}. Heat clouds that create a trust per stack (the default) "
                "cannot create stacks through an application credential: launch with a "
                "password account (listing and actions work with either)",
                account=self.account.name,
            ) from None
        stack_id = str(data["stack"]["id"])
        self._names[stack_id] = name
        return LaunchedStack(id=stack_id, name=name)

    # -- templates: the catalog and the launch form ---------------------------------

    def templates_folder(self) -> Path:
        folder = self.client.settings.templates
        if not folder:
            raise ConfigError(
                'no templates folder: set templates = "~/heat-templates" in the account',
                account=self.account.name,
            )
        return Path(folder).expanduser()

    async def catalog(self) -> AccountCatalog:
        """One item per HOT template in the templates folder, described by Heat's own
        validation of it (a template Heat rejects is listed with Heat's reason)."""
        from winged_monkey.catalog import AccountCatalog, CatalogItem
        from winged_monkey_heat import templates

        folder = self.templates_folder()
        if not await asyncio.to_thread(folder.is_dir):
            raise ConfigError(
                f"templates folder {folder} does not exist; create it or fix `templates`",
                account=self.account.name,
            )
        files = await asyncio.to_thread(templates.template_files, folder)
        limit = asyncio.Semaphore(MEMBER_FETCHES)

        async def item(path: Path) -> CatalogItem:
            async with limit:
                try:
                    found = await self.validate(await self.bundle(str(path)))
                except InvalidRequest as exc:
                    description, needs = templates.rejected(exc.message)
                else:
                    description, needs = found.description, templates.needs(found)
            return CatalogItem(
                account=self.account.name,
                kind="template",
                id=str(path),
                name=str(path.relative_to(folder).with_suffix("")),
                description=description.strip(),
                provider="heat",
                needs=needs,
            )

        return AccountCatalog(
            account=self.account.name,
            provider="heat",
            region=self.account.region,
            items=tuple(await asyncio.gather(*(item(p) for p in files))),
        )

    async def template_form(self, template: str) -> TemplateForm:
        """The launch form of a template file, from Heat's POST /validate answer."""
        from winged_monkey_heat import templates

        bundle = await self.bundle(template)
        validation = await self.validate(bundle)
        return templates.form(self.account.name, template, validation, bundle.template)

    # -- helpers -----------------------------------------------------------------

    async def _list_stacks(self) -> list[dict[str, Any]]:
        stacks: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if marker:
                params["marker"] = marker
            page = (await self.client.request("GET", "/stacks", params=params) or {}).get(
                "stacks", []
            )
            stacks.extend(page)
            if len(page) < PAGE:
                break
            marker = str(page[-1]["id"])
        for stack in stacks:
            self._names[str(stack["id"])] = str(stack["stack_name"])
        return stacks

    async def _stack(self, stack_id: str) -> dict[str, Any]:
        data = await self.client.request("GET", await self._known_path(stack_id))
        stack: dict[str, Any] = data["stack"]
        self._names[stack_id] = str(stack["stack_name"])
        return stack

    async def _known_path(self, stack_id: str) -> str:
        # Heat also finds a stack by id alone (a 302 to /stacks/{name}/{id}): one more trip.
        return self._path(stack_id, self._names.get(stack_id))

    @staticmethod
    def _path(stack_id: str, name: str | None) -> str:
        return f"/stacks/{name}/{stack_id}" if name else f"/stacks/{stack_id}"

    async def _member_count(self, stack: dict[str, Any]) -> int | None:
        status = str(stack.get("stack_status") or "")
        if status == "DELETE_COMPLETE":
            return 0
        key = (str(stack["id"]), status, stack.get("updated_time"))
        if key not in self._members:
            try:
                data = await self.client.request(
                    "GET", f"{self._path(key[0], stack.get('stack_name'))}/resources"
                )
            except NotFoundError:  # deleted between the list and this call
                return None
            self._members[key] = len((data or {}).get("resources", []))
        return self._members[key]

    async def _before_check(self, stack: dict[str, Any]) -> None:
        """Learn what a checked stack was before its check: Heat's status says only
        CHECK_COMPLETE; its newest stack event that is not a check's says the rest."""
        stack_id, status = str(stack["id"]), str(stack.get("stack_status") or "")
        if status != "CHECK_COMPLETE":
            self._pre_check.pop(stack_id, None)
            return
        if stack_id in self._pre_check:
            return
        name, marker = str(stack.get("stack_name") or ""), None
        self._names.setdefault(stack_id, name)
        for _ in range(PRE_CHECK_PAGES):
            try:
                page = await self.stack_events(stack_id, marker, EVENT_PAGE, newest_first=True)
            except NotFoundError:
                return
            for event in page:
                done = not event.status.endswith("_IN_PROGRESS")
                if event.resource_name == name and done and "CHECK_" not in event.status:
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
            "project": self.client.project,
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


def _is_text(template: str) -> bool:
    """Template text rather than a reference to one: no file name holds a line break."""
    return "\n" in template or template.lstrip().startswith("{")


def _previewed(resources: list[Any], depth: int, app: str) -> list[PreviewResource]:
    """Heat's preview lists a stack's resources; a nested stack stands as a list of its
    own resources in its parent's place, each naming its stack (APP-db-tag for `tag` in
    `db`)."""
    found: list[PreviewResource] = []
    for item in resources:
        if isinstance(item, list):
            found.extend(_previewed(item, depth + 1, app))
        elif isinstance(item, dict):
            stack = str(item.get("stack_name") or app)
            found.append(
                PreviewResource(
                    name=str(item.get("resource_name") or ""),
                    type=str(item.get("resource_type") or ""),
                    depth=depth,
                    parent=item.get("parent_resource") or None,
                    nested_in=stack.removeprefix(f"{app}-") if stack != app else "",
                )
            )
    return found


def _expand(path: str) -> Path:
    return Path(path).expanduser()


def _parameter(name: str, spec: Mapping[str, Any]) -> TemplateParameter:
    def number(key: str) -> float | None:
        value = spec.get(key)
        return float(value) if isinstance(value, int | float) else None

    def length(key: str) -> int | None:
        value = spec.get(key)
        return int(value) if isinstance(value, int) else None

    allowed = spec.get("AllowedValues")
    return TemplateParameter(
        name=name,
        type=str(spec.get("Type") or "String"),
        label=str(spec.get("Label") or name),
        description=str(spec.get("Description") or ""),
        default=spec.get("Default"),
        has_default="Default" in spec,
        hidden=str(spec.get("NoEcho", "false")).lower() == "true",
        allowed_values=tuple(allowed) if isinstance(allowed, list) else None,
        allowed_pattern=spec.get("AllowedPattern"),
        min_value=number("MinValue"),
        max_value=number("MaxValue"),
        min_length=length("MinLength"),
        max_length=length("MaxLength"),
        custom_constraint=spec.get("CustomConstraint"),
        constraint_description=str(spec.get("ConstraintDescription") or ""),
    )
