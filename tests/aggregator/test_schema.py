"""Schemathesis over the OpenAPI document the running server publishes: whatever it is sent,
it never answers 5xx, and every answer (errors included) matches the document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.aggregator.server import RunningAggregator

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture(scope="module")
def published(aggregator: RunningAggregator) -> Any:
    return schemathesis.openapi.from_url(f"{aggregator.url}/api/v1/openapi.json")


@pytest.fixture(scope="module")
def admin_token(aggregator: RunningAggregator) -> str:
    return aggregator.mint("fuzz", "admin")


schema = schemathesis.pytest.from_fixture("published")


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_its_published_promises(case: Any, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
