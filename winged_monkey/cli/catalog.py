"""`wm catalog`, `wm launch` and `wm where`: what can be launched, where, at what price.

Exit codes are the CLI's own (`winged_monkey.cli.base.ExitCode`): 1 when an account did not
answer or a launch failed, 3 when the cloud (or the quota check) rejects the request,
4 when the account may not launch, 5 when a confirmation was refused or impossible.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from winged_monkey.catalog import AccountCatalog, CatalogItem, LaunchRequest, Size
from winged_monkey.cli.base import (
    Context,
    ExitCode,
    accounts_argument,
    accounts_chosen,
    fail,
    guard,
    param_option,
    run_closing,
)
from winged_monkey.engine.catalogs import SEARCH_SHOWN, CatalogUpdate, more_found
from winged_monkey.engine.portal import ActionUpdate, Portal
from winged_monkey.engine.ranking import HOURS_PER_MONTH, Ranked, find_size
from winged_monkey.errors import ActionNotAllowed, InvalidRequest
from winged_monkey.terminal.render import (
    hanging,
    hourly_text,
    monthly_text,
    output_width,
    render_table,
)

#: Sizes shown per account without --sizes (EC2 has hundreds): the cheapest ones.
SIZES_SHOWN = 8


# -- wm catalog -------------------------------------------------------------------------


@click.command("catalog")
@accounts_argument
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="NAME",
    help="Only this account (repeatable; the same as naming it as ACCOUNT).",
)
@click.option("--search", metavar="TEXT", help="Search the providers' public images instead.")
@click.option("--sizes", "all_sizes", is_flag=True, help="Every size, not only the cheapest.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def catalog(
    obj: Context,
    named: tuple[str, ...],
    accounts: tuple[str, ...],
    search: str | None,
    all_sizes: bool,
    as_json: bool,
) -> None:
    """What each account (or each ACCOUNT named) can launch: images, templates, sizes with
    prices, locations, key pairs, networks and quota (exit 1 if an account failed to
    answer). `wm catalog dev` is `wm catalog --account dev`."""
    chosen = accounts_chosen(named, accounts)
    guard(lambda: _catalog(obj, chosen, search, all_sizes, as_json))


def _catalog(
    obj: Context, accounts: list[str], search: str | None, all_sizes: bool, as_json: bool
) -> None:
    portal = obj.portal()
    for name in accounts:
        portal.config.account(name)  # raises ConfigError naming the configured ones
    names = accounts or portal.catalog_accounts()
    if search is not None:
        found, errors = asyncio.run(_search(portal, names, search))
        if as_json:
            click.echo(json.dumps([i.model_dump(mode="json") for i in found], indent=2))
        else:
            rows = [("ACCOUNT", "IMAGE", "NAME", "DESCRIPTION")]
            rows += [(i.account, i.id, i.name, _cut(i.description, 50)) for i in found]
            click.echo(render_table(rows) if found else f"no public image matches {search!r}")
    else:
        # Every configured account is accounted for: one with no catalog says why and what
        # to do (a Heat account with no `templates` was left out unsaid).
        every = accounts or [a.name for a in portal.config.accounts]
        updates, none = asyncio.run(_catalogs(portal, names, every))
        for name, why in none:
            click.echo(f"wm: {name}: no catalog: {why}", err=True)
        catalogs = [u.catalog for u in updates if u.catalog is not None]
        errors = [(u.account, u.error or "no answer") for u in updates if u.catalog is None]
        if as_json:
            payload = {
                "accounts": [c.model_dump(mode="json") for c in catalogs],
                "errors": [{"account": a, "error": e} for a, e in errors],
            }
            click.echo(json.dumps(payload, indent=2))
        else:
            click.echo("\n\n".join(_describe(c, all_sizes) for c in catalogs) or "no catalog")
    for name, error in errors:
        click.echo(f"wm: {name}: {error}", err=True)
    if errors:
        sys.exit(ExitCode.FAILED)


async def _catalogs(
    portal: Portal, names: Sequence[str], asked: Sequence[str]
) -> tuple[list[CatalogUpdate], list[tuple[str, str]]]:
    """The catalogs of `names`, and why each account `asked` for by name has none."""
    try:
        found = [u async for u in portal.catalogs(names)]
        answered = {u.account for u in found}
        none = [(n, await portal.no_catalog(n) or "") for n in asked if n not in answered]
    finally:
        await portal.close()
    order = {name: index for index, name in enumerate(names)}
    return sorted(found, key=lambda u: order.get(u.account, len(order))), none


async def _search(
    portal: Portal, names: Sequence[str], text: str
) -> tuple[list[CatalogItem], list[tuple[str, str]]]:
    from winged_monkey.errors import WMError

    async def one(name: str) -> list[CatalogItem] | str:
        try:
            found = await portal.search_images(name, text, SEARCH_SHOWN + 1)
        except WMError as exc:
            return exc.message
        if len(found) > SEARCH_SHOWN:  # said, not an error: the exit code stays 0
            click.echo(f"wm: {name}: {more_found(text)}", err=True)
        return found[:SEARCH_SHOWN]

    try:
        answers = await asyncio.gather(*(one(n) for n in names))
    finally:
        await portal.close()
    found = [i for a in answers if isinstance(a, list) for i in a]
    errors = [(n, a) for n, a in zip(names, answers, strict=True) if isinstance(a, str)]
    return found, errors


def _describe(c: AccountCatalog, all_sizes: bool) -> str:
    where = f"{c.provider}/{c.region}" if c.region else c.provider
    lines = [f"{c.account} ({where})"]
    width = output_width(None)
    if c.items:
        name_width = 48
        if width is not None:  # the name gives way (to 16) for 20 columns of NEEDS
            before = max(len(f"  {i.kind}") for i in c.items) + max(len(i.id) for i in c.items)
            name_width = max(16, min(48, width - 20 - before - 6))
        rows: list[tuple[str, ...]] = [("  KIND", "ID", "NAME", "NEEDS")]
        rows += [
            (f"  {i.kind}", i.id, _cut(i.name, name_width), "; ".join(i.needs) or "-")
            for i in c.items
        ]
        lines.append(render_table(rows, width))
    else:
        lines.append(f"  no images or templates ({_empty_hint(c)})")
    sizes = sorted(c.sizes, key=_cheapest) if not all_sizes else list(c.sizes)
    shown = sizes if all_sizes else sizes[:SIZES_SHOWN]
    if shown:
        rows = [("  SIZE", "CPU", "VCPU", "RAM", "DISK", "HOURLY", "MONTHLY")]
        rows += [_size_row(s) for s in shown]
        lines.append(render_table(rows))
        if len(shown) < len(sizes):
            lines.append(f"  ... {len(sizes) - len(shown)} more sizes (--sizes lists them all)")
    for label, choices in (
        ("locations", c.locations),
        ("key pairs", c.key_pairs),
        ("networks", c.networks),
    ):
        if choices:
            lines.append(_wrapped(f"  {label}: ", ", ".join(ch.name for ch in choices), width))
    quota = [
        f"{q.resource} {q.used if q.used is not None else '?'} used of "
        f"{q.limit if q.limit is not None and q.limit >= 0 else 'unknown'}"
        for q in c.quotas
    ]
    if quota:
        lines.append(_wrapped("  quota: ", "; ".join(quota), width))
    lines.extend(_wrapped("  note: ", note, width) for note in c.notes)
    return "\n".join(lines)


def _empty_hint(c: AccountCatalog) -> str:
    """What to do about an empty catalog: the provider's words, else where images come from."""
    if c.empty_hint:
        return c.empty_hint
    return "name images in the config" + (", or use --search" if c.searchable else "")


