"""Shared OpenAPI fragments: the error responses each kind of route can give, each status
with its own example problem, and the headers of lists and writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from api.problems import KINDS, Problem, problem_type

DESCRIPTIONS = {
    401: "missing or unknown API key",
    403: "the key's role may not do this",
    404: "no such claim, source or route",
    406: "Accept allows none of the types this route answers",
    409: "the id is taken, or other writers kept changing the same records (retry)",
    412: "If-Match is not the claim's current ETag; nothing was written",
    413: "the body is over the size limit",
    415: "the body is not of a type this route reads",
    422: "the input breaks a rule; the problem names each field and why",
    501: "this service is not configured to do this",
    503: "the event store cannot be reached",
}
#: ``instance`` of an example: ``api.main`` puts in the operation's own path.
PATH = "{path}"
_REQUEST_ID = "5f0c7d1e2a9b4c3d8e7f6a5b4c3d2e1f"


def _example(title: str, detail: str, summary: str, **extra: Any) -> dict[str, Any]:
    kind = KINDS[problem_type(title).removeprefix("/problems/")]
    return {"summary": summary, "value": {
        "type": problem_type(title), "title": kind.title, "status": kind.status,
        "detail": detail, "instance": PATH, "request_id": _REQUEST_ID, **extra,
    }}


def _invalid(title: str, field: str, where: str | None, reason: str, summary: str
             ) -> dict[str, Any]:
    """A 422: from the ledger's checks (``field`` and ``reason`` too), or from the request's
    validation (``where`` the field is)."""
    if where is not None:
        return _example(title, f"{field}: {reason}", summary,
                        errors=[{"field": field, "reason": reason, "in": where}])
    return _example(title, f"{field}: {reason}", summary, field=field, reason=reason,
                    errors=[{"field": field, "reason": reason}])


#: One example problem per kind, by name (its slug).
EXAMPLES: dict[str, dict[str, Any]] = {
    "not-authenticated": _example(
        "Not authenticated",
        "send an API key as 'Authorization: Bearer <token>'; this one is missing or unknown",
        "No key, or a key this server does not know"),
    "forbidden": _example(
        "Forbidden", "principal 'ana' has role reader; this request needs writer or above",
        "A reader's key used to write"),
    "not-found": _example(
        "Not found", "there is no /claim; the API is described at /docs", "No such path"),
    "claim-not-found": _example(
        "Claim not found", "no claim 'nk-troops'", "No claim has this id"),
    "source-not-found": _example(
        "Source not found",
        "source: no source 'kremlin'; register the source first",
        "The path or the body names a source that is not registered"),
    "event-not-found": _example(
        "Event not found",
        "claim 'nk-troops-for-russia' has no event '2c5d6ec8-3eee-4068-80d9-9371bc37dd78'; "
        "GET /claims/nk-troops-for-russia/events lists its events",
        "The claim has no event with this id"),
    "checkpoint-not-found": _example(
        "Checkpoint not found",
        "no checkpoint has been signed yet; POST /checkpoints (writer role) signs one",
        "Nothing signed yet"),
    "not-acceptable": _example(
        "Not Acceptable",
        "this route answers application/json or image/svg+xml; Accept allows neither",
        "Accept: text/csv"),
    "already-exists": _example(
        "Already exists", "a claim with id 'nk-troops-for-russia' is already registered",
        "The id is taken"),
    "conflict": _example(
        "Conflict",
        "gave up after 31 attempts in 10 s: other writers kept changing the same claim or "
        "source; retry the request", "Writers raced for the same records"),
    "checkpoint-refused": _example(
        "Checkpoint refused",
        "the log no longer extends the checkpoint this key signed at position 19; "
        "nothing was signed", "History was rewritten since the last checkpoint"),
    "version-mismatch": _example(
        "Version mismatch",
        "claim 'nk-troops-for-russia' is at version 6, not 5: re-read it and retry with the "
        "current version", "Another write came first",
        expected_version=5, current_version=6),
    "content-too-large": _example(
        "Content too large",
        "the request body is over the limit of 1048576 bytes for /claims; split the request "
        "(batches: several smaller batches)", "Body over the limit", limit_bytes=1048576),
    "unsupported-media-type": _example(
        "Unsupported media type",
        "the body is text/plain; send Content-Type: application/json", "Not JSON"),
    "invalid-input": _invalid(
        "Invalid input", "limit", "query", "Input should be less than or equal to 1000",
        "A value out of range, named"),
    "invalid-body": _invalid(
        "Invalid input", "quote", "body", "Input should be a valid string",
        "A field of the body of the wrong type"),
    "invalid-statement": _invalid(
        "Invalid statement", "likelihood", None,
        "unknown likelihood term 'maybe': give a probability strictly between 0 and 1 or one "
        "of the ICD 203 terms: almost no chance (also: remote, ...); very unlikely (...); "
        "unlikely (...); roughly even chance (...); likely (...); very likely (...); almost "
        "certain (...)", "A statement that breaks a rule of the domain"),
    "invalid-time": _invalid(
        "Invalid time", "as_of", None,
        "'2024-10-13T12:00:00' has no time zone; add 'Z' or an offset like +00:00",
        "A time without a zone"),
    "future-time": _invalid(
        "Invalid time", "occurred_at", None,
        "is in the future: the ledger records what was said, not what will be",
        "occurred_at later than now"),
    "idempotency-key-reused": _example(
        "Idempotency key reused",
        "Idempotency-Key '5f0c7d1e-article-2024-10-13' was used for a different request; "
        "use a new key for a new request", "The same key with a different body"),
    "signing-not-configured": _example(
        "Signing not configured",
        "this service has no signing key; set CLAIMS_LEDGER_SIGNING_KEY to sign checkpoints",
        "No signing key"),
    "event-store-unavailable": _example(
        "Event store unavailable", "the event store cannot be reached: connection refused",
        "The database is down"),
}

_BY_STATUS: dict[int, tuple[str, ...]] = {
    401: ("not-authenticated",),
    403: ("forbidden",),
    404: ("not-found",),
    406: ("not-acceptable",),
    409: ("already-exists", "conflict"),
    412: ("version-mismatch",),
    413: ("content-too-large",),
    415: ("unsupported-media-type",),
    422: ("invalid-input", "invalid-time"),
    501: ("signing-not-configured",),
    503: ("event-store-unavailable",),
}


def problems(
    *codes: int,
    missing: Sequence[str] = (),
    examples: Mapping[int, Sequence[str]] | None = None,
    descriptions: Mapping[int, str] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for ``codes``, each a problem+json (see ``api.main``) with its
    own examples: ``missing`` names what a 404 can miss (``claim``, ``source``, ``event``,
    ``checkpoint``); ``examples`` and ``descriptions`` replace a status's defaults."""
    chosen: dict[int, Sequence[str]] = dict(_BY_STATUS)
    if missing:
        chosen[404] = tuple(f"{thing}-not-found" for thing in missing)
    chosen.update(examples or {})
    described = DESCRIPTIONS | dict(descriptions or {})
    return {
        code: {
            "model": Problem,
            "description": described[code],
            "content": {"application/json": {
                "examples": {name: EXAMPLES[name] for name in chosen[code]}}},
        }
        for code in codes
    }


READ = problems(401, 403, 422, 503)
#: 409 of a write that registers nothing: only a race it gave up on.
RACED = problems(409, examples={409: ("conflict",)},
                 descriptions={409: "other writers kept changing the same records; retry"})
WRITE = problems(401, 403, 413, 415, 503) | problems(
    422, examples={422: ("invalid-body", "invalid-statement", "future-time",
                         "idempotency-key-reused")})


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
