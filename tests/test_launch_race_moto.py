"""A listing that sees new instances before the launch's answer names them, against a real
moto server: their appearing is the launch's all the same (one change, one row)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AMI, Cloud
from winged_monkey.catalog import LaunchRequest
from winged_monkey.engine.portal import Portal
from winged_monkey.models import EventSource
from winged_monkey.terminal.history import folded


async def listing(portal: Portal) -> None:
    async for _ in portal.refresh():
        pass


async def test_instances_listed_before_the_answer_are_the_launchs(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal = cloud.portal(cloud.account("dev"))
    await listing(portal)
    backend = await portal.backend("dev")
    real = backend.launch

    async def answer_after_a_listing(request: LaunchRequest) -> Any:
        """EC2 made them; a listing runs before the answer reaches the engine."""
        made = await real(request)
        await listing(portal)
        return made

    monkeypatch.setattr(backend, "launch", answer_after_a_listing)
    request = LaunchRequest(item=AMI, name="worker", size="t3.micro", count=2)
    updates = [u async for u in portal.launch("dev", request)]

    finals = [u for u in updates if u.finished]
    assert {u.phase for u in finals} == {"done"}
    intent = finals[0].intent
    new = {u.instance.id for u in finals}
    observed = portal.store.events(account="dev", sources=[EventSource.OBSERVED])
    appeared = {e.target: e.cause for e in observed if e.kind == "appeared"}
    assert appeared == dict.fromkeys(new, intent)  # seen before the answer: the launch's
    rows = [r for r in folded(portal.store.events(account="dev")) if r.target in new]
    assert [r.key for r in rows] == [intent]  # the launch is one row
    await portal.close()
