"""Normalised models every backend produces and every view consumes.

Every pydantic model of the project is `defer_build=True`: its validator is built when
it is first used, not at import, so a command pays only for the models it touches.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from winged_monkey.errors import unlisted_words


class InstanceState(StrEnum):
    """The portal's states; every backend maps its provider's raw states onto these."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    REBOOTING = "rebooting"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def transitional(self) -> bool:
        return self in _TRANSITIONAL


_TRANSITIONAL = frozenset({InstanceState.PENDING, InstanceState.STOPPING, InstanceState.REBOOTING})


InstanceKind = Literal["instance", "app"]
KINDS: tuple[InstanceKind, ...] = ("instance", "app")


class Requested(BaseModel):
    """An action its source (a `wm serve`) is carrying out on a row now: asked, not ended."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    action: str = Field(description="As the source's event log names it: stop, start, ...")
    at: datetime
    user: str | None = None


class Instance(BaseModel):
    """One machine as the portal shows it, with the provider's own view kept beside."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account: str
    id: str
    name: str
    state: InstanceState
    raw_state: str = Field(description="The provider's own state name, unmapped.")
    provider: str
    region: str | None = None
    size: str | None = None
    image: str | None = None
    public_ips: tuple[str, ...] = ()
    private_ips: tuple[str, ...] = ()
    created_at: datetime | None = None
    price_hourly: float | None = Field(
        default=None, description="USD per hour; None means unknown, never free."
    )
    extra: dict[str, Any] = Field(default_factory=dict)
    stale: str | None = Field(
        default=None,
        description="Why the state may be out of date: the row is as last seen by a source "
        "that could not list it this time (an aggregator's failing account). None: this "
        "listing observed it.",
    )
    observed_at: datetime | None = Field(
        default=None,
        description="For a stale row: when its source last listed it (the state is as of "
        "then); None when unknown, or when this listing observed it (the account's "
        "fetched_at).",
    )
    stale_source: Unlisted | None = Field(
        default=None,
        description="For a stale row: which account behind this one its source could not "
        "list (team-b; upstream/team-b through a second server), with that source's own "
        "words (`reason`, no relay's before them), its region and quota: what a `wm serve` "
        "over this account relays, so the words read once through any number of them. "
        "None: not stale, or said in `stale` alone.",
    )
    source_account: str | None = Field(
        default=None,
        description="The account that holds the row at its source, when this account reaches "
        "several (an aggregator's team account reaches the team's cloud accounts). None: "
        "the account is the cloud account itself.",
    )
    requested: Requested | None = Field(
        default=None,
        description="An action its source (an aggregator) has under way on it, which a "
        "`wm serve` over this account serves as the row's own (the state is the one last "
        "observed, not that action's outcome). None: none there.",
    )

    @property
    def key(self) -> str:
        """Unique across accounts: the same id may exist in two clouds."""
        return f"{self.account}/{self.id}"

    @property
    def account_label(self) -> str:
        """The account as shown: `team/prod` for a row the team's aggregator holds in prod."""
        return f"{self.account}/{self.source_account}" if self.source_account else self.account

    @property
    def where(self) -> str:
        return f"{self.provider}/{self.region}" if self.region else self.provider

    @property
    def kind(self) -> InstanceKind:
        """The row's kind: an n-tier app (a stack, a deployment: `extra["kind"]`) or an instance."""
        return "app" if self.extra.get("kind") == "app" else "instance"

    @property
    def transient(self) -> bool:
        """Whether the provider removes the instance once it stops (`extra["transient"]`:
        libvirt's transient domains): a stop that ends with it gone did what it should."""
        return self.extra.get("transient") is True

    @property
    def members(self) -> int | None:
        """An app's member count (top-level resources) when the backend knows it."""
        count = self.extra.get("members")
        return count if isinstance(count, int) else None


AccountPhase = Literal["loading", "ok", "failed", "stale"]
#: Why a row's state was not seen now (AccountStatus.unseen): its source (an aggregator)
#: keeps it as last seen, its account failed its last poll, or was not listed yet.
Unseen = Literal["source", "failed", "not listed"]


