"""`wm serve`: run the team aggregator; `wm serve token ...`: issue, list and revoke tokens;
`wm serve pools`: how a running server would match each pool deployable now.

FastAPI and uvicorn are imported only inside the command that runs the server, so `wm`
starts as fast as ever and works without the `serve` extra.
"""

from __future__ import annotations

import json
import math
import ssl
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from winged_monkey.cli.base import given_config
from winged_monkey.errors import ConfigError, StoreError
from winged_monkey.serve.settings import ServerConfig, load_server_config
from winged_monkey.serve.tokens import ROLES, TokenStore, parse_duration, tokens_path
from winged_monkey.user import paths
from winged_monkey.wire import user_name_problem

EXIT_CONFIG = 3


def _fail(message: str, code: int = EXIT_CONFIG) -> NoReturn:
    click.echo(f"wm serve: {message}", err=True)
    sys.exit(code)


def _config_path(ctx: click.Context, given: Path | None) -> Path:
    if given is not None:
        return given
    parent = getattr(ctx.find_root().obj, "config_path", None)
    return parent if isinstance(parent, Path) else paths.config_path()


def _server_config(ctx: click.Context, given: Path | None) -> ServerConfig:
    try:
        return load_server_config(_config_path(ctx, given))
    except ConfigError as exc:
        _fail(exc.listed())


def _tokens(server: ServerConfig | None) -> TokenStore:
    if server is not None and server.serve.database:
        from winged_monkey.serve.shared_state import SharedTokenStore, open_database

        try:
            return SharedTokenStore(open_database(server.serve), owns_store=True)
        except StoreError as exc:
            _fail(str(exc))
    path = server.serve.tokens if server and server.serve.tokens else tokens_path()
    try:
        return TokenStore(path.expanduser())
    except StoreError as exc:
        _fail(str(exc))


_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    callback=given_config,
    help="The server's config (default: wm's --config, $WM_CONFIG or the platform's).",
)


@click.group("serve", invoke_without_command=True)
@_config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8780, show_default=True)
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), help="TLS key (PEM).")
@click.option(
    "--ssl-certfile", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM)."
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.pass_context
def serve(
    ctx: click.Context,
    config_path: Path | None,
    host: str,
    port: int,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
    log_level: str,
) -> None:
    """Run the team aggregator: a Conductor-style API over this config's accounts.

    It listens on loopback unless told otherwise; serve TLS with --ssl-keyfile and
    --ssl-certfile, or put a reverse proxy in front. Clients need a token
    (`wm serve token create`).
    """
    if ctx.invoked_subcommand is not None:
        return
    if bool(ssl_keyfile) != bool(ssl_certfile):
        _fail("TLS needs both --ssl-keyfile and --ssl-certfile", 2)
    server = _server_config(ctx, config_path)
    try:
        import uvicorn

        from winged_monkey.serve.app import create_app
        from winged_monkey.serve.http_protocol import HeaderDeadlineProtocol
    except ImportError as exc:
        _fail(f"the aggregator needs {exc.name}: pip install 'winged-monkey[serve]'")
    from winged_monkey.engine.portal import Portal
    from winged_monkey.serve.ratelimit import RateLimiter
    from winged_monkey.serve.service import Aggregator
    from winged_monkey.store.sqlite import Store
    from winged_monkey.user.credentials import CredentialResolver

    limiter = RateLimiter(server.serve.rate, server.serve.burst)
    shared = None
    if server.serve.database:  # replicas: store, tokens and rate limits shared there
        from winged_monkey.serve import shared_state

        try:
            shared = shared_state.open_database(server.serve)
        except StoreError as exc:
            _fail(str(exc), 1)
        store: Store = shared
        tokens: TokenStore = shared_state.SharedTokenStore(shared)
        limiter = shared_state.SharedRateLimiter(shared, server.serve.rate, server.serve.burst)
    else:
        try:
            store = Store.open(paths.store_path())
        except StoreError as exc:
            click.echo(f"wm serve: {exc}", err=True)  # it says it runs without history
            store = Store.memory()
        tokens = _tokens(server)
    # A server's credential commands run with no terminal: nobody is there to answer.
    resolver = CredentialResolver(terminal=False)
    portal = Portal(server.config, store, user="wm-serve", resolver=resolver)
    aggregator = Aggregator(server, portal)
    leases = None
    if shared is not None:  # one replica polls each account; the others read its rows
        from winged_monkey.serve.leases import AccountLeases

        leases = AccountLeases(shared, portal.inventory, wake=aggregator.poller.poll_now)
        aggregator.poller.gate = leases
        aggregator.launches.shared = shared_state.SharedCatalogStore(shared)
    app = create_app(aggregator, tokens, limiter)
    if shared is not None:
        shared_state.install(app, shared)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "http": HeaderDeadlineProtocol.with_timeout(server.serve.header_timeout),
        # An idle connection is closed by the header deadline, not by uvicorn's own 5 s:
        # httpx keeps one 5 s too, and a request sent on it just as the server closed it met
        # a broken pipe, or (an action) no answer, so an unknown outcome.
        "timeout_keep_alive": math.ceil(server.serve.header_timeout) + 1,
    }
    if ssl_keyfile and ssl_certfile:
        options.update(ssl_keyfile=ssl_keyfile, ssl_certfile=ssl_certfile)
    if host not in ("127.0.0.1", "localhost", "::1") and not ssl_certfile:
        click.echo(
            f"wm serve: listening on {host} without TLS: tokens cross the network in clear; "
            "use --ssl-certfile/--ssl-keyfile or a reverse proxy",
            err=True,
        )
    for name, refusal in server.refused.items():  # served as failed, saying this to clients
        click.echo(
            f"wm serve: account {name!r} is not served (the other accounts are): {refusal}; "
            "correct its [[accounts]] table and restart wm serve",
            err=True,
        )
    try:
        uvicorn.run(app, **options)
    except ssl.SSLError as exc:  # uvicorn loads them as it starts, before it listens
        _fail(
            f"cannot use --ssl-certfile {ssl_certfile} with --ssl-keyfile {ssl_keyfile} "
            f"({exc.reason or exc}): give a PEM certificate and its PEM private key "
            "(unencrypted)"
        )
    finally:
        if leases is not None:
            leases.close()
        tokens.close()
        store.close()


