"""Which libcloud provider an account names, read from libcloud's list of providers alone
(`libcloud.compute.providers`: the names and where each driver lives, no driver).
"""

from __future__ import annotations

from libcloud.compute.providers import DRIVERS
from libcloud.compute.types import Provider

from winged_monkey.account import AccountConfig
from winged_monkey.errors import ConfigError


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
    import difflib  # only for a provider name that is wrong

    close = difflib.get_close_matches(lower, known, n=4, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(known[:12])}, ..."
    raise ConfigError(f"unknown libcloud provider {wanted!r}; {hint}", account=account.name)
