"""`/api/v1/docs`: Swagger UI from wm serve itself. FastAPI's default page loads its script
and style from a CDN, so on a bastion without internet it was blank; here they come from
swagger-ui-bundle-v2 (Swagger UI's own dist, packaged for Python)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from winged_monkey.wire import API_PREFIX

DOCS = f"{API_PREFIX}/docs"
ASSETS = f"{DOCS}/assets"


def add_docs(app: FastAPI) -> None:
    """Serve Swagger UI at DOCS, its files under ASSETS (no token: as the document)."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")

    @app.get(DOCS, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")  # a reverse proxy's prefix
        return get_swagger_ui_html(
            openapi_url=root + str(app.openapi_url),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        )
