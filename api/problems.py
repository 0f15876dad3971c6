"""RFC 9457 problem details: the one shape every error of the API takes.

Exception handlers (``api.errors``) and the ASGI middleware that refuse a request before it
reaches a route (``api.middleware``) both answer through ``problem_response``, so a client
parses one format for every 4xx and 5xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One rejected input: where it is and why it was refused."""

    field: str = Field(examples=["occurred_at"], description="dotted location in the input")
    reason: str = Field(examples=["timestamp has no time zone; add 'Z' or an offset like +00:00"])
    where: str | None = Field(
        default=None, alias="in", description="body, query, header or path", examples=["body"]
    )

    model_config = ConfigDict(populate_by_name=True)


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="identifies the kind of problem: '/problems/<slug>', a page of this API "
        "that explains it (GET it)",
        examples=["/problems/claim-not-found"],
    )
    title: str = Field(examples=["Claim not found"])
    status: int = Field(examples=[404])
    detail: str = Field(
        description="what went wrong and what to do about it",
        examples=["claim_id: no claim 'nk-troops' ; register it with POST /claims first"],
    )
    instance: str = Field(description="the request path", examples=["/claims/nk-troops/events"])
    request_id: str | None = Field(
        default=None, description="also in the X-Request-ID header and the server log"
    )
    errors: list[FieldError] | None = Field(
        default=None, description="for 422: every rejected input, each naming its field"
    )


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "problem"


@dataclass(frozen=True)
class Kind:
    """A kind of problem the API answers: its page at ``/problems/<slug>`` says this."""

    title: str
    status: int
    means: str
    fix: str

    @property
    def slug(self) -> str:
        return slug(self.title)


