"""Backend discovery through the `winged_monkey.backends` entry-point group.

Listing names imports nothing; loading one imports only that plugin. A backend's account
keys (its `BackendSettings`) are found through the light `winged_monkey.settings` group, so
the config is checked without importing the backend's library; a plugin that registers
none there is asked for its class's `SETTINGS` instead. `offline_problem` runs a backend's
own offline check of an account (`BackendSettings.check_offline`), for `wm accounts` alone.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, EntryPoints, SelectableGroups, entry_points
from typing import TYPE_CHECKING

from winged_monkey.backend import Backend
from winged_monkey.errors import PluginError, WMError, describe

if TYPE_CHECKING:
    from winged_monkey.account import AccountConfig
    from winged_monkey.backend_settings import BackendSettings

GROUP = "winged_monkey.backends"
SETTINGS_GROUP = "winged_monkey.settings"


@cache
def _entry_points(group: str = GROUP) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in _installed().select(group=group)}


@cache
def _installed() -> EntryPoints | SelectableGroups:
    """Every installed distribution's entry points, read once: each reading opens the
    metadata of every package in the environment, and a listing needs two groups."""
    return entry_points()


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
    cls = _loaded(entry, f"backend {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise PluginError(f"backend {name!r} ({entry.value}) is not a winged_monkey Backend")
    return cls


@cache
def settings(name: str) -> type[BackendSettings] | None:
    """The keys backend `name` accepts, or None when it declares none (or is not installed:
    using the account says so)."""
    from winged_monkey.backend_settings import BackendSettings

    entry = _entry_points(SETTINGS_GROUP).get(name)
    if entry is None:
        try:
            return load(name).SETTINGS
        except PluginError:
            return None
    found = _loaded(entry, f"backend {name!r}'s settings")
    if not (isinstance(found, type) and issubclass(found, BackendSettings)):
        raise PluginError(f"backend {name!r}'s settings ({entry.value}) are not BackendSettings")
    return found


def offline_problem(account: AccountConfig) -> str | None:
    """What `account`'s backend finds wrong with it without a network call (its settings'
    `check_offline`), in the words using the account would say it; None when nothing is
    wrong, or the backend declares no settings or is not installed (using it says so)."""
    try:
        found = settings(account.backend)
        if found is not None:
            found.check_offline(account)
    except WMError as exc:
        return exc.message
    except Exception as exc:  # the plugin's bug: said, not a traceback over the listing
        return f"backend {account.backend!r}'s offline check failed ({describe(exc)})"
    return None


def _loaded(entry: EntryPoint, what: str) -> object:
    """What `entry` names, imported; a plugin that fails to import is a PluginError."""
    try:
        return entry.load()
    except Exception as exc:
        raise PluginError(
            f"{what} failed to load ({type(exc).__name__}: {exc}); "
            f"reinstall the package that provides {entry.value}"
        ) from exc