def _wrapped(head: str, text: str, width: int | None) -> str:
    """`head` and `text`, wrapped at `width` under the text's start, never inside a word (a
    vCenter's hosts and folders made one line of thousands of characters, and a note was
    cut mid-word at the terminal's edge)."""
    if width is None or len(head) + len(text) <= width:
        return head + text
    return hanging(head, text, max(width, len(head) + 20))


def _cheapest(size: Size) -> tuple[int, float, int, int, str]:
    # Known prices first, cheapest first; then the smallest (as the TUI lists them), so a
    # region with no prices shows its smallest sizes, not the first by name.
    price, unknown = size.price_hourly, 1 << 30
    return (
        0 if price is not None else 1,
        price or 0.0,
        size.vcpus if size.vcpus is not None else unknown,
        size.ram_mb if size.ram_mb is not None else unknown,
        size.id,
    )


def _size_row(size: Size) -> tuple[str, ...]:
    monthly = size.price_hourly * HOURS_PER_MONTH if size.price_hourly is not None else None
    return (
        f"  {size.name}",
        size.arch or "?",  # an image runs only on its own (its NEEDS say which)
        str(size.vcpus) if size.vcpus is not None else "?",
        _ram(size.ram_mb),
        f"{size.disk_gb} GB" if size.disk_gb is not None else "?",  # as the TUI: unknown is ?
        hourly_text(size.price_hourly),
        monthly_text(monthly),
    )


