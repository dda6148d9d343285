"""Backend discovery through the `winged_monkey.backends` entry-point group.

Listing names imports nothing; loading one imports only that plugin. A backend's account
keys (its `BackendSettings`) are found through the light `winged_monkey.settings` group, so
the config is checked without importing the backend's library; a plugin that registers
none there is asked for its class's `SETTINGS` instead. `offline_problem` builds an
account's backend without its secret, for `wm accounts` alone.

The bundled backends are looked up in wm's own distribution's metadata first (one file):
reading every installed package's entry points (a few hundred files in a full environment)
is left to a name found nowhere there, and to `available`.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import (
    EntryPoint,
    EntryPoints,
    PackageNotFoundError,
    SelectableGroups,
    distribution,
    entry_points,
)
from typing import TYPE_CHECKING

from winged_monkey.backend import Backend
from winged_monkey.errors import PluginError, WMError, describe

if TYPE_CHECKING:
    from winged_monkey.account import AccountConfig
    from winged_monkey.backend_settings import BackendSettings

GROUP = "winged_monkey.backends"
SETTINGS_GROUP = "winged_monkey.settings"
#: The distribution that ships the bundled backends (pyproject.toml's project name).
DISTRIBUTION = "winged-monkey"


def _entry_point(name: str, group: str = GROUP) -> EntryPoint | None:
    """The entry point `name` of `group`: a bundled one without reading any other package's
    metadata, another plugin's from the whole environment's."""
    return _bundled(group).get(name) or _entry_points(group).get(name)


@cache
def _bundled(group: str) -> dict[str, EntryPoint]:
    """wm's own entry points of `group` (none when wm runs uninstalled, from a checkout)."""
    try:
        found = distribution(DISTRIBUTION).entry_points
    except PackageNotFoundError:
        return {}
    return {ep.name: ep for ep in found.select(group=group)}


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
    entry = _entry_point(name)
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

    entry = _entry_point(name, SETTINGS_GROUP)
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
    """What is wrong with `account` that its backend can tell without a network call, in
    the words `wm ls` would say it: the backend is built as `wm ls` builds it (a
    constructor checks its settings and calls nothing: a libcloud provider or `driver` key
    libcloud does not know, a CA bundle or clouds.yaml that is not there), with no secret,
    then closed. A missing secret is `wm accounts test`'s to say. None when nothing is
    wrong."""
    import asyncio  # `wm accounts` alone comes here

    from winged_monkey.account import Secrets
    from winged_monkey.errors import CredentialError

    try:
        backend = load(account.backend)(account, Secrets(account=account.name))
        asyncio.run(backend.close())
    except CredentialError:
        return None
    except WMError as exc:
        return exc.message
    except Exception as exc:  # the plugin's bug: said, not a traceback over the listing
        return f"backend {account.backend!r} failed to build ({describe(exc)})"
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
