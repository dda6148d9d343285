"""Nova's vm_state + task_state onto the portal's states (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest
from libcloud.compute.base import Node
from libcloud.compute.types import NodeState

from winged_monkey.models import InstanceState
from winged_monkey_libcloud import openstackcompat

S = InstanceState


def server(status: NodeState, vm_state: str | None, task: str | None, **extra: Any) -> Node:
    return Node(
        id="s1",
        name="web",
        state=status,
        public_ips=[],
        private_ips=[],
        driver=None,
        extra={"vm_state": vm_state, "task_state": task, **extra},
    )


@pytest.mark.parametrize(
    ("status", "vm_state", "task", "expected"),
    [
        (NodeState.RUNNING, "active", None, (S.RUNNING, "active")),
        (NodeState.STOPPED, "stopped", None, (S.STOPPED, "stopped")),
        # Nova answers os-stop at once: ACTIVE until the task is done.
        (NodeState.RUNNING, "active", "powering-off", (S.STOPPING, "active/powering-off")),
        (NodeState.STOPPED, "stopped", "powering-on", (S.PENDING, "stopped/powering-on")),
        (NodeState.PENDING, "building", "spawning", (S.PENDING, "building/spawning")),
        (NodeState.REBOOTING, "active", "rebooting_hard", (S.REBOOTING, "active/rebooting_hard")),
        (NodeState.RUNNING, "active", "reboot_started", (S.REBOOTING, "active/reboot_started")),
        (NodeState.RUNNING, "active", "deleting", (S.STOPPING, "active/deleting")),
        # A task that leads to no state of the portal's is unknown (it ends no action,
        # and is no guess): 'pending' said a server being snapshotted was starting.
        (NodeState.RUNNING, "active", "image_snapshot", (S.UNKNOWN, "active/image_snapshot")),
        (NodeState.RUNNING, "active", "migrating", (S.UNKNOWN, "active/migrating")),
        (NodeState.PENDING, "rescued", "unrescuing", (S.PENDING, "rescued/unrescuing")),
        (NodeState.ERROR, "error", None, (S.ERROR, "error")),
        (NodeState.ERROR, "error", "deleting", (S.STOPPING, "error/deleting")),
        (NodeState.SUSPENDED, "suspended", None, (S.SUSPENDED, "suspended")),
        (NodeState.TERMINATED, "deleted", None, (S.TERMINATED, "deleted")),
        # A vm_state the portal has no state for is unknown, with Nova's word (not
        # libcloud's guess: RESCUE read 'pending').
        (NodeState.PENDING, "rescued", None, (S.UNKNOWN, "rescued")),
        (NodeState.RUNNING, "resized", None, (S.RUNNING, "resized")),
        # Without the extended attributes (an old or restricted cloud): libcloud's word.
        (NodeState.RUNNING, None, None, (S.RUNNING, "running")),
    ],
)
def test_task_state_wins_until_nova_is_done(
    status: NodeState, vm_state: str | None, task: str | None, expected: tuple[S, str]
) -> None:
    assert openstackcompat.node_state(server(status, vm_state, task)) == expected


def test_fault_becomes_novas_message_without_the_traceback() -> None:
    fault = {
        "code": 500,
        "created": "2026-01-01T00:00:00Z",
        "message": "No valid host was found. ",
        "details": 'Traceback (most recent call last):\n  File "x"',
    }
    node = openstackcompat.with_fault_text(server(NodeState.ERROR, "error", None, fault=fault))
    assert node.extra["fault"] == "No valid host was found."
    assert node.extra["fault_record"] == {
        "code": 500,
        "created": "2026-01-01T00:00:00Z",
        "message": "No valid host was found. ",
    }
    healthy = openstackcompat.with_fault_text(server(NodeState.RUNNING, "active", None))
    assert healthy.extra["fault"] is None


def test_keystone_is_named_when_the_token_request_fails() -> None:
    settings = {"ex_force_auth_url": "http://127.0.0.1:5000"}
    assert openstackcompat.identity_address(settings) == "127.0.0.1:5000"
    assert openstackcompat.identity_address({"ex_force_auth_url": "https://keystone"}) == (
        "keystone:443"
    )
    refused = ConnectionError(
        "HTTPConnectionPool(host='127.0.0.1', port=5000): Max retries exceeded with url: "
        "/v3/auth/tokens"
    )
    assert openstackcompat.failed_at_identity(refused, "127.0.0.1:5000")
    nova = ConnectionError("HTTPConnectionPool(host='127.0.0.1', port=8774): /v2.1/servers")
    assert not openstackcompat.failed_at_identity(nova, "127.0.0.1:5000")
