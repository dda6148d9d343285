"""An instance's boot console as the provider keeps it: EC2's GetConsoleOutput (libcloud's
EC2 driver has no call for it, so it is sent through the driver's own signed connection),
Nova's `os-getConsoleOutput` server action. Both only read."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from xml.etree import ElementTree as ET

from libcloud.compute.base import Node, NodeDriver
from libcloud.compute.types import NodeState

from winged_monkey.errors import BackendError

#: Nova returns the whole log unless asked for its tail; a long-running server's log is large.
NOVA_LINES = 2000


def ec2_output(driver: NodeDriver, instance_id: str) -> str:
    """EC2's GetConsoleOutput for one instance, decoded (empty while EC2 has none yet)."""
    connection: Any = driver.connection
    path: str = getattr(driver, "path", "/")
    params = {"Action": "GetConsoleOutput", "InstanceId": instance_id}
    body = connection.request(path, params=params).object
    if not isinstance(body, ET.Element):
        raise BackendError("GetConsoleOutput: not what EC2 answers")
    for element in body.iter():
        if element.tag.rsplit("}", 1)[-1] == "output":
            return _decode(element.text or "")
    return ""  # EC2 leaves <output> out until the instance has written something


def nova_output(driver: NodeDriver, server_id: str, lines: int = NOVA_LINES) -> str:
    """The server's console log (the last `lines` lines)."""
    node = Node(server_id, server_id, NodeState.UNKNOWN, [], [], driver)
    reply: Any = driver.ex_get_console_output(node, length=lines)  # type: ignore[attr-defined]
    output = reply.get("output") if isinstance(reply, dict) else None
    return output if isinstance(output, str) else ""


def _decode(text: str) -> str:
    try:
        raw = base64.b64decode(text.strip(), validate=False)
    except (binascii.Error, ValueError):
        raise BackendError("GetConsoleOutput: the output is not base64") from None
    return raw.decode("utf-8", errors="replace")
