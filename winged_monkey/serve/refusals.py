"""How the server refuses a request it cannot take as sent, in words that say what to send
instead: scripts (curl, requests) meet these first, and a silent guess costs them most."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant

from winged_monkey.serve.errors import ApiError


def check_query(request: Request) -> None:
    """Refuse a query parameter the route does not take. Ignored, a mistyped filter
    (`?acount=ci`) answered with every account's rows, which a script then stopped."""
    dependant: Dependant | None = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    known = sorted(set(_query_names(dependant)))
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
