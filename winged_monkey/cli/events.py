"""`wm events`: the event log, filtered, as a table, JSON or CSV, or followed live."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime

import click

from winged_monkey.cli.base import Context, ExitCode, fail, guard
from winged_monkey.errors import ConfigError, StoreError
from winged_monkey.models import Event, EventSource
from winged_monkey.store.events import (
    TABLE_HEADER,
    EventQuery,
    csv_chunks,
    event_row,
    event_rows,
    json_chunks,
    parse_when,
    to_csv,
    to_json_line,
    unknown_zone,
)
from winged_monkey.store.sqlite import Store, StoreLocked
from winged_monkey.terminal.render import (
    EventLines,
    event_table,
    output_width,
)
from winged_monkey.user import paths
from winged_monkey.user.config import read_config


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """--since/--until: an age (1h, 2d) or a date/date-time; a bad one is a usage error."""
    if value is None:
        return None
    try:
        return parse_when(value, datetime.now(UTC))
    except (ValueError, OverflowError) as exc:
        said = str(exc)
        if not said.startswith(repr(value)):  # a form it takes, out of any calendar's range
            said = (
                f"{value!r} is out of range: use an age like 30m, 1h, 2d, 1w, "
                "or a date from 0001-01-02 to 9999-12-31"
            )
        raise click.BadParameter(said, ctx, param) from None


def _limit(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """--limit: more than the store could ever hold means all of them (SQLite's LIMIT is
    a 64-bit integer)."""
    return min(value, 2**63 - 1)


def _target(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--target: an empty one would match the events that name no target."""
    if value is not None and not value.strip():
        raise click.BadParameter("name an instance or app, by its id or its name")
    return value


