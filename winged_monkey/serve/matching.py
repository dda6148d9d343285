"""Which account of a pool launches a pool deployable, and why: fit, quota, price, the
account's track record and the admin's weights and priorities. Pure: no web framework,
no store, no cloud; the server hands in catalogs, events and poll counts.

An account's score is a sum of weighted parts, lower is better:

- price: how far its cheapest fitting size is above the pool's cheapest (1.0 = twice
  the price); an unknown price counts one more than the dearest known one, so it is
  never the cheapest;
- quality: the share of its recent launches that failed;
- speed: the median minutes its launches took to run;
- polls: the share of its polls that failed.

Accounts that cannot take the launch now (no fitting size, no quota room, read-only,
catalog unreadable) rank after every one that can, with the reason; among the others a
higher admin priority comes first, then the lower score.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from winged_monkey.catalog import AccountCatalog, Size
from winged_monkey.engine.ranking import SizeSpec, rank, shortfall, unfit
from winged_monkey.models import Event
from winged_monkey.serve.pools import PoolDeployable, PoolSettings, Weights

PARTS = ("price", "quality", "speed", "polls")
_FAILED = frozenset({"failed", "timeout"})


@dataclass(frozen=True)
class TrackRecord:
    """An account's launches and polls over the pool's window."""

    launches: int = 0
    failed: int = 0
    #: Median seconds from the launch call to running, over its launches that ran.
    median_s: float | None = None
    polls: int = 0
    failed_polls: int = 0
    window_hours: float = 24.0

    @property
    def failure_share(self) -> float:
        return self.failed / self.launches if self.launches else 0.0

    @property
    def poll_failure_share(self) -> float:
        return self.failed_polls / self.polls if self.polls else 0.0

    def words(self) -> list[str]:
        window = f"{self.window_hours:g} h"
        if not self.launches:
            found = [f"no launches in the last {window}"]
        elif self.failed:
            found = [f"{self.failed} of the last {self.launches} launches failed"]
        else:
            found = [
                "its one recent launch ran"
                if self.launches == 1
                else f"all {self.launches} recent launches ran"
            ]
        if self.median_s is not None:
            found.append(f"median {self.median_s:.1f} s to running")
        if self.polls:
            found.append(f"{self.failed_polls} of {self.polls} polls failed")
        return found


def track_record(
    events: Iterable[Event],
    *,
    recent: int = 20,
    polls: int = 0,
    failed_polls: int = 0,
    window_hours: float = 24.0,
) -> TrackRecord:
    """The record from an account's "launch" events, newest first (as the store gives
    them): each intent (outcome "requested") settled by the outcomes linked to it by
    `cause`. A launch failed when any of its instances did; one not settled yet (or only
    unknown) is not counted; only the newest `recent` settled launches count."""
    events = list(events)
    outcomes: dict[str, list[Event]] = {}
    for event in events:
        if event.cause is not None and event.outcome not in (None, "requested", "unknown"):
            outcomes.setdefault(event.cause, []).append(event)
    settled = [e for e in events if e.outcome == "requested" and e.key in outcomes][:recent]
    failed = 0
    durations: list[float] = []
    for intent in settled:
        linked = outcomes[intent.key]
        if any(o.outcome in _FAILED for o in linked):
            failed += 1
        durations.extend(o.duration for o in linked if o.outcome == "ok" and o.duration)
    return TrackRecord(
        launches=len(settled),
        failed=failed,
        median_s=statistics.median(durations) if durations else None,
        polls=polls,
        failed_polls=failed_polls,
        window_hours=window_hours,
    )


@dataclass(frozen=True)
class Fit:
    """What one account would launch for a deployable, or why it cannot now."""

    account: str
    kind: str
    item: str
    size: Size | None
    blocked: str | None
    detail: str

    @property
    def price_hourly(self) -> float | None:
        return self.size.price_hourly if self.size is not None else None


def spec_of(deployable: PoolDeployable) -> SizeSpec:
    return SizeSpec(vcpus=deployable.vcpus, ram_mb=deployable.ram_mb, arch=deployable.arch)


def assess(
    deployable: PoolDeployable,
    account: str,
    catalog: AccountCatalog | None,
    *,
    count: int = 1,
    error: str | None = None,
    refused: str | None = None,
) -> Fit:
    """Account `account` for `count` x `deployable`, from its catalog (sizes, prices,
    quota): the cheapest size that fits, and whether the quota has room, before any call."""
    kind, item = deployable.realisations()[account]
    if refused is not None or catalog is None:
        why = refused or (f"catalog unreadable: {error}" if error else "no catalog")
        return Fit(account, kind, item, None, why, why)
    if kind == "template":
        blocked = _quota(shortfall(catalog.quotas, None, count))
        return Fit(account, kind, item, None, blocked, f"template {item}")
    spec = spec_of(deployable)
    listed = next((i for i in catalog.items if i.id == item), None)
    if listed is not None and listed.arch and spec.arch is None:  # the image's own CPU
        spec = replace(spec, arch=listed.arch)
    wanted = deployable.disk_gb or 0
    # An unknown or 0 disk is a network volume (EBS): it is given the benefit of the doubt.
    # Nor a size the image cannot run (its min_ram or min_disk; Nova would refuse it).
    sizes = tuple(
        s
        for s in catalog.sizes
        if (not s.disk_gb or s.disk_gb >= wanted) and (listed is None or unfit(listed, s) is None)
    )
    (ranked,) = rank([catalog.model_copy(update={"sizes": sizes, "items": ()})], spec, count=count)
    if ranked.size is None:
        why = f"no size fits {spec}" + (f" with {wanted} GB of disk" if wanted else "")
        return Fit(account, kind, item, None, why, why)
    detail = _size_words(ranked.size)
    return Fit(account, kind, item, ranked.size, _quota(ranked.blocked), detail)


def _quota(text: str | None) -> str | None:
    return f"quota: {text}" if text else None


def _size_words(size: Size) -> str:
    shape = ", ".join(
        p
        for p in (
            f"{size.vcpus} vCPU" if size.vcpus is not None else "",
            f"{size.ram_mb} MB" if size.ram_mb is not None else "",
        )
        if p
    )
    return f"{size.name} ({shape})" if shape else size.name


@dataclass(frozen=True)
class Scored:
    """One account's place for a launch: its fit, record, score parts and reasons."""

    fit: Fit
    record: TrackRecord
    priority: int
    #: Part name -> its weighted value (what it adds to the score).
    parts: Mapping[str, float]
    score: float
    reasons: tuple[str, ...]

    @property
    def account(self) -> str:
        return self.fit.account

    @property
    def launchable(self) -> bool:
        return self.fit.blocked is None

    def summary(self) -> str:
        """One line: the verdict, then the reasons."""
        if not self.launchable:
            return f"passed over: {self.fit.blocked}"
        counted = [f"{name} +{value:.2f}" for name, value in self.parts.items() if value]
        return f"score {self.score:.2f}" + (f" ({', '.join(counted)})" if counted else "")


