"""How the server refuses a request it cannot take as sent, in words that say what to send
instead: scripts (curl, requests) meet these first, and a silent guess costs them most."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from starlette.routing import Match

from winged_monkey.serve.errors import ApiError


def check_query(request: Request) -> None:
    """Refuse a query parameter the route does not take, or one given twice (each takes
    one value). Ignored, a mistyped filter (`?acount=ci`) answered with every account's
    rows, which a script then stopped; of `?account=a&account=b` only b's were listed."""
    dependant: Dependant | None = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    known = sorted(set(_query_names(dependant)))
    for name in known:
        if len(given := request.query_params.getlist(name)) > 1:
            raise ApiError(
                422,
                "invalid",
                f"query parameter {name!r} is given {len(given)} times; it takes one value "
                "(ask once for each)",
            )
    unknown = [name for name in request.query_params if name not in known]
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    takes = ", ".join(known) if known else "no query parameters"
    raise ApiError(
        422,
        "invalid",
        f"unknown query parameter {name!r}{hint}; {request.url.path} takes {takes}",
    )


def _query_names(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def body_refusal(request: Request, errors: Sequence[Mapping[str, Any]]) -> ApiError | None:
    """The refusal of a body that is not a JSON object (sent as a form, as text, not at all,
    or not JSON), saying how to send it; None when the body's fields are what is wrong.
    pydantic said ': Input should be a valid dictionary or object to extract fields from'
    to `curl -d '{...}'`, which sends a form's content type."""
    whole = [e for e in errors if tuple(e.get("loc", ()))[:1] == ("body",)]
    if not whole:
        return None
    fields = _body_fields(request)
    wanted = f"a JSON object with {fields}" if fields else "a JSON object"
    media = request.headers.get("content-type", "")
    if media and not _is_json(media):
        return ApiError(
            415,
            "unsupported_media_type",
            f"send the body as JSON with 'Content-Type: application/json', not {media!r} "
            "(curl: --json '{...}', or -H 'Content-Type: application/json' with -d)",
        )
    first = whole[0]
    if first.get("type") == "json_invalid":
        where = first["loc"][1] if len(first["loc"]) > 1 else 0
        why = first.get("ctx", {}).get("error", "not JSON")
        return ApiError(
            422, "invalid", f"the body is not valid JSON: {why} at character {where}; send {wanted}"
        )
    if len(first.get("loc", ())) > 1:
        return None  # a field of the object: pydantic's words name it
    if first.get("type") == "missing":
        return ApiError(422, "invalid", f"this request needs a body: {wanted}")
    return ApiError(422, "invalid", f"the body must be {wanted}")


def _is_json(media: str) -> bool:
    kind = media.split(";", 1)[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _body_fields(request: Request) -> str:
    """The body's required fields, then the optional ones, as the route's model names them."""
    field = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(field, "field_info", None), "annotation", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    optional = [n for n, f in model.model_fields.items() if not f.is_required()]
    said = ", ".join(required)
    if optional:
        said += f" (and optionally {', '.join(optional)})"
    return said


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes on the request's path. Starlette's 405 named the first
    matching route's alone (`Allow: GET` on /api/v1/tokens, which takes POST too)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _scope = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")  # answered as GET, without the body (head.HeadAsGet)
    return sorted(methods)


def query_hint(error: Mapping[str, Any]) -> str:
    """What to add to pydantic's words on a query value: a time whose zone's '+' the URL
    turned into a space (`?since=2026-12-07T10:00+01:00` from curl) was refused as
    'unexpected extra characters at the end of the input', which hid why."""
    value = error.get("input")
    if tuple(error.get("loc", ()))[:1] != ("query",) or not isinstance(value, str):
        return ""
    if str(error.get("type", "")).startswith(("datetime", "date")) and " " in value.strip():
        return (
            f" (got {value!r}: a '+' in a URL is a space; write the zone's + as %2B, "
            "or give the time in UTC with Z)"
        )
    return ""


def unknown_field(request: Request, error: Mapping[str, Any]) -> str | None:
    """The words for a body's field the route's model does not take (its 422), naming those
    it takes; None for any other error. Ignored, `{"expires": "1h"}` made a 90-day token."""
    if error.get("type") != "extra_forbidden" or tuple(error.get("loc", ()))[:1] != ("body",):
        return None
    field = getattr(getattr(request.scope.get("route"), "body_field", None), "field_info", None)
    model = getattr(field, "annotation", None)
    takes = (
        sorted(model.model_fields)
        if isinstance(model, type) and issubclass(model, BaseModel)
        else []
    )
    return "not a field of this body" + (f"; it takes {', '.join(takes)}" if takes else "")


def path_hint(request: Request) -> str:
    """What a path no route has likely meant. With a trailing slash it was redirected (307,
    no body): `curl -s .../instances/ | jq length` printed nothing and exited 0."""
    path = request.url.path
    routes = request.app.router.routes
    if path.endswith("/") and path != "/":
        trimmed = {**request.scope, "path": path.rstrip("/")}
        if any(route.matches(trimmed)[0] is not Match.NONE for route in routes):
            return f" (without the trailing slash: {path.rstrip('/')})"
    templates = [p for route in routes if isinstance(p := getattr(route, "path", None), str)]
    close = difflib.get_close_matches(path, templates, n=1, cutoff=0.8)
    return f" (did you mean {close[0]}?)" if close else ""
