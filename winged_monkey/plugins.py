"""Backend discovery through the `winged_monkey.backends` entry-point group.

Listing names imports nothing; loading one imports only that plugin.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from winged_monkey.backend import Backend
from winged_monkey.errors import PluginError

GROUP = "winged_monkey.backends"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available() -> list[str]:
    """Names of the installed backends."""
    return sorted(_entry_points())


def load(name: str) -> type[Backend]:
    entry = _entry_points().get(name)
    if entry is None:
        installed = ", ".join(available()) or "none"
        raise PluginError(
            f"backend {name!r} is not installed (installed backends: {installed}); "
            "check the account's `backend` or install the plugin"
        )
    try:
        cls = entry.load()
    except Exception as exc:
        raise PluginError(
            f"backend {name!r} failed to load ({type(exc).__name__}: {exc}); "
            f"reinstall the package that provides {entry.value}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise PluginError(f"backend {name!r} ({entry.value}) is not a winged_monkey Backend")
    return cls
