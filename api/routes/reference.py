"""The API's own reference, served from the package so it works without the internet.

- ``/docs``: Swagger UI over ``/openapi.json``. Its script, stylesheet and icon are Swagger
  UI's own (the ``swagger-ui-dist`` release vendored in ``api/static/swagger-ui``, with its
  licence), served at ``/static/swagger-ui/{name}``: the page loads nothing from elsewhere.
  There is no ``/redoc``: one set of interactive docs, kept working offline.
- ``/problems`` and ``/problems/{slug}``: what each problem ``type`` means and what to do
  about it (``api.problems.KINDS``), as HTML for a person following the link.

None of these needs an API key: they describe the API, and hold no data of the ledger.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from api.problems import KINDS, Kind

router = APIRouter(include_in_schema=False)

SWAGGER_DIR = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
SWAGGER_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "LICENSE": "text/plain; charset=utf-8",
    "NOTICE": "text/plain; charset=utf-8",
    "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
}
ASSET_PREFIX = "/static/swagger-ui/"


@cache
def _asset(name: str) -> bytes:
    return (SWAGGER_DIR / name).read_bytes()


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over this API's OpenAPI schema, every asset served from here."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} - API documentation",
        swagger_js_url=ASSET_PREFIX + "swagger-ui-bundle.js",
        swagger_css_url=ASSET_PREFIX + "swagger-ui.css",
        swagger_favicon_url=ASSET_PREFIX + "favicon-32x32.png",
        # No validator badge: it would send the schema to a server elsewhere.
        swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True},
    )


@router.get(ASSET_PREFIX + "{name}")
def swagger_asset(name: str) -> Response:
    """One of Swagger UI's files (or its licence), shipped in the package."""
    if name not in SWAGGER_ASSETS:
        raise HTTPException(404, f"there is no {ASSET_PREFIX}{name}; the API is described at /docs")
    return Response(
        _asset(name), media_type=SWAGGER_ASSETS[name],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}}code{{background:#f4f4f4;padding:0 .2em}}dt{{font-weight:bold}}</style>
</head><body>
{body}
<p><a href="/problems">Every problem</a> · <a href="/docs">API documentation</a></p>
</body></html>
"""


def _kind_html(kind: Kind) -> str:
    return (
        f"<h1>{escape(kind.title)}</h1>\n"
        f"<p>HTTP status <strong>{kind.status}</strong>; problem type "
        f"<code>/problems/{kind.slug}</code>, as RFC 9457 "
        "<code>application/problem+json</code>.</p>\n"
        f"<dl><dt>What it means</dt><dd>{escape(kind.means)}</dd>\n"
        f"<dt>What to do</dt><dd>{escape(kind.fix)}</dd></dl>\n"
        "<p>Every problem also has <code>detail</code> (what went wrong in this request), "
        "<code>instance</code> (its path) and <code>request_id</code> (also in the "
        "<code>X-Request-ID</code> header and the server log).</p>"
    )


@router.get("/problems")
def problems_index() -> HTMLResponse:
    """Every problem type the API answers, with its status."""
    rows = "\n".join(
        f'<li><a href="/problems/{k.slug}">{escape(k.title)}</a> ({k.status})</li>'
        for k in sorted(KINDS.values(), key=lambda k: (k.status, k.title))
    )
    body = f"<h1>Problem types</h1>\n<ul>\n{rows}\n</ul>"
    return HTMLResponse(_PAGE.format(title="Problem types", body=body))


@router.get("/problems/{name}")
def problem_page(name: str) -> HTMLResponse:
    """What one problem type means and what to do about it."""
    kind = KINDS.get(name)
    if kind is None:
        raise HTTPException(404, f"there is no problem type {name!r}; /problems lists them")
    return HTMLResponse(_PAGE.format(title=escape(kind.title), body=_kind_html(kind)))