@serve.group("token")
def token_group() -> None:
    """Bearer tokens: issued here, stored only as hashes."""


def _server_for_tokens(ctx: click.Context) -> ServerConfig | None:
    given: Path | None = None
    at: click.Context | None = ctx
    while at is not None:  # `wm serve --config X token ...`: the option is the group's
        if at.command is serve:
            given = at.params.get("config_path")
        at = at.parent
    path = _config_path(ctx, given)
    if not path.exists():
        return None
    try:
        return load_server_config(path)
    except ConfigError as exc:
        _fail(exc.listed())


@token_group.command("create")
@click.option("--user", required=True, help="Whose token: recorded with every action.")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What it may do.")
@click.option("--pool", help="The one pool it applies to (default: every pool).")
@click.option("--expires", default="90d", show_default=True, help="Lifetime: 30d, 12h, 2w...")
@click.pass_context
def token_create(ctx: click.Context, user: str, role: str, pool: str | None, expires: str) -> None:
    """Issue a token and print it once (it cannot be shown again)."""
    try:
        lifetime = parse_duration(expires)
        datetime.now(UTC) + lifetime  # it must end before the calendar does
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from None
    except OverflowError:
        raise click.BadParameter(
            f"{expires!r} ends after the year 9999: give a lifetime like 365d",
            param_hint="--expires",
        ) from None
    if not user.strip():
        raise click.BadParameter("must not be empty", param_hint="--user")
    if problem := user_name_problem(user):
        raise click.BadParameter(problem, param_hint="--user")
    server = _server_for_tokens(ctx)
    if pool is not None and server is not None and pool not in server.pools():
        known = ", ".join(server.pools()) or "none"
        _fail(f"no pool {pool!r} in the config (pools: {known})")
    tokens = _tokens(server)
    try:
        record, token = tokens.create(user.strip(), role, pool, expires=lifetime)  # type: ignore[arg-type]
    finally:
        tokens.close()
    click.echo(
        f"token {record.id} for {record.user} ({record.role}, pool {record.pool or 'all'}), "
        f"expires {record.expires_at:%Y-%m-%d %H:%M} UTC. It is shown only now:",
        err=True,
    )
    click.echo(token)


