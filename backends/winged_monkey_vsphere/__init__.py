"""Winged Monkey backend for VMware vSphere (vCenter or ESXi) through pyvmomi."""

from winged_monkey_vsphere.backend import VSphereBackend

__all__ = ["VSphereBackend"]
