"""The portal: the engine's parts behind one front for the TUI, the CLI and `wm serve`.

The parts, each readable alone:
- `accounts` (winged_monkey.engine.accounts): each account's backend, state and total deadline;
- `inventory` (winged_monkey.engine.inventory): polling one account, the cached start;
- `poller` (winged_monkey.engine.poller): one loop per account, every view subscribes;
- `operations` (winged_monkey.engine.operations): actions as intents with honest outcomes;
- `launcher` (winged_monkey.engine.launching): launches, over the catalog cache
  (winged_monkey.engine.catalogs);
- `recorder` (winged_monkey.engine.recorder): the store, off the event loop.
It is async and UI-free. A slow account never delays another.
"""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from winged_monkey.actions import Action
from winged_monkey.backend import Backend, Capability
from winged_monkey.engine.accounts import Accounts
from winged_monkey.engine.inventory import AccountUpdate, Inventory
from winged_monkey.engine.operations import ActionUpdate, Flight, Operations
from winged_monkey.engine.recorder import History, Recorder
from winged_monkey.errors import ActionNotAllowed, NotFoundError
from winged_monkey.models import AccountStatus, AppDetail, Instance
from winged_monkey.store.sqlite import Store
from winged_monkey.user.config import AccountConfig, Config
from winged_monkey.user.credentials import CredentialResolver

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from typing import TypeVar

    from winged_monkey.catalog import (
        AccountCatalog,
        CatalogItem,
        EnvironmentFile,
        LaunchRequest,
        Previewed,
        TemplateForm,
    )
    from winged_monkey.engine.catalogs import CatalogUpdate
    from winged_monkey.engine.launching import Launcher
    from winged_monkey.engine.poller import Poller
    from winged_monkey.engine.ranking import Ranked, SizeSpec

    T = TypeVar("T")

