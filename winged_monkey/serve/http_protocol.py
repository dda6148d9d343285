"""uvicorn's h11 protocol with a deadline for a request's headers (Slowloris).

uvicorn closes an idle keep-alive connection, but the first byte of a request cancels
that timer and nothing limits how long the rest of the headers may take, nor how long a
new connection may stay silent (uvicorn issue 157). Here a connection waiting for
headers, from its start or from the end of its previous response, is closed once
`header_timeout` seconds pass without a whole request head. Imported only by `wm serve`.
"""

from __future__ import annotations

import asyncio
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("winged_monkey.serve")


class HeaderDeadlineProtocol(H11Protocol):
    """H11Protocol that drops a client not sending a request's headers in time."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

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
        if self.conn.their_state is not h11.IDLE:  # a whole request head arrived
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Kept alive and not already reading a pipelined request: the next head is due.
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expired(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        client = "%s:%d" % self.client if self.client else "a client"  # noqa: UP031
        log.warning(
            "%s sent no complete request headers within %g s; connection closed",
            client,
            self.header_timeout,
        )
        self.transport.close()
