"""The stylesheet and the script: package data, served from here (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.routes.ui.render import STATIC_TYPES, problem, static_file
from api.routes.ui.session import secured

router = APIRouter(include_in_schema=False)


@router.get("/ui/static/{name}")
def static(request: Request, name: str) -> Response:
    """The stylesheet and the script, cached for a day (their address names their hash)."""
    if name not in STATIC_TYPES:
        return secured(problem(request, 404, "Not found", f"There is no file {name!r} here."))
    return Response(
        static_file(name), media_type=STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
