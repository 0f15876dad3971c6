"""Claims: register one, and read one or all with their credibility at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from api import examples
from api.bodies import ClaimCreate, Published
from api.deps import (
    AsOf,
    AuthenticatedRoute,
    ClaimId,
    Cursor,
    JsonBody,
    KnownAt,
    LedgerDep,
    Limit,
    ModelQuery,
    QueryTime,
    TurnsDep,
    WriterDep,
    caller,
)
from api.http import etag, json_answer, link_next
from api.openapi_docs import PAGED, READ, WRITE, created, problems
from api.schemas import ClaimPublic, ClaimsPublic
from ledger.projection.tables import SORT_KEYS
from ledger.statements import STATUSES
from ledger.times import parse_time_option

SORTS = [f"{sign}{key}" for key in SORT_KEYS for sign in ("", "-")]
Sort = Annotated[
    Annotated[str, Published(enum=SORTS)] | None,
    Query(description="the order of the list: a key (registered, text, probability, status, "
                      "last_change, moved), '-' first for largest first; ties in registration "
                      "order; moved needs since. Default registered. The cursor stays in this "
                      "order (keep sort, as_of and known_at as the Link header does)",
          examples=["-probability"]),
]


async def _moved_since(
    since: Annotated[
        QueryTime | None,
        Query(description="valid time each claim's move is counted from: every item gains "
                          "moved, its probability at as_of minus at since. "
                          "RFC 3339 timestamp with a zone, or a date (the end of that day, UTC)",
              examples=["2024-10-10"]),
    ] = None,
) -> datetime | None:
    return parse_time_option("since", since)


MovedSince = Annotated[datetime | None, Depends(_moved_since)]

router = APIRouter(
    prefix="/claims", tags=["claims"], dependencies=[Depends(caller)], responses=READ,
    route_class=AuthenticatedRoute,
)


@router.post(
    "", status_code=201, response_model=ClaimPublic, response_model_exclude_unset=True,
    dependencies=[JsonBody],
    responses=WRITE | problems(409)
    | created("the claim's URL", "/claims/nk-troops-for-russia"),
)
async def register_claim(
    body: Annotated[ClaimCreate, Body(openapi_examples=examples.CLAIMS)],
    ledger: LedgerDep, writer: WriterDep, response: Response, turns: TurnsDep,
) -> dict[str, Any]:
    """Register a claim; answers 201 with its Location and its credibility with no events."""
    claim = await turns.run(ledger.register_claim, body.fields(), writer.actor, key=writer.key)
    response.headers["Location"] = f"/claims/{claim['id']}"
    response.headers["ETag"] = etag(claim["version"])
    return claim


@router.get("", response_model=ClaimsPublic, response_model_exclude_unset=True, responses=PAGED)
def list_claims(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    as_of: AsOf,
    known_at: KnownAt,
    status: Annotated[
        Annotated[str, Published(enum=list(STATUSES))] | None,
        Query(description="only claims with this credibility status", examples=["leaning true"]),
    ] = None,
    tag: Annotated[str | None, Query(examples=["north-korea"])] = None,
    q: Annotated[str | None, Query(description="words in the claim's text",
                                   examples=["troops"])] = None,
    band: Annotated[str | None, Query(description="only claims in this ICD 203 band",
                                      examples=["very likely"])] = None,
    min_probability: Annotated[float | None, Query(ge=0, le=1, examples=[0.5])] = None,
    max_probability: Annotated[float | None, Query(ge=0, le=1, examples=[0.95])] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
    model: ModelQuery = None,
    sort: Sort = None,
    since: MovedSince = None,
) -> Any:
    """All claims at (as_of, known_at) with credibility and last change; filtered, sorted."""
    page = ledger.list_claims(
        as_of=as_of, known_at=known_at, status=status, tag=tag, q=q, limit=limit,
        cursor=cursor, band=band, min_probability=min_probability,
        max_probability=max_probability, model=model, sort=sort, since=since,
    )
    link_next(request, response, page)
    # The ledger's answer in the contract's shape (ClaimsPublic; tests hold it to the
    # model field for field): serialized once, not validated again.
    return json_answer(page, 200, response.headers)


@router.get(
    "/{claim_id}", response_model=ClaimPublic, response_model_exclude_unset=True,
    responses=problems(404, missing=("claim",)),
)
def read_claim(
    claim_id: ClaimId, ledger: LedgerDep, as_of: AsOf, known_at: KnownAt,
    model: ModelQuery = None,
) -> Any:
    """One claim with its credibility and each event's contribution at (as_of, known_at)."""
    claim = ledger.claim(claim_id, as_of=as_of, known_at=known_at, model=model)
    # Serialized once, as the list is (ClaimPublic holds it in tests).
    return json_answer(claim, 200, {"ETag": etag(claim["version"])})
