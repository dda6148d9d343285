"""HEAD where GET is answered: `curl -I` on a listing was 405 (FastAPI's routes take the
methods they are declared with; Starlette's own add HEAD to GET)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Set in the scope of a HEAD answered as GET, so a refusal names the method sent.
HEAD_AS_GET = "wm.head"


class HeadAsGet:
    """ASGI middleware: a HEAD request runs as GET (its token, limits and refusals too) and
    is answered with GET's status and headers, Content-Length included, without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET", HEAD_AS_GET: True}, receive, headers_only)
