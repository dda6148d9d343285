"""The aggregator backend: a team aggregator's instances and deployments as one account's
rows, with the actions, catalog and events the caller's token allows there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import ClassVar, Literal

from pydantic import TypeAdapter, ValidationError

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.actions import refusal as state_refusal
from winged_monkey.backend import (
    MUTATING,
    ActionEnd,
    Backend,
    Capability,
    NativeEvents,
    acting_for,
)
from winged_monkey.catalog import AccountCatalog, LaunchRequest
from winged_monkey.errors import (
    ActionNotAllowed,
    BackendError,
    InvalidRequest,
    NotFoundError,
    WMError,
)
from winged_monkey.models import (
    AppDetail,
    AppResource,
    Event,
    EventSource,
    Instance,
    InstanceState,
    Unlisted,
)
from winged_monkey.wire import (
    ActionAccepted,
    CatalogOut,
    EventPage,
    LaunchAccepted,
    LaunchIn,
    Link,
    ProviderAccountOut,
    ResourceOut,
    Whoami,
)
from winged_monkey_aggregator import convert
from winged_monkey_aggregator.client import AggregatorClient, path
from winged_monkey_aggregator.errors import (
    MAX_SAID,
    OutcomeLater,
    Refused,
    quoted,
    refused_words,
)
from winged_monkey_aggregator.settings import AggregatorSettings

Collection = Literal["instances", "deployments"]
#: Events per request, and requests per poll: a long backlog is read over a few polls.
EVENT_PAGE = 500
EVENT_PAGES_PER_POLL = 20
#: How long a launched row may be missing from the aggregator's listing before it counts
#: as gone (the aggregator lists from its cache, refreshed on its own schedule).
LAUNCH_LISTED_S = 60.0
#: Seconds an action waits for the server's outcome of it (a refusal comes at once; a stop
#: the cloud takes its time over is then followed by looking at the row, as any other).
OUTCOME_WAIT_S = 10.0
#: The one marker the aggregator's event stream needs: its `next`.
MARKER = "events"
#: Link names that carry out an action, preferred first (a server may start a suspended row).
_ResourceList = TypeAdapter(list[AppResource])
_LINK_NAMES: dict[Action, tuple[str, ...]] = {Action.RESUME: ("resume", "start")}


class AggregatorBackend(Backend):
    """One token's view of a `wm serve` aggregator.

    Capabilities are everything the API has; what a row may do now is what the server
    linked on it (its role and its state), which `refusal` tells the portal.
    """

    CAPABILITIES: ClassVar[frozenset[Capability]] = (
        frozenset(
            {
                Capability.LIST,
                Capability.EVENTS,
                Capability.CATALOG,
                Capability.QUOTAS,
                Capability.STACKS,
            }
        )
        | MUTATING
    )
    SETTINGS = AggregatorSettings

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        self.client = AggregatorClient(account, secrets)
        self.whoami: Whoami | None = None
        #: Local row id -> the collection it was listed in, to fetch it alone.
        self._collections: dict[str, Collection] = {}
        #: Rows just launched that the aggregator has not listed yet (it answers from its
        #: cache, which takes them in at its next poll): local id -> (row, until when).
        self._launched: dict[str, tuple[Instance, float]] = {}
        self._unlisted: tuple[Unlisted, ...] = ()
        #: The rows this account listed last time (`recall`), for the server accounts the
        #: server holds no rows of now (convert.kept).
        self._recalled: Sequence[Instance] = ()
        #: (action, local row id) -> the server's ok outcome of the action just sent, for
        #: the engine's follow to end it with (`ended`).
        self._ends: dict[tuple[Action, str], ActionEnd] = {}
        #: Local row id -> (action, its outcome_href) for an action the server had not
        #: ended within OUTCOME_WAIT_S: read again once its row says it ended there.
        self._awaited: dict[str, tuple[Action, str]] = {}

    # -- rows ------------------------------------------------------------------------------

    async def list_instances(self) -> list[Instance]:
        def row(found: ResourceOut) -> Instance:
            return convert.instance(self.account.name, found)

        instances, deployments, accounts, _ = await asyncio.gather(
            self.client.get_rows(path("instances"), ResourceOut, row),
            self.client.get_rows(path("deployments"), ResourceOut, row),
            self.client.get_rows(path("provider-accounts"), ProviderAccountOut, lambda a: a),
            self._who(),
        )
        rows = convert.sourced([*instances, *deployments], accounts)
        unlisted = convert.unlisted(accounts, rows)
        kept = convert.kept(self._recalled, unlisted)
        rows += kept
        self._collections = {
            row.id: "deployments" if row.kind == "app" else "instances" for row in rows
        }
        held = {row.source_account for row in kept}  # said on each of its rows instead
        self._unlisted = tuple(u for u in unlisted if u.name not in held)
        return rows

    def unlisted(self) -> tuple[Unlisted, ...]:
        return self._unlisted

    def recall(self, rows: Sequence[Instance]) -> None:
        self._recalled = rows

    async def get_instance(self, instance_id: str) -> Instance | None:
        await self._who()  # a row fetched alone (wm stop ACCOUNT/ID): its refusals name the role
        remote_account, remote_id = convert.split_id(instance_id)
        first = self._collections.get(instance_id, "instances")
        second: Collection = "deployments" if first == "instances" else "instances"
        for collection in (first, second):
            try:
                row = await self.client.get(
                    path(collection, remote_account, remote_id), ResourceOut
                )
            except NotFoundError:
                continue
            self._launched.pop(instance_id, None)
            if row.requested is None and instance_id in self._awaited:
                await self._settle(instance_id, row.name)
            return convert.instance(self.account.name, row)
        launched = self._launched.get(instance_id)
        if launched is not None and time.monotonic() < launched[1]:
            return launched[0]  # not in the aggregator's cache yet: still pending
        self._launched.pop(instance_id, None)
        return None

    # -- actions ---------------------------------------------------------------------------

    def refusal(self, action: Action, instance: Instance) -> str | None:
        if self._link(action, instance) is not None:
            return None
        if self.whoami is not None and self.whoami.role == "viewer":
            return (
                f"{instance.name}: your token on the aggregator is a viewer's (read only); "
                f"ask the team admin for an operator's to {action}"
            )
        under_way = instance.extra.get("requested")  # another's action (convert.requested)
        if isinstance(under_way, str):
            return f"{instance.name}: {under_way}; {action} once it ends"
        if state_refusal(action, instance) is not None:
            return None  # the row's state says why ("web is stopped; reboot needs it running")
        role = f" to your role ({self.whoami.role})" if self.whoami else ""
        if action is Action.POWEROFF:  # an operator's action: most likely not its cloud's
            return (
                f"the aggregator offers no poweroff on {instance.name} now{role}: the "
                f"account serving it may have none (libvirt, vSphere and EC2 have one; "
                f"Nova's stop powers off by itself): wm stop"
            )
        return f"the aggregator offers no {action} on {instance.name} now{role}"

    def refusal_unseen(self, action: Action, instance: Instance) -> str | None:
        """A row of a server account that failed its poll carries the links its role has
        on a row of unknown state (the server refuses nothing by state there): an
        operator's has no destroy, and `refusal` leaves to the state what its state would
        refuse. So the TUI offers no key the server would refuse as sent."""
        return self.refusal(action, instance)

    async def act(self, action: Action, instance: Instance) -> None:
        link = self._link(action, instance)
        if link is None:
            reason = self.refusal(action, instance) or f"the aggregator cannot {action}"
            raise ActionNotAllowed(reason, account=self.account.name)
        # The local intent's key goes along: the server's events for it link back to it.
        try:
            accepted = await self.client.follow(link, ActionAccepted, intent=acting_for())
        except Refused as exc:  # 409: what it read there refuses it (Heat's resources)
            raise ActionNotAllowed(exc.message, account=self.account.name) from None
        # A failure is the server's own words for it; done, the engine's follow ends it in
        # them too (`ended`); not settled yet, the follow reads the row, as the server does.
        self._ends.pop((action, instance.id), None)
        self._awaited.pop(instance.id, None)
        found = await self._outcomes(accepted.outcome_href) if accepted.outcome_href else []
        if found and found[0].outcome == "refused":  # there, as sent (a server behind it's 409)
            said = refused_words(quoted(found[0].detail or "", MAX_SAID) or "refused")
            raise ActionNotAllowed(said, account=self.account.name)
        if found and found[0].outcome == "failed":
            raise BackendError(
                f"at the aggregator: {found[0].detail or 'failed'}", account=self.account.name
            )
        if found and found[0].outcome == "ok":
            said = found[0].detail or f"{instance.name} {action.past}"
            self._ends[(action, instance.id)] = ActionEnd("done", said)
        elif not found and accepted.outcome_href:  # still under way there (a long check)
            self._awaited[instance.id] = (action, accepted.outcome_href)

    async def _settle(self, instance_id: str, name: str) -> None:
        """The server's outcome of the action still pending on the row `instance_id`, read
        once its row says the server's follow of it ended: the row's state alone is not
        the outcome where its backend read the action over (a Heat check on an app in
        error ends ok, the app still in error)."""
        action, href = self._awaited.pop(instance_id)
        found = await self._outcomes(href)
        if found and found[0].outcome == "ok":
            said = found[0].detail or f"{name} {action.past}"
            self._ends[(action, instance_id)] = ActionEnd("done", said)
        elif found and found[0].outcome == "failed":
            said = f"at the aggregator: {found[0].detail or 'failed'}"
            self._ends[(action, instance_id)] = ActionEnd("failed", said)

    def ended(self, action: Action, instance: Instance) -> ActionEnd | None:
        """The server's outcome of the action this client just sent (`act`: ok; or, read
        once the server's follow of it ended, `_settle`: ok or failed), in its words:
        where its account's backend read the action over (`Backend.ended`: a Heat check
        completed on an app that stays in error), the relayed row's state alone would
        say it failed ('went to error')."""
        return self._ends.pop((action, instance.id), None)

    async def _outcomes(self, href: str) -> list[Event]:
        """The server's outcomes of an action or a launch it took (`href`: its 202's, or its
        504's, outcome_href), read until its cloud answered (or, a launch whose answer was
        lost, a poll saw what became of it), within OUTCOME_WAIT_S (and half the account's
        timeout, which bounds the whole call): one per target; none if it did not by then,
        or could not be read."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(OUTCOME_WAIT_S, self.account.timeout / 2)
        gap = 0.05
        while True:
            try:
                page = await self.client.read(href, EventPage)
            except WMError:  # not the action's failure: the row tells
                return []
            found = [
                event
                for event in page.events
                if event.source is EventSource.ACTION
                and event.outcome not in (None, "unknown", "requested")
            ]
            if found:
                return found
            if loop.time() + gap > deadline:
                return []
            await asyncio.sleep(gap)
            gap = min(gap * 2, 1.0)

    def after_timeout(self, action: Action, instance: Instance) -> str | None:
        """The server's words for it (its account's backend's: "stop again to power it
        off"), as it listed the row."""
        said = instance.extra.get("after_timeout")
        words = said.get(str(action)) if isinstance(said, dict) else None
        return words if isinstance(words, str) and words else None

    def _link(self, action: Action, instance: Instance) -> Link | None:
        offered = convert.links(instance)
        for name in _LINK_NAMES.get(action, (str(action),)):
            if name in offered:
                return offered[name]
        return None

    # -- events ----------------------------------------------------------------------------

    async def native_events(
        self, instances: Sequence[Instance], markers: Mapping[str, str]
    ) -> NativeEvents:
        """The aggregator's events after the last `next` it gave (from the start at first:
        keys are stable, so a re-read records nothing twice)."""
        after = markers.get(MARKER)
        found: list[Event] = []
        for _ in range(EVENT_PAGES_PER_POLL):
            params: dict[str, str | int] = {"limit": EVENT_PAGE}
            if after is not None:
                params["after"] = after
            page = await self.client.get(path("events"), EventPage, params)
            found.extend(page.events)
            moved = str(page.next) != after
            after = str(page.next)
            if not page.events or not moved:
                break
        me = self.whoami.user if self.whoami else None
        events = tuple(convert.event(self.account.name, e, user=me) for e in found)
        return NativeEvents(events=events, markers={MARKER: after} if after else {})

    async def app_detail(self, app: Instance, events: int = 50) -> AppDetail:
        """A deployment's members where the aggregator passes them on, and its latest events."""
        remote_account, remote_id = convert.split_id(app.id)
        row, found = await asyncio.gather(
            self.client.get(path("deployments", remote_account, remote_id), ResourceOut),
            self._target_events(remote_account, remote_id, events),
        )
        try:
            resources = _ResourceList.validate_python(row.extra.get("resources") or [])
        except ValidationError:  # the server's extra is free-form: no members rather than none
            resources = []
        me = self.whoami.user if self.whoami else None
        latest = [convert.event(self.account.name, e, user=me) for e in found]
        return AppDetail(resources=tuple(resources), events=tuple(reversed(latest)))

    async def _target_events(self, account: str, target: str, keep: int) -> list[Event]:
        """The `keep` latest events of one target (the stream runs oldest first)."""
        after: int | None = None
        found: list[Event] = []
        for _ in range(EVENT_PAGES_PER_POLL):
            params: dict[str, str | int] = {"account": account, "target": target}
            params["limit"] = EVENT_PAGE
            if after is not None:
                params["after"] = after
            page = await self.client.get(path("events"), EventPage, params)
            found = [*found, *page.events][-keep:]
            if not page.events or page.next == after:
                break
            after = page.next
        return found

    # -- catalog and launch ------------------------------------------------------------------

    async def catalog(self) -> AccountCatalog:
        found = await self.client.get(path("catalogs"), list[CatalogOut])
        return convert.catalog(self.account.name, found)

    async def launch(self, request: LaunchRequest) -> list[str]:
        pool, _, deployable = request.item.partition("/")
        if not (pool and deployable):
            raise InvalidRequest(
                f"{request.item!r} is not one of the aggregator's deployables (POOL/ID); "
                f"`wm catalog {self.account.name}` lists them",
                account=self.account.name,
            )
        body = LaunchIn(deployable=deployable, **request.spec())
        # The local intent's key goes along: the server's events for it link back to it.
        try:
            accepted = await self.client.send(
                "POST", path("pools", pool, "launches"), LaunchAccepted, body, intent=acting_for()
            )
        except OutcomeLater as lost:  # 504: its cloud's answer was lost; a poll there tells
            return await self._launched_after_all(lost, request, pool)
        matched = {"matched": accepted.match.why} if accepted.match else {}
        return self._pending(request, pool, [(accepted.account, i) for i in accepted.ids], matched)

    async def _launched_after_all(
        self, lost: OutcomeLater, request: LaunchRequest, pool: str
    ) -> list[str]:
        """The ids of a launch whose cloud's answer the server lost, once its outcome says
        what a later poll there saw (its 504's outcome_href, as a 202's): the instances it
        found, or the server's words for the launch that failed. Still unknown by then:
        `lost` itself (the engine's unknown: the next poll tells)."""
        found = await self._outcomes(lost.outcome_href) if lost.outcome_href else []
        failed = [e for e in found if e.outcome == "failed"]
        if failed and len(failed) == len(found):
            raise BackendError(
                f"at the aggregator: {failed[0].detail or 'the launch failed'}",
                account=self.account.name,
            )
        made = [(e.account, e.target) for e in found if e.outcome != "failed"]
        if not made:
            raise lost
        return self._pending(request, pool, made, {})

    def _pending(
        self,
        request: LaunchRequest,
        pool: str,
        made: Sequence[tuple[str, str]],
        extra: Mapping[str, str],
    ) -> list[str]:
        """The local ids of the launch's new rows (`made`: each one's server account and
        id there), each kept pending until the aggregator lists it (LAUNCH_LISTED_S)."""
        until = time.monotonic() + max(LAUNCH_LISTED_S, self.account.timeout)
        ids = []
        for remote, remote_id in made:
            ident = convert.local_id(remote, remote_id)
            row = Instance(
                account=self.account.name,
                id=ident,
                name=request.name,
                state=InstanceState.PENDING,
                raw_state="launch accepted",
                provider=convert.PROVIDER,
                region=remote,
                size=request.size,
                extra={"remote_account": remote, "pool": pool, **extra},
            )
            self._launched[ident] = (row, until)
            ids.append(ident)
        return ids

    # -- the rest --------------------------------------------------------------------------

    async def _who(self) -> Whoami:
        """Who the token is (once per session: its role words the refusals)."""
        if self.whoami is None:
            self.whoami = await self.client.get(path("whoami"), Whoami)
        return self.whoami

    async def check(self) -> str:
        self.whoami = None
        who = await self._who()
        rows = await self.list_instances()
        apps = sum(1 for r in rows if r.kind == "app")
        pools = ", ".join(who.pools) or "all pools"
        expires = (
            f"; token expires {who.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            if who.expires_at
            else ""
        )
        return (
            f"aggregator at {self.client.where} as {who.user} ({who.role}, {pools}{expires}): "
            f"reachable, {len(rows) - apps} instances, {apps} deployments"
        )

    async def close(self) -> None:
        await self.client.close()
