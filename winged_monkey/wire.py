"""The aggregator's wire format (`wm serve` answers with these; the aggregator backend reads them).

Conductor's resource tree, versioned under /api/v1, JSON only, described by the
OpenAPI document the server publishes at /api/v1/openapi.json:

    GET    /api/v1/whoami                      -> Whoami
    GET    /api/v1/providers                   -> list[ProviderOut]
    GET    /api/v1/provider-accounts           -> list[ProviderAccountOut]  (status, quota)
    GET    /api/v1/pools                       -> list[PoolOut]
    GET    /api/v1/catalogs                    -> list[CatalogOut]          (deployables inside)
    GET    /api/v1/instances[?pool=&account=]  -> list[ResourceOut]         (kind "instance")
    GET    /api/v1/deployments[?pool=&account=]-> list[ResourceOut]         (kind "app")
    GET    /api/v1/{instances|deployments}/{account}/{id}          -> ResourceOut
    POST   /api/v1/{instances|deployments}/{account}/{id}/{action} -> 202 ActionAccepted
    DELETE /api/v1/{instances|deployments}/{account}/{id}          -> 202 ActionAccepted
    POST   /api/v1/pools/{pool}/launches   LaunchIn  -> 202 LaunchAccepted  (match, tries)
    GET    /api/v1/pools/{pool}/scores     -> PoolScoresOut   (each account's score parts)
    GET    /api/v1/events?after=&since=&until=&account=&target=&cause=&limit= -> EventPage
    GET    /api/v1/tokens                  -> list[TokenOut]           (admins)
    POST   /api/v1/tokens   TokenIn        -> 201 TokenCreated         (admins)
    DELETE /api/v1/tokens/{id}             -> TokenOut                 (admins; revokes)

Every resource carries the actions its caller may run on it now as `links`; a client
offers exactly those. Its `state` is the one last observed, never what an action under
way should lead to: that action is its `requested`. A client may send the key of its own
record of an action or a launch (its intent) with the request, in the header
`X-WM-Intent` (percent-encoded): the server's events for that request (each try of a pool
launch) point at it (`cause` = `client:` + the key), so the client can show them as parts
of its own change. Every error, whatever the status, is ErrorOut. Nothing of the backing
clouds' credentials ever appears in any of these shapes.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from winged_monkey.catalog import AccountCatalog, CatalogItem, LaunchSpec, Quota
from winged_monkey.models import Event, InstanceState

API_PREFIX = "/api/v1"
#: The request header that carries the client's intent key, and how the server's record
#: of the request names it as its cause.
INTENT_HEADER = "X-WM-Intent"
CLIENT_CAUSE = "client:"
Role = Literal["viewer", "operator", "admin"]


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class _WireIn(_Wire):
    """A request's body: a field it does not take is refused (422 naming those it takes),
    never ignored (`{"expires": "1h"}` gave a 90-day token)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ErrorBody(_Wire):
    code: str = Field(description="Stable, machine-readable: unauthorized, forbidden, ...")
    message: str = Field(description="What happened and what to do, for a person.")


class ErrorOut(_Wire):
    error: ErrorBody
    outcome_href: str | None = Field(
        None,
        description="A 504 no_answer of a launch the server recorded before the cloud's "
        "answer was lost (also its Location): where its outcome will be, as a 202's; a "
        "later poll settles it. Absent from other errors.",
    )


class Whoami(_Wire):
    user: str
    role: Role
    pools: tuple[str, ...] = Field(description="Pools the token applies to; all when unscoped.")
    expires_at: datetime | None = None


class ProviderOut(_Wire):
    id: str = Field(description="backend/provider, e.g. libcloud/ec2.")
    backend: str
    provider: str | None = None


class AccountStatusOut(_Wire):
    phase: Literal["loading", "ok", "failed", "stale"]
    fetched_at: datetime | None = None
    error: str | None = Field(None, description="Why the last poll failed, for a person.")


