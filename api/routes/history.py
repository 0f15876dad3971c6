"""How a claim's credibility changed: the audit trail, and the timeline in valid time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response

from api.deps import (
    AsOf,
    AuthenticatedRoute,
    ClaimId,
    Cursor,
    KnownAt,
    LedgerDep,
    Limit,
    ModelQuery,
    Since,
    Until,
    caller,
)
from api.http import choose, link_next
from api.openapi_docs import PAGED, READ, problems
from api.schemas import AuditPublic, TimelinePublic
from api.svg import timeline_svg

router = APIRouter(
    prefix="/claims/{claim_id}", tags=["history"], dependencies=[Depends(caller)],
    route_class=AuthenticatedRoute,
    responses=READ | problems(404, missing=("claim",)),
)
JSON, SVG = "application/json", "image/svg+xml"


@router.get("/audit", response_model=AuditPublic, responses=PAGED)
def audit(
    request: Request, response: Response, claim_id: ClaimId, ledger: LedgerDep, as_of: AsOf,
    known_at: KnownAt, since: Since, until: Until,
    source: Annotated[str | None, Query(description="only this source's events",
                                        examples=["peskov"])] = None,
    limit: Limit = 100, cursor: Cursor = None, model: ModelQuery = None,
) -> dict[str, Any]:
    """Every change of credibility at as_of in recording order (a page; next_cursor reads on)."""
    page = ledger.audit(
        claim_id, as_of=as_of, since=since, until=until, source=source, known_at=known_at,
        limit=limit, cursor=cursor, model=model,
    )
    link_next(request, response, page)
    return page


TIMELINE_SVG = "an SVG step chart, titled with the claim's text, with dates on its x-axis"


@router.get(
    "/timeline", response_model=TimelinePublic,
    responses={200: {"content": {SVG: {"schema": {"type": "string"}}},
                     "description": "JSON, or with Accept: image/svg+xml " + TIMELINE_SVG},
               **problems(406)},
)
def timeline(
    claim_id: ClaimId, ledger: LedgerDep, known_at: KnownAt, response: Response,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    model: ModelQuery = None,
) -> Any:
    """Credibility as a step function of valid time, as known at known_at (JSON or SVG)."""
    kind = choose(accept, (JSON, SVG))
    if kind is None:
        raise HTTPException(406, f"this route answers {JSON} or {SVG}; Accept allows neither")
    if kind == SVG:
        return _chart(ledger, claim_id, known_at, model, {"Vary": "Accept"})
    response.headers["Vary"] = "Accept"
    return ledger.timeline(claim_id, known_at=known_at, model=model)


@router.get(
    "/timeline.svg", response_class=Response,
    responses={200: {"content": {SVG: {"schema": {"type": "string"}}},
                     "description": TIMELINE_SVG}},
)
def timeline_chart(
    claim_id: ClaimId, ledger: LedgerDep, known_at: KnownAt, model: ModelQuery = None
) -> Response:
    """The timeline as an SVG chart at its own URL, for a browser tab or an <img> tag."""
    return _chart(ledger, claim_id, known_at, model, {})


def _chart(
    ledger: LedgerDep,
    claim_id: str,
    known_at: datetime | None,
    model: str | None,
    headers: dict[str, str],
) -> Response:
    steps, text = ledger.titled_timeline(claim_id, known_at=known_at, model=model)
    return Response(timeline_svg(steps, title=text), media_type=SVG, headers=headers)
