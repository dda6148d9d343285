"""The OpenStack the tests start listens on loopback only: every TCP socket any of its
processes listens on (services, MariaDB, RabbitMQ with its epmd and Erlang distribution
port), found through /proc, not only the ports stack.json names."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pytest

from tests.openstack.conftest import OpenStack

# The first test of a session to ask for the stack waits for it to start (~90 s idle).
pytestmark = pytest.mark.timeout(420)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def listening_sockets() -> dict[int, tuple[Address, int]]:
    """Socket inode -> (address, port) of every listening TCP socket on the host."""
    found: dict[int, tuple[Address, int]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(address_hex)
            # The kernel prints the address as 32-bit words in host (little-endian) order.
            ordered = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found[int(fields[9])] = (ipaddress.ip_address(ordered), int(port_hex, 16))
    return found


def stack_processes(pids_file: Path) -> list[int]:
    """Every process in the process groups the stack started (workers and children too)."""
    groups = {int(entry["pid"]) for entry in json.loads(pids_file.read_text())}
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) in groups:
                    members.append(int(entry.name))
            except ProcessLookupError:
                continue
    return members


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[len("socket:[") : -1]))
    except (FileNotFoundError, ProcessLookupError):
        pass
    return inodes


def is_loopback(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def test_every_listener_of_the_stack_is_on_loopback(openstack: OpenStack) -> None:
    sockets = listening_sockets()
    listeners = {
        sockets[inode]
        for pid in stack_processes(openstack.stack.pids_file)
        for inode in socket_inodes(pid)
        if inode in sockets
    }
    ports = {port for _, port in listeners}
    ours = openstack.state["ports"]
    # The witnesses were found: the check looked at RabbitMQ's node and its epmd.
    assert {ours["amqp"], ours["epmd"], ours["dist"], ours["keystone"]} <= ports
    exposed = sorted(f"{address}:{port}" for address, port in listeners if not is_loopback(address))
    assert not exposed, f"listening beyond loopback: {exposed}"
