"""A real `wm serve` over moto's EC2 server: two accounts in two pools (see server.py);
three replicas of it on one PostgreSQL database (see replica_set.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aggregator.replica_set import POLL_S, Replicas, started_replicas
from tests.aggregator.server import RunningAggregator, two_pool_aggregator
from tests.postgres import PostgresCluster
from winged_monkey.demo.server import MotoServer


@pytest.fixture(scope="module")
def aggregator(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningAggregator]:
    """One server per test module (starting one takes a second or two); tests that change
    the cloud restore what they changed or use `fresh_aggregator`."""
    workdir = tmp_path_factory.mktemp("aggregator")
    with two_pool_aggregator(moto_server, workdir, serve="rate = 1000\nburst = 1000") as running:
        yield running


@pytest.fixture
def fresh_aggregator(moto_server: MotoServer, tmp_path: Path) -> Iterator[RunningAggregator]:
    """A server of the test's own, over freshly seeded moto state."""
    with two_pool_aggregator(
        moto_server, tmp_path / "agg", serve="rate = 1000\nburst = 1000"
    ) as running:
        yield running


@pytest.fixture
def replicas(
    moto_server: MotoServer, postgres_cluster: PostgresCluster, tmp_path: Path
) -> Iterator[Replicas]:
    with started_replicas(moto_server, postgres_cluster, tmp_path, [POLL_S] * 3) as running:
        yield running
