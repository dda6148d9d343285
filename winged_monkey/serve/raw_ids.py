"""A resource's id is one path segment, whatever it holds. A row a server relays from the
server behind it has the id ACCOUNT/ID there, sent quoted (`%2F`); the ASGI server hands
the route the path decoded, where that `/` splits the id in two, so no route took it
(a GET of the row: 405; an action: 404) and nothing could be done two servers away.
Under the resource collections the route matches the path as sent, with each segment
decoded and then only its `%` and `/` quoted again; `segment` undoes that for a
parameter."""

from __future__ import annotations

from urllib.parse import unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from winged_monkey.wire import API_PREFIX

#: The paths whose segments are an account and a resource's id.
RESOURCE_PATHS = tuple(f"{API_PREFIX}/{c}/" for c in ("instances", "deployments"))


def _escaped(raw: str) -> str:
    """`raw` (a path as sent) with each segment decoded, then its `%` and `/` quoted."""
    return "/".join(
        unquote(part).replace("%", "%25").replace("/", "%2F") for part in raw.split("/")
    )


def segment(value: str) -> str:
    """A path parameter under RESOURCE_PATHS, as the client meant it."""
    return unquote(value)


class RawIds:
    """ASGI middleware: resource paths matched segment by segment, as sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = _segmented(scope)
        await self.app(scope, receive, send)


def _segmented(scope: Scope) -> Scope:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    route = path[len(root) :] if root and path.startswith(root) else path
    if not route.startswith(RESOURCE_PATHS):
        return scope
    raw_path = scope.get("raw_path")
    raw = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else ""
    # The path as sent, unless the server's decoded path is not that one's (a proxy's
    # prefix added): then the decoded one, whose ids hold no `/` of their own.
    sent = raw[len(root) :] if root and raw.startswith(root) else raw
    if not sent or unquote(sent) != route:
        sent = route.replace("%", "%25")
    return {**scope, "path": path[: len(path) - len(route)] + _escaped(sent)}