__all__ = ["AccountUpdate", "ActionUpdate", "Clock", "Portal", "utcnow"]
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Portal:
    """Everything the views need, with no knowledge of how they look."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        resolver: CredentialResolver | None = None,
        clock: Clock = utcnow,
        user: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.resolver = resolver or CredentialResolver()
        self.clock = clock
        self.user = user or _local_user()
        self.recorder = Recorder(store)
        #: The event log as the views read it (in their thread workers).
        self.history = History(store)
        self.accounts = Accounts(config, self.resolver)
        self.operations = Operations(config, self.accounts, self.recorder, clock, self.user)
        self.inventory = Inventory(
            config, self.accounts, self.recorder, clock, on_listed=self.operations.reconcile
        )

    @property
    def store_warnings(self) -> list[str]:
        """Problems with the local store, for the UI to show once (the portal keeps running)."""
        return self.recorder.warnings

    # -- inventory -----------------------------------------------------------

    @property
    def account_names(self) -> list[str]:
        return self.accounts.names

    def account_config(self, name: str) -> AccountConfig:
        return self.accounts.get(name).config

    def status(self, name: str) -> AccountStatus:
        return self.accounts.get(name).status

    def statuses(self) -> list[AccountStatus]:
        return [a.status for a in self.accounts]

    def instances(self) -> list[Instance]:
        return [i for a in self.accounts for i in a.instances.values()]

    def rows_version(self) -> int:
        """Changes whenever a row shown by `instances` may have (`Account.version`)."""
        return sum(a.version for a in self.accounts)

    def instance(self, key: str) -> Instance | None:
        account, _, instance_id = key.partition("/")
        holder = self.accounts.find(account)
        return holder.instances.get(instance_id) if holder else None

    def flight(self, key: str) -> Flight | None:
        """The action under way on the instance `ACCOUNT/ID` (what was asked, and the row as
        last observed while the engine shows its prediction), or None."""
        return self.operations.in_flight.get(key)

    def members_elsewhere(self, app: Instance, detail: AppDetail) -> dict[str, Instance]:
        """The app's members that another account lists as instances, by physical id: a
        Heat server resource is the Nova account's server (the same id in both clouds' words)."""
        wanted = {r.physical_id for r in detail.resources if r.physical_id}
        return {
            i.id: i
            for i in self.instances()
            if i.id in wanted and i.account != app.account and i.kind == "instance"
        }

    @property
    def busy(self) -> bool:
        """True while an action is being followed (polls come faster then)."""
        return self.operations.busy()

    def load_cache(self) -> list[AccountUpdate]:
        """The last known inventory of each configured account, marked stale."""
        return self.inventory.load_cache()

    def refresh(
        self, names: list[str] | None = None, *, native_events: bool = True
    ) -> AsyncIterator[AccountUpdate]:
        """Poll the accounts once, at once; yield each account's update as soon as it is
        known (for one-shot commands: views subscribe to `poller` instead)."""
        return self.inventory.refresh(names, native_events=native_events)

    def poller(self, *, every: float | None = None, native_events: bool = True) -> Poller:
        """A poller of every account (run it with `await poller.run()`): each account polls
        `every` seconds (default `refresh_interval`), or `busy_refresh_interval` while an
        action on it is followed."""
        from winged_monkey.engine.poller import Poller  # the views' alone: not for `wm ls`

        idle = self.config.refresh_interval if every is None else every

        def interval(account: str) -> float:
            busy = self.operations.busy(account)
            return self.config.busy_refresh_interval if busy else idle

        return Poller(self.inventory, interval, native_events=native_events)

    def native_events_error(self, name: str) -> str | None:
        """Why the account's own events could not be read at the last poll, if they could not."""
        return self.accounts.get(name).native_events_error

    async def backend(self, name: str) -> Backend:
        """The account's backend, built on first use (in a thread: it may read a keyring)."""
        return await self.accounts.backend(name)

    async def within(self, name: str, call: Awaitable[T]) -> T:
        """`call` under the account's total deadline (DeadlineError when it runs out)."""
        return await self.accounts.within(name, call)

    async def template_form(
        self, account: str, template: str, environments: Sequence[str] | None = None
    ) -> TemplateForm:
        """The parameters a template asks for, as the account's cloud validates it with
        `environments` merged in (None: the backend's default), so its defaults are the
        ones a launch with them uses."""
        backend = await self.accounts.backend(account)
        if environments is None:  # a backend from before environments takes the template alone
            return await self.accounts.within(account, backend.template_form(template))
        backend.ensure_apps("read environments for")
        return await self.accounts.within(account, backend.template_form(template, environments))

    async def check(self, name: str) -> str:
        """Credentials and reachability of one account, as one line (raises WMError)."""
        backend = await self.accounts.backend(name)
        return await self.accounts.within(name, backend.check())

    async def app_detail(self, app: Instance, events: int = 50) -> AppDetail:
        """An app's members, outputs, parameters and latest events (raises WMError)."""
        backend = await self.accounts.backend(app.account)
        if Capability.STACKS not in backend.capabilities:
            kind = self.accounts.get(app.account).config.backend
            raise ActionNotAllowed(f"{kind} accounts have no apps", account=app.account)
        return await self.accounts.within(app.account, backend.app_detail(app, events))

    async def console_output(self, instance: Instance) -> str:
        """The instance's console output where its provider keeps one (Capability.CONSOLE;
        read-only accounts too: it changes nothing). Raises WMError, ActionNotAllowed
        naming the provider where it has none."""
        backend = await self.accounts.backend(instance.account)
        if Capability.CONSOLE not in backend.capabilities:
            config = self.accounts.get(instance.account).config
            provider = config.provider or config.backend
            raise ActionNotAllowed(
                f"no console output through {provider} (account {instance.account})",
                account=instance.account,
            )
        return await self.accounts.within(instance.account, backend.console_output(instance))

    # -- catalog and launch (winged_monkey.engine.launching) -------------------------

    @cached_property
    def launcher(self) -> Launcher:
        from winged_monkey.engine.launching import (
            Launcher,  # the catalog's models: not for every `wm`
        )

        return Launcher(self.config, self.accounts, self.operations, self.clock)

    def launch_app(
        self,
        account: str,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        *,
        follow: bool = True,
        user: str | None = None,
        environments: Sequence[str] | None = None,
        cause: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Validate and launch an app, then (with `follow`) follow it until it runs or fails.
        `cause`: the key of the event that asked for it (wm serve's record of a request).

        Raises WMError when the account cannot launch, InvalidRequest with the provider's
        reason when it rejects the template or its parameters."""
        return self.launcher.launch_app(
            account,
            template,
            name,
            parameters,
            follow=follow,
            user=user,
            environments=environments,
            cause=cause,
        )

    async def preview_app(
        self,
        account: str,
        template: str,
        name: str,
        parameters: Mapping[str, str],
        environments: Sequence[str] | None = None,
    ) -> list[Previewed]:
        """What a launch would create, by the cloud's preview (nothing is created; raises
        WMError, InvalidRequest with the provider's reason)."""
        return await self.launcher.preview_app(account, template, name, parameters, environments)

    def update_app(
        self,
        app: Instance,
        parameters: Mapping[str, str],
        environments: Sequence[str] = (),
        *,
        template: str | None = None,
        follow: bool = True,
        user: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Update a running app with new parameters (the others kept; `template`: a new
        one) and (with `follow`) follow it until the cloud says it completed or failed;
        InvalidRequest when it refuses the update."""
        return self.launcher.update_app(
            app, parameters, environments, template=template, follow=follow, user=user
        )

    async def environments(self, account: str, template: str) -> list[EnvironmentFile]:
        """The environment files the account's backend offers with `template`, the one a
        launch uses unless told first (`default`); none where it has no apps."""
        backend = await self.accounts.backend(account)
        if Capability.APPS not in backend.capabilities:
            return []
        return await self.accounts.within(account, backend.environment_files(template))

    async def update_form(self, app: Instance) -> TemplateForm:
        """The form that updates `app` (types, constraints), its current values as the
        defaults, hidden ones empty; ActionNotAllowed where its backend has no apps."""
        backend = await self.accounts.backend(app.account)
        backend.ensure_apps("update")
        return await self.accounts.within(app.account, backend.update_form(app))

    def catalog_accounts(self) -> list[str]:
        """Accounts whose backend declares a catalog (no network call)."""
        return self.launcher.catalog_accounts()

    def cached_catalog(self, account: str) -> AccountCatalog | None:
        """The account's catalog if one was fetched in the last few minutes."""
        return self.launcher.cached(account)

    async def catalog(self, account: str, *, refresh: bool = False) -> AccountCatalog:
        """What the account can launch (cached per account; raises WMError)."""
        return await self.launcher.catalog(account, refresh=refresh)

    def catalogs(
        self, names: Sequence[str] | None = None, *, refresh: bool = False
    ) -> AsyncIterator[CatalogUpdate]:
        """The catalog of each account (default: every one with a catalog), each as soon
        as it arrives; an account that fails is an update with its error."""
        return self.launcher.catalogs(names, refresh=refresh)

    def no_catalog_known(self, account: str) -> str | None:
        """Why the account has no catalog, as known without a network call (None: it may)."""
        return self.launcher.no_catalog_known(account)

    async def no_catalog(self, account: str) -> str | None:
        """Why the account has no catalog once built (None: it has one)."""
        return await self.launcher.no_catalog(account)

    async def search_images(self, account: str, query: str, limit: int = 50) -> list[CatalogItem]:
        """The provider's public images matching `query`, on demand (raises WMError)."""
        return await self.launcher.search_images(account, query, limit)

    async def where(
        self,
        spec: SizeSpec | str,
        *,
        item: str | None = None,
        count: int = 1,
        names: Sequence[str] | None = None,
    ) -> tuple[list[Ranked], list[CatalogUpdate]]:
        """Accounts ranked for `count` x `spec` ("2cpu 4gb" or a size name), best first,
        each with its reason; and the accounts whose catalog could not be read."""
        return await self.launcher.where(spec, item=item, count=count, names=names)

    def launch(
        self,
        account: str,
        request: LaunchRequest,
        *,
        follow: bool = True,
        user: str | None = None,
        environments: Sequence[str] | None = None,
        cause: str | None = None,
    ) -> AsyncIterator[ActionUpdate]:
        """Launch `request` (an image; a template goes through `launch_app`, with
        `environments`) after a quota check that stops with the numbers (InvalidRequest);
        then follow every new instance until it runs or fails. Each instance's outcome is
        a "launch" event in the log, recorded as `user`'s (default: ours); `cause`: as
        for `launch_app`."""
        return self.launcher.launch(
            account, request, follow=follow, user=user, environments=environments, cause=cause
        )

    # -- actions -------------------------------------------------------------

    def capabilities(self, account: str) -> frozenset[Capability]:
        """What the account's backend can do; before it is built, what its class declares."""
        return self.accounts.capabilities(account)

    def lacks(self, action: Action, account: str) -> str | None:
        """Why the account has no `action` at all, in its backend's words (Backend.lacks);
        None when it says none or is not built yet."""
        found = self.accounts.find(account)
        backend = found.backend if found is not None else None
        return backend.lacks(action) if backend is not None else None

    def effective(self, action: Action, instance: Instance) -> Action:
        """The action that carries out `action` here (a start of a suspended row resumes)."""
        return self.operations.effective(action, instance)

    def refusal(self, action: Action, instance: Instance) -> str | None:
        """Why `action` cannot run on `instance` now, or None when it can."""
        return self.operations.refusal(action, instance)

    async def read_refusal(self, action: Action, instance: Instance) -> str | None:
        """`refusal`, then why the provider would refuse it as read from it now (a Heat
        app's resources); `run_action` asks the same before it records anything."""
        return await self.operations.read_refusal(action, instance)

    def after_timeout(self, action: Action, instance: Instance) -> str | None:
        """What the user can do once `action`'s follow timed out on `instance` as it is now,
        in its backend's words (Backend.after_timeout); None until the account's backend is
        built, or when it adds nothing. No network call."""
        account = self.accounts.find(instance.account)
        backend = account.backend if account is not None else None
        return backend.after_timeout(action, instance) if backend is not None else None

    def seen_now(self, instance: Instance) -> bool:
        """Whether the row's state was seen now (not kept as last seen: its account failed
        its last poll, or its source could not list it)."""
        return self.operations.seen_now(instance)

    def run_action(
        self,
        action: Action,
        instance: Instance,
        *,
        user: str | None = None,
        cause: str | None = None,
        read: bool = False,
    ) -> AsyncIterator[ActionUpdate]:
        """Record the intent, request `action`, then follow the instance until its target
        state, a failure, or the end of what can be known (winged_monkey.engine.operations).
        `cause`: the key of the event that asked for it (wm serve's record of a request).
        `read`: `read_refusal` allowed it just now; the provider is not read again."""
        return self.operations.run(action, instance, user=user, cause=cause, read=read)

    async def fetch(self, key: str) -> Instance | None:
        """The instance `ACCOUNT/ID` as its cloud says now, fetched by itself (no listing of
        its account); None when the cloud does not know it. Raises the account's WMError."""
        account, _, ident = key.partition("/")
        backend = await self.accounts.backend(account)
        found = await self.accounts.within(account, backend.get_instance(ident))
        if found is not None:
            self.accounts.get(account).put(found)
        return found

    def find(self, ref: str) -> list[Instance]:
        """Instances matching an id, a name, or `account/id` (for the CLI)."""
        everything = self.instances()
        if "/" in ref:
            exact = [i for i in everything if i.key == ref]
            if exact:
                return exact
        by_id = [i for i in everything if i.id == ref]
        return by_id or [i for i in everything if i.name == ref]

    def resolve_targets(self, refs: list[str]) -> list[Instance]:
        """Map CLI references to instances; unknown or ambiguous ones raise NotFoundError."""
        found: list[Instance] = []
        for ref in refs:
            matches = self.find(ref)
            if not matches:
                raise NotFoundError(self.no_match(ref))
            if len(matches) > 1:
                keys = ", ".join(i.key for i in matches)
                raise NotFoundError(f"{ref!r} is ambiguous ({keys}); use ACCOUNT/ID")
            found.append(matches[0])
        return found

    def no_match(self, ref: str, what: str = "instance", *, where: str = "") -> str:
        """Why `ref` names no `what`: an ACCOUNT/ part that names no configured account is
        said, with the configured ones (a typo there is not a missing instance); else
        `where` they are listed, if given."""
        account, slash, rest = ref.partition("/")
        if slash and account not in self.account_names:
            known = ", ".join(self.account_names) or "none"
            return f"no {what} matches {ref!r}: no account named {account!r} (configured: {known})"
        said = f"no {what} matches {ref!r}" + (f" ({where})" if where else "")
        # What it names instead, in an account that listed it (a vSphere template).
        built = [a.backend for a in self.accounts if a.backend is not None]
        instead = [
            hint
            for backend in built
            if not slash or backend.account.name == account
            if (hint := backend.not_an_instance(rest if slash else ref))
        ]
        return f"{said}: {'; '.join(instead)}" if instead else said

    # -- lifecycle -----------------------------------------------------------

    async def close(self) -> None:
        await self.accounts.close()


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