@token_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def token_list(ctx: click.Context, as_json: bool) -> None:
    """Tokens issued (never the tokens themselves)."""
    tokens = _tokens(_server_for_tokens(ctx))
    try:
        records = tokens.list()
    finally:
        tokens.close()
    if as_json:
        rows = [
            {
                "id": r.id,
                "user": r.user,
                "role": r.role,
                "pool": r.pool,
                "created_at": r.created_at.isoformat(),
                "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in records
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    now = datetime.now(UTC)
    for r in records:
        state = {"token_revoked": "revoked", "token_expired": "expired"}.get(
            r.problem(now) or "", "active"
        )
        expires = f"{r.expires_at:%Y-%m-%d}" if r.expires_at else "never"
        click.echo(f"{r.id}  {r.user:<16} {r.role:<8} {r.pool or '*':<12} {expires}  {state}")


@token_group.command("revoke")
@click.argument("token_id")
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token by its id (from `token list`); it stops working at once."""
    tokens = _tokens(_server_for_tokens(ctx))
    try:
        revoked = tokens.revoke(token_id)
    finally:
        tokens.close()
    if not revoked:
        _fail(f"no active token {token_id!r} (see `wm serve token list`)", 4)
    click.echo(f"token {token_id} revoked")


@serve.command("pools")
@click.option("--url", default="http://127.0.0.1:8780", show_default=True, help="The server.")
@click.option(
    "--token-env",
    default="WM_SERVE_TOKEN",
    show_default=True,
    help="The environment variable holding a token (any role) of the server.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def pools_command(ctx: click.Context, url: str, token_env: str, as_json: bool) -> None:
    """Each pool's weights and, per deployable, its accounts best first with their score
    parts (price, quality, speed, polls) and reasons, as the running server sees them."""
    import os

    import httpx

    from winged_monkey.serve.pools_text import describe
    from winged_monkey.wire import PoolScoresOut

    shown = _url_shown(url)
    if not shown.lower().startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{shown!r} is not an http(s) URL: give the server's, like https://wm.example.org:8780",
            param_hint="--url",
        )
    server = _server_for_tokens(ctx)  # the config is checked (weights included) first
    token = os.environ.get(token_env)
    if not token:
        _fail(f"no token in ${token_env}; `wm serve token create --role viewer` makes one")
    names = list(server.pools()) if server is not None else []
    found = []
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            if not names:
                listed = client.get("/api/v1/pools")
                if listed.status_code != 200:
                    _fail(f"{shown}: pools: {_said(listed)}", 1)
                names = [p["id"] for p in listed.json()]
            for name in names:
                reply = client.get(f"/api/v1/pools/{name}/scores")
                if reply.status_code != 200:
                    _fail(f"{shown}: pool {name}: {_said(reply)}", 1)
                found.append(PoolScoresOut.model_validate_json(reply.content))
    except httpx.InvalidURL as exc:
        raise click.BadParameter(f"{shown!r}: {exc}", param_hint="--url") from None
    except httpx.HTTPError as exc:
        _fail(f"{shown}: no answer ({type(exc).__name__}); is `wm serve` running there?", 1)
    except (ValueError, TypeError, KeyError):  # JSON, but not wm serve's (pydantic's too)
        _fail(f"{shown}: answered, but not as wm serve does; is it the server's URL?", 1)
    if as_json:
        click.echo(json.dumps([f.model_dump(mode="json") for f in found], indent=2))
        return
    for scores in found:
        click.echo("\n".join(describe(scores)))


def _url_shown(url: str) -> str:
    """`url` without a password it may hold (https://user:secret@host: user@host)."""
    scheme, sep, rest = url.strip().partition("://")
    userinfo, at, host = rest.partition("@")
    if not sep or not at or "/" in userinfo:
        return url.strip()
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{host}"


def _said(reply: Any) -> str:
    """An error answer on one line: its status and the start of its body."""
    body = " ".join(str(reply.text).split())
    return f"{reply.status_code} {body[:200]}" + ("…" if len(body) > 200 else "")
