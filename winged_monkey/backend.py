"""The contract between the portal and a backend plugin.

A backend is constructed for one account with that account's settings and its
resolved secrets; it talks to exactly one cloud endpoint. Capabilities are known
before any network call so the UI offers only actions that exist.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar, Literal, TypeVar

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.blocking import Lane
from winged_monkey.errors import ActionNotAllowed
from winged_monkey.models import AppDetail, Event, Instance, InstanceState, Unlisted

if TYPE_CHECKING:  # the catalog's models load with the catalog, not with every backend
    from winged_monkey.backend_settings import BackendSettings
    from winged_monkey.catalog import (
        AccountCatalog,
        CatalogItem,
        EnvironmentFile,
        LaunchRequest,
        Previewed,
        TemplateForm,
        UpdateEnd,
    )

T = TypeVar("T")

_ACTING_FOR: ContextVar[str | None] = ContextVar("winged_monkey_acting_for", default=None)


def acting_for() -> str | None:
    """The key of the intent the engine recorded in its event log for the action being run
    in this task (set around `Backend.act`), else None. A backend that passes the request
    on to another portal (the aggregator) may send it along, so what is recorded there can
    be shown as part of this change; other backends need not read it."""
    return _ACTING_FOR.get()


@contextmanager
def acting(intent: str) -> Iterator[None]:
    """The engine's side of `acting_for`: calls made inside see `intent`."""
    token = _ACTING_FOR.set(intent)
    try:
        yield
    finally:
        _ACTING_FOR.reset(token)


class Sending:
    """Whether a launch's one creating request has gone out (`sending`)."""

    sent = False


_SENDING: ContextVar[Sending | None] = ContextVar("winged_monkey_sending", default=None)


def sending() -> None:
    """A backend whose launch calls its cloud before the request that creates (a
    validation, a sign-in) says here that that request goes out now: a launch given up
    before this created nothing, and the engine says so (failed, not unknown). Such a
    backend sets `Backend.SAYS_SENDING`."""
    marker = _SENDING.get()
    if marker is not None:
        marker.sent = True


@contextmanager
def watching_sends() -> Iterator[Sending]:
    """The engine's side of `sending`: whether the calls made inside sent theirs."""
    marker = Sending()
    token = _SENDING.set(marker)
    try:
        yield marker
    finally:
        _SENDING.reset(token)


class Capability(StrEnum):
    LIST = "list"
    START = "start"
    STOP = "stop"
    REBOOT = "reboot"
    DESTROY = "destroy"
    LAUNCH = "launch"
    STACKS = "stacks"
    CATALOG = "catalog"
    EVENTS = "events"
    QUOTAS = "quotas"
    SUSPEND = "suspend"
    RESUME = "resume"
    RESET = "reset"
    POWEROFF = "poweroff"  # a stop that does not ask the guest
    CHECK = "check"
    CONSOLE = "console"  # the instance's boot console output (read-only)
    #: N-tier apps from templates beyond a launch: environment files, a preview, updates of
    #: a running app (`environment_files`, `preview_app`, `update_form`, `update_app`,
    #: `update_finished`). An update is refused on a read-only account all the same.
    APPS = "apps"


ACTION_CAPABILITY: dict[Action, Capability] = {
    Action.START: Capability.START,
    Action.STOP: Capability.STOP,
    Action.REBOOT: Capability.REBOOT,
    Action.DESTROY: Capability.DESTROY,
    Action.SUSPEND: Capability.SUSPEND,
    Action.RESUME: Capability.RESUME,
    Action.RESET: Capability.RESET,
    Action.POWEROFF: Capability.POWEROFF,
    Action.CHECK: Capability.CHECK,
}


#: What a read-only account never offers: everything that changes something on a cloud.
MUTATING = frozenset(
    {
        Capability.START,
        Capability.STOP,
        Capability.REBOOT,
        Capability.DESTROY,
        Capability.SUSPEND,
        Capability.RESUME,
        Capability.RESET,
        Capability.POWEROFF,
        Capability.CHECK,
        Capability.LAUNCH,
    }
)


@dataclass(frozen=True)
class NativeEvents:
    """A backend's own events since the markers it was given, and the markers to use next.

    Markers are opaque to the portal: one per target (e.g. a stack id -> its last event id);
    `markers` replaces the ones given (targets gone may be left out); a target without one
    is read from its beginning. Event keys are stable, so reading
    the same events again records nothing twice.
    """

    events: tuple[Event, ...] = ()
    markers: Mapping[str, str] = field(default_factory=dict)


