"""The event log's retention (`[events]` limits): apart from store/events.py, whose exports,
time zones and CSV every listing would otherwise import for this one call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winged_monkey.store.sqlite import Store
    from winged_monkey.user.config import EventsConfig


def enforce_retention(
    store: Store,
    policy: EventsConfig,
    now: datetime,
    *,
    batch: int = 500,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """Apply `[events]` limits; returns how many events were deleted.

    Blocking but gentle (small transactions): call it from a thread, e.g. after a refresh
    with `asyncio.to_thread(enforce_retention, portal.store, config.events, now)`.
    """
    before = now - timedelta(days=policy.max_age_days) if policy.max_age_days else None
    keep = policy.max_count or None
    if before is None and keep is None:
        return 0
    return store.prune_events(before=before, keep=keep, batch=batch, cancelled=cancelled)