class ProviderAccountOut(_Wire):
    id: str = Field(
        description="The account's name in the server's config; ACCOUNT/NAME: an account "
        "of the server an aggregator account reaches, that it cannot list (failed, with "
        "that server's own words), has not listed yet (loading) or serves as last seen "
        "(stale)."
    )
    provider: str
    region: str | None = None
    pool: str
    status: AccountStatusOut
    quotas: tuple[Quota, ...] = ()


class PoolOut(_Wire):
    id: str
    accounts: tuple[str, ...]


class Link(_Wire):
    method: Literal["POST", "DELETE"]
    href: str = Field(description="Absolute path on the server.")


class RequestedOut(_Wire):
    """An action the server is carrying out on a resource now: asked, not yet ended."""

    action: str = Field(description="As the event log names it: stop, start, reboot, ...")
    at: datetime = Field(description="When it was asked.")
    user: str | None = Field(None, description="Who asked it.")


class ResourceOut(_Wire):
    """An instance or a deployment (an n-tier app), as the server's cache holds it."""

    id: str = Field(description="The id in its own account.")
    account: str = Field(description="The provider account it lives in.")
    pool: str
    kind: Literal["instance", "app"]
    name: str
    state: InstanceState = Field(
        description="As last observed, by a listing or an action's follow: never what an "
        "action under way is expected to lead to (that action is `requested`)."
    )
    raw_state: str
    provider: str
    region: str | None = None
    size: str | None = None
    image: str | None = None
    public_ips: tuple[str, ...] = ()
    private_ips: tuple[str, ...] = ()
    created_at: datetime | None = None
    price_hourly: float | None = None
    members: int | None = None
    href: str
    #: Action name (start, stop, reboot, destroy, ...) -> how to ask for it. Only the
    #: actions this caller's role allows and the current state admits.
    links: dict[str, Link] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    observed_at: datetime | None = Field(
        None,
        description="When the server last listed the row's account (its state then); for a "
        "row its own source keeps as last seen (`stale`), when that source last listed it.",
    )
    stale: str | None = Field(
        None,
        description="Why the row's account could not be listed since (its last poll "
        "failed, or it was not polled yet): the state is as of observed_at. None: current. "
        "With `stale_account`, the words of the source that could not list that account, "
        "as it said them (no relay's words before them).",
    )
    stale_account: str | None = Field(
        None,
        description="For a row of an aggregator account kept as last seen by the server it "
        "reaches: the account there that server could not list (team-b; upstream/team-b "
        "through one more server), which `stale` is about; /provider-accounts lists it as "
        "ACCOUNT/STALE_ACCOUNT. None: `stale` is about `account` itself (or the row is "
        "current). A client that ignores it reads `stale` as about `account`.",
    )
    requested: RequestedOut | None = Field(
        None,
        description="An action under way on it (None: none): the state is not its outcome "
        "until a listing or its follow observes it.",
    )
    after_timeout: dict[str, str] = Field(
        default_factory=dict,
        description="By action: what to do once that action's follow timed out with the "
        "resource as it is now, in the words of the backend that holds it (a libvirt domain "
        "stuck shutting down: stop: 'stop again to power it off'); a client says them after "
        "its own timeout. Empty: nothing to add.",
    )


class ActionAccepted(_Wire):
    action: str
    resource: ResourceOut
    event: str = Field(description="Key of the event recorded for the request.")
    outcome_href: str | None = Field(
        None,
        description="Where the action's outcome will be (also the 202's Location): the "
        "events it causes, read until one of source action has an outcome other than "
        "unknown (unknown: the cloud did not answer; an observation settles it later).",
    )


class DeployableOut(_Wire):
    """A launchable item of a pool's catalog (an image or a template on one account)."""

    id: str
    item: CatalogItem
    match: MatchOut | None = Field(
        None, description="A pool deployable: where the server would launch it now."
    )