@dataclass(frozen=True)
class Match:
    """The ranking for one launch: `ranked[0]` is the choice when it is launchable."""

    pool: str
    deployable: str
    ranked: tuple[Scored, ...]

    @property
    def chosen(self) -> Scored | None:
        first = self.ranked[0] if self.ranked else None
        return first if first is not None and first.launchable else None

    @property
    def runners_up(self) -> tuple[Scored, ...]:
        return self.ranked[1:] if self.chosen else self.ranked

    def why(self) -> str:
        """Why the choice, in one sentence (or why there is none)."""
        chosen = self.chosen
        if chosen is None:
            reasons = "; ".join(f"{s.account}: {s.fit.blocked}" for s in self.ranked)
            return f"no account of pool {self.pool} can launch {self.deployable}: " + (
                reasons or "it names no account"
            )
        others = [s for s in self.ranked[1:] if s.launchable]
        lead = "the only account that can launch it" if not others else "the best score"
        if others and chosen.priority > others[0].priority:
            lead = f"the highest priority ({chosen.priority})"
        return f"{chosen.account}: {lead}; " + "; ".join(chosen.reasons)


def score(
    fits: Iterable[Fit],
    records: Mapping[str, TrackRecord],
    settings: PoolSettings,
) -> list[Scored]:
    """The fits ranked best first (see the module's docstring for the order)."""
    fits = list(fits)
    weights = settings.weights
    open_ = [f for f in fits if f.blocked is None]
    known = [f.price_hourly for f in open_ if f.price_hourly is not None]
    cheapest = min(known) if known else None
    relative = {f.account: _relative(f.price_hourly, cheapest) for f in fits}
    dearest = max((v for f in open_ if (v := relative[f.account]) is not None), default=0.0)
    scored = []
    for fit in fits:
        record = records.get(fit.account, TrackRecord(window_hours=settings.window_hours))
        above = relative[fit.account]
        parts = _parts(weights, dearest + 1.0 if above is None else above, record)
        reasons = [_price_words(fit, above)] if fit.blocked is None else []
        reasons.extend(record.words())
        priority = settings.priority.get(fit.account, 0)
        if priority:
            reasons.append(f"priority {priority}")
        if fit.blocked is not None:
            reasons.insert(0, fit.blocked)
        total = round(sum(parts.values()), 6)
        scored.append(Scored(fit, record, priority, parts, total, tuple(reasons)))

    def key(entry: Scored) -> tuple[int, int, float, int, str]:
        unknown = 1 if entry.fit.price_hourly is None else 0
        return (0 if entry.launchable else 1, -entry.priority, entry.score, unknown, entry.account)

    return sorted(scored, key=key)


