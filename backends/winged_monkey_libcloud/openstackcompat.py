"""What libcloud's OpenStack driver leaves out or misreads: Nova's task state, fault text,
Keystone errors, a global IPv6 address taken for a private one.

Nova answers an action at once and runs it as a *task*: the server stays ACTIVE with
`task_state = "powering-off"` until it is SHUTOFF. libcloud maps only `status`, so
a stop would look finished (or a reboot never started) on the first poll. Here a
server with a task in flight is in the transition the task leads through, and the
portal follows it until the task state is empty.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.base import Node

from winged_monkey.account import Secrets
from winged_monkey.errors import AuthError
from winged_monkey.models import InstanceState
from winged_monkey_libcloud import sizes
from winged_monkey_libcloud.states import map_state

S = InstanceState

#: Nova task states (nova/compute/task_states.py) onto the state the server is moving through.
TASK_STATES: dict[str, InstanceState] = {
    "scheduling": S.PENDING,
    "block_device_mapping": S.PENDING,
    "networking": S.PENDING,
    "spawning": S.PENDING,
    "powering-on": S.PENDING,
    "resuming": S.PENDING,
    "unpausing": S.PENDING,
    "unshelving": S.PENDING,
    "unrescuing": S.PENDING,
    "spawning-in-cell": S.PENDING,
    "rebuilding": S.PENDING,
    "rebuild_block_device_mapping": S.PENDING,
    "rebuild_spawning": S.PENDING,
    "powering-off": S.STOPPING,
    "suspending": S.STOPPING,
    "pausing": S.STOPPING,
    "shelving": S.STOPPING,
    "shelving_image_pending_upload": S.STOPPING,
    "shelving_image_uploading": S.STOPPING,
    "shelving_offloading": S.STOPPING,
    "deleting": S.STOPPING,
    "soft-deleting": S.STOPPING,
    "rebooting": S.REBOOTING,
    "reboot_pending": S.REBOOTING,
    "reboot_started": S.REBOOTING,
    "rebooting_hard": S.REBOOTING,
    "reboot_pending_hard": S.REBOOTING,
    "reboot_started_hard": S.REBOOTING,
}
#: Nova's vm_states (nova/compute/vm_states.py) onto the portal's states. One not here
#: (rescued: a rescue image runs in the server's place) is unknown, with Nova's word:
#: libcloud's map guessed RESCUE pending and VERIFY_RESIZE running, and said its own word.
VM_STATES: dict[str, InstanceState] = {
    "active": S.RUNNING,
    "resized": S.RUNNING,  # "a VM with the new size is active", to confirm or revert
    "building": S.PENDING,
    "stopped": S.STOPPED,
    "suspended": S.SUSPENDED,
    "paused": S.SUSPENDED,
    "shelved": S.STOPPED,
    "shelved_offloaded": S.STOPPED,
    "error": S.ERROR,
    "deleted": S.TERMINATED,
    "soft-delete": S.TERMINATED,
}

#: Nova's own action that starts a server in this vm_state, where it is neither os-start
#: nor resume (each refused there, 409): a paused server unpauses, a shelved one unshelves.
WAKE: dict[str, str] = {
    "paused": "unpause",
    "shelved": "unshelve",
    "shelved_offloaded": "unshelve",
}


def get_server(driver: Any, server_id: str) -> Node | None:
    """One server by id (GET /servers/{id}); None once Nova no longer knows it."""
    node: Node | None = driver.ex_get_node_details(server_id)
    return node


def public_ipv6(node: Node) -> Node:
    """The node with each global IPv6 address among its public ones. libcloud tells an IPv6
    address public from private by its network's name ("public", "internet") or a floating
    type alone, so a provider network's global address (OVH's Ext-Net, an IPv6-only
    server) read as private, and ssh was told to find a bastion. A unique local address
    (fd00::/8) stays private."""
    moved = [a for a in node.private_ips if _global_ipv6(str(a))]
    if moved:
        node.private_ips = [a for a in node.private_ips if a not in moved]
        node.public_ips = [*node.public_ips, *moved]
    return node


def _global_ipv6(address: str) -> bool:
    try:
        return ipaddress.IPv6Address(address).is_global
    except ValueError:  # IPv4, or not an address
        return False


def fill_faults(driver: Any, nodes: list[Node]) -> list[Node]:
    """The nodes, each ERROR server that came without its fault re-read on its own.

    Nova's list (GET /servers/detail) leaves the fault out for a server that never
    left cell0 (the scheduler found no host); GET /servers/{id} has it.
    """
    filled = []
    for node in nodes:
        extra = node.extra or {}
        if str(extra.get("vm_state") or "").lower() == "error" and not extra.get("fault"):
            node = get_server(driver, str(node.id)) or node
        filled.append(node)
    return filled


def node_state(node: Node) -> tuple[InstanceState, str]:
    """(portal state, raw state) for a Nova server.

    The raw state is Nova's vm_state, with the task in flight after a slash
    ("active/powering-off"); without the extended attributes, libcloud's word.
    """
    extra: Mapping[str, Any] = node.extra or {}
    vm_state = str(extra.get("vm_state") or "").lower()
    task = str(extra.get("task_state") or "").lower()
    if task:
        # A task in flight wins, even on an ERROR server being deleted. One that leads to
        # no state of the portal's (a snapshot, a migration, a rescue) is unknown until
        # it ends: 'pending' said a running server being snapshotted was starting; unknown
        # ends no action either.
        return TASK_STATES.get(task, S.UNKNOWN), f"{vm_state or '?'}/{task}"
    if vm_state:
        return VM_STATES.get(vm_state, S.UNKNOWN), vm_state
    return map_state(node.state)


def fault_message(node: Node) -> str | None:
    """The reason Nova gives for an ERROR server (its `fault.message`), if any."""
    fault = (node.extra or {}).get("fault")
    if isinstance(fault, Mapping):
        message = fault.get("message") or fault.get("details")
        return " ".join(str(message).split())[:500] if message else None
    return str(fault) if fault else None


def with_fault_text(node: Node) -> Node:
    """The node with `extra["fault"]` as Nova's message (the portal shows it) and the
    whole fault record, minus its traceback-bearing `details`, in `extra["fault_record"]`."""
    extra = dict(node.extra or {})
    fault = extra.get("fault")
    if isinstance(fault, Mapping):
        extra["fault_record"] = {k: v for k, v in fault.items() if k != "details"}
    message = fault_message(node)
    extra["fault"] = message
    node.extra = extra
    return node


#: Said after a flavor's or an image's name (or id) that the project's list no longer has:
#: deleted, most often (an old flavor retired), or no longer shared with the project.
NOT_LISTED = " (not listed)"
#: The Nova microversion whose server record embeds the flavor it booted with (its name
#: kept even once the flavor is deleted); 2.1 has only the flavor's id.
_EMBEDDED_FLAVOR = {"X-OpenStack-Nova-API-Version": "2.47"}


class Names:
    """Flavor and image names by id, as `openstack server list` shows them (`m1.tiny`,
    `cirros-fake`); Nova's server record has only the ids. Flavors and images are read
    again only when a server names an id not seen yet. An id the list (read) does not
    have is said not listed: a deleted flavor by the name the server booted with (Nova
    keeps it), an image by its id (Nova keeps no name); a list the user may not read
    leaves the id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.flavors: dict[str, str] = {}
        self.images: dict[str, str] = {}

    def named(self, driver: Any, nodes: list[Node]) -> list[Node]:
        """The nodes, each with `extra["flavor_name"]` and `extra["image_name"]`."""
        flavors = {str(n.extra.get("flavorId")) for n in nodes if (n.extra or {}).get("flavorId")}
        images = {str(n.extra.get("imageId")) for n in nodes if (n.extra or {}).get("imageId")}
        for gone in self._learn(self.flavors, flavors, lambda: sizes.list_sizes(driver)):
            server = next(n for n in nodes if str((n.extra or {}).get("flavorId")) == gone)
            name = _booted_flavor(driver, str(server.id))
            with self._lock:
                self.flavors[gone] = (name or gone) + NOT_LISTED
        for gone in self._learn(self.images, images, driver.list_images):
            with self._lock:
                self.images[gone] = gone + NOT_LISTED
        for node in nodes:
            extra = dict(node.extra or {})
            flavor, image = extra.get("flavorId"), extra.get("imageId")
            extra["flavor_name"] = self.flavors.get(str(flavor)) if flavor else None
            extra["image_name"] = self.images.get(str(image)) if image else None
            node.extra = extra
        return nodes

    def _learn(self, known: dict[str, str], wanted: set[str], listing: Any) -> set[str]:
        """Reads the list when a wanted id is not known yet; the ids it does not have."""
        with self._lock:
            missing = wanted - known.keys()
        if not missing:
            return set()
        try:
            found = {str(item.id): str(item.name) for item in listing() if item.name}
        except (BaseHTTPError, OSError, KeyError, ValueError, TypeError):
            found = None  # not readable here: the ids stay, and nothing is said gone
        with self._lock:
            known.update(found or {})
            known.update((ident, ident) for ident in missing - (found or {}).keys())  # asked once
        return set() if found is None else missing - found.keys()


