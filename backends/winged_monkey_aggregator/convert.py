"""The aggregator's shapes as the portal's: rows, events and the catalog of one local account.

A remote row's id is `remote_account/id`, unique in the local account; `where` names the
remote account; the links the server offered stay in `extra["links"]` so the portal offers
exactly those actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from winged_monkey.catalog import AccountCatalog, CatalogItem, Choice, Quota, Size
from winged_monkey.models import Event, EventSource, Instance, Requested, Unlisted
from winged_monkey.wire import (
    CLIENT_CAUSE,
    CatalogOut,
    Link,
    ProviderAccountOut,
    RequestedOut,
    ResourceOut,
)
from winged_monkey_aggregator.errors import quoted

PROVIDER = "aggregator"


def local_id(remote_account: str, remote_id: str) -> str:
    return f"{remote_account}/{remote_id}"


def split_id(instance_id: str) -> tuple[str, str]:
    """(remote account, remote id) of a local row id; account names hold no '/'."""
    remote_account, _, remote_id = instance_id.partition("/")
    return remote_account, remote_id


def instance(account: str, row: ResourceOut) -> Instance:
    extra: dict[str, Any] = dict(row.extra)
    extra.update(
        kind=row.kind,
        remote_account=row.account,
        pool=row.pool,
        href=row.href,
        links={name: link.model_dump() for name, link in row.links.items()},
    )
    if row.members is not None:
        extra["members"] = row.members
    if row.requested is not None:  # under way at the server: `state` is not its outcome
        extra["requested"] = requested(row.requested)
    if row.after_timeout:  # its backend's next step, said after a follow's timeout here
        extra["after_timeout"] = dict(row.after_timeout)
    return Instance(
        account=account,
        id=local_id(row.account, row.id),
        name=row.name,
        state=row.state,
        raw_state=row.raw_state,
        provider=row.provider,
        # `where` reads provider/remote-account:region: which of the team's accounts it is on.
        region=f"{row.account}:{row.region}" if row.region else row.account,
        size=row.size,
        image=row.image,
        public_ips=row.public_ips,
        private_ips=row.private_ips,
        created_at=row.created_at,
        price_hourly=row.price_hourly,
        extra=extra,
        stale=stale(row),
        observed_at=row.observed_at if row.stale is not None else None,
        stale_source=stale_source(row),
        source_account=row.account,
        requested=Requested.model_validate(row.requested.model_dump()) if row.requested else None,
    )


def unlisted(accounts: Iterable[ProviderAccountOut], rows: Iterable[Instance]) -> list[Unlisted]:
    """The server's accounts it holds no rows of because it cannot list them (or has not
    yet), each with why: without a word these would look like accounts with nothing on
    them. An account with rows kept as last seen says so on each row (`stale`). Its
    `error` is its source's own words (a `wm serve` relays those of the accounts behind it
    as they were said to it), so they are said once, however many servers they came
    through."""
    listed = {i.source_account for i in rows}
    return [
        Unlisted(
            name=account.id,
            phase="failed" if account.status.phase == "failed" else "loading",
            reason=account.status.error if account.status.phase == "failed" else None,
            region=account.region,
            quotas=account.quotas,
        )
        for account in accounts
        if account.id not in listed and account.status.phase not in ("ok", "stale")
    ]


def kept(recalled: Iterable[Instance], unlisted: Iterable[Unlisted]) -> list[Instance]:
    """This client's last rows of each server account the server now holds no rows of
    (`unlisted`: a restarted server or a new replica that cannot list it, or has not yet):
    kept as last seen, each saying why. Dropped, they were taken for machines gone:
    `vanished` in the log, and a destroy whose answer was lost settled as done."""
    said = {u.name: u for u in unlisted}
    return [
        row.model_copy(
            update={
                "stale": f"{source.line} (as last listed here)",
                "stale_source": source,
            }
        )
        for row in recalled
        if (source := said.get(row.source_account or "")) is not None
    ]


def requested(action: RequestedOut) -> str:
    """An action the server is carrying out, for a person: what, by whom, since when."""
    by = f" by {action.user}" if action.user else ""
    return (
        f"{action.action} requested{by} at {action.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, "
        "under way at the aggregator"
    )


def stale(row: ResourceOut) -> str | None:
    """Why the server's row may be out of date, in the client's words; None when current.
    The account named is the one the server's words are about: `stale_account` behind the
    row's account when a server it reaches in turn could not list it."""
    source = stale_source(row)
    if source is None:
        return None
    when = row.observed_at.astimezone(UTC) if row.observed_at else None
    seen = f"as last listed {when:%Y-%m-%d %H:%M} UTC" if when else ""
    return f"the aggregator cannot list {source.name}: {source.reason}" + (
        f" ({seen})" if seen else ""
    )


