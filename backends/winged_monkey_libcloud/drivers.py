"""Which libcloud driver an account uses, what it can do, and how it is built.

Everything here is decided from the driver class and the account's config,
without a network call.
"""

from __future__ import annotations

import difflib
import inspect
from typing import Any
from urllib.parse import urlsplit

from libcloud.compute.base import NodeDriver
from libcloud.compute.providers import DRIVERS, get_driver
from libcloud.compute.types import Provider

from winged_monkey import aws
from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.backend import Capability
from winged_monkey.errors import ConfigError, CredentialError
from winged_monkey_libcloud import cloudsyaml
from winged_monkey_libcloud.ec2compat import BotocoreEC2NodeDriver, CompatEC2NodeDriver

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
#: libcloud's libvirt driver has no hard reboot; the backend calls virDomainReset itself.
_LIBVIRT_OWN = frozenset({Capability.RESET})


def provider_names() -> list[str]:
    """Every compute provider libcloud knows, as the config spells them ("ec2", "openstack")."""
    return sorted(str(name) for name in DRIVERS)


def resolve_provider(account: AccountConfig) -> str:
    """The libcloud provider name for an account; unknown names list close matches."""
    wanted = (account.provider or "").strip()
    if not wanted:
        raise ConfigError(
            "no provider set; name a libcloud compute provider, e.g. provider = 'ec2'",
            account=account.name,
        )
    known = provider_names()
    lower = wanted.lower()
    if lower in known:
        return lower
    constant = getattr(Provider, wanted.upper(), None)  # "AZURE_ARM" as well as "azure_arm"
    if isinstance(constant, str) and constant in known:
        return constant
    close = difflib.get_close_matches(lower, known, n=4, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known[:12])}, ..."
    raise ConfigError(f"unknown libcloud provider {wanted!r}; {hint}", account=account.name)


def is_ec2(provider: str) -> bool:
    return bool(provider == Provider.EC2)


def is_libvirt(provider: str) -> bool:
    return bool(provider == Provider.LIBVIRT)


def is_openstack(provider: str) -> bool:
    return bool(provider == Provider.OPENSTACK)


def driver_class(account: AccountConfig, provider: str) -> type[NodeDriver]:
    if is_ec2(provider) and aws.uses_botocore(account):
        return BotocoreEC2NodeDriver
    if is_ec2(provider) and account.endpoint is not None:
        return CompatEC2NodeDriver
    try:
        cls: type[NodeDriver] = get_driver(provider)
    except (AttributeError, ImportError) as exc:
        raise ConfigError(
            f"libcloud's {provider} driver cannot load ({type(exc).__name__}: {exc}); "
            "it may need an extra package",
            account=account.name,
        ) from None
    return _concrete(cls, account) if is_openstack(provider) else cls


def _concrete(cls: type[NodeDriver], account: AccountConfig) -> type[NodeDriver]:
    """The class a factory driver really builds, so its methods can be inspected.

    libcloud's OpenStackNodeDriver picks its class by `api_version` in `__new__`; the
    factory itself has neither suspend nor resume, nor the soft and hard reboots.
    """
    select: Any = getattr(cls, "__new__", None)
    if select is None or select is object.__new__:
        return cls
    try:
        built: object = select(cls, "probe", api_version=account.driver.get("api_version", "1.1"))
    except (NotImplementedError, TypeError):  # an unknown api_version: the driver says so later
        return cls
    return type(built) if isinstance(built, cls) else cls


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
        if is_libvirt(str(getattr(cls, "type", ""))):
            found |= _LIBVIRT_OWN
    return frozenset(found)


def driver_kwargs(
    account: AccountConfig, secrets: Secrets, provider: str, cls: type[NodeDriver]
) -> dict[str, Any]:
    """Keyword arguments for the driver: credentials, region, endpoint, timeout, extras."""
    kwargs: dict[str, Any] = {}
    if is_openstack(provider) and cloudsyaml.cloud_name(account) is not None:
        return {**_accepted(cls, _cloud_kwargs(account, secrets)), **account.driver}
    if is_ec2(provider) and secrets.aws is not None:
        return {**_accepted(cls, _botocore_kwargs(account, secrets.aws)), **account.driver}
    if is_ec2(provider):
        kwargs["key"] = secrets.require_key()
        kwargs["secret"] = secrets.require_secret()
        if secrets.token:
            kwargs["token"] = secrets.token  # temporary (STS) credentials
    else:
        params = inspect.signature(cls.__init__).parameters
        key = params.get("key")
        if secrets.key is not None:
            kwargs["key"] = secrets.key
        elif key is not None and key.default is inspect.Parameter.empty:
            kwargs["key"] = secrets.require_key()
        if secrets.secret is not None:
            kwargs["secret"] = secrets.secret
        if secrets.token:
            kwargs["token"] = secrets.token
    if account.region:
        kwargs["region"] = account.region
    if account.endpoint is not None:
        kwargs["host"] = account.endpoint.host
        kwargs["secure"] = account.endpoint.secure
        if account.endpoint.port is not None:
            kwargs["port"] = account.endpoint.port
        if is_ec2(provider):
            kwargs["signature_version"] = "4"  # quirk 1: SigV2 is routed to S3 by moto
    kwargs["timeout"] = account.timeout
    return {**_accepted(cls, kwargs), **account.driver}


def _botocore_kwargs(account: AccountConfig, identity: aws.AwsIdentity) -> dict[str, Any]:
    """What botocore resolved: the credentials (renewed before each request by the
    driver's connection), the profile's region and endpoint unless the account names its own."""
    key, secret, token = identity.frozen()
    kwargs: dict[str, Any] = {"key": key, "secret": secret, "ex_credentials": identity}
    if token:
        kwargs["token"] = token
    kwargs["signature_version"] = "4"  # quirk 1; AWS accepts SigV4 everywhere
    region = account.region or identity.region
    if region:
        kwargs["region"] = region
    endpoint = account.endpoint
    if endpoint is not None:
        kwargs.update(host=endpoint.host, secure=endpoint.secure)
        if endpoint.port is not None:
            kwargs["port"] = endpoint.port
    elif identity.endpoint_url is not None:
        url = urlsplit(identity.endpoint_url)
        kwargs.update(host=url.hostname, secure=url.scheme == "https")
        if url.port is not None:
            kwargs["port"] = url.port
    kwargs["timeout"] = account.timeout
    return kwargs


def _cloud_kwargs(account: AccountConfig, secrets: Secrets) -> dict[str, Any]:
    """A clouds.yaml cloud's arguments, read now; a secret the portal found (keyring,
    secret_env, ...) wins over the file's."""
    cloud = cloudsyaml.resolve(account)
    secret = secrets.secret or cloud.secret
    if secret is None:
        raise CredentialError(
            f"clouds.yaml: cloud {cloud.name!r} has no password or secret (clouds.yaml, "
            f"secure.yaml); store one with `wm accounts set-secret {account.name}` or name "
            "secret_env or secret_command in the account's [accounts.credentials]",
            account=account.name,
        )
    kwargs: dict[str, Any] = {"key": secrets.key or cloud.key, "secret": secret, **cloud.driver}
    kwargs["timeout"] = account.timeout
    return kwargs


def _accepted(cls: type[NodeDriver], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Drop the generic arguments a driver's constructor does not take (libvirt's takes
    no region or timeout). What the user names in `driver` is passed as given."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return kwargs
    return {name: value for name, value in kwargs.items() if name in params}
