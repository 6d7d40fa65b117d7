"""The Litestar application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.static_files import create_static_files_router
from wenti.app import App

from wenti_web.api.attachments import AttachmentController
from wenti_web.api.directory import DirectoryController
from wenti_web.api.issues import IssueController
from wenti.errors import ConfigError

from wenti_web.config import WebConfig, max_upload_bytes, web_config
from wenti_web.problems import PROBLEM_TYPES, handle_exception
from wenti_web.token_cache import token_cache

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

# Everything the pages load comes from this server; nothing from a CDN.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class OfflineDocsPlugin(OpenAPIRenderPlugin):
    """The API docs page: a small local script renders the schema; no outside assets."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = openapi_schema.get("info", {}).get("title", "API")
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/static/wenti.css">
</head><body class="api-docs">
<main id="api-docs" data-schema-url="{self.get_openapi_json_route(request)}">
<h1>{title}</h1><p>Loading the OpenAPI schema…</p></main>
<script src="/static/api-docs.js"></script>
</body></html>"""
        return page.encode("utf-8")


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="wenti REST API",
        version="1",
        path="/api/schema",
        render_plugins=[OfflineDocsPlugin(path="/", favicon="")],
        servers=[Server(url="/")],
        components=Components(
            security_schemes={
                "apiToken": SecurityScheme(type="http", scheme="bearer", description="A wenti API token: wt_…"),
                "session": SecurityScheme(type="apiKey", name="wenti_session", security_scheme_in="cookie"),
            }
        ),
        security=[{"apiToken": []}, {"session": []}],
        description=(
            "Errors are RFC 9457 problem details (application/problem+json) with a stable `type` "
            "URI of the form urn:wenti:problem:<slug>; slugs: " + ", ".join(sorted(PROBLEM_TYPES)) + "."
        ),
    )


def open_blob_store(app: App) -> Any:
    """Open the blob store named by `[attachments] store`."""
    name = app.config.attachments.store
    stores = app.hooks.blob_stores()
    for record in stores:
        if record.name == name:
            return record.open(app)
    raise ConfigError(
        file=app.config.file_label,
        table="attachments",
        key="store",
        value=name,
        expected="the name of an installed blob store: " + (", ".join(sorted(r.name for r in stores)) or "none"),
    )


def _plugin_route_handlers(app: App) -> list[Any]:
    """Route handlers that plugins add through `register_web_routes`."""
    handlers = []
    for record in app.hooks.web_routes(app):
        handlers.append(record.handler)
        log.info("web route added: %s from plugin %s", record.name, record.plugin)
    return handlers


async def after_request(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def create_app(app: App, config: WebConfig | None = None, *, debug: bool = False) -> Litestar:
    """Build the Litestar application serving `app` (the REST API and the UI)."""
    from wenti_web.ui import UI_HANDLERS

    config = config or web_config(app)
    upload_limit = max_upload_bytes(app)

    @get("/healthz", sync_to_thread=False, include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    litestar_app = Litestar(
        route_handlers=[
            IssueController,
            AttachmentController,
            DirectoryController,
            healthz,
            *UI_HANDLERS,
            create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
            *_plugin_route_handlers(app),
        ],
        openapi_config=openapi_config(),
        exception_handlers={Exception: handle_exception},
        after_request=after_request,
        request_max_body_size=upload_limit + 256 * 1024,
        debug=debug,
    )
    litestar_app.state["wenti"] = app
    litestar_app.state["web_config"] = config
    token_cache(app, config.token_cache_seconds)
    litestar_app.state["blob_store"] = open_blob_store(app)
    litestar_app.state["max_upload_bytes"] = upload_limit
    return litestar_app
