"""Winged Monkey backend for the team aggregator (`wm serve`): its rows, actions, catalog
and events, seen through a personal token.

The backend class loads on first use, so the config can read `settings` (this backend's
account keys) without importing the backend's libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winged_monkey_aggregator.backend import AggregatorBackend

__all__ = ["AggregatorBackend"]


def __getattr__(name: str) -> object:
    if name == "AggregatorBackend":
        from winged_monkey_aggregator.backend import AggregatorBackend

        return AggregatorBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
