"""Fixtures for the vSphere tests: a vcsim per test, its own witness session, and a portal
over the "lab" account on it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vsphere.accounts import account, make_portal
from tests.vsphere.vcsim import Vcsim, Witness
from winged_monkey.engine.portal import Portal


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Vcsim]:
    with Vcsim(tmp_path / "vcsim") as running:
        yield running


@pytest.fixture
def witness(sim: Vcsim) -> Iterator[Witness]:
    seen = sim.witness()
    yield seen
    seen.close()


@pytest.fixture
def portal(sim: Vcsim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    portal = make_portal(tmp_path, account(sim, monkeypatch))
    yield portal
    asyncio.run(portal.close())
    portal.store.close()
