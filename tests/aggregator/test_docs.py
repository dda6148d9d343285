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
