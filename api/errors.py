"""Every error, mapped to an RFC 9457 problem in this one module.

Routes raise or let through the ledger's exceptions (``ledger.errors``); this module maps
each branch of that tree to one status, and does the same for FastAPI's validation errors,
Starlette's 404/405, access control and unsupported media types, so no route needs a
try/except and no error leaves as HTML, plain text or a stack trace::

    NotFound 404 · InvalidInput 422 · VersionMismatch 412 · Conflict 409
    IdempotencyKeyReused 422 · StoreUnavailable 503 · StoreFailed 500 · DamagedHistory 500
    any other LedgerError 400
    RequestValidationError 422 · NotAuthenticated 401 · NotAllowed 403
    UnsupportedMediaType 415 · BodyTooLarge 413 · BodyTimeout 408 · HTTPException its status
    anything else 500

The store's own errors never get here: the ledger turns them into its own
(``ledger.store.store_errors``), so this layer does not import the ``eventsourcing`` library.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from api.access import NotAllowed, NotAuthenticated
from api.middleware import BodyTimeout, BodyTooLarge, request_id_of
from api.problems import problem_response
from api.query import PATTERN_REASONS
from ledger.errors import (
    Conflict,
    DamagedHistory,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    NotFound,
    StoreFailed,
    StoreUnavailable,
    VersionMismatch,
)
from ledger.inputs import json_problem, too_long, too_many

log = logging.getLogger("claims_ledger.http")

#: First match wins: subclasses before their parents.
STATUS: tuple[tuple[type[LedgerError], int], ...] = (
    (NotFound, 404),
    (InvalidInput, 422),
    (VersionMismatch, 412),
    (Conflict, 409),
    (IdempotencyKeyReused, 422),
    (StoreUnavailable, 503),
    (StoreFailed, 500),
    (DamagedHistory, 500),
)
RETRY_AFTER_SECONDS = "5"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_READABLE = {
    "Field required": "is required",
    "Extra inputs are not permitted": "is not a field of this request",
}


class UnsupportedMediaType(Exception):
    def __init__(self, given: str | None, accepted: Sequence[str]) -> None:
        super().__init__(
            f"the body is {given or 'of no declared type'}; send Content-Type: "
            + " or ".join(accepted)
        )
        self.accepted = tuple(accepted)


def _problem(request: Request, status: int, title: str, detail: str, **extra: Any) -> Response:
    return problem_response(
        status, title, detail, instance=request.url.path,
        request_id=request_id_of(request.scope), **extra,
    )


async def ledger_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LedgerError)
    status = next((code for kind, code in STATUS if isinstance(exc, kind)), 400)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidInput):
        extra = {"field": exc.field, "reason": exc.reason,
                 "errors": [{"field": exc.field, "reason": exc.reason}]}
    elif isinstance(exc, VersionMismatch):
        extra = {"expected_version": exc.expected, "current_version": exc.actual,
                 "headers": {"ETag": f'"{exc.actual}"'}}
    elif isinstance(exc, StoreUnavailable):
        extra = {"headers": {"Retry-After": RETRY_AFTER_SECONDS}}
    elif isinstance(exc, DamagedHistory):
        extra = {"position": exc.position, "reason": exc.reason}
    detail = exc.detail
    if isinstance(exc, StoreFailed):
        # The store's own words are for the operator (they may name tables or SQL).
        log.error("event store failed: %s", exc.detail,
                  extra={"fields": {"request_id": request_id_of(request.scope)}})
        detail = "the event store failed to answer; the server log has this request id"
    keys = getattr(request.state, "idempotency_key", None)
    if isinstance(exc, IdempotencyKeyReused) and keys is not None:
        # The ledger names the key as it keeps it (``principal:key``, see api.deps); the
        # client knows the key it sent.
        scoped, sent = keys
        detail = detail.replace(repr(scoped), repr(sent))
    return _problem(request, status, exc.title, detail, **extra)


def _field(loc: Sequence[int | str]) -> tuple[str, str | None]:
    where = str(loc[0]) if loc and loc[0] in ("body", "query", "header", "path") else None
    parts = loc[1:] if where else loc
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return (text or where or "body"), where


def _reason(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        where = error.get("loc", ())[-1]
        at = f" (at character {where})" if isinstance(where, int) else ""
        return f"is not valid JSON: {error.get('ctx', {}).get('error', 'cannot be parsed')}{at}"
    # Size limits, in the words the ledger uses for the same limits (``ledger.inputs``).
    limit = error.get("ctx", {}).get("max_length")
    if error.get("type") == "string_too_long" and isinstance(limit, int):
        return too_long(limit)
    if error.get("type") == "too_long" and isinstance(limit, int):
        return too_many(limit)
    loc = error.get("loc", ())
    if (error.get("type") == "string_pattern_mismatch" and len(loc) == 2
            and loc[0] == "query" and loc[1] in PATTERN_REASONS):
        return PATTERN_REASONS[loc[1]]
    message = str(error.get("msg", "is invalid"))
    return _READABLE.get(message, message.removeprefix("Value error, "))


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        # A JSON syntax error's loc is ("body", character offset), not a field.
        field, where = ("body", "body") if error.get("type") == "json_invalid" else _field(loc)
        errors.append({"field": field, "reason": _reason(error), "in": where})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
    return _problem(request, 422, "Invalid input", detail, errors=errors)


#: Why a body that is not a JSON syntax error still could not be parsed: the ledger's
#: reason (``ledger.inputs.json_problem``), which ``api.batch`` gives too.
unparseable = json_problem


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = HTTPStatus(exc.status_code).phrase
    detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and request.method not in ("GET", "HEAD"):
        # FastAPI's answer to a body its JSON parser gave up on for a reason other than a
        # syntax error (those are validation errors); the parser's error is the cause.
        reason = json_problem(exc.__cause__)
        return _problem(request, 422, "Invalid input", f"body: {reason}",
                        errors=[{"field": "body", "reason": reason, "in": "body"}])
    if exc.status_code == 404 and detail == title:
        detail = f"there is no {request.url.path}; the API is described at /docs"
    elif exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
        detail = (f"{request.method} is not allowed on {request.url.path}; "
                  f"allowed: {headers['Allow']}")
    return _problem(request, exc.status_code, title, detail, headers=headers or None)


def _allowed_methods(request: Request) -> list[str]:
    # Starlette's 405 names only the methods of the first route matching the path, not
    # of all of them (GET /claims and POST /claims are two routes).
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    if "GET" in allowed and "HEAD" not in allowed:  # api.middleware.HeadAsGet answers it
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return allowed


async def body_too_large(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTooLarge)
    return _problem(
        request, 413, "Content too large",
        f"the request body is over the limit of {exc.limit} bytes for {request.url.path}; "
        "split the request (batches: several smaller batches)",
        limit_bytes=exc.limit, headers={"Connection": "close"},
    )


async def body_timeout(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyTimeout)
    return _problem(
        request, 408, "Request timeout",
        f"the request body did not arrive within {exc.seconds:g} s; nothing was written; "
        "send it again, faster (or in smaller requests)",
        headers={"Connection": "close"},
    )


async def not_authenticated(request: Request, exc: Exception) -> Response:
    return _problem(
        request, 401, "Not authenticated",
        "send an API key as 'Authorization: Bearer <token>'; this one is missing or unknown",
        headers={"WWW-Authenticate": 'Bearer realm="claims-ledger"'},
    )


async def not_allowed(request: Request, exc: Exception) -> Response:
    return _problem(request, 403, "Forbidden", str(exc))


async def unsupported_media_type(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnsupportedMediaType)
    return _problem(request, 415, "Unsupported media type", str(exc),
                    headers={"Accept-Post": ", ".join(exc.accepted)})


async def internal_error(request: Request, exc: Exception) -> Response:
    return _problem(request, 500, "Internal server error",
                    "the server failed to answer; the server log has this request id")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, ledger_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    app.add_exception_handler(BodyTimeout, body_timeout)
    app.add_exception_handler(NotAuthenticated, not_authenticated)
    app.add_exception_handler(NotAllowed, not_allowed)
    app.add_exception_handler(UnsupportedMediaType, unsupported_media_type)
    app.add_exception_handler(Exception, internal_error)
