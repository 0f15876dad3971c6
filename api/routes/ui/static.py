"""The stylesheet and the script: package data, served from here (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.routes.ui.render import STATIC_TYPES, static_file

router = APIRouter(include_in_schema=False)


@router.get("/ui/static/{name}")
def static(name: str) -> Response:
    """The stylesheet and the script, cached for a day (their address names their hash)."""
    if name not in STATIC_TYPES:
        return Response("not found\n", status_code=404, media_type="text/plain")
    return Response(
        static_file(name), media_type=STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