class CatalogOut(_Wire):
    id: str = Field(description="The pool the catalog belongs to.")
    pool: str
    deployables: tuple[DeployableOut, ...] = ()
    accounts: tuple[AccountCatalog, ...] = Field(
        (), description="Sizes, locations and quota per account of the pool."
    )
    errors: dict[str, str] = Field(
        default_factory=dict, description="Account -> why its catalog could not be read."
    )


class LaunchIn(LaunchSpec, _WireIn):
    """A launch of one of the pool's deployables: which, its name, where, how many."""

    deployable: str


class TrackRecordOut(_Wire):
    """An account's launches and polls over its pool's window."""

    launches: int
    failed: int
    median_s: float | None = Field(None, description="Median seconds to running.")
    polls: int
    failed_polls: int
    window_hours: float


class CandidateOut(_Wire):
    """One account of a pool for a pool deployable: what it would launch and its score."""

    account: str
    launchable: bool
    kind: str
    item: str = Field(description="The image or template that realises it there.")
    size: str | None = None
    price_hourly: float | None = None
    priority: int = 0
    score: float = Field(description="Sum of the weighted parts; lower is better.")
    parts: dict[str, float] = Field(
        default_factory=dict, description="price, quality, speed, polls: each weighted."
    )
    record: TrackRecordOut
    summary: str = Field(description="The verdict: 'score 1.00 (price +1.00)' or why not.")
    reasons: tuple[str, ...] = ()


class MatchOut(_Wire):
    """Where the server would launch a pool deployable, and why."""

    pool: str
    deployable: str
    chosen: str | None = Field(None, description="The account; None when none can.")
    why: str
    ranked: tuple[CandidateOut, ...] = Field((), description="Best first; the choice first.")


class TryOut(_Wire):
    """One account tried for a pool launch."""

    account: str
    outcome: Literal["launched", "rejected"]
    reason: str
    event: str = Field(description="Key of the event recorded for this try.")


class PoolScoresOut(_Wire):
    """A pool's matching: its weights and, per deployable, the accounts' current scores."""

    pool: str
    window_hours: float
    weights: dict[str, float]
    priority: dict[str, int] = Field(default_factory=dict)
    deployables: tuple[MatchOut, ...] = ()


class LaunchAccepted(_Wire):
    account: str
    ids: tuple[str, ...]
    event: str
    outcome_href: str | None = Field(
        None,
        description="Where the launch's outcome will be (also the 202's Location): the "
        "events its launch on `account` causes, one of source action per id once it is "
        "running or failed (its target the id, new_state what was seen; unknown: not seen "
        "yet, an observation settles it later).",
    )
    match: MatchOut | None = Field(None, description="For a pool deployable: why this account.")
    tries: tuple[TryOut, ...] = Field((), description="Accounts tried, in order (failover).")


class EventPage(_Wire):
    events: tuple[Event, ...]
    #: Pass as `after` to get the next page; the same value when nothing is newer.
    next: int


class TokenOut(_Wire):
    """A token as the server keeps it: never the token itself."""

    id: str
    user: str
    role: Role
    pool: str | None = Field(None, description="The one pool it applies to; None: every pool.")
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


def user_name_problem(name: str) -> str | None:
    """Why `name` cannot be a user's name, or None. It is written to the server's log, the
    event log and people's terminals, where a NUL or a line break forges or hides lines."""
    for index, char in enumerate(name, start=1):
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return (
                f"a user name must not contain control characters or line breaks "
                f"(U+{ord(char):04X} at character {index})"
            )
    return None


class TokenIn(_WireIn):
    user: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    role: Role
    pool: str | None = Field(None, description="Required for an admin of one pool.")
    expires_days: float = Field(90, gt=0, le=3650)

    @field_validator("user", mode="before")
    @classmethod
    def _printable(cls, value: object) -> object:
        # Before the pattern, so a NUL or a newline is named as such, not as a regex miss.
        if isinstance(value, str) and (problem := user_name_problem(value)):
            raise PydanticCustomError("user_name", problem)
        return value


class TokenCreated(_Wire):
    token: str = Field(description="The bearer token: shown this once, stored only as a hash.")
    record: TokenOut
