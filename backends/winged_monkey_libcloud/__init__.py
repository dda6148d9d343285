"""Winged Monkey backend for any apache-libcloud compute provider."""

from winged_monkey_libcloud.backend import LibcloudBackend

__all__ = ["LibcloudBackend"]