def command_ref(instance: Instance) -> str:
    """How a `wm` command names `instance` in words shown to a user: its name where a shell
    takes it as one word, else ACCOUNT/ID (a name with spaces, quotes or controls)."""
    name = instance.name
    return name if _WORD.fullmatch(name) else instance.key


_WORD = re.compile(r"[\w.@+=:,%][\w.@+=:,%-]*", re.ASCII)  # not an option: no leading -


@dataclass(frozen=True)
class ActionEnd:
    """An action's end as its backend reads it from the row (`Backend.ended`)."""

    phase: Literal["done", "failed"]
    message: str


class Backend(ABC):
    """One account's connection to its cloud.

    Implementations raise `winged_monkey.errors.BackendError` subclasses with a
    message a person can act on; anything else is reported as an unexpected failure.
    """

    #: What the backend can ever do; `capabilities` may narrow it per account.
    CAPABILITIES: ClassVar[frozenset[Capability]] = frozenset({Capability.LIST})
    #: Whether `launch` and `launch_app` call `sending()` before their creating request:
    #: then a launch with no answer before it is failed (nothing created), not unknown.
    SAYS_SENDING: ClassVar[bool] = False
    #: Why an account of this backend has no catalog, when `capabilities` says it has none
    #: (said to a user who asked for that account's catalog).
    NO_CATALOG: ClassVar[str] = "its provider offers nothing to launch here"

    _lane: Lane | None = None  # made on the first blocking call
    #: The account keys this backend reads besides the portal's own, checked when the config
    #: loads (a plugin registers the same class in the light `winged_monkey.settings` group
    #: so the check imports no backend). None: the backend declares none and any is accepted.
    SETTINGS: ClassVar[type[BackendSettings] | None] = None

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        self.account = account
        self.secrets = secrets

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Capabilities for this account, known without a network call: a read-only
        account has none that changes anything."""
        if self.account.read_only:
            return self.CAPABILITIES - MUTATING
        return self.CAPABILITIES

    @property
    def lane(self) -> Lane:
        """This account's lane for blocking calls (see `run_blocking`)."""
        if self._lane is None:
            self._lane = Lane(self.account.name)
        return self._lane

    async def run_blocking(self, fn: Callable[[], T]) -> T:
        """Run a blocking library call (libcloud, pyvmomi, libvirt, anything not async) the
        way every backend must: `return await self.run_blocking(lambda: client.list())`.

        The call runs in a daemon thread of this account's own (never asyncio's shared
        executor, never `asyncio.to_thread`). When the portal's deadline cancels the caller,
        the call is abandoned: the sockets this account's calls opened are shut down, so a
        call waiting on the network ends by itself and its connection closes; the process
        never waits for it at exit. A call stuck in C code holds its thread until it
        returns; after two such calls the account's next call fails at once with an error
        that says so, so one dead provider holds a bounded number of threads."""
        return await self.lane.run(fn)

    def ensure_writable(self) -> None:
        """Refuse a mutating call on a read-only account. The portal refuses first; this
        guards a backend called directly (a script, the aggregator)."""
        if self.account.read_only:
            raise ActionNotAllowed(
                f"account {self.account.name} is read-only", account=self.account.name
            )

    @abstractmethod
    async def list_instances(self) -> list[Instance]:
        """Every instance the account can see, normalised."""

    def unlisted(self) -> tuple[Unlisted, ...]:
        """What the last `list_instances` could not include, one entry each (an
        aggregator's account that its server cannot list, or has not yet, and holds no rows
        of): the account is ok, and these are said beside its rows, and relayed by a `wm
        serve` over the account (its X-WM-Not-Listed, its provider-accounts). The default:
        nothing."""
        return ()

    def not_an_instance(self, ref: str) -> str | None:
        """What `ref` (an id or a name no instance has) names in this account instead, from
        the last listing, in words that say what to do with it (a vSphere template: cloned
        by a launch, never started); None when nothing. No network call."""
        return None

    def recall(self, rows: Sequence[Instance]) -> None:  # noqa: B027 (optional hook)
        """The rows this account listed last time (the store's snapshot), given before each
        listing: a backend may reuse what it derived for rows unchanged since (Heat's member
        counts), so a new process does not ask again, or keep as last seen (`stale`) the rows
        of a part it cannot list now (an aggregator's account its server holds no rows of),
        rather than have them taken for gone. The default keeps nothing."""

    async def get_instance(self, instance_id: str) -> Instance | None:
        """One instance's fresh state, or None once it is gone. Backends may do better."""
        for instance in await self.list_instances():
            if instance.id == instance_id:
                return instance
        return None

    async def act(self, action: Action, instance: Instance) -> Instance | None:
        """Ask the provider to run `action`; returns once the request is accepted, with
        None: the engine then follows the instance to the action's target. A backend whose
        call waits until the provider has finished (a vSphere power task) may return the
        instance as it read it after that: in the target state, it is the outcome and the
        engine follows no further. Only ever a reading, never a state assumed from a
        success. `acting_for()` gives the key of the engine's intent for it."""
        raise NotImplementedError(action)

    def retries(self, action: Action, instance: Instance) -> bool:
        """Whether this account runs `action` on this row although its state alone refuses
        it: a provider that takes a failed action again (a Heat app whose resume failed
        resumes again, its resources in RESUME_FAILED). No network call."""
        return False

    def after_timeout(self, action: Action, instance: Instance) -> str | None:
        """What the user can do once `action`'s follow timed out with the row last seen as
        `instance`, in words that know the provider ("stop again to power it off"), said
        after "still stopping after 600 s"; None adds nothing. No network call. The
        default: a stop left running or stopping on an account that powers off names
        `wm poweroff` (its guest ignored the request, and another stop asks it again)."""
        if (
            action is Action.STOP
            and instance.state in (InstanceState.RUNNING, InstanceState.STOPPING)
            and Capability.POWEROFF in self.capabilities
            and self.refusal(Action.POWEROFF, instance) is None
        ):
            return (
                f"its guest did not shut down; wm poweroff {command_ref(instance)} powers it "
                "off without asking the guest"
            )
        return None

    def lacks(self, action: Action) -> str | None:
        """Why this account has no `action` at all (its capability is missing), in words
        that say what it takes instead (Nova's stop powers off by itself); None: the
        portal's own ("libcloud/openstack cannot poweroff"). No network call."""
        return None

    def ended(self, action: Action, instance: Instance) -> ActionEnd | None:
        """Whether `instance`, as the engine's follow of `action` read it (or a listing,
        for an action whose outcome was unknown), shows the action over, with its outcome
        and the words for it, where its state alone does not say (a Heat check ends
        CHECK_COMPLETE or CHECK_FAILED, the app keeping the state it had before: an app in
        error stays in error after a check Heat completed); None: its state says
        (`Action.reached`, or error), the default. No network call."""
        return None

    def refusal(self, action: Action, instance: Instance) -> str | None:
        """Why this account will not run `action` on this row now, beyond its state and the
        capabilities (an aggregator offers only what the caller's role allows); None when
        it may. Its words win over the portal's generic ones for a state it refuses too
        (Nova's rescued), not over what the state settles (`actions.refusal`).
        `Portal.refusal` asks, so the UI offers no key for it. No network call."""
        return None

    def refusal_unseen(self, action: Action, instance: Instance) -> str | None:
        """`refusal` for a row whose state is not seen now (its account failed its last
        poll, or its source keeps it as last seen): only what does not hang on its state
        (a role's), since nobody knows that state. None, the default: nothing. No network
        call."""
        return None

    async def read_refusal(self, action: Action, instance: Instance) -> str | None:
        """Why the provider would refuse `action` on this row, read from it now where its
        state alone does not say (a Heat app: its resources, nested ones too); None when
        it may, or when nothing needs reading (the default). Asked once `refusal` allows
        the action, before the engine records its intent or sends it: a refusal, said as
        one (`wm` exits 4), not an action that failed. A read that fails is no refusal:
        the action's own call says what is wrong, as its outcome."""
        return None

    async def native_events(
        self, instances: Sequence[Instance], markers: Mapping[str, str]
    ) -> NativeEvents:
        """The provider's own events (Capability.EVENTS) after `markers`, for the rows just
        listed. Called by the portal after a successful listing; the default has none."""
        return NativeEvents(markers=dict(markers))

    async def app_detail(self, app: Instance, events: int = 50) -> AppDetail:
        """An app's members, outputs, parameters and its `events` latest events, newest
        first (Capability.STACKS). Hidden parameters never carry their value."""
        raise ActionNotAllowed(f"{app.name} has no app details here", account=self.account.name)

    async def launch_app(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> str:
        """Validate `template` (a file, or its text) with `parameters` and `environments`
        (files; None: the backend's default) and create the app (Capability.LAUNCH and
        STACKS); returns its id once accepted. A rejection raises InvalidRequest with the
        provider's reason; follow the app with `get_instance`."""
        raise ActionNotAllowed(f"{self.account.name} cannot launch apps", account=self.account.name)

    async def catalog(self) -> AccountCatalog:
        """What this account can launch (Capability.CATALOG): owned or configured images,
        templates, sizes with prices, locations, key pairs, networks, and quota where the
        provider exposes it (Capability.QUOTAS). Never the provider's full public image list."""
        raise ActionNotAllowed(f"no catalog: {self.NO_CATALOG}", account=self.account.name)

    async def search_images(self, query: str, limit: int = 50) -> list[CatalogItem]:
        """Public images whose name or description contains `query`, on demand."""
        return []

    async def template_form(
        self, template: str, environments: Sequence[str] | None = None
    ) -> TemplateForm:
        """The parameters a template asks for, from the cloud's own validation of it (Heat's
        POST /validate): types, defaults, constraints, hidden ones, descriptions; with
        `environments` (Capability.APPS; None: the backend's default) merged in, so the
        defaults shown are the ones a launch with them uses. The engine passes
        `environments` only to a backend with Capability.APPS."""
        raise ActionNotAllowed(f"{self.account.name} has no templates", account=self.account.name)

    # -- n-tier apps beyond a launch (Capability.APPS) ------------------------------------

    def _no_apps(self, what: str) -> ActionNotAllowed:
        return ActionNotAllowed(
            f"{self.account.name}: this account has no n-tier apps to {what}",
            account=self.account.name,
        )

    def ensure_apps(self, what: str) -> None:
        """Refuse, in words, an n-tier app operation (`what`: "update", "preview") on a
        backend without Capability.APPS; the engine asks before each one."""
        if Capability.APPS not in self.capabilities:
            raise self._no_apps(what)

    async def environment_files(self, template: str) -> list[EnvironmentFile]:
        """The environment files that may go with `template` (those beside it), the one a
        launch given none uses first and marked `default`; what `launch_app` accepts."""
        raise self._no_apps("read environments for")

    async def preview_app(
        self,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> Sequence[Previewed]:
        """What a `launch_app` with the same arguments would create, by the cloud's own
        preview; nothing is created. A rejection raises InvalidRequest."""
        raise self._no_apps("preview")

    async def update_form(self, app: Instance) -> TemplateForm:
        """The form that updates `app`: its template's parameters (types, constraints),
        each with the app's current value as its default; a hidden one has none (left out
        of an update, it is kept)."""
        raise self._no_apps("update")

    async def update_app(
        self,
        app: Instance,
        parameters: Mapping[str, str],
        environments: Sequence[str] = (),
        template: str | None = None,
    ) -> str | None:
        """Ask the cloud to update a running app; parameters, environments and template
        not given are kept. Returns once accepted, with an opaque marker for
        `update_finished`. A rejection raises InvalidRequest."""
        raise self._no_apps("update")

    async def update_finished(self, app: Instance, marker: str | None) -> UpdateEnd | None:
        """How the update that `update_app` returned `marker` for ended; None while it runs."""
        raise self._no_apps("update")

    async def launch(self, request: LaunchRequest) -> list[str]:
        """Create `request.count` instances (Capability.LAUNCH); returns their ids once
        accepted. A rejection raises InvalidRequest with the provider's reason; follow the
        new instances with `get_instance`. Apps go through `launch_app`. A `request.kind`
        the backend does not launch (a deployable on a cloud account) raises InvalidRequest
        that says so, before any call."""
        raise ActionNotAllowed(f"{self.account.name} cannot launch", account=self.account.name)

    async def console_output(self, instance: Instance) -> str:
        """The instance's console output as the provider keeps it (Capability.CONSOLE): EC2's
        GetConsoleOutput, Nova's console log. Text, possibly empty; never changes anything."""
        raise ActionNotAllowed(
            f"no console output through this provider ({self.account.name})",
            account=self.account.name,
        )

    async def check(self) -> str:
        """Verify credentials and reachability; return a one-line description."""
        count = len(await self.list_instances())
        return f"reachable, {count} instance{'s' if count != 1 else ''}"

    async def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections; the default holds none."""