@click.command("events")
@click.option(
    "--since", callback=_when, help="Window start: 30m, 1h, 2d, 1w ago, or 2026-11-01[T08:30]."
)
@click.option("--until", callback=_when, help="Window end (exclusive), same forms as --since.")
@click.option(
    "--account",
    help="Only this account (configured, or removed from the config with history left).",
)
@click.option(
    "--target", callback=_target, help="Only this instance or app, by its id or its name."
)
@click.option(
    "--kind", "kinds", multiple=True, help="Only this kind: state, stop, ... (repeatable)."
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice([s.value for s in EventSource]),
    help="Only this source (repeatable).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=1000, show_default=True, callback=_limit
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list (JSON lines with --follow).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option(
    "--parts",
    is_flag=True,
    help="Every part of a change on its own line (the table shows an action, its outcome "
    "and what observed it as one line). JSON and CSV always hold every part.",
)
@click.option(
    "--width",
    type=click.IntRange(min=0),
    help="Fit the table in this many columns (default: the terminal's; 0: no limit).",
)
@click.option("--interval", type=click.FloatRange(min=0.01), default=0.5, hidden=True)
@click.pass_obj
def events(
    obj: Context,
    since: datetime | None,
    until: datetime | None,
    account: str | None,
    target: str | None,
    kinds: tuple[str, ...],
    sources: tuple[str, ...],
    limit: int,
    as_json: bool,
    as_csv: bool,
    follow: bool,
    parts: bool,
    width: int | None,
    interval: float,
) -> None:
    """The event log, newest first: state changes seen, actions taken, cloud events.
    One line per change (`--parts`: every part).

    With --follow, matching events already in the window (with --since) come
    first, oldest first, then each new one as any `wm` process records it.
    """
    if as_json and as_csv:
        fail("--json and --csv exclude each other", ExitCode.USAGE)
    if since is not None and until is not None and since >= until:
        fail(
            f"--since ({since:%Y-%m-%d %H:%M:%S} UTC) is not before --until "
            f"({until:%Y-%m-%d %H:%M:%S} UTC): no event can match; an age counts back from "
            "now (--since 2h --until 1h is the hour before the last)",
            ExitCode.USAGE,
        )
    query = EventQuery(
        since=since,
        until=until,
        account=account,
        target=target,
        kinds=frozenset(kinds) or None,
        sources=frozenset(EventSource(s) for s in sources) or None,
        limit=limit,
    )
    fmt = "json" if as_json else "csv" if as_csv else "table"
    guard(lambda: _events(obj, query, fmt, follow, interval, parts, width))


def _events_store(obj: Context) -> tuple[Store, list[str] | None]:
    """The history to read: read-write if possible (to migrate), else read-only; and with
    --demo, its accounts (else None: the config is read only if --account needs it)."""
    if obj.demo:
        config, store, warnings = obj.setup()
        for warning in warnings:
            click.echo(f"wm: {warning}", err=True)
        return store, [a.name for a in config.accounts]
    path = paths.store_path()
    try:
        store = Store.open(path)
    except StoreError as exc:
        if not path.exists():
            raise
        try:
            # A lock waited for once is not waited for again: only a writer's lock that
            # readers may pass (WAL) lets the read-only try through.
            store = Store.open(path, read_only=True, wait=not isinstance(exc, StoreLocked))
        except StoreError:
            raise exc from None
    obj.stack.callback(store.close)
    return store, None


def _check_account(obj: Context, store: Store, account: str, configured: list[str] | None) -> None:
    """An account neither in the history nor in the config is a mistake (exit 3, as `wm
    ls` says it), not an empty answer; one removed from the config keeps its history.
    The config is read only for an account the history does not know."""
    logged = store.accounts()
    if account in logged:
        return
    why = None
    if configured is None:
        configured, why = _configured_accounts(obj)
    if account in configured:
        return
    history = ", ".join(logged) or "none"
    if why is None:
        known = ", ".join(configured) or "none"
        raise ConfigError(
            f"no account named {account!r} (configured: {known}; with history: {history})"
        )
    raise ConfigError(
        f"no account named {account!r} in the event log (with history: {history}), "
        f"and the config cannot be read to look for it: {why}"
    )


def _configured_accounts(obj: Context) -> tuple[list[str], str | None]:
    """The config's account names, and why it could not be read (None if it could).

    Read as leniently as it can be: `wm events` needs no account's settings, and a mistake
    elsewhere in the config is for the commands that use it to say."""
    path = obj.config_path or paths.config_path()
    try:
        text = read_config(path, must_exist=obj.config_path is not None)
        if text is None:
            return [], None
        data = tomllib.loads(text)
    except ConfigError as exc:
        return [], str(exc)
    except tomllib.TOMLDecodeError as exc:
        return [], f"{path}: not valid TOML: {exc}"
    tables = data.get("accounts")
    tables = tables if isinstance(tables, list) else []
    names = [t.get("name") for t in tables if isinstance(t, dict)]
    return [n for n in names if isinstance(n, str)], None


def _events(
    obj: Context,
    query: EventQuery,
    fmt: str,
    follow: bool,
    interval: float,
    parts: bool,
    width: int | None,
) -> None:
    store, configured = _events_store(obj)
    if query.account is not None:
        _check_account(obj, store, query.account, configured)
    if fmt == "table" and (problem := unknown_zone()) is not None:
        click.echo(f"wm: {problem}", err=True)
    if follow:
        _follow(store, query, fmt, interval, output_width(width))
        return
    if fmt != "table":  # written as read: a year's log exported in little memory
        chunks = json_chunks(query.each(store)) if fmt == "json" else csv_chunks(query.each(store))
        for chunk in chunks:
            click.echo(chunk, nl=False)
        if fmt == "json":
            click.echo()
        return
    found = query.run(store)
    if query.target is not None:
        _say_if_a_name_is_shared(query.target, found)
    if found:
        if not parts:
            from winged_monkey.terminal.history import folded

            found = folded(found)
        click.echo(event_table(event_rows(found), output_width(width)))
    else:
        click.echo("no events match", err=True)


def _say_if_a_name_is_shared(target: str, found: list[Event]) -> None:
    """A name a cloud gave again to a new instance (EC2 and OpenStack ids are never
    reused, names are) matches both histories: say so, with the ids, newest first (the
    table drops its TARGET column first when it is narrowed)."""
    ids = list(dict.fromkeys((e.account, e.target) for e in found if e.target != target))
    if len(ids) > 1:
        named = ", ".join(f"{i} ({a})" for a, i in ids)
        click.echo(
            f"wm: {target!r} names {len(ids)} instances or apps in these events, newest "
            f"first: {named}; --target with an id shows one",
            err=True,
        )


def _follow(store: Store, query: EventQuery, fmt: str, interval: float, width: int | None) -> None:
    lines = EventLines(TABLE_HEADER, width)
    if fmt == "csv":
        click.echo(to_csv([]), nl=False)
    try:
        for batch in followed(store, query, store.last_seq()):
            if batch is None:
                time.sleep(interval)
            else:
                _print_stream(batch, fmt, lines)
    except KeyboardInterrupt:
        return  # Ctrl-C is how --follow ends: exit 0


def followed(store: Store, query: EventQuery, seq: int) -> Iterator[list[Event] | None]:
    """The window's matching events (with --since), then those of each batch recorded
    after `seq` (None when nothing is new), each event once.

    An event recorded after `seq` was taken but before the window was read is in both:
    the window's keys are skipped when they come again.
    """
    earlier = list(reversed(query.run(store))) if query.since is not None else []
    shown = {e.key for e in earlier}
    yield earlier
    while True:
        batch = store.events_after(seq)
        if batch:
            seq = batch[-1][0]
        fresh = [e for _, e in batch if query.matches(e) and e.key not in shown]
        shown.difference_update(e.key for _, e in batch)  # a key comes after `seq` once
        yield fresh if batch else None


def _print_stream(found: list[Event], fmt: str, lines: EventLines) -> None:
    for event in found:
        if fmt == "json":
            click.echo(to_json_line(event))
        elif fmt == "csv":
            click.echo(to_csv([event], header=False), nl=False)
        else:
            click.echo(lines.line(event_row(event)))
