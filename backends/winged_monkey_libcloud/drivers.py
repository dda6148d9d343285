"""What the driver of an account's libcloud provider can do, and how any driver is built
(a family's own arguments are in its class: ec2.py, openstack.py; which provider an
account names is in providers.py).

Everything here is decided from the driver class and the account's config,
without a network call.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from libcloud.compute.base import NodeDriver
from libcloud.compute.providers import get_driver

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.backend import Capability
from winged_monkey.errors import ConfigError

#: Mutating capabilities and the driver methods that carry them out, first found wins.
#: The `ex_` names are libcloud's extension API, shared with one meaning by the drivers
#: that have them (OpenStack, libvirt, vSphere, vCloud). OpenStack's `reboot_node` is a
#: HARD reboot, so its soft one (`ex_soft_reboot_node`) is the portal's reboot and the
#: hard one its reset.
METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.START: ("start_node",),
    Capability.STOP: ("stop_node",),
    Capability.REBOOT: ("ex_soft_reboot_node", "reboot_node"),
    Capability.DESTROY: ("destroy_node",),
    Capability.SUSPEND: ("ex_suspend_node",),
    Capability.RESUME: ("ex_resume_node",),
    Capability.RESET: ("ex_hard_reboot_node",),
}
MUTATING = frozenset(METHODS)


def load(account: AccountConfig, provider: str) -> type[NodeDriver]:
    """libcloud's driver class for `provider`."""
    try:
        cls: type[NodeDriver] = get_driver(provider)
    except (AttributeError, ImportError) as exc:
        raise ConfigError(
            f"libcloud's {provider} driver cannot load ({type(exc).__name__}: {exc}); "
            "it may need an extra package",
            account=account.name,
        ) from None
    return cls


def check_keys(account: AccountConfig, provider: str, cls: type[NodeDriver]) -> None:
    """Refuses a key of the account's `driver` table that the driver class would drop:
    libcloud's constructors take `**kwargs` and ignore what they do not read, so a typo
    (`ex_force_auth_urll`, `regoin`) would lose the user's intent in silence. What a class
    reads is found in libcloud's code (driverkeys.py); names a value, never echoes one."""
    if not account.driver:
        return
    from winged_monkey.backend_settings import SECRET_KEYS, secret_hint

    pasted = sorted(SECRET_KEYS & account.driver.keys())
    if pasted:
        raise ConfigError(
            f"driver.{pasted[0]}: a secret in the config file{secret_hint(account.name)}",
            account=account.name,
        )
    # What wm passes from the account's credentials (a secret is refused above): in `driver`
    # it would win in silence, the calls signed with a key wm neither shows nor checks.
    moved = [key for key in CREDENTIAL_KEYS if key in account.driver]
    if moved:
        key = moved[0]
        raise ConfigError(
            f"driver.{key}: the account's {key} goes in its [accounts.credentials] "
            f"({CREDENTIAL_KEYS[key]}), not in driver: libcloud would sign the calls with the "
            "driver's while wm reads and shows the credentials'; move it there",
            account=account.name,
        )
    # What wm passes from the account's own keys: written in `driver` too, and different, the
    # driver's would win in silence while wm shows the account's.
    own = placement(account)
    twice = [key for key in OWN_KEYS if key in account.driver and key in own]
    twice = [key for key in twice if account.driver[key] != own[key]]
    if twice:
        raise ConfigError(
            " and ".join(
                f"driver.{key} differs from the account's {OWN_KEYS[key]}" for key in twice
            )
            + ": libcloud would use the driver's while wm shows the account's; write "
            + ("it" if len(twice) == 1 else "each")
            + " once, as the account's",
            account=account.name,
        )
    from winged_monkey_libcloud import driverkeys

    accepted = driverkeys.takes(cls)
    unknown = accepted.unknown(sorted(account.driver))
    if not unknown:
        return
    from winged_monkey.errors import nearest

    named = []
    for key in unknown:
        if version := _another_version_takes(provider, cls, key):
            named.append(f'{key!r} (read by api_version = "{version}": add it to driver)')
        elif close := nearest(key, accepted.names):
            named.append(f"{key!r} (did you mean {close!r}?)")
        else:
            named.append(repr(key))
    one = len(unknown) == 1
    raise ConfigError(
        f"unknown {'key' if one else 'keys'} {', '.join(named)} in driver: libcloud's "
        f"{provider} driver ({cls.__name__}) takes no such {'argument' if one else 'arguments'}"
        f" and would ignore {'it' if one else 'them'}; correct or remove "
        f"{'it' if one else 'them'}. That driver takes {', '.join(sorted(accepted.names))}",
        account=account.name,
    )


#: Providers wm has a backend of its own for, which an account should name instead.
OWN_BACKENDS = {
    "vsphere": 'use wm\'s own vSphere backend instead: backend = "vsphere" in place of '
    "provider, with endpoint and credentials (user in key, password as the secret)",
}

#: The driver arguments wm passes from the account's credentials, never from `driver`.
_FROM_CREDENTIALS = frozenset({"key", "secret", "token"})


