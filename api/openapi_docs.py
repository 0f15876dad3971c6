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


def _header(name: str, description: str, example: str) -> dict[str, Any]:
    return {name: {"description": description, "schema": {"type": "string"},
                   "example": example}}


#: ``responses=`` of a list: the RFC 8288 link to its next page.
PAGED: dict[int | str, dict[str, Any]] = {
    200: {"headers": _header(
        "Link", 'the next page, while there is one (RFC 8288): `<...>; rel="next"`; it repeats '
        "the query with cursor set to next_cursor, and as_of/known_at set to the times this "
        "page states",
        '</claims?limit=100&as_of=2024-10-15T23:59:59.999999Z&'
        'known_at=2026-01-01T00:00:00.000000Z&cursor=101>; rel="next"')},
}


def created(location: str, example: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a write that answers 201 with ``Location``."""
    return {201: {"headers": _header("Location", location, example)}}
