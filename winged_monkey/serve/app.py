"""The aggregator's HTTP face (FastAPI): authentication, rate limits, routes, one error shape.

Only `wm serve` imports this module; the TUI and the core never load FastAPI.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from pydantic.warnings import UnsupportedFieldAttributeWarning
from starlette.exceptions import HTTPException as StarletteHTTPException

from winged_monkey import __version__
from winged_monkey.actions import Action
from winged_monkey.models import InstanceKind
from winged_monkey.serve.body_limit import BodyLimit
from winged_monkey.serve.docs import add_docs
from winged_monkey.serve.errors import (
    STATUS_CODES,
    ApiError,
    conflict,
    forbidden,
    not_found,
    unauthorized,
)
from winged_monkey.serve.head import HEAD_AS_GET, HeadAsGet
from winged_monkey.serve.ratelimit import RateLimiter
from winged_monkey.serve.raw_ids import RawIds, segment
from winged_monkey.serve.refusals import (
    allowed_methods,
    body_refusal,
    check_query,
    path_hint,
    query_hint,
    unknown_field,
)
from winged_monkey.serve.service import Aggregator, client_cause
from winged_monkey.serve.tokens import TokenError, TokenRecord, TokenStore
from winged_monkey.wire import (
    API_PREFIX,
    INTENT_HEADER,
    ActionAccepted,
    CatalogOut,
    ErrorBody,
    ErrorOut,
    EventPage,
    LaunchAccepted,
    LaunchIn,
    PoolOut,
    PoolScoresOut,
    ProviderAccountOut,
    ProviderOut,
    ResourceOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    Whoami,
)

log = logging.getLogger("winged_monkey.serve")
#: The event log's account for what concerns the server itself (its tokens).
TOKENS_ACCOUNT = "wm-serve"
M = TypeVar("M", bound=BaseModel)
PostAction = Literal["start", "stop", "reboot", "suspend", "resume", "reset", "poweroff", "check"]
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": code}
    for status, code in STATUS_CODES.items()
    if status in (400, 401, 403, 404, 413, 422, 429, 500)  # 413: any body over MAX_BODY
}
_bearer = HTTPBearer(auto_error=False, description="A token from `wm serve token create`.")


def error_response(
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
    outcome_href: str | None = None,
) -> JSONResponse:
    body = ErrorOut(error=ErrorBody(code=code, message=message), outcome_href=outcome_href)
    content = body.model_dump(mode="json", exclude_none=True)  # outcome_href: a 504's alone
    return JSONResponse(content, status_code=status, headers=headers)


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenRecord:
    """The token's record; 401 without a valid one, 429 past its rate, 422 for a query
    parameter the route does not take."""
    tokens: TokenStore = request.app.state.tokens
    limiter: RateLimiter = request.app.state.limiter
    anonymous = f"anon:{request.client.host if request.client else '?'}"
    if credentials is None:
        _limit(limiter, anonymous)
        raise unauthorized("unauthorized", "send 'Authorization: Bearer <token>'")
    try:
        token = tokens.authenticate(credentials.credentials)
    except TokenError as exc:
        _limit(limiter, anonymous)
        raise unauthorized(exc.code, exc.message) from None
    _limit(limiter, token.id)
    check_query(request)
    return token


Caller = Annotated[TokenRecord, Depends(caller)]
PoolQ = Annotated[str | None, Query(description="Only this pool.")]
AccountQ = Annotated[
    str | None,
    Query(
        description="Only this provider account; ACCOUNT/NAME (as provider-accounts names "
        "one): the rows ACCOUNT's server holds in its account NAME (listings only)."
    ),
]
AccountP = Annotated[str, Path(description="The provider account.")]
IdP = Annotated[str, Path(description="The resource's id in its account.")]
PoolP = Annotated[str, Path(description="The pool.")]
AfterQ = Annotated[int, Query(ge=0, le=2**62, description="Store seq to read after.")]
SinceQ = Annotated[datetime | None, Query(description="Inclusive.")]
UntilQ = Annotated[datetime | None, Query(description="Exclusive.")]
TargetQ = Annotated[str | None, Query(description="Only this resource id.")]
CauseQ = Annotated[
    str | None,
    Query(
        max_length=512,
        description="Only the events this event caused (an action's 202 gives the URL).",
    ),
]
LimitQ = Annotated[int, Query(ge=1, le=1000)]
CompleteQ = Annotated[
    bool,
    Query(
        description="Every account's rows or none: 503 not_listed when some account of "
        "the selection is not listed, where it would answer the others' rows alone."
    ),
]
#: A listing's headers naming the accounts of the selection whose rows it lacks (unknown,
#: not none), and those whose rows are as last seen (each row's `stale` says why).
NOT_LISTED_HEADER = "X-WM-Not-Listed"
STALE_HEADER = "X-WM-Stale"
IntentH = Annotated[
    str | None,
    Header(
        alias=INTENT_HEADER,
        max_length=512,
        description="The client's key for its own record of this action or launch "
        "(percent-encoded): "
        "the server's events for the request name it as their cause.",
    ),
]


def create_app(aggregator: Aggregator, tokens: TokenStore, limiter: RateLimiter) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await aggregator.start()
        try:
            yield
        finally:
            await aggregator.stop()

    app = FastAPI(
        title="Winged Monkey aggregator",
        version=__version__,
        description="A Conductor-style API over a team's cloud accounts.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # docs.py: Swagger UI's files from the server, not a CDN
        redoc_url=None,
        redirect_slashes=False,  # a 307 with no body: a script's jq read nothing; 404 says why
        responses=_ERROR_RESPONSES,
        lifespan=lifespan,
    )
    app.state.tokens = tokens
    app.state.limiter = limiter
    _quiet_body_alias()
    app.add_middleware(BodyLimit)
    app.add_middleware(RawIds)  # before routing: an id's quoted `/` stays in it
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is a GET to everything after it
    _error_handlers(app)
    add_docs(app)

    v1 = API_PREFIX

    @app.get(f"{v1}/whoami", response_model=Whoami, tags=["meta"])
    async def whoami(token: Caller) -> Whoami:
        return aggregator.whoami(token)

    @app.get(f"{v1}/providers", response_model=list[ProviderOut], tags=["meta"])
    async def providers(token: Caller) -> list[ProviderOut]:
        return aggregator.providers(token)

    @app.get(f"{v1}/provider-accounts", response_model=list[ProviderAccountOut], tags=["meta"])
    async def provider_accounts(token: Caller) -> list[ProviderAccountOut]:
        return aggregator.provider_accounts(token)

    @app.get(f"{v1}/pools", response_model=list[PoolOut], tags=["meta"])
    async def pools(token: Caller) -> list[PoolOut]:
        return aggregator.pool_list(token)

    @app.get(f"{v1}/catalogs", response_model=list[CatalogOut], tags=["catalog"])
    async def catalogs(token: Caller) -> list[CatalogOut]:
        return await aggregator.pooled.add_to(await aggregator.launches.catalogs(token))

    @app.get(f"{v1}/pools/{{pool}}/scores", response_model=PoolScoresOut, tags=["catalog"])
    async def pool_scores(token: Caller, pool: PoolP) -> PoolScoresOut:
        return await aggregator.pooled.scores(token, pool)

    @app.post(
        f"{v1}/pools/{{pool}}/launches",
        response_model=LaunchAccepted,
        status_code=202,
        tags=["catalog"],
        responses={
            202: _location_doc(
                "Accepted: the launch is under way",
                "launch's outcome (the events its launch causes, one per id)",
            ),
            409: {"model": ErrorOut},
            415: {"model": ErrorOut},
            502: {"model": ErrorOut},
            504: {
                "model": ErrorOut,
                **_location_doc(
                    "The cloud's answer was lost: the launch may have happened",
                    "launch's outcome (what a later poll saw of it)",
                ),
            },
        },
    )
    async def launch(
        response: Response, token: Caller, pool: PoolP, body: LaunchIn, intent: IntentH = None
    ) -> LaunchAccepted:
        cause = client_cause(intent)  # the request's events (each try) name the client's
        if pool in aggregator.pools and aggregator.pooled.offers(pool, body.deployable):
            accepted = await aggregator.pooled.launch(token, pool, body, cause=cause)
        else:
            accepted = await aggregator.launches.launch(token, pool, body, cause=cause)
        return _located(response, accepted)

    def resource_routes(kind: InstanceKind, collection: str) -> None:
        @app.get(
            f"{v1}/{collection}",
            response_model=list[ResourceOut],
            tags=[collection],
            operation_id=f"list_{collection}",
            responses={
                200: {
                    "headers": {
                        NOT_LISTED_HEADER: {
                            "description": "Accounts whose rows are unknown (not listed): "
                            "missing from the body; ACCOUNT/NAME: one that the server an "
                            "aggregator account reaches cannot list.",
                            "schema": {"type": "string"},
                        },
                        STALE_HEADER: {
                            "description": "Accounts whose rows are as last seen.",
                            "schema": {"type": "string"},
                        },
                    }
                },
                304: {"description": "Not modified since the ETag sent in If-None-Match."},
                503: {"model": ErrorOut, "description": "not_listed"},
            },
        )
        async def listing(
            request: Request,
            token: Caller,
            pool: PoolQ = None,
            account: AccountQ = None,
            complete: CompleteQ = False,
        ) -> Response:
            missing, last_seen = gaps = aggregator.gaps(token, pool, account)
            aggregator.check_known(token, kind, pool, account, missing=missing, complete=complete)
            tag = aggregator.resources_tag(token, kind, pool, account, gaps=gaps)
            # Per token's role and pools: revalidated every time, never kept by a shared cache.
            headers = {
                "ETag": tag,
                "Cache-Control": "private, no-cache",
                "Vary": "Accept-Encoding, Authorization",
            }
            if missing:  # a count of the rows is not the accounts' count: say what it lacks
                headers[NOT_LISTED_HEADER] = ", ".join(missing)
            if last_seen:
                headers[STALE_HEADER] = ", ".join(last_seen)
            if _seen(request.headers.get("if-none-match"), tag):
                return Response(status_code=304, headers=headers)
            gzipped = "gzip" in request.headers.get("accept-encoding", "")
            body = aggregator.resources_json(token, kind, pool, account, gzipped=gzipped)
            if gzipped:
                headers["Content-Encoding"] = "gzip"
            return Response(body, media_type="application/json", headers=headers)

        @app.get(
            f"{v1}/{collection}/{{account}}/{{rid}}",
            response_model=ResourceOut,
            tags=[collection],
            operation_id=f"get_{kind}",
        )
        async def one(token: Caller, account: AccountP, rid: IdP) -> ResourceOut:
            found = aggregator.find(token, kind, segment(account), segment(rid))
            return aggregator.resource_out(found, token)

        # An action's route: accepted (202) and followed by the server, or refused (409).
        accepts: dict[str, Any] = {
            "response_model": ActionAccepted,
            "status_code": 202,
            "tags": [collection],
            "responses": {
                202: _location_doc(
                    "Accepted: the action is under way", "action's outcome (its events)"
                ),
                409: {"model": ErrorOut},
            },
        }

        @app.post(
            f"{v1}/{collection}/{{account}}/{{rid}}/{{action}}",
            operation_id=f"act_on_{kind}",
            **accepts,
        )
        async def act(
            response: Response,
            token: Caller,
            account: AccountP,
            rid: IdP,
            action: PostAction,
            intent: IntentH = None,
        ) -> ActionAccepted:
            instance = aggregator.find(token, kind, segment(account), segment(rid))
            accepted = await aggregator.act(token, Action(action), instance, origin=intent)
            return _located(response, accepted)

        @app.delete(
            f"{v1}/{collection}/{{account}}/{{rid}}", operation_id=f"destroy_{kind}", **accepts
        )
        async def destroy(
            response: Response, token: Caller, account: AccountP, rid: IdP, intent: IntentH = None
        ) -> ActionAccepted:
            instance = aggregator.find(token, kind, segment(account), segment(rid))
            accepted = await aggregator.act(token, Action.DESTROY, instance, origin=intent)
            return _located(response, accepted)

    resource_routes("instance", "instances")
    resource_routes("app", "deployments")

    @app.get(f"{v1}/events", response_model=EventPage, tags=["events"])
    async def events(
        token: Caller,
        after: AfterQ = 0,
        since: SinceQ = None,
        until: UntilQ = None,
        account: AccountQ = None,
        target: TargetQ = None,
        cause: CauseQ = None,
        limit: LimitQ = 100,
    ) -> EventPage:
        return await aggregator.events(
            token,
            after=after,
            since=_aware(since),
            until=_aware(until),
            account=account,
            target=target,
            cause=cause,
            limit=limit,
        )

    _token_routes(app, aggregator)
    return app


def _token_out(record: TokenRecord) -> TokenOut:
    return TokenOut(
        id=record.id,
        user=record.user,
        role=record.role,
        pool=record.pool,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked_at=record.revoked_at,
    )


def _require_admin(token: TokenRecord) -> None:
    if not token.allows("admin"):
        raise forbidden(f"managing tokens needs the admin role; this token is {token.role}")


def _token_routes(app: FastAPI, aggregator: Aggregator) -> None:
    """Token admin over the API: an admin of every pool manages every token, an admin of
    one pool only that pool's."""
    v1 = API_PREFIX

    def store(request: Request) -> TokenStore:
        tokens: TokenStore = request.app.state.tokens
        return tokens

    @app.get(f"{v1}/tokens", response_model=list[TokenOut], tags=["tokens"])
    async def list_tokens(request: Request, token: Caller) -> list[TokenOut]:
        _require_admin(token)
        records = store(request).list()
        return [_token_out(r) for r in records if token.pool is None or r.pool == token.pool]

    @app.post(
        f"{v1}/tokens",
        response_model=TokenCreated,
        status_code=201,
        tags=["tokens"],
        responses={409: {"model": ErrorOut}, 415: {"model": ErrorOut}},
    )
    async def create_token(request: Request, token: Caller, body: TokenIn) -> TokenCreated:
        _require_admin(token)
        if token.pool is not None and body.pool != token.pool:
            raise forbidden(f"an admin of pool {token.pool!r} issues tokens for that pool only")
        if body.pool is not None and body.pool not in aggregator.pools:
            raise not_found(f"no pool {body.pool!r}")
        record, secret = store(request).create(
            body.user, body.role, body.pool, expires=timedelta(days=body.expires_days)
        )
        log.info(
            "token %s issued to %s (%s) by %s", record.id, record.user, record.role, token.user
        )
        scope = f"pool {record.pool}" if record.pool else "every pool"
        await aggregator.record_request(
            token,
            "token-create",
            TOKENS_ACCOUNT,
            record.id,
            record.user,
            f"a {record.role} token for {record.user} on {scope}",
            outcome="ok",
        )
        return TokenCreated(token=secret, record=_token_out(record))

    @app.delete(
        f"{v1}/tokens/{{token_id}}",
        response_model=TokenOut,
        tags=["tokens"],
        responses={409: {"model": ErrorOut}},
    )
    async def revoke_token(
        request: Request, token: Caller, token_id: Annotated[str, Path(max_length=64)]
    ) -> TokenOut:
        _require_admin(token)
        tokens = store(request)
        record = tokens.get(token_id)
        if record is None:
            raise not_found(f"no token {token_id!r}")
        if token.pool is not None and record.pool != token.pool:
            raise forbidden(f"an admin of pool {token.pool!r} revokes that pool's tokens only")
        if not tokens.revoke(token_id):
            raise conflict(f"token {token_id} is already revoked")
        log.info("token %s revoked by %s", token_id, token.user)
        await aggregator.record_request(
            token,
            "token-revoke",
            TOKENS_ACCOUNT,
            record.id,
            record.user,
            f"the {record.role} token of {record.user} revoked",
            outcome="ok",
        )
        revoked = tokens.get(token_id)
        assert revoked is not None
        return _token_out(revoked)