#: Every kind of problem the API answers, by slug: each ``type`` it sends is one of these
#: pages (``api.routes.reference`` serves them), so a client can look up what a type means.
#: A title with no entry here would be sent as ``about:blank`` (RFC 9457's "no more than the
#: status"); ``tests/api/test_reference.py`` checks that none is.
KINDS: dict[str, Kind] = {k.slug: k for k in (
    Kind("Invalid input", 422,
         "The request is well-formed HTTP but a value in it breaks a rule: a missing or "
         "unknown field, a value out of range, malformed JSON, a bad query parameter or "
         "header.",
         "Read errors[]: each entry names the field (and where: body, query, header, path) "
         "and why it was refused. Change those values and send the request again."),
    Kind("Invalid time", 422,
         "A time could not be used: it has no time zone, cannot be parsed, or an "
         "occurred_at lies in the future.",
         "Send RFC 3339 with a zone (2024-10-13T18:00:00Z) or a bare date (2024-10-13). "
         "The ledger records what was said, not what will be."),
    Kind("Invalid statement", 422,
         "The event breaks a rule of the domain: an unknown likelihood term, a retraction of "
         "another source's statement, superseding an event that cannot be superseded.",
         "The detail names the field and the rule; for a likelihood term it lists the "
         "accepted ones."),
    Kind("Idempotency key reused", 422,
         "The Idempotency-Key was used before by this caller for a different request.",
         "Use a new key for a new request; resend the very same request to get its first "
         "answer back."),
    Kind("Not found", 404,
         "Nothing is at this path, or the thing it names does not exist.",
         "Check the path against the API's documentation at /docs."),
    Kind("Claim not found", 404,
         "No claim has this id (as known at the request's known_at).",
         "Register the claim with POST /claims first, or check its id with GET /claims."),
    Kind("Source not found", 404,
         "No source has this id (as known at the request's known_at). An event naming an "
         "unknown source is refused the same way.",
         "Register the source with POST /sources first, or check its id with GET /sources."),
    Kind("Event not found", 404,
         "No event has this id.",
         "Check the event id against the claim's events (GET /claims/{id}/events)."),
    Kind("Checkpoint not found", 404,
         "No checkpoint has been signed yet.",
         "POST /checkpoints (writer role, with a signing key configured) signs one."),
    Kind("Method Not Allowed", 405,
         "The path exists but does not take this method.",
         "The Allow header lists the methods it takes."),
    Kind("Not Acceptable", 406,
         "The Accept header allows none of the media types this route answers.",
         "Accept application/json (or, for a timeline, image/svg+xml)."),
    Kind("Conflict", 409,
         "The ledger's state forbids the write, or other writers kept changing the same "
         "records until the write gave up retrying. Nothing was written.",
         "Read the current state and retry."),
    Kind("Already exists", 409,
         "A claim or source with this id is already registered. Nothing was written.",
         "Choose another id, or leave it out of a claim and the server makes one."),
    Kind("Checkpoint refused", 409,
         "The log is broken, or no longer extends the checkpoint this key signed last; "
         "nothing was signed.",
         "Run GET /verify (or claims-ledger verify) to find the first bad position."),
    Kind("Version mismatch", 412,
         "If-Match names a version the claim is no longer at. Nothing was written.",
         "Re-read the claim (its ETag is its current version, also in this answer's ETag "
         "header) and decide whether to append again."),
    Kind("Request timeout", 408,
         "The request body did not arrive whole within the time allowed "
         "(CLAIMS_LEDGER_BODY_READ_SECONDS). Nothing was written.",
         "Send the request again, faster or smaller; the connection was closed."),
    Kind("Content too large", 413,
         "The request body is over the size limit (limit_bytes in the answer).",
         "Split the request: several smaller batches, or a shorter text."),
    Kind("Unsupported media type", 415,
         "The body is not of a type this route reads.",
         "Send Content-Type: application/json (batches also take NDJSON); the Accept-Post "
         "header lists the accepted types."),
    Kind("Not authenticated", 401,
         "The API needs a key and the request carries none this server knows.",
         "Send an API key as 'Authorization: Bearer <token>'."),
    Kind("Forbidden", 403,
         "The key is valid but its role may not do this (reading needs reader, writing "
         "writer).",
         "Use a key with a higher role."),
    Kind("Ledger error", 400,
         "The ledger refused the request for a reason no narrower problem names.",
         "The detail says what to change."),
    Kind("Internal server error", 500,
         "The server failed to answer.",
         "Retry later; the server log has the request id given in the answer."),
    Kind("Event store failed", 500,
         "The event store refused the work for a reason a retry will not mend (for example "
         "a missing table); the detail is in the server log, not in the answer.",
         "Tell the operator the request id."),
    Kind("Damaged history", 500,
         "The stored events of this claim (or of a source it cites) no longer match the "
         "hash-chained log: an event row was deleted, moved, added, edited or made "
         "unreadable, or its log row changed, behind the service's back. It is not served "
         "and nothing is appended to it; the rest of the ledger is. position is where "
         "GET /verify finds the damage, reason what is wrong there.",
         "Tell the operator: restore the store from a backup taken before the damage "
         "(claims-ledger export, then load into an empty store)."),
    Kind("Signing not configured", 501,
         "This service has no signing key, so it cannot sign checkpoints.",
         "The operator sets CLAIMS_LEDGER_SIGNING_KEY (see docs/trust.md)."),
    Kind("Clock behind the log", 503,
         "The log's last recording time is further ahead of the server's clock than a write "
         "may be stamped (5 s). Nothing was written.",
         "Retry after the Retry-After header's seconds; the operator sets the clock right, "
         "or, if it is right, finds the moved log time with claims-ledger verify."),
    Kind("Projection being built", 503,
         "Lists of this ledger are answered from its credibility projection, which has "
         "projected nothing yet (the store was loaded and not rebuilt, or is being rebuilt). "
         "Nothing was written; one claim's routes answer now.",
         "Retry after the Retry-After header's seconds, or run claims-ledger rebuild."),
    Kind("Event store unavailable", 503,
         "The event store cannot be reached or cannot do the work now (down, locked, "
         "timed out). Nothing was written.",
         "Retry after the Retry-After header's seconds."),
)}


def problem_type(title: str) -> str:
    """The ``type`` of a problem with this title: its page, or ``about:blank`` if unknown."""
    name = slug(title)
    return f"/problems/{name}" if name in KINDS else "about:blank"


def problem_body(
    status: int, title: str, detail: str, instance: str, request_id: str | None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(title),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, instance, request_id, **extra),
        status_code=status,
        headers=headers,
        media_type=MEDIA_TYPE,
    )
