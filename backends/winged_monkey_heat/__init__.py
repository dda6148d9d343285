"""Winged Monkey backend for OpenStack Heat: stacks (n-tier apps) as portal rows.

The backend class loads on first use, so the config can read `settings` (this backend's
account keys) without importing the backend's libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winged_monkey_heat.backend import HeatBackend

__all__ = ["HeatBackend"]


def __getattr__(name: str) -> object:
    if name == "HeatBackend":
        from winged_monkey_heat.backend import HeatBackend

        return HeatBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