def _location_doc(said: str, what: str) -> dict[str, Any]:
    """A response that points at an outcome (`said`, its description in the OpenAPI
    document: FastAPI's default reads "Successful Response"), and its Location header."""
    location = f"Where the {what} will be (as outcome_href)."
    header = {"description": location, "schema": {"type": "string"}}
    return {
        "description": f"{said}; its outcome will be at Location",
        "headers": {"Location": header},
    }


Accepted = TypeVar("Accepted", ActionAccepted, LaunchAccepted)


def _located(response: Response, accepted: Accepted) -> Accepted:
    """The 202 points at where the outcome will be (RFC 9110's Location)."""
    if accepted.outcome_href is not None:
        response.headers["Location"] = accepted.outcome_href
    return accepted


def _seen(if_none_match: str | None, tag: str) -> bool:
    """Whether the client holds `tag` (If-None-Match compares weakly: W/ aside)."""
    if not if_none_match:
        return False
    held = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in held or tag.removeprefix("W/") in held


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is UTC (comparing naive with aware would fail)."""
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _limit(limiter: RateLimiter, key: str) -> None:
    wait = limiter.take(key)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests; retry in {wait:.1f} s",
            {"Retry-After": str(max(1, round(wait)))},
        )


def _error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.outcome_href)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = STATUS_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers or {})
        message = str(exc.detail)
        if exc.status_code == 404:
            message = (
                f"no such endpoint: {request.url.path}{path_hint(request)}; "
                f"see {API_PREFIX}/openapi.json"
            )
        elif exc.status_code == 405:
            allowed = allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            method = "HEAD" if request.scope.get(HEAD_AS_GET) else request.method
            message = f"{method} is not allowed on {request.url.path}; it takes {_either(allowed)}"
        return error_response(exc.status_code, code, message, headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        refusal = body_refusal(request, exc.errors())
        if refusal is not None:
            return error_response(refusal.status, refusal.code, refusal.message)
        parts = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            said = unknown_field(request, error) or error.get("msg", "invalid")
            parts.append(f"{where}: {said}{query_hint(error)}")
        return error_response(422, "invalid", "; ".join(parts) or "invalid request")

    async def crashed(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal", "the aggregator failed; its log says why")

    handlers: dict[type[Exception], Callable[[Request, Exception], Any]] = {
        ApiError: api_error,
        StarletteHTTPException: http_error,
        RequestValidationError: invalid,
        Exception: crashed,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def _either(methods: list[str]) -> str:
    """`GET, HEAD or POST`: the methods a path takes, as a sentence reads them."""
    return " or ".join(filter(None, (", ".join(methods[:-1]), methods[-1]))) if methods else "none"


def _quiet_body_alias() -> None:
    """Keep pydantic's UnsupportedFieldAttributeWarning for FastAPI's own combined body
    field (alias "body", built on a route's first body or the document's first read) out
    of `wm serve`'s log, where it read as a fault (pydantic 2.12+, its issue 12356); any
    other field's warning still shows."""
    warnings.filterwarnings(
        "ignore",
        message=r"The 'alias' attribute with value 'body' ",
        category=UnsupportedFieldAttributeWarning,
    )