def _ram(ram_mb: int | None) -> str:
    if ram_mb is None:
        return "?"
    return f"{ram_mb / 1024:g} GB" if ram_mb >= 1024 else f"{ram_mb} MB"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- wm launch --------------------------------------------------------------------------


@click.command("launch")
@click.argument("item", metavar="IMAGE_OR_TEMPLATE")
@click.option("--account", help="The account to launch in (not for ACCOUNT/POOL/DEPLOYABLE).")
@click.option("--size", help="Size (instance type, flavor) by id or name; needed for an image.")
@click.option("--name", help="Name of the new instance(s) or app (default: from the item).")
@click.option("--count", type=click.IntRange(1, 100), default=1, show_default=True)
@param_option
@click.option("--key-pair", help="Key pair to log in with.")
@click.option("--location", help="Location (availability zone) by id or name.")
@click.option("--network", help="Network (VPC subnet) id.")
@click.option("--wait", is_flag=True, help="Follow until running (exit 0) or failed (1).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def launch(
    obj: Context,
    item: str,
    account: str | None,
    size: str | None,
    name: str | None,
    count: int,
    params: dict[str, str],
    key_pair: str | None,
    location: str | None,
    network: str | None,
    wait: bool,
    yes: bool,
) -> None:
    """Launch an image (an id or name from `wm catalog`) or a HOT template (a file, for Heat
    accounts) after showing what it costs. A launch over quota stops before any call, with
    the numbers (exit 3); the cloud's own rejection exits 3 with its reason.

    An aggregator's pool deployable is ACCOUNT/POOL/DEPLOYABLE, with no --account or
    --size: the aggregator picks the cloud account and the size, and says why."""
    if not item.strip():
        raise click.UsageError(
            "IMAGE_OR_TEMPLATE is empty: give an image id (wm catalog lists them)"
        )
    template = Path(item).expanduser()
    is_template = template.is_file()
    pooled = account is None and not is_template and item.count("/") == 2
    if pooled:
        account, _, item = item.partition("/")
        if size:  # else the pool's path would go to an account's cloud as an image id
            raise click.UsageError(
                "ACCOUNT/POOL/DEPLOYABLE takes no --size: the aggregator picks it "
                "(an image in a plain account: --account NAME --size SIZE IMAGE)"
            )
    if account is None:
        raise click.UsageError("say where: --account NAME, or ACCOUNT/POOL/DEPLOYABLE")
    if not is_template and not size and not pooled:
        raise click.UsageError("an image needs --size (wm catalog lists the sizes)")
    request = LaunchRequest(
        item=str(template) if is_template else item,
        kind="template" if is_template else "deployable" if pooled else "image",
        name=name or (template.stem if is_template else "wm-" + item.rsplit("/", 1)[-1]),
        size=size,
        location=location,
        key_pair=key_pair,
        network=network,
        count=1 if is_template else count,
        parameters=params,
    )
    where = account
    guard(lambda: _launch(obj, where, request, wait, yes))


def _launch(obj: Context, account: str, request: LaunchRequest, wait: bool, yes: bool) -> None:
    portal = obj.portal()
    portal.config.account(account)  # raises ConfigError naming the configured ones

    async def run() -> list[ActionUpdate] | str:
        if request.kind == "deployable":  # the aggregator's choice and why, before it
            found = await portal.catalog(account)
            for item in found.items:
                if item.id == request.item:
                    click.echo(f"{account}/{item.id}: {item.description}", err=True)
        if not yes:
            declined = _declined(await _summary(portal, account, request))
            if declined:  # the prompt blocks the loop: nothing else runs meanwhile
                return declined
        return await _follow(portal, account, request, wait)

    try:
        finals = run_closing(portal, run)
    except InvalidRequest as exc:
        fail(f"{account}: {request.name} rejected: {exc.message}", ExitCode.CONFIG)
    except ActionNotAllowed as exc:
        fail(str(exc), ExitCode.NOT_FOUND)
    if isinstance(finals, str):
        fail(finals, ExitCode.DECLINED)
    failed = False
    for update in finals:
        row = update.instance
        if not update.finished:
            click.echo(f"{row.key}: {row.name} launch requested (wm ls to see it)")
        elif update.phase == "done":
            click.echo(f"{row.key}: ok: {row.name} is {row.state}")
        else:
            failed = True
            reason = str(row.extra.get("fault") or update.message)
            click.echo(f"{row.key}: {update.phase}: {row.name}: {reason}", err=True)
    if failed or not finals:
        sys.exit(ExitCode.FAILED)


