"""DescribeInstances (and DescribeImages) page by page, as botocore's paginator reads them
(MaxResults, then the reply's nextToken until there is none).

libcloud's list_nodes makes one call and ignores nextToken: an EC2-compatible server that
pages by default (moto and LocalStack stop at 100 reservations) lost every instance past
the first page, and the inventory then logged them as vanished. AWS itself advises paging
DescribeInstances, since an unpaged call on a large account "might be throttled and could
time out"; a page also bounds the reply held in memory at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node

#: The most one page holds (EC2's MaxResults limit: reservations, or images).
PAGE = 1000
#: EC2's code for an action the caller's IAM policy does not allow (moto says AccessDenied).
_REFUSED = frozenset({"UnauthorizedOperation", "AccessDenied"})


def replies(
    driver: Any, action: str, filters: Mapping[str, Sequence[str]] | None = None
) -> Iterator[Element]:
    """`action`'s replies (matching `filters`, EC2's filter names), a page at a time: MaxResults,
    then each reply's nextToken until there is none; a caller may stop at any page."""
    params: dict[str, str] = {"Action": action, "MaxResults": str(PAGE)}
    for i, (name, values) in enumerate((filters or {}).items(), start=1):
        params[f"Filter.{i}.Name"] = name
        params.update({f"Filter.{i}.Value.{j}": v for j, v in enumerate(values, start=1)})
    token, seen = "", set()
    while token not in seen:  # a server that hands back a token twice would loop forever
        seen.add(token)
        asked = {**params, "NextToken": token} if token else params
        reply = driver.connection.request(driver.path, params=asked).object
        yield reply
        token = reply.findtext("{*}nextToken") or ""


def each_page(
    driver: Any, filters: Mapping[str, Sequence[str]] | None = None
) -> Iterator[list[Node]]:
    """The account's instances (matching `filters`, EC2's filter names), a page at a time,
    as libcloud's list_nodes builds them with their IPv6 addresses; elastic IPs not yet
    added (`add_elastic_ips`)."""
    for reply in replies(driver, "DescribeInstances", filters):
        yield _nodes(driver, reply)


def _nodes(driver: Any, reply: Element) -> list[Node]:
    """A DescribeInstances reply's instances as libcloud's list_nodes builds them (its own
    builder: the same Node, extra and all), with the IPv6 addresses it leaves out."""
    nodes: list[Node] = []
    for reservation in reply.findall("{*}reservationSet/{*}item"):
        built = driver._to_nodes(reservation, "instancesSet/item")
        read = reservation.findall("{*}instancesSet/{*}item")
        for node, element in zip(built, read, strict=True):
            _add_interfaces(node, element)
            _add_ipv6(node, element)
        nodes.extend(built)
    return nodes


def _add_interfaces(node: Node, element: Element) -> None:
    """Every network interface's IPv4 addresses after the instance's own, which are its
    primary interface's primary ones alone (all libcloud reads): a second interface's (or a
    secondary) private address, and the public or elastic IP on it, which DescribeAddresses
    may name by the interface with no instance, so an instance reached through its second
    interface showed no public address at all."""
    for item in element.findall("{*}networkInterfaceSet/{*}item/{*}privateIpAddressesSet/{*}item"):
        for listed, path in (
            (node.private_ips, "{*}privateIpAddress"),
            (node.public_ips, "{*}association/{*}publicIp"),
        ):
            address = (item.findtext(path) or "").strip()
            if address and address not in listed:
                listed.append(address)


def _add_ipv6(node: Node, element: Element) -> None:
    """The instance's IPv6 addresses, after its IPv4 ones: a global one among the public
    addresses (an IPv6-only instance, which AWS's charge for public IPv4 makes common, had
    none to show or to ssh to), a unique local one (fd00::/8) among the private."""
    paths = (
        "{*}ipv6Address",  # the primary one, as EC2 has said since 2021
        "{*}networkInterfaceSet/{*}item/{*}ipv6AddressesSet/{*}item/{*}ipv6Address",
    )
    for path in paths:
        for found in element.findall(path):
            address = (found.text or "").strip()
            try:
                public = ipaddress.IPv6Address(address).is_global
            except ValueError:
                continue
            listed = node.public_ips if public else node.private_ips
            if address not in listed:
                listed.append(address)


def one(driver: Any, instance_id: str) -> list[Node]:
    """The instance alone (DescribeInstances by id, which takes no MaxResults), as a page's;
    elastic IPs not yet added."""
    params = {"Action": "DescribeInstances", "InstanceId.1": instance_id}
    return _nodes(driver, driver.connection.request(driver.path, params=params).object)


def elastic_ips(driver: Any, instance_id: str | None = None) -> dict[str, list[str]] | None:
    """Instance id -> the elastic IPs associated with it (with `instance_id`, its alone):
    one DescribeAddresses call, as libcloud's list_nodes makes it (it then rescans the reply
    once per instance). None if the account's policy refuses it: a policy may allow listing
    instances alone, and each instance's own public address (DescribeInstances') stands."""
    params = {"Action": "DescribeAddresses"}
    if instance_id is not None:
        params.update({"Filter.1.Name": "instance-id", "Filter.1.Value.1": instance_id})
    try:
        reply = driver.connection.request(driver.path, params=params).object
    except BaseHTTPError as exc:
        refused = str(exc.message).split(":", 1)[0] in _REFUSED
        if exc.code == 403 or refused:
            return None
        raise
    found: dict[str, list[str]] = {}
    for item in reply.findall("{*}addressesSet/{*}item"):
        instance, address = item.findtext("{*}instanceId"), item.findtext("{*}publicIp")
        if instance and address:
            found.setdefault(instance, []).append(address)
    return found


def add_elastic_ips(node: Node, addresses: Mapping[str, list[str]]) -> Node:
    """`node` with its elastic IPs among its public ones (once: the one EC2 shows as the
    instance's public address is an elastic IP too)."""
    node.public_ips.extend(a for a in addresses.get(str(node.id), ()) if a not in node.public_ips)
    return node
