"""Schemathesis over the pool endpoints of a server with a pool deployable: whatever a
viewer sends, no 5xx, every answer as published, and never a launch (RBAC unchanged)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.aggregator.server import RunningAggregator
from tests.aggregator.test_pools import run_instances, synthetic_cloud
from tests.aggregator.test_schema import CHECKS
from winged_monkey.demo.server import MotoServer


@pytest.fixture(scope="module")
def pooled(
    moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningAggregator]:
    with synthetic_cloud(moto_server, tmp_path_factory.mktemp("pools") / "agg") as running:
        yield running


@pytest.fixture(scope="module")
def pool_schema(pooled: RunningAggregator) -> Any:
    return schemathesis.openapi.from_url(f"{pooled.url}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def viewer_token(pooled: RunningAggregator) -> str:
    return pooled.mint("fuzz", "viewer")


schema = schemathesis.pytest.from_fixture("pool_schema").include(path_regex=r"/pools/|/catalogs")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_viewer_reads_pools_and_never_launches(
    case: Any, viewer_token: str, pooled: RunningAggregator
) -> None:
    reply = case.call_and_validate(
        headers={"Authorization": f"Bearer {viewer_token}"}, checks=CHECKS
    )
    if case.method == "POST":  # 401, 403, 404, 405 or 422: never accepted
        assert reply.status_code >= 400, reply.text
    assert run_instances(pooled.moto) == {}
