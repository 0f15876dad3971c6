"""Small HTTP helpers: ETags, content negotiation and the next page's link."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

#: The times a list's answer states; the next page's link repeats them (see ``link_next``).
PINNED = ("as_of", "known_at")


def json_answer(answer: Any, status: int, headers: Mapping[str, str]) -> Response:
    """An answer already in the contract's shape, serialized once (no response model)."""
    return JSONResponse(answer, status_code=status, headers=dict(headers))


def etag(version: int) -> str:
    """A claim's ETag: its version, as a strong entity tag (``"5"``)."""
    return f'"{version}"'


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if kind:
            ranges.append((kind.lower(), q))
    return ranges


def quality(accept: str | None, media_type: str) -> tuple[float, int]:
    """How much ``accept`` wants ``media_type``: (q, specificity of the range that matched)."""
    if not accept:
        return (1.0, 0)
    main = media_type.split("/")[0]
    best: tuple[int, float] | None = None
    for kind, q in _ranges(accept):
        specificity = {media_type: 3, f"{main}/*": 2, "*/*": 1}.get(kind, 0)
        if specificity and (best is None or specificity > best[0]):
            best = (specificity, q)
    return (0.0, 0) if best is None else (best[1], best[0])


def choose(accept: str | None, offered: tuple[str, ...]) -> str | None:
    """The offered type the client prefers (ties: the more explicit match, then the first
    offered); None if it accepts none of them."""
    scored = [(quality(accept, kind), -i, kind) for i, kind in enumerate(offered)]
    (q, _), _, kind = max(scored)
    return kind if q > 0 else None


def link_next(
    request: Request, response: Response, page: Mapping[str, Any], replaces: tuple[str, ...] = ()
) -> None:
    """An RFC 8288 ``Link: <...>; rel="next"`` header when ``page`` has a ``next_cursor``.

    The link is this request's path and query with ``cursor`` set to the page's
    ``next_cursor`` (dropping ``replaces``, the parameters a cursor takes the place of),
    and ``as_of``/``known_at`` set to the concrete times the page states, so following the
    links pages through one consistent view, as docs/http-api.md advises.
    """
    cursor = page.get("next_cursor")
    if cursor is None:
        return
    dropped = {"cursor", *replaces, *(name for name in PINNED if name in page)}
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in dropped]
    query += [(name, page[name]) for name in PINNED if name in page]
    query.append(("cursor", cursor))
    target = f"{quote(request.url.path, safe='/')}?{urlencode(query, safe=':')}"
    response.headers["Link"] = f'<{target}>; rel="next"'
