"""Which family class serves a libcloud provider (LibcloudBackend's `__new__` asks).

Only that family's module is imported: an EC2 account's process need not load the
OpenStack, libvirt or generic families (nor their compat layers), and the others need not
load EC2's.
"""

from __future__ import annotations

from libcloud.compute.types import Provider

from winged_monkey_libcloud.backend import LibcloudBackend


def family(provider: str) -> type[LibcloudBackend]:
    """The class for `provider` (as `providers.resolve_provider` spells it)."""
    if provider == Provider.EC2:
        from winged_monkey_libcloud.ec2 import EC2Backend

        return EC2Backend
    if provider == Provider.OPENSTACK:
        from winged_monkey_libcloud.openstack import OpenStackBackend

        return OpenStackBackend
    if provider == Provider.LIBVIRT:
        from winged_monkey_libcloud.libvirt import LibvirtBackend

        return LibvirtBackend
    from winged_monkey_libcloud.generic import GenericBackend

    return GenericBackend
