"""Fixtures for the vSphere tests: a vcsim per test, and its own witness session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vsphere.vcsim import Vcsim, Witness


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Vcsim]:
    with Vcsim(tmp_path / "vcsim") as running:
        yield running


@pytest.fixture
def witness(sim: Vcsim) -> Iterator[Witness]:
    seen = sim.witness()
    yield seen
    seen.close()