def stale_source(row: ResourceOut) -> Unlisted | None:
    """The server account a stale row's words are about (`account`, or the one behind it
    that `stale_account` names) with those words; its region and quota are the server's
    account's (`sourced`)."""
    if row.stale is None:
        return None
    name = f"{row.account}/{row.stale_account}" if row.stale_account else row.account
    return Unlisted(name=name, phase="failed", reason=row.stale)


def sourced(rows: Iterable[Instance], accounts: Iterable[ProviderAccountOut]) -> list[Instance]:
    """`rows` whose stale_source the server's /provider-accounts knows (by its id: team-b,
    or upstream/team-b relayed), with the region and quota it says of that account."""
    known = {account.id: account for account in accounts}
    found = []
    for row in rows:
        source = row.stale_source
        account = known.get(source.name) if source is not None else None
        if source is not None and account is not None:
            source = source.model_copy(update={"region": account.region, "quotas": account.quotas})
            row = row.model_copy(update={"stale_source": source})
        found.append(row)
    return found


def links(row: Instance) -> dict[str, Link]:
    """The links a row was listed with (none when it came from elsewhere)."""
    found = row.extra.get("links")
    if not isinstance(found, dict):
        return {}
    return {str(name): Link.model_validate(link) for name, link in found.items()}


def event(account: str, remote: Event, *, user: str | None = None) -> Event:
    """A server event in the local log: its key, target and `cause` made local (so the
    server's outcome still points at the server's intent here), who did it kept.

    The server's record of a request `user` (this token's) sent with a local intent's key
    points at that intent: the server's part of the change is one of its parts here. A
    request anyone else sent keeps the server's word for its cause, which is not a key of
    this log."""
    cause = remote.cause
    if cause is not None:
        mine = user is not None and remote.user == user and cause.startswith(CLIENT_CAUSE)
        cause = cause.removeprefix(CLIENT_CAUSE) if mine else f"aggregator:{account}:{cause}"
    return remote.model_copy(
        update={
            "key": f"aggregator:{account}:{remote.key}",
            "source": EventSource.NATIVE,
            "account": account,
            "target": local_id(remote.account, remote.target),
            "cause": cause,
        }
    )


def deployable_id(pool: str, deployable: str) -> str:
    return f"{pool}/{deployable}"


def catalog(account: str, catalogs: Iterable[CatalogOut]) -> AccountCatalog:
    """Every pool's deployables as one account's items; sizes and choices merged by id;
    quotas summed (an upper bound: the server has the last word on a launch)."""
    items: list[CatalogItem] = []
    sizes: dict[str, Size] = {}
    locations: dict[str, Choice] = {}
    key_pairs: dict[str, Choice] = {}
    networks: dict[str, Choice] = {}
    quotas: dict[str, list[Quota]] = {}
    counted: set[str] = set()  # an account's quota counts once, whatever pools list it
    notes: list[str] = []
    for pool in catalogs:
        # The server's own words for an account whose catalog it could not read.
        notes.extend(
            f"{quoted(remote)} (pool {quoted(pool.pool)}): no catalog: {quoted(why)}"
            for remote, why in pool.errors.items()
        )
        for deployable in pool.deployables:
            item = deployable.item
            on = f"{item.account} in pool {pool.pool}"
            if deployable.match is not None:  # a pool deployable: the server picks, says why
                on = f"pool {pool.pool}, the server's choice now: {deployable.match.why}"
            items.append(
                item.model_copy(
                    update={
                        "account": account,
                        "kind": "deployable",
                        "id": deployable_id(pool.pool, deployable.id),
                        "description": f"{item.description} ({on})" if item.description else on,
                    }
                )
            )
        for remote in pool.accounts:
            for size in remote.sizes:
                sizes.setdefault(size.id, size)
            for choices, found in (
                (locations, remote.locations),
                (key_pairs, remote.key_pairs),
                (networks, remote.networks),
            ):
                for choice in found:
                    choices.setdefault(choice.id, choice)
            if remote.account not in counted:
                counted.add(remote.account)
                for quota in remote.quotas:
                    quotas.setdefault(quota.resource, []).append(quota)
    return AccountCatalog(
        account=account,
        provider=PROVIDER,
        items=tuple(items),
        sizes=tuple(sizes.values()),
        locations=tuple(locations.values()),
        key_pairs=tuple(key_pairs.values()),
        networks=tuple(networks.values()),
        quotas=tuple(_sum(resource, found) for resource, found in quotas.items()),
        notes=tuple(notes),
    )


def _sum(resource: str, found: list[Quota]) -> Quota:
    """The pool-wide limit and use; unknown as soon as one account's is (or is unlimited)."""
    limits = [q.limit for q in found]
    used = [q.used for q in found]
    known = all(limit is not None and limit >= 0 for limit in limits)
    return Quota(
        resource=resource,
        limit=sum(x for x in limits if x is not None) if known else None,
        used=sum(x for x in used if x is not None) if all(u is not None for u in used) else None,
    )
