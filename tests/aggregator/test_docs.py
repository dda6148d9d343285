"""`/api/v1/docs` works on a bastion without internet: every file the page loads comes
from the real `wm serve` itself (it loaded Swagger UI from a CDN, and showed a blank page
where there was none), and the page points at the OpenAPI document."""

from __future__ import annotations

import re

from tests.aggregator.server import RunningAggregator


def test_the_docs_page_loads_everything_from_the_server(aggregator: RunningAggregator) -> None:
    with aggregator.client() as client:  # no token, as for the document itself
        page = client.get("/api/v1/docs")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        loaded = re.findall(r'(?:src|href)="([^"]*)"', page.text)
        assert loaded, page.text
        assert [u for u in loaded if not u.startswith("/api/v1/")] == [], loaded
        assert "url: '/api/v1/openapi.json'" in page.text
        for url in loaded:
            asset = client.get(url)
            assert asset.status_code == 200, (url, asset.status_code)
            assert len(asset.content) > 100, url
        script = client.get(next(u for u in loaded if u.endswith(".js")))
        assert "SwaggerUIBundle" in script.text
        assert client.get("/api/v1/openapi.json").json()["openapi"].startswith("3.1")
        missing = client.get("/api/v1/docs/assets/nothing.js")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"


def test_the_document_says_what_a_202_means_and_where_its_outcome_is(
    aggregator: RunningAggregator,
) -> None:
    """A 202's description read FastAPI's "Successful Response", and its Location header
    "Where the action's outcome: its events will be": a script author reads both there."""
    with aggregator.client() as client:
        paths = client.get("/api/v1/openapi.json").json()["paths"]
    action = paths["/api/v1/instances/{account}/{rid}/{action}"]["post"]["responses"]
    launch = paths["/api/v1/pools/{pool}/launches"]["post"]["responses"]
    said = {
        (what, code): (answer["description"], answer["headers"]["Location"]["description"])
        for what, responses in (("action", action), ("launch", launch))
        for code, answer in responses.items()
        if "headers" in answer
    }
    assert said == {
        ("action", "202"): (
            "Accepted: the action is under way; its outcome will be at Location",
            "Where the action's outcome (its events) will be (as outcome_href).",
        ),
        ("launch", "202"): (
            "Accepted: the launch is under way; its outcome will be at Location",
            "Where the launch's outcome (the events its launch causes, one per id) will be "
            "(as outcome_href).",
        ),
        ("launch", "504"): (
            "The cloud's answer was lost: the launch may have happened; its outcome will be "
            "at Location",
            "Where the launch's outcome (what a later poll saw of it) will be (as outcome_href).",
        ),
    }