def _booted_flavor(driver: Any, server_id: str) -> str | None:
    """The name of the flavor the server booted with, as Nova keeps it (microversion 2.47);
    None where Nova is older or says nothing."""
    try:
        reply = driver.connection.request(f"/servers/{server_id}", headers=_EMBEDDED_FLAVOR)
        flavor = reply.object["server"]["flavor"]
    except (BaseHTTPError, OSError, KeyError, ValueError, TypeError):
        return None
    name = flavor.get("original_name") if isinstance(flavor, Mapping) else None
    return str(name) if name else None


def identity_address(driver_settings: Mapping[str, Any]) -> str | None:
    """host:port of the Keystone the account authenticates against, if configured."""
    url = driver_settings.get("ex_force_auth_url")
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def where(driver: Any, driver_settings: Mapping[str, Any], exc: BaseException) -> str | None:
    """Which service a failed call was talking to: Keystone while the driver holds no
    token yet or when the failing URL is Keystone's; else Nova, at the catalog's address."""
    keystone = identity_address(driver_settings)
    connection = getattr(driver, "connection", None)
    authenticated = getattr(connection, "auth_token", None) is not None
    if keystone and (not authenticated or failed_at_identity(exc, keystone)):
        return f"Keystone (identity, {keystone})"
    host, port = getattr(connection, "host", None), getattr(connection, "port", None)
    return f"Nova ({host}:{port})" if authenticated and host else None


