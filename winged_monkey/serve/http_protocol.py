"""uvicorn's h11 protocol with a deadline for a request's headers (Slowloris), and the
server's one error shape for a request that is not HTTP.

uvicorn closes an idle keep-alive connection, but the first byte of a request cancels
that timer and nothing limits how long the rest of the headers may take, nor how long a
new connection may stay silent (uvicorn issue 157). Here a connection waiting for
headers, from its start or from the end of its previous response, is closed once
`header_timeout` seconds pass without a whole request head; and one whose body has not
all come `header_timeout` seconds after its head, since FastAPI reads a body before it
checks the token (a client with none held a connection for good, a byte every few
seconds). Imported only by `wm serve`.
"""

from __future__ import annotations

import asyncio
import json
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("winged_monkey.serve")
#: Said for a request h11 cannot parse; h11's own words quote the line, which may be the
#: Authorization header, so they are never sent nor logged.
NOT_HTTP = (
    "the request is not valid HTTP: a header line is malformed, most often a carriage "
    "return left in a value (a token read from a file with Windows line ends: "
    "\"$(tr -d '\\r' < FILE)\"); nothing was done"
)


class HeaderDeadlineProtocol(H11Protocol):
    """H11Protocol that drops a client not sending a request's headers, or its body, in
    time."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    #: What the armed timer waits for: h11.IDLE (a head) or h11.SEND_BODY (the body's end).
    _awaited: type[h11.IDLE] | type[h11.SEND_BODY] = h11.IDLE

    @classmethod
    def with_timeout(cls, seconds: float) -> type[HeaderDeadlineProtocol]:
        """A subclass with this deadline (uvicorn builds the protocol from its class)."""
        return type(cls.__name__, (cls,), {"header_timeout": seconds})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        state = self.conn.their_state
        if state is h11.SEND_BODY:  # a head arrived; its body is due, whole, in time
            if self._header_timer is None or self._awaited is not h11.SEND_BODY:
                self._arm(h11.SEND_BODY)
        elif state is not h11.IDLE:  # a whole request arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Kept alive and not already reading a pipelined request: the next head is due.
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's 400 in the API's error shape (it sent text/plain 'Invalid HTTP request
        received.', which says neither what is wrong nor what to do)."""
        error = {"error": {"code": "bad_request", "message": NOT_HTTP}}
        body = json.dumps(error, separators=(",", ":")).encode()  # as the API's own
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _arm(self, awaited: type[h11.IDLE] | type[h11.SEND_BODY] = h11.IDLE) -> None:
        self._disarm()
        self._awaited = awaited
        self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not self._awaited:
            return
        client = "%s:%d" % self.client if self.client else "a client"  # noqa: UP031
        log.warning(
            "%s sent no complete request %s within %g s; connection closed",
            client,
            "headers" if self._awaited is h11.IDLE else "body",
            self.header_timeout,
        )
        self.transport.close()
