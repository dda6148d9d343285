"""The Heat backend: one OpenStack Heat project's stacks as portal rows (n-tier apps).

The class holds the account's parts and hands each call to the one that does it:
stacks.py (requests about stacks), listing.py (rows), events.py (native events),
actions.py, apps.py (launch, preview, update), detail.py (an app as it runs),
sources.py (templates and environments), validation.py and catalog.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import ActionEnd, Backend, Capability, NativeEvents
from winged_monkey.models import AppDetail, Instance
from winged_monkey_heat import actions, catalog, detail, refusals
from winged_monkey_heat.apps import Apps
from winged_monkey_heat.client import HeatClient
from winged_monkey_heat.events import StackEvents
from winged_monkey_heat.listing import Listing
from winged_monkey_heat.models import (
    LaunchedStack,
    StackEvent,
    StackOutput,
    StackResource,
    TemplateValidation,
)
from winged_monkey_heat.settings import HeatSettings
from winged_monkey_heat.sources import Sources
from winged_monkey_heat.stacks import Stacks
from winged_monkey_heat.validation import validate

if TYPE_CHECKING:  # the catalog loads with the catalog's commands, not with every listing
    from winged_monkey.catalog import (
        AccountCatalog,
        EnvironmentFile,
        Previewed,
        TemplateForm,
        UpdateEnd,
    )
    from winged_monkey_heat.files import Bundle

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


class HeatBackend(Backend):
    """Stacks of one Heat project. stop = suspend, start = resume, destroy = delete,
    check = Heat's stack check.

    Stacks are rows of kind "app" (`extra["kind"]`) until the core has an App model;
    reboot does not exist for a stack.
    """

    # What a Heat account may do, before it is built: CATALOG too, which a built one without
    # `templates` drops. Said the other way round, `wm catalog`, the TUI's catalog and
    # `wm serve`'s pools passed over the templates of every account not yet built.
    CAPABILITIES: ClassVar[frozenset[Capability]] = (
        frozenset(
            {
                Capability.LIST,
                Capability.STACKS,
                Capability.EVENTS,
                Capability.APPS,
                Capability.CATALOG,
            }
        )
        | _MUTATING
    )
    SAYS_SENDING = True  # a launch validates (and signs in) before its POST /stacks
    NO_CATALOG = (
        "a Heat account's catalog is the templates it is given: add"
        ' `templates = "~/heat-templates"` (a folder of HOT files) to its table'
    )
    SETTINGS = HeatSettings

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self.client = HeatClient(account, secrets)
        self.stacks = Stacks(self.client)
        self._listing = Listing(account, self.stacks)
        self._events = StackEvents(self.stacks)
        self._sources = Sources(account.name, self.client.settings, account.timeout)
        self._apps = Apps(self.stacks, self._sources)

    @property
    def capabilities(self) -> frozenset[Capability]:
        found = super().capabilities
        return found if self.client.settings.templates else found - {Capability.CATALOG}

    # -- rows, actions, events ---------------------------------------------------------

    def recall(self, rows: Sequence[Instance]) -> None:
        self._listing.recall(rows)

    async def list_instances(self) -> list[Instance]:
        return await self._listing.rows()

    async def get_instance(self, instance_id: str) -> Instance | None:
        return await self._listing.row(instance_id)

    async def act(self, action: Action, instance: Instance) -> None:
        self.ensure_writable()
        await actions.act(self.stacks, action, instance, self.account.timeout)

    def retries(self, action: Action, instance: Instance) -> bool:
        # Heat suspends a stack whose suspend failed, resumes one whose resume failed (what
        # finishes it: `openstack stack suspend|resume`); the portal's rules alone refuse
        # either on an app in error.
        if action in actions.RETRIED_FROM.get(instance.raw_state, ()):
            return True
        # A suspended app checked or snapshotted since: Heat resumes none of its resources
        # until they are suspended again, which Heat does (a Nova server already suspended
        # is left as it is); the portal's rules alone call it already suspended.
        return action in {Action.STOP, Action.SUSPEND} and refusals.suspended_then_checked(instance)

    def lacks(self, action: Action) -> str | None:
        if action is Action.POWEROFF:
            return (
                "a Heat app has no power-off: wm stop suspends it (Heat's stack suspend); "
                "its servers power off through their own cloud's account"
            )
        return None

    def ended(self, action: Action, instance: Instance) -> ActionEnd | None:
        return actions.ended(action, instance)

    def refusal(self, action: Action, instance: Instance) -> str | None:
        # Its status, then its top-level resources as last read with that status (by its
        # member count or its detail: no request here); nested ones are read when sent.
        said = refusals.by_status(action, instance)
        if said is None and (kept := self._listing.kept(instance)) is not None:
            said = refusals.by_resources(action, instance, kept)
        return said

    async def read_refusal(self, action: Action, instance: Instance) -> str | None:
        return await actions.refusal(self.stacks, action, instance)

    async def native_events(
        self, instances: Sequence[Instance], markers: Mapping[str, str]
    ) -> NativeEvents:
        return await self._events.native(instances, markers)

    async def check(self) -> str:
        count = len(await self.stacks.listed())
        return (
            f"Heat at {self.client.where}, project {self.client.project}: "
            f"reachable, {count} stack{'s' if count != 1 else ''}"
        )

    async def close(self) -> None:
        await self.client.close()

    # -- one app: its events, resources, outputs, detail -----------------------------

    async def stack_events(
        self,
        stack_id: str,
        marker: str | None = None,
        limit: int = 100,
        *,
        newest_first: bool = False,
    ) -> list[StackEvent]:
        """Events of a stack and its resources, oldest first, the page after `marker`."""
        return await self.stacks.events(stack_id, marker, limit, newest_first=newest_first)

    async def resources(self, stack_id: str, nested_depth: int = 0) -> list[StackResource]:
        """The stack's resources; with nested_depth=N also those of its nested stacks N
        levels down (`parent`: the owning resource's path)."""
        return await self.stacks.resources(stack_id, nested_depth)

    async def outputs(self, stack_id: str) -> list[StackOutput]:
        """The stack's outputs with their values (Heat computes them on a stack show)."""
        return await self.stacks.outputs(stack_id)

    async def app_detail(self, app: Instance, events: int = 50) -> AppDetail:
        return await detail.app_detail(self.stacks, self._events, self._listing, app, events)

    async def update_form(self, app: Instance) -> TemplateForm:
        """The form of `app`'s template filled with its current values (hidden ones
        empty); what it changes goes to `update_app`, the rest is kept."""
        return await detail.update_form(self.stacks, app)

    # -- apps: launch, preview, update -------------------------------------------------

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
        return await self._apps.launch(template, name, parameters, environments)

    async def bundle(self, template: str, environments: Sequence[str] | None = None) -> Bundle:
        """A template with every file it reaches and its environments (Sources.bundle)."""
        return await self._sources.bundle(template, environments)

    async def preview_app(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> list[Previewed]:
        """What Heat says a launch would create (POST /stacks/preview), nested stacks'
        resources under their parent; nothing is created."""
        return await self._apps.preview(template, name, parameters, environments)

    async def update_app(
        self,
        app: Instance,
        parameters: Mapping[str, str],
        environments: Sequence[str] = (),
        template: str | None = None,
    ) -> str | None:
        """Heat's PATCH update: parameters, environment and template not given are kept
        from the app as it is. Returns the marker `update_finished` reads after."""
        self.ensure_writable()
        return await self._apps.update(app, parameters, environments, template)

    async def update_finished(self, app: Instance, marker: str | None) -> UpdateEnd | None:
        """The app's own UPDATE_COMPLETE or UPDATE_FAILED event after `marker`, if any yet."""
        from winged_monkey.catalog import UpdateEnd

        event = await self._apps.update_finished(app, marker)
        if event is None:
            return None
        ok = event.status == "UPDATE_COMPLETE"
        return UpdateEnd(ok=ok, status=event.status, reason=event.reason)

    async def validate(
        self, template: str | Bundle, parameters: Mapping[str, Any] | None = None
    ) -> TemplateValidation:
        """Heat's reading of a template, text or gathered with its files and environment
        (raises TemplateError with Heat's reason)."""
        return await validate(self.client, template, parameters)

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
        return await self._apps.create(template, name, parameters, timeout_mins=timeout_mins)

    # -- templates: the catalog and the launch form ---------------------------------

    def templates_folder(self) -> Path:
        return self._sources.templates_folder()

    async def catalog(self) -> AccountCatalog:
        return await catalog.account_catalog(self.account, self.client, self._sources)

    async def template_form(
        self, template: str, environments: Sequence[str] | None = None
    ) -> TemplateForm:
        return await catalog.template_form(self.client, self._sources, template, environments)

    async def environment_files(self, template: str) -> list[EnvironmentFile]:
        """The environment files beside a template (a file or a catalog name), the one a
        launch uses when given none first (`default`): what `launch_app` and
        `preview_app` accept."""
        return await self._sources.environments_beside(template)
