"""Small helpers for the test OpenStack (stack.py): free ports, HTTP without a client
library (standard library only: any Python 3.11 runs the stack), ini files, the error."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

#: This folder: run_service.py, neutron_stub.py and the api-paste files live here.
HERE = Path(__file__).resolve().parent
REGION = "RegionOne"


class StackError(RuntimeError):
    """A step failed; the message names it and the log to read."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body or None); never raises for an HTTP status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    # Only http://127.0.0.1 URLs this script builds itself.
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310
    request.add_header("Accept", "application/json")
    if raw is not None:
        request.add_header("Content-Type", "application/octet-stream")
    elif body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            status, head, payload = reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as exc:
        status, head, payload = exc.code, dict(exc.headers), exc.read()
    try:
        parsed = json.loads(payload) if payload else None
    except ValueError:
        parsed = payload.decode(errors="replace")
    return status, head, parsed


def expect(result: tuple[int, dict[str, str], Any], what: str, *ok: int) -> Any:
    status, _, body = result
    if status not in (ok or (200, 201, 202, 204)):
        raise StackError(f"{what}: HTTP {status}: {str(body)[:500]}")
    return body


def ini(sections: dict[str, dict[str, Any]]) -> str:
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {value}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)
