"""What libcloud's libvirt driver gets wrong for a portal, and the fixes.

1. `Node.id` is the domain id, which changes on every start (and is -1 while
   shut off): the portal uses the domain's UUID.
2. libcloud maps paused, shutting-down and shut-off all to TERMINATED: the
   portal asks libvirt for the real state (one `listAllDomains` for the lot).
3. libcloud's `destroy_node` only powers a domain off (libvirt's "destroy");
   the portal's destroy also undefines it, so it is gone as on any cloud.
4. libcloud has no hard reboot for libvirt: the portal's reset is virDomainReset
   (a power cycle without asking the guest, as a reset button does).
5. libvirt prints every error on stderr as well as raising it: over the TUI's screen.
6. A transient domain (started from XML, never defined) is gone once it stops: the row
   says so (`extra["transient"]`), so a stop that ends with it gone is done, not failed.
7. libcloud finds a domain's addresses only for a local uri, in this machine's own ARP
   table (`arp -an`): over qemu+ssh or +tcp every domain had none. libvirt says them
   wherever it runs: its networks' DHCP leases, else its host's ARP table.
8. A domain its guest put to sleep (pmsuspended: ACPI S3/S4) is not paused: libcloud's
   resume is libvirt's, which refuses it ("domain is not paused"); it wakes through
   virDomainPMWakeup (`virsh dompmwakeup`).
9. libcloud's stop is virDomainShutdown, which asks the guest: QEMU refuses it for a
   domain whose guest cannot answer (paused, put to sleep, crashed, or asked already and
   stuck shutting down: "domain is not running"). The portal's stop powers such a domain
   off (virDomainDestroy: `virsh destroy`, which keeps it defined).
10. A guest that ignores the shutdown request (no ACPI daemon, hung) keeps its domain
   running, and a second stop would only ask it again; libcloud's only power-off,
   destroy_node, also undefines the domain. The portal's poweroff is virDomainDestroy
   alone: off now, still defined.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from winged_monkey.actions import Action
from winged_monkey.models import InstanceState

S = InstanceState

#: virDomainState values: (portal state, libvirt's own name for it).
DOMAIN_STATES: dict[int, tuple[InstanceState, str]] = {
    0: (S.UNKNOWN, "nostate"),
    1: (S.RUNNING, "running"),
    2: (S.RUNNING, "blocked"),
    3: (S.SUSPENDED, "paused"),
    4: (S.STOPPING, "shutdown"),
    5: (S.STOPPED, "shutoff"),
    6: (S.ERROR, "crashed"),
    7: (S.SUSPENDED, "pmsuspended"),
}


def quiet() -> None:
    """libvirt's errors as exceptions only: its default handler also prints each one on
    stderr ("libvirt: XML-RPC error : ..."), where the TUI draws. Process-wide, as libvirt's
    handler is; run when a libvirt account is built, never at import."""
    import libvirt  # the driver's own dependency: loaded only for a libvirt account

    libvirt.registerErrorHandler(_ignore, None)


def _ignore(_context: object, _error: object) -> None:
    return None


def node_uuid(node: Any) -> str:
    return str((node.extra or {}).get("uuid") or node.id)


def domain_states(connection: Any) -> dict[str, tuple[InstanceState, str]]:
    """Every domain's real state by UUID, from libvirt itself."""
    states: dict[str, tuple[InstanceState, str]] = {}
    for domain in connection.listAllDomains():
        code = int(domain.state()[0])
        states[str(domain.UUIDString())] = DOMAIN_STATES.get(code, (S.UNKNOWN, str(code)))
    return states


def transient(connection: Any) -> set[str]:
    """The UUIDs of the transient domains (started from XML, never defined): libvirt removes
    one once it stops. One call for the lot."""
    import libvirt  # the driver's own dependency: loaded only for a libvirt account

    found = connection.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
    return {str(domain.UUIDString()) for domain in found}


def addresses(connection: Any) -> dict[str, tuple[str, ...]]:
    """The addresses of every running domain by UUID, as libvirt knows them (what `virsh
    domifaddr --source lease`, else `--source arp`, says): none for a domain it knows none
    of. A link-local IPv6 address is left out: no one reaches it without its interface."""
    import libvirt  # the driver's own dependency: loaded only for a libvirt account

    sources = (
        libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
        libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP,
    )
    found: dict[str, tuple[str, ...]] = {}
    for domain in connection.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
        for source in sources:
            try:
                interfaces = domain.interfaceAddresses(source) or {}
            except libvirt.libvirtError:  # a driver without this source; a domain just gone
                continue
            seen = [
                str(entry["addr"])
                for interface in interfaces.values()
                for entry in interface.get("addrs") or ()
                if entry.get("addr") and not _link_local(str(entry["addr"]))
            ]
            if seen:
                found[str(domain.UUIDString())] = tuple(dict.fromkeys(seen))
                break
    return found


def _link_local(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_link_local
    except ValueError:
        return True  # not an address at all: nothing to show


def destroy(connection: Any, uuid: str) -> None:
    """Power off (if running) and undefine: the domain is gone, not just stopped."""
    domain = connection.lookupByUUIDString(uuid)
    if domain.isActive():
        domain.destroy()
    domain.undefine()


def reset(connection: Any, uuid: str) -> None:
    """Reset a running domain (virDomainReset): the guest is not asked."""
    connection.lookupByUUIDString(uuid).reset(0)


def resume(connection: Any, uuid: str) -> None:
    """Resume a paused domain; wake one its guest put to sleep (pmsuspended)."""
    import libvirt  # the driver's own dependency: loaded only for a libvirt account

    domain = connection.lookupByUUIDString(uuid)
    if int(domain.state()[0]) == libvirt.VIR_DOMAIN_PMSUSPENDED:
        domain.pMWakeup(0)
    else:
        domain.resume()


def stop(connection: Any, uuid: str) -> None:
    """Ask a running domain's guest to shut down (virDomainShutdown, libcloud's stop); power
    off one whose guest cannot answer (paused, asleep, crashed: QEMU's shutdown wants it
    running), or was asked and is still shutting down: the stop after one that did not
    take (virDomainDestroy). Either way it stays defined."""
    import libvirt  # the driver's own dependency: loaded only for a libvirt account

    domain = connection.lookupByUUIDString(uuid)
    unasked = (
        libvirt.VIR_DOMAIN_PAUSED,
        libvirt.VIR_DOMAIN_PMSUSPENDED,
        libvirt.VIR_DOMAIN_SHUTDOWN,
        libvirt.VIR_DOMAIN_CRASHED,  # kept (on_crash preserve) for a dump: nothing runs
    )
    if int(domain.state()[0]) in unasked:
        domain.destroy()
    else:
        domain.shutdown()


def poweroff(connection: Any, uuid: str) -> None:
    """Power a domain off without asking its guest (virDomainDestroy, `virsh destroy`):
    it stays defined, as after a stop."""
    connection.lookupByUUIDString(uuid).destroy()


def act(connection: Any, action: Action, uuid: str) -> None:
    """The actions the portal runs on libvirt itself rather than through libcloud."""
    if action is Action.DESTROY:
        destroy(connection, uuid)
    elif action is Action.RESET:
        reset(connection, uuid)
    elif action is Action.POWEROFF:
        poweroff(connection, uuid)
    elif action is Action.RESUME:
        resume(connection, uuid)
    elif action is Action.STOP:
        stop(connection, uuid)
    else:  # pragma: no cover (the backend sends only these here)
        raise ValueError(f"libvirtcompat does not {action}")
