"""libvirt as a libcloud family: the generic way, with libvirtcompat's fixes.

A domain is known by its UUID and its real state comes from libvirt itself; destroy
also undefines it, stop powers off a paused, sleeping or crashed one (its guest cannot
be asked) or one stuck shutting down, reset is virDomainReset (libcloud's driver has
no hard reboot), and poweroff is virDomainDestroy on any domain that runs (libcloud's
destroy_node also undefines it): for a guest that ignores the shutdown a stop asks for.
Its connection is a virConnect, closed through the lane. Over ssh, ssh never asks on
wm's terminal (libvirtssh.py), and libvirt's own printing of its errors on stderr, which
would draw over the TUI, is turned off: each error reaches wm as the exception it raises.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from libcloud.compute.base import Node, NodeDriver

from winged_monkey.account import AccountConfig, Secrets
from winged_monkey.actions import Action
from winged_monkey.backend import Capability
from winged_monkey.errors import BackendError, UnreachableError, WMError
from winged_monkey.models import Instance
from winged_monkey_libcloud import libvirtcompat, libvirtssh, libvirturi, nottyssh
from winged_monkey_libcloud.generic import GenericBackend

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The actions run on libvirt itself rather than through libcloud's driver.
_OWN = frozenset({Action.DESTROY, Action.POWEROFF, Action.RESET, Action.RESUME, Action.STOP})

#: libvirt's words when the local daemon's unix socket is not there or not answering.
_NO_DAEMON = re.compile(
    r"Failed to connect socket to '(?P<path>[^']*)': (No such file or directory|Connection refused)"
)
#: A +tcp uri's daemon that is not there, or not listening on TCP (libvirtd's default).
_NO_LISTENER = re.compile(r"unable to connect to server at '[^']*': Connection refused")


class LibvirtBackend(GenericBackend):
    """The domains of one libvirt connection."""

    OWN_ACTIONS: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.RESET, Capability.POWEROFF}
    )

    def __init__(self, account: AccountConfig, secrets: Secrets) -> None:
        super().__init__(account, secrets)
        libvirtcompat.quiet()

    def check_required(self) -> None:
        # no uri, or one holding a password: a config error now, in libvirt's words
        libvirturi.check(self.account)
        super().check_required()

    def driver_kwargs(self) -> dict[str, Any]:
        kwargs = super().driver_kwargs()
        uri = kwargs.get("uri")
        if isinstance(uri, str):
            kwargs["uri"] = libvirtssh.without_prompts(uri, nottyssh.wrapper)
            if "+tcp" in uri and kwargs.get("key") is None and kwargs.get("secret") is None:
                # libcloud refuses a +tcp uri with neither ("please set 'key' and 'secret'
                # parameters", words wm's config has not), though a libvirtd with
                # auth_tcp = "none" asks for none; one that asks (SASL) refuses the login.
                kwargs["key"] = ""
        return kwargs

    def _where(self) -> str:
        """The uri without its query (keyfile=, known_hosts=, socket= paths) or a password."""
        uri = self.account.driver.get("uri")
        if not isinstance(uri, str) or not uri:
            return "libvirt"
        return libvirturi.scrub(uri.partition("?")[0], uri)

    def _run(self, work: Callable[[NodeDriver], T]) -> T:
        try:
            return super()._run(work)
        except WMError as error:
            # Raised `from None`, the error still holds libvirt's exception as its context,
            # and with it the frames of the failed call and the virDomain objects in them,
            # each keeping the connection open after it is closed (for the test driver, its
            # domains with it).
            error.__context__ = None
            raise

    def _failure(self, driver: NodeDriver | None, exc: Exception) -> WMError:
        failed = self._said(driver, exc)
        # libvirt quotes the uri as written ("Unable to parse URI qemu+tcp://me:pw@..."):
        # its password, refused when the account is built, is masked should one get here.
        failed.message = libvirturi.scrub(failed.message, self.account.driver.get("uri"))
        return failed

    def _said(self, driver: NodeDriver | None, exc: Exception) -> WMError:
        if type(exc).__name__ != "libvirtError":
            return super()._failure(driver, exc)
        uri = self.account.driver.get("uri")
        said = (
            libvirtssh.failure(uri, str(exc), account=self.account.name)
            if isinstance(uri, str)
            else None
        )
        # libvirt's own words name what failed and where ("unable to connect to server at
        # '...': Connection refused"); the exception's type name added nothing.
        words = f"libvirt: {' '.join(str(exc).split())}"
        if _NO_DAEMON.search(words):
            words += (
                ": is libvirt's daemon running on this machine? Start it (`sudo systemctl "
                "start libvirtd`, or virtqemud where the daemons are split), or name its "
                "socket in the uri (?socket=/path)"
            )
        elif _NO_LISTENER.search(words):
            words += (
                ": is libvirt's daemon listening there? It listens on TCP only when told "
                "(libvirtd-tcp.socket, or --listen with listen_tcp = 1); or reach it over ssh "
                "(qemu+ssh://user@host/system)"
            )
        if driver is not None and self._lost(driver):
            words += (
                ": the connection to libvirt's daemon was lost (it stopped or restarted?); "
                "the next poll connects again"
            )
        return said or BackendError(self.secrets.mask(words), account=self.account.name)

    def _lost(self, driver: NodeDriver) -> bool:
        """Whether `driver`'s virConnect is closed (its daemon stopped, restarted or dropped
        it); if so it is forgotten, so the next call opens a new one: libvirt never reopens
        a closed connection, and each call would fail with 'client socket is closed' until
        wm restarted."""
        virconnect: Any = driver.connection
        try:
            if virconnect.isAlive():
                return False
        except Exception:  # whatever libvirt says, the connection is unusable
            log.debug("libvirt isAlive failed", exc_info=True)
        with self._lock:
            if driver in self._drivers:  # not put back among the idle ones by _run
                self._drivers.remove(driver)
        with contextlib.suppress(Exception):
            virconnect.close()
        return True

    async def _release(self, driver: NodeDriver) -> None:
        # Closing the last virConnect resets libvirt's test driver, so each one is closed.
        # Refused when the lane is full of stuck calls: the exit frees it then.
        virconnect: Any = driver.connection
        with contextlib.suppress(UnreachableError):
            await self.run_blocking(virconnect.close)

    def _list(self, driver: NodeDriver) -> list[Instance]:
        states = libvirtcompat.domain_states(driver.connection)
        transient = libvirtcompat.transient(driver.connection)
        addresses = libvirtcompat.addresses(driver.connection)
        found = []
        for node in driver.list_nodes():
            ident = self._node_id(node)
            row = self._convert(driver, node, states.get(ident))
            if ident in transient:
                row = row.model_copy(update={"extra": {**row.extra, "transient": True}})
            if row.size is None:
                row = row.model_copy(update={"size": _size(row.extra)})
            if ident in addresses:  # libvirt's word wins over libcloud's local ARP table
                public, private = _split(addresses[ident])
                row = row.model_copy(update={"public_ips": public, "private_ips": private})
            found.append(row)
        return found

    def _node_id(self, node: Node) -> str:
        return libvirtcompat.node_uuid(node)

    def retries(self, action: Action, instance: Instance) -> bool:
        # A domain stuck shutting down (libvirt's `shutdown`: its guest was asked and has
        # not finished) is stopping, which refuses a stop: the next one powers it off.
        return action is Action.STOP and instance.raw_state == "shutdown"

    def after_timeout(self, action: Action, instance: Instance) -> str | None:
        # A stop left in `shutdown`: the next stop powers it off. One whose guest never
        # began (still running) would be asked again by the next stop: poweroff (the
        # default's words) does not ask it.
        if self.retries(action, instance):
            return "stop again to power it off"
        return super().after_timeout(action, instance)

    def _act(self, driver: NodeDriver, action: Action, instance: Instance) -> None:
        if action in _OWN:
            libvirtcompat.act(driver.connection, action, instance.id)
        else:
            super()._act(driver, action, instance)


def _split(addresses: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(public, private): an address the internet routes to is public."""
    public = tuple(a for a in addresses if ipaddress.ip_address(a).is_global)
    return public, tuple(a for a in addresses if a not in public)


def _size(extra: dict[str, Any]) -> str | None:
    """`2 vCPU / 2048 MB`, as a vSphere VM's size reads: libvirt has no flavours, and its
    domain info (libcloud's extra) has the vCPUs and the memory (KiB, read as MiB)."""
    cpus, memory = extra.get("vcpu_count"), extra.get("used_memory")
    if not isinstance(cpus, int) or not isinstance(memory, int | float):
        return None
    return f"{cpus} vCPU / {memory:g} MB"
