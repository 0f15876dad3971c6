"""RFC 9457 problem details: the one shape every error of the API takes.

Exception handlers (``api.errors``) and the ASGI middleware that refuse a request before it
reaches a route (``api.middleware``) both answer through ``problem_response``, so a client
parses one format for every 4xx and 5xx.
"""

from __future__ import annotations

import re
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
        description="identifies the kind of problem; '/problems/<slug>'",
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


def problem_body(
    status: int, title: str, detail: str, instance: str, request_id: str | None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{slug(title)}",
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