async def _summary(portal: Portal, account: str, request: LaunchRequest) -> str:
    what = f"{request.count} x {request.size} of {request.item}"
    if request.kind == "deployable":
        return f"Launch {request.count} x {request.item} as {request.name} through {account}"
    if request.kind == "template":
        return f"Launch app {request.name} from {request.item} on {account}"
    try:
        found = await portal.catalog(account)
    except ActionNotAllowed:
        return f"Launch {what} on {account} (cost unknown)"
    size = find_size(found, request.size or "")
    if size is None or size.price_hourly is None:
        cost = "cost unknown"
    else:
        hourly = size.price_hourly * request.count
        cost = f"about ${hourly:.4f}/h, ${hourly * HOURS_PER_MONTH:.2f}/month"
    return f"Launch {what} as {request.name} on {account} ({cost})"


def _declined(summary: str) -> str | None:
    """Why the launch will not go ahead, or None once the user said yes."""
    if not sys.stdin.isatty():
        return f"{summary}: needs confirmation; pass --yes to run without a terminal"
    if not click.confirm(f"{summary}?", err=True):
        return "not confirmed; nothing was launched"
    return None


async def _follow(
    portal: Portal, account: str, request: LaunchRequest, wait: bool
) -> list[ActionUpdate]:
    finals: dict[str, ActionUpdate] = {}
    async for update in portal.launch(account, request, follow=wait):
        row = update.instance
        if update.phase == "requested":
            click.echo(f"{row.key}: {row.name}: launched", err=True)
        elif not update.finished:
            click.echo(f"{row.key}: {update.message}", err=True)
        finals[row.id] = update
    return list(finals.values())


# -- wm where ---------------------------------------------------------------------------


@click.command("where")
@click.argument("spec", metavar="SIZE_OR_SPEC")
@click.option("--count", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option("--item", help="Only accounts offering this image/template (id or name).")
@click.option("--account", "accounts", multiple=True, help="Only this account (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def where(
    obj: Context,
    spec: str,
    count: int,
    item: str | None,
    accounts: tuple[str, ...],
    as_json: bool,
) -> None:
    """Rank accounts for a size name (t3.large) or a spec ("2cpu 4gb"): cheapest fitting
    size first, unknown prices after known ones, then the most quota left; each with why.
    Exit 4 when no account can launch it, 1 when an account did not answer."""
    if not spec.strip():
        raise click.UsageError(
            'SIZE_OR_SPEC is empty: name a size (t3.large) or a spec ("2cpu 4gb")'
        )
    guard(lambda: _where(obj, spec, count, item, list(accounts), as_json))


def _where(
    obj: Context, spec: str, count: int, item: str | None, accounts: list[str], as_json: bool
) -> None:
    portal = obj.portal()
    for name in accounts:
        portal.config.account(name)

    async def run() -> tuple[list[Ranked], list[CatalogUpdate]]:
        try:
            return await portal.where(spec, item=item, count=count, names=accounts or None)
        finally:
            await portal.close()

    ranked, failed = asyncio.run(run())
    if as_json:
        click.echo(json.dumps([_ranked_json(r) for r in ranked], indent=2))
    elif ranked:
        times = f" x{count}" if count > 1 else ""  # the prices are for the whole launch
        rows = [("#", "ACCOUNT", "WHERE", "SIZE", f"HOURLY{times}", f"MONTHLY{times}", "WHY")]
        for index, r in enumerate(ranked, 1):
            place = f"{r.provider}/{r.region}" if r.region else r.provider
            rows.append(
                (
                    str(index) if r.launchable else "-",
                    r.account,
                    place,
                    r.size.name if r.size is not None else "-",
                    hourly_text(r.price_hourly * count if r.price_hourly is not None else None),
                    monthly_text(r.price_monthly * count if r.price_monthly is not None else None),
                    r.reason,
                )
            )
        click.echo(render_table(rows, output_width(None)))
    for update in failed:
        click.echo(f"wm: {update.account}: {update.error}", err=True)
    if failed:
        sys.exit(ExitCode.FAILED)
    if not any(r.launchable for r in ranked):
        fail(f"no account can launch {count} x {spec}", ExitCode.NOT_FOUND)


def _ranked_json(r: Ranked) -> dict[str, Any]:
    return {
        "account": r.account,
        "provider": r.provider,
        "region": r.region,
        "size": r.size.model_dump(mode="json") if r.size is not None else None,
        "price_hourly": r.price_hourly,
        "price_monthly": r.price_monthly,
        "launchable": r.launchable,
        "blocked": r.blocked,
        "reason": r.reason,
    }