def _relative(price: float | None, cheapest: float | None) -> float | None:
    if price is None:
        return None
    if cheapest is None or price <= cheapest:
        return 0.0
    return (price - cheapest) / cheapest if cheapest > 0 else 1.0


def _parts(weights: Weights, above: float, record: TrackRecord) -> dict[str, float]:
    minutes = (record.median_s or 0.0) / 60
    raw = {
        "price": above,
        "quality": record.failure_share,
        "speed": minutes,
        "polls": record.poll_failure_share,
    }
    return {name: round(getattr(weights, name) * value, 6) for name, value in raw.items()}


def _price_words(fit: Fit, above: float | None) -> str:
    price = fit.price_hourly
    if price is None:
        return f"{fit.detail}: price unknown (counted dearer than every known price)"
    where = "the cheapest" if not above else f"{above:.0%} above the cheapest"
    return f"{fit.detail} at ${price:.4f}/h, {where}"


def match(
    pool: str,
    deployable: PoolDeployable,
    settings: PoolSettings,
    catalogs: Mapping[str, AccountCatalog | None],
    records: Mapping[str, TrackRecord],
    *,
    count: int = 1,
    errors: Mapping[str, str] | None = None,
    refused: Mapping[str, str] | None = None,
    excluded: Mapping[str, str] | None = None,
) -> Match:
    """Rank the accounts realising `deployable`. `refused`: accounts that may not launch
    (read-only); `excluded`: accounts already tried for this launch, with why they said no."""
    fits = []
    for account in deployable.realisations():
        if excluded and account in excluded:
            kind, item = deployable.realisations()[account]
            why = f"rejected this launch: {excluded[account]}"
            fits.append(Fit(account, kind, item, None, why, why))
            continue
        fits.append(
            assess(
                deployable,
                account,
                catalogs.get(account),
                count=count,
                error=(errors or {}).get(account),
                refused=(refused or {}).get(account),
            )
        )
    return Match(pool, deployable.name, tuple(score(fits, records, settings)))