class Quota(BaseModel):
    """One limit and its current use; None where the provider does not say."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    resource: Literal["instances", "vcpus", "ram_mb", "stacks"] | str
    limit: int | None = None
    used: int | None = None

    @property
    def remaining(self) -> int | None:
        if self.limit is None or self.limit < 0:  # Nova says -1 for unlimited
            return None
        return max(self.limit - (self.used or 0), 0)


class Unlisted(BaseModel):
    """One account an account reaches (an aggregator's server account) that its last
    listing holds no rows of: its source cannot list it, or has not yet. The account itself
    is ok; this is said beside its rows (Backend.unlisted), and relayed by a `wm serve`
    over it, structured, so that its words read the same through any number of them. A
    row its source keeps as last seen names the account it could not list so too
    (Instance.stale_source)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str = Field(
        description="As its source names it: team-b; upstream/team-b when that source "
        "relays it from a server behind it in turn."
    )
    phase: Literal["failed", "loading"] = Field(
        description="failed: its source cannot list it; loading: not listed yet."
    )
    reason: str | None = Field(
        None,
        description="Why it failed, in its source's own words (the cloud's), without any "
        "relay's words before them; None while not listed yet.",
    )
    region: str | None = Field(None, description="Its region, where its source says it.")
    quotas: tuple[Quota, ...] = Field((), description="Its quota, as its source last read it.")

    @property
    def line(self) -> str:
        """What a person reads of it: `the aggregator cannot list team-b: ...`."""
        return unlisted_words(self.name, self.phase, self.reason)


class AccountStatus(BaseModel):
    """What the account strip shows for one account."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    phase: AccountPhase
    fetched_at: datetime | None = None
    error: str | None = None
    config_error: bool = Field(
        False,
        description="The failure is the config's or the credentials' (a typo, no secret, "
        "credentials the cloud refuses), not the cloud's.",
    )
    count: int = 0
    stale: int = Field(
        0,
        description="Of `count`, the rows listed as last seen, not now (Instance.stale: an "
        "aggregator's account that failed).",
    )
    refreshing: bool = Field(False, description="A poll of this account is under way.")
    unlisted: tuple[Unlisted, ...] = Field(
        (),
        description="What the last listing could not include (an aggregator's accounts its "
        "server has no rows of: failed, or not listed yet), one entry each.",
    )

    def unseen(self, instance: Instance) -> Unseen | None:
        """Why the state of `instance` (a row of this account) was not observed now, or
        None when this account's last poll listed it: the one decision behind the dimmed
        row, the details' and the timeline's words and an action's refusals and intent."""
        if instance.stale is not None:
            return "source"
        if self.phase == "failed":
            return "failed"
        return "not listed" if self.phase != "ok" else None


class AccountSnapshot(BaseModel):
    """One account's inventory at one moment: the unit the cache stores."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    account: str
    fetched_at: datetime
    instances: tuple[Instance, ...]
    unlisted: tuple[Unlisted, ...] = Field(
        (), description="What that listing could not include (AccountStatus.unlisted)."
    )
    markers: dict[str, str] = Field(
        default_factory=dict,
        description="The backend's event markers as the listing's process had read its own "
        "events to (Backend.native_events), so a new process asks only for what came after.",
    )


class EventSource(StrEnum):
    OBSERVED = "observed"  # a difference between two consecutive inventories
    ACTION = "action"  # something a user asked for, with its outcome
    NATIVE = "native"  # a backend's own event stream (Heat, aggregator)


#: Between a target's name and the part of it a native event is about (`shop/group`, a Heat
#: stack's resource), in the event's target_name: rows that differ by their part read apart
#: where a narrow table drops the detail; the target's name still finds them (owner_name).
PART_SEPARATOR = "/"


def owner_name(event: Event) -> str:
    """The name of the target a native event is about, without its part (`shop`)."""
    if event.source is EventSource.NATIVE:
        return event.target_name.split(PART_SEPARATOR, 1)[0]
    return event.target_name


def part_detail(event: Event) -> str:
    """The event's detail led by its part (`group: state changed`), for a view of one
    target (its timeline), whose rows name no target."""
    part = ""
    if event.source is EventSource.NATIVE:
        part = event.target_name.partition(PART_SEPARATOR)[2]
    return ": ".join(p for p in (part, event.detail or "") if p)


class Event(BaseModel):
    """One entry of the append-only log. `key` is stable, so re-recording is a no-op."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    at: datetime
    source: EventSource
    kind: str = Field(description="state, appeared, vanished, or the action's name")
    account: str
    target: str = Field(description="The instance id.")
    target_name: str = ""
    old_state: str | None = None
    new_state: str | None = None
    outcome: str | None = Field(
        None,
        description="For actions: requested, then ok, refused (nothing done), failed, timeout or "
        "unknown.",
    )
    user: str | None = None
    detail: str | None = None
    duration: float | None = Field(None, description="Seconds until the target state.")
    cause: str | None = Field(
        None, description="The key of the action's intent this outcome or observation settles."
    )
    since: datetime | None = Field(
        None,
        description="For a change found after its account went unlisted for a while: when "
        "the target was last listed in its old state. Its state from then until `at` is "
        "unknown. None when the previous listing was the usual poll.",
    )


# -- apps (n-tier: Heat stacks, aggregator deployments) -----------------------------------


class AppResource(BaseModel):
    """One member of an app: a server, a network, a nested stack, ..."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    type: str
    status: str = Field(description="The provider's own status, e.g. CREATE_COMPLETE.")
    reason: str = ""
    physical_id: str | None = None
    parent: str | None = Field(
        None, description="The owning member's path, for nested ones (web/0: web's member 0)."
    )


class AppOutput(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    value: Any = None
    description: str = ""
    error: str | None = Field(None, description="Why the provider could not compute it.")


class AppParameter(BaseModel):
    """A parameter the app was launched with; a hidden one never carries its value."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    value: str | None = Field(None, description="None when hidden.")
    hidden: bool = False


class AppDetail(BaseModel):
    """What opens on an app: its members, outputs, parameters and latest events."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    resources: tuple[AppResource, ...] = ()
    outputs: tuple[AppOutput, ...] = ()
    parameters: tuple[AppParameter, ...] = ()
    events: tuple[Event, ...] = Field((), description="Newest first.")
    app: Instance | None = Field(
        None,
        description="The app itself as read with these details (its state then), where "
        "the backend reads it: fresher than the listing's row, which a poll may not have "
        "updated (an app deleted outside wm).",
    )
