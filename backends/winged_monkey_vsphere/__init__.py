"""Winged Monkey backend for VMware vSphere (vCenter or ESXi) through pyvmomi.

The backend class loads on first use, so the config can read `settings` (this backend's
account keys) without importing the backend's libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winged_monkey_vsphere.backend import VSphereBackend

__all__ = ["VSphereBackend"]


def __getattr__(name: str) -> object:
    if name == "VSphereBackend":
        from winged_monkey_vsphere.backend import VSphereBackend

        return VSphereBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
