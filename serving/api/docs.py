"""API docs that work offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc``.

FastAPI's own pages load Swagger UI, ReDoc and Google Fonts from CDNs, so on an air-gapped or
firewalled server (where credit systems usually run) they render blank. Here the JavaScript,
CSS and favicon are served by the service itself from the ``fastapi-offline`` package's
``static`` folder (installed with the service, not copied into this repository), ReDoc runs
without Google Fonts, Swagger UI's online validator badge is switched off, and a
Content-Security-Policy lets the browser fetch from the service only. No request leaves for
another host (tests/serving/test_docs_browser.py checks that in a real browser).
"""

from __future__ import annotations

from importlib.resources import files
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

DOCS_URL: Final = "/docs"
REDOC_URL: Final = "/redoc"
ASSETS_URL: Final = "/docs-assets"
ASSETS_PACKAGE: Final = "fastapi_offline"

SWAGGER_UI_PARAMETERS: Final = {
    "validatorUrl": None,  # Swagger UI's default sends the document to validator.swagger.io
}
"""Added to FastAPI's defaults (``persistAuthorization`` stays off: no key kept in storage)."""

DOCS_CONTENT_SECURITY_POLICY: Final = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",  # the page's inline start-up script
    "style-src 'self' 'unsafe-inline'",  # both UIs set inline styles
    "img-src 'self' data:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",  # ReDoc's search index runs in a blob worker
    "connect-src 'self'",
))
"""The browser itself refuses anything from another host: ReDoc's bundle hard-codes a remote
'Redocly' logo in its sidebar, which this blocks (the link text remains)."""


def assets_directory() -> str:
    """The folder of the installed Swagger UI and ReDoc assets."""
    return str(files(ASSETS_PACKAGE) / "static")


def install_offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from locally installed assets.

    The app must be created with ``docs_url=None, redoc_url=None`` (FastAPI's CDN pages off).
    """
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with docs_url=None and redoc_url=None")
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=assets_directory()), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=f"{request.scope.get('root_path', '')}{openapi_url}",
            title=f"{app.title} - API docs",
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
        page.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return page

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=f"{request.scope.get('root_path', '')}{openapi_url}",
            title=f"{app.title} - API reference",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return page