def check_required(account: AccountConfig, provider: str, cls: type[NodeDriver]) -> None:
    """Refuses an account that leaves out an argument the driver's constructor requires
    (libvirt's uri, gce's user_id), in the config's words, before any call: libcloud's own
    refusal ("__init__() missing 1 required positional argument: 'uri'") is Python's."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    given = set(built(account, cls, placement(account))) | _FROM_CREDENTIALS
    missing = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in given
    ]
    if missing:
        raise ConfigError(needs(provider, missing), account=account.name)


def needs(provider: str, missing: list[str]) -> str:
    """What to write for the driver arguments `missing` (never a secret's value)."""
    from winged_monkey.backend_settings import SECRET_KEYS

    listed = " and ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    said = f"libcloud's {provider} driver needs {listed}"
    if provider in OWN_BACKENDS:
        return f"{said}: {OWN_BACKENDS[provider]}"
    if "key" in missing:  # wm passes it from the credentials, never from `driver`
        return (
            f'{said}: set the account\'s key in its [accounts.credentials] (key = "..." or '
            "key_env), not in driver"
        )
    secrets = [name for name in missing if name.lower() in SECRET_KEYS]
    if secrets:
        return (
            f"{said}; {secrets[0]} is a secret, which never goes in the config and which wm "
            "passes a driver only as its secret: this driver cannot be used through wm"
        )
    one = len(missing) == 1
    return (
        f"{said}: set {'it' if one else 'them'} in the account's driver table (driver = "
        + "{ "
        + ", ".join(f'{name} = "..."' for name in missing)
        + " })"
    )


#: Python's words for a constructor called without an argument it requires.
_MISSING = re.compile(r"missing \d+ required (?:positional|keyword-only) arguments?: (.+)$")


def refusal(provider: str, exc: TypeError | ValueError) -> str:
    """A driver constructor's refusal in the config's words where it is an argument left
    out (as check_required says it), else libcloud's own."""
    found = _MISSING.search(str(exc)) if isinstance(exc, TypeError) else None
    names = re.findall(r"'([^']+)'", found.group(1)) if found else []
    if names:
        return needs(provider, names)
    return f"libcloud's {provider} driver refused the settings: {exc}"


#: The credential arguments wm passes to every driver (`driver_kwargs`) that the secret
#: keys (backend_settings.SECRET_KEYS: secret, token, ...) leave out, with where they go.
#: libcloud's constructors take them first, positionally: `key, secret` for nearly every
#: driver; those that take another name first (gce's and gridscale's user_id, upcloud's
#: username, vsphere's host) get it from `driver`, wm passing none of them.
CREDENTIAL_KEYS = {"key": 'key = "..." or key_env'}

#: The driver arguments wm passes from the account's own keys (`placement`), by those keys.
OWN_KEYS = {
    "region": "region",
    "host": "endpoint.host",
    "port": "endpoint.port",
    "secure": "endpoint.secure",
    "timeout": "timeout",
}

#: The api_version values for which a factory driver builds another class than its default:
#: libcloud's OpenStack builds its 1.1 driver unless told "2.0" (which also reads the network,
#: image and volume endpoints: ex_force_network_url, ...).
OTHER_VERSIONS: dict[str, tuple[str, ...]] = {"openstack": ("2.0",)}


def _another_version_takes(provider: str, cls: type[NodeDriver], key: str) -> str | None:
    """The api_version whose driver class reads `key`, when the one built (`cls`) does not."""
    from winged_monkey_libcloud import driverkeys

    factory: Any = get_driver(provider)
    for version in OTHER_VERSIONS.get(provider, ()):
        try:  # the class the factory's __new__ picks, unbuilt (as openstack._concrete does)
            other = type(factory.__new__(factory, "probe", api_version=version))
        except (NotImplementedError, TypeError):
            continue
        if other is not cls and key in driverkeys.takes(other).names:
            return version
    return None


def method(cls: type[NodeDriver], capability: Capability) -> str | None:
    """The driver method that carries out `capability`, if the class really implements one
    (a NodeDriver method only counts when overridden: the base raises NotImplementedError)."""
    for name in METHODS.get(capability, ()):
        if getattr(cls, name, None) not in (None, getattr(NodeDriver, name, None)):
            return name
    return None


def capabilities(cls: type[NodeDriver], *, read_only: bool) -> frozenset[Capability]:
    """LIST always; an action only if the driver class really implements it."""
    found = {Capability.LIST}
    if not read_only:
        found |= {capability for capability in METHODS if method(cls, capability)}
    return frozenset(found)


def driver_kwargs(
    account: AccountConfig, secrets: Secrets, cls: type[NodeDriver]
) -> dict[str, Any]:
    """Keyword arguments for any driver: the credentials its constructor asks for, then
    where it runs (region, endpoint, timeout), then what the user names in `driver`."""
    params = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = {}
    key = params.get("key")
    if secrets.key is not None:
        kwargs["key"] = secrets.key
    elif key is not None and key.default is inspect.Parameter.empty:
        kwargs["key"] = secrets.require_key()
    if secrets.secret is not None:
        kwargs["secret"] = secrets.secret
    if secrets.token:
        kwargs["token"] = secrets.token
    return built(account, cls, {**kwargs, **placement(account)})


def placement(account: AccountConfig) -> dict[str, Any]:
    """The account's region, endpoint and timeout as libcloud's driver arguments."""
    kwargs: dict[str, Any] = {}
    if account.region:
        kwargs["region"] = account.region
    if account.endpoint is not None:
        kwargs["host"] = account.endpoint.host
        kwargs["secure"] = account.endpoint.secure
        if account.endpoint.port is not None:
            kwargs["port"] = account.endpoint.port
    kwargs["timeout"] = account.timeout
    return kwargs


def built(account: AccountConfig, cls: type[NodeDriver], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments the constructor takes (libvirt's takes no region or timeout), with
    what the user names in `driver` passed as given."""
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {name: value for name, value in kwargs.items() if name in params}
    return {**kwargs, **account.driver}
