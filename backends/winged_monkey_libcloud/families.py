"""Which family class serves a libcloud provider (LibcloudBackend's `__new__` asks)."""

from __future__ import annotations

from libcloud.compute.types import Provider

from winged_monkey_libcloud.backend import LibcloudBackend
from winged_monkey_libcloud.ec2 import EC2Backend
from winged_monkey_libcloud.generic import GenericBackend
from winged_monkey_libcloud.libvirt import LibvirtBackend
from winged_monkey_libcloud.openstack import OpenStackBackend

FAMILIES: dict[str, type[LibcloudBackend]] = {
    Provider.EC2: EC2Backend,
    Provider.OPENSTACK: OpenStackBackend,
    Provider.LIBVIRT: LibvirtBackend,
}


def family(provider: str) -> type[LibcloudBackend]:
    """The class for `provider` (as `drivers.resolve_provider` spells it)."""
    return FAMILIES.get(provider, GenericBackend)
