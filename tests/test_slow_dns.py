"""A host name that takes long to resolve holds nothing the other accounts need.

httpx resolves names in the loop's default executor. asyncio's own has min(32, CPUs + 4)
workers, shared: each lookup abandoned at an account's deadline kept one until the
resolver gave up (30 s on a dead DNS server), so the healthy account's store reads queued
behind them and the process waited for them at exit. The resolver's stall is a fault a
real DNS server will not produce on demand: socket.getaddrinfo is held for one name.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.aggregator_client.conftest import aggregator_account
from tests.conftest import Cloud

SLOW_NAME = "team.slow-dns.test"
#: More polls than asyncio's shared pool has workers (each poll leaves one lookup behind).
POLLS = min(32, (os.cpu_count() or 1) + 4) + 2


@pytest.fixture
def slow_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """getaddrinfo of SLOW_NAME blocks until the test ends; other names resolve."""
    release = threading.Event()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (SLOW_NAME, SLOW_NAME.encode()):  # anyio passes it IDNA-encoded
            release.wait(60)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield release
    release.set()


def test_a_name_that_never_resolves_leaves_the_other_account_and_the_exit_alone(
    cloud: Cloud, slow_dns: threading.Event
) -> None:
    cloud.launch(cloud.ec2(), "web-1")
    slow = aggregator_account("team", f"http://{SLOW_NAME}:8790", "t", cloud.monkeypatch, timeout=1)
    portal = cloud.portal(cloud.account("dev"), slow)
    phases: list[dict[str, str]] = []

    async def polls() -> None:
        for _ in range(POLLS):
            last = {u.status.name: str(u.status.phase) async for u in portal.refresh()}
            phases.append(last)
        await portal.close()

    # asyncio.run returns once the polls are done, not once the lookups are.
    runner = threading.Thread(target=asyncio.run, args=(polls(),), daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), f"still running after {len(phases)} polls"
    assert [p["dev"] for p in phases] == ["ok"] * POLLS
    assert {p["team"] for p in phases} == {"failed"}
