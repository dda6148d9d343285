"""Provider states onto the portal's states.

libcloud already maps each provider onto its `NodeState`; where a driver keeps the
provider's own word (EC2's `extra["status"]`), that word is more precise (libcloud's
EC2 map has no `stopping`) and wins.
"""

from __future__ import annotations

from typing import Any

from libcloud.compute.types import NodeState

from winged_monkey.models import InstanceState

S = InstanceState

_BY_NODE_STATE = {
    NodeState.RUNNING: S.RUNNING,
    NodeState.NORMAL: S.RUNNING,
    NodeState.STARTING: S.PENDING,
    NodeState.PENDING: S.PENDING,
    NodeState.RECONFIGURING: S.PENDING,
    NodeState.MIGRATING: S.PENDING,
    NodeState.UPDATING: S.PENDING,
    NodeState.REBOOTING: S.REBOOTING,
    NodeState.STOPPING: S.STOPPING,
    NodeState.STOPPED: S.STOPPED,
    NodeState.SUSPENDED: S.SUSPENDED,
    NodeState.PAUSED: S.SUSPENDED,
    NodeState.TERMINATED: S.TERMINATED,
    NodeState.ERROR: S.ERROR,
    NodeState.UNKNOWN: S.UNKNOWN,
}
#: libcloud's NodeState values (lower-case words) onto the portal's states.
NODE_STATES: dict[str, InstanceState] = {str(k.value): v for k, v in _BY_NODE_STATE.items()}

#: EC2's instance-state names (DescribeInstances `instanceState/name`).
EC2_STATES: dict[str, InstanceState] = {
    "pending": S.PENDING,
    "running": S.RUNNING,
    "stopping": S.STOPPING,
    "stopped": S.STOPPED,
    "shutting-down": S.STOPPING,
    "terminated": S.TERMINATED,
}


def map_state(node_state: Any, raw: str | None = None) -> tuple[InstanceState, str]:
    """(portal state, provider's raw state) for one node.

    `node_state` is libcloud's NodeState (a str enum); `raw` the provider's own
    word when the driver exposes it.
    """
    libcloud_word = str(getattr(node_state, "value", node_state) or "unknown").lower()
    return NODE_STATES.get(libcloud_word, S.UNKNOWN), raw or libcloud_word


def ec2_state(node_state: Any, raw: str | None) -> tuple[InstanceState, str]:
    """`map_state` where EC2's own word (`extra["status"]`), when it is one EC2 documents,
    wins over libcloud's guess."""
    if raw and raw.lower() in EC2_STATES:
        return EC2_STATES[raw.lower()], raw
    return map_state(node_state, raw)
