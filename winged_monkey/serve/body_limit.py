"""A cap on a request's body. FastAPI reads and parses a route's body before its token is
checked: a client with no token made the server hold and parse 300 MB (its memory grew by
600 MB) before it answered. The largest body the API takes (a launch) is a few KB."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Bytes a request's body may hold.
MAX_BODY = 1024 * 1024


def too_large(limit: int) -> str:
    return (
        f"the request's body is over {limit // 1024} KB, the most this API takes: nothing was done"
    )


class BodyLimit:
    """ASGI middleware: a body declared larger than `limit` is refused (413) before any of
    it is read; one sent without a length (chunked) is refused once it passes `limit`."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, too_large(self.limit))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:  # the route's handler answers it, in the one shape
                    raise HTTPException(413, too_large(self.limit))
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, message: str) -> None:
    error = {"error": {"code": "too_large", "message": message}}
    body = json.dumps(error, separators=(",", ":")).encode()  # as the API's own
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the body it did not read is not read
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
