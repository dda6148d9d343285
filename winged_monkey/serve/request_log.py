"""The server's record of what clients ask of it: each request an event of the log, in
the name of the token's user, that what the portal does for it points at (`cause`)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from winged_monkey.errors import StoreError
from winged_monkey.models import Event, EventSource
from winged_monkey.wire import API_PREFIX

if TYPE_CHECKING:
    from winged_monkey.engine.portal import Portal
    from winged_monkey.serve.tokens import TokenRecord

log = logging.getLogger("winged_monkey.serve")


class RequestLog(Protocol):
    """Records requests in the portal's event log. A protocol with its implementation: the
    server's core subclasses it, and its parts' views of the core (`launches.Host`) extend
    it, so the signature is written once."""

    portal: Portal

    async def record_request(
        self,
        token: TokenRecord,
        kind: str,
        account: str,
        target: str,
        name: str,
        detail: str = "",
        outcome: str = "requested",
        cause: str | None = None,
    ) -> str:
        """Record `token`'s request `kind` on `target` (named `name`) and return the
        event's key; `cause`: the client's own event that asked for it."""
        at = datetime.now(UTC)
        event = Event(
            key=f"request:{account}:{target}:{kind}:{at.timestamp():.6f}:{token.id}",
            at=at,
            source=EventSource.ACTION,
            kind=kind,
            account=account,
            target=target,
            target_name=name,
            outcome=outcome,
            user=token.user,
            detail=detail or f"{kind} requested through the aggregator",
            cause=cause,
        )
        await asyncio.to_thread(self._append, event)  # never on the loop: the store may wait
        return event.key

    def _append(self, event: Event) -> None:
        try:
            self.portal.store.append_events([event])
        except (StoreError, sqlite3.Error) as exc:  # a broken store costs history, not actions
            log.warning("event log: %s", exc)


def outcome_href(intent: str) -> str | None:
    """Where the outcome of the portal's intent `intent` will be (a 202's Location): the
    events that name it as their cause, read by the log's index however long the log (a
    script follows that, not the request two links away in a log it may never scan that
    far). None before an intent was recorded."""
    return f"{API_PREFIX}/events?cause={quote(intent, safe='')}" if intent else None