def failed_at_identity(exc: BaseException, address: str | None) -> bool:
    """Whether a connection failure happened on the way to Keystone (the request
    for a token), not to Nova: the failing URL's host and port are Keystone's."""
    if address is None:
        return False
    host, _, port = address.rpartition(":")
    seen: BaseException | None = exc
    text = ""
    for _ in range(10):
        if seen is None:
            break
        text += f" {seen!r}"
        seen = seen.__cause__ or seen.__context__
    return f"host='{host}', port={port})" in text or "/auth/tokens" in text


def keystone_refusal(driver: Any, exc: BaseException, secrets: Secrets) -> AuthError | None:
    """Keystone's refusal of the token request as an AuthError in Keystone's own words.

    Keystone answers an unknown application credential with 404 (not 401), which
    libcloud raises as a plain HTTP error with Keystone's JSON as its text.
    """
    connection = getattr(driver, "connection", None)
    if not isinstance(exc, BaseHTTPError) or getattr(connection, "auth_token", None) is not None:
        return None
    if exc.code not in (401, 403, 404):
        return None
    reason = secrets.mask(_keystone_message(str(exc.message)) or f"HTTP {exc.code}")
    return AuthError(
        f"credentials refused by Keystone: {reason}; check the key (user name or "
        f"application credential id) and the secret (wm accounts set-secret {secrets.account})",
        account=secrets.account,
    )


def _keystone_message(text: str) -> str | None:
    """`error.message` of Keystone's JSON error body, if that is what `text` is."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return " ".join(str(message).split())[:300] if message else None
