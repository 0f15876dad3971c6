"""Shared OpenAPI fragments: the error responses each kind of route can give."""

from __future__ import annotations

from typing import Any

from api.problems import Problem


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for ``codes``, each a problem+json (see ``api.main.openapi``)."""
    descriptions = {
        401: "missing or unknown API key",
        403: "the key's role may not do this",
        404: "no such claim, source or route",
        409: "the id is taken",
        412: "If-Match is not the claim's current ETag; nothing was written",
        413: "the body is over the size limit",
        415: "the body is not of a type this route reads",
        422: "the input breaks a rule; the problem names each field and why",
        503: "the event store cannot be reached",
    }
    return {code: {"model": Problem, "description": descriptions[code]} for code in codes}


READ = problems(401, 403, 422, 503)
WRITE = problems(401, 403, 413, 415, 422, 503)
