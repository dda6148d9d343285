"""Winged Monkey backend for OpenStack Heat: stacks (n-tier apps) as portal rows."""

from winged_monkey_heat.backend import HeatBackend

__all__ = ["HeatBackend"]
