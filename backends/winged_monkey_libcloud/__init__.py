"""Winged Monkey backend for any apache-libcloud compute provider.

`LibcloudBackend(account, secrets)` builds the class of the account's provider family
(EC2, OpenStack, libvirt, or the generic one; see families.py). It loads on first use,
so the config can read `settings` (this backend's account keys) without importing the
backend's libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winged_monkey_libcloud.backend import LibcloudBackend

__all__ = ["LibcloudBackend"]


def __getattr__(name: str) -> object:
    if name == "LibcloudBackend":
        from winged_monkey_libcloud.backend import LibcloudBackend

        return LibcloudBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
