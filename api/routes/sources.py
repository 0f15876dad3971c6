"""Sources: who speaks, and how reliable each is, as a history of ratings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response

from api import examples
from api.bodies import RatingCreate, SourceCreate
from api.deps import (
    AsOf,
    AuthenticatedRoute,
    Cursor,
    JsonBody,
    KnownAt,
    LedgerDep,
    Limit,
    SourceId,
    TurnsDep,
    WriterDep,
    caller,
)
from api.http import link_next
from api.openapi_docs import PAGED, RACED, READ, WRITE, created, problems
from api.schemas import SourcePublic, SourcesPublic

router = APIRouter(
    prefix="/sources", tags=["sources"], dependencies=[Depends(caller)], responses=READ,
    route_class=AuthenticatedRoute,
)


@router.post(
    "", status_code=201, response_model=SourcePublic, dependencies=[JsonBody],
    responses=WRITE | problems(409) | created("the source's URL", "/sources/peskov"),
)
async def register_source(
    body: Annotated[SourceCreate, Body(openapi_examples=examples.SOURCES)],
    ledger: LedgerDep, writer: WriterDep, response: Response, turns: TurnsDep,
) -> dict[str, Any]:
    """Register a source with its Admiralty reliability (A-F; F, cannot be judged, by default)."""
    source = await turns.run(ledger.register_source, body.fields(), writer.actor, key=writer.key)
    response.headers["Location"] = f"/sources/{source['id']}"
    return source


@router.get("", response_model=SourcesPublic, responses=PAGED)
def list_sources(
    request: Request, response: Response, ledger: LedgerDep, as_of: AsOf, known_at: KnownAt,
    limit: Limit = 100, cursor: Cursor = None,
) -> dict[str, Any]:
    """List the sources registered by known_at, rated as at as_of, in registration order."""
    page = ledger.list_sources(known_at=known_at, limit=limit, cursor=cursor, as_of=as_of)
    link_next(request, response, page)
    return page


@router.get("/{source_id}", response_model=SourcePublic,
            responses=problems(404, missing=("source",)))
def read_source(
    source_id: SourceId, ledger: LedgerDep, as_of: AsOf, known_at: KnownAt
) -> dict[str, Any]:
    """Read a source, its rating at as_of and its rating history as known at known_at."""
    return ledger.get_source(source_id, known_at=known_at, as_of=as_of)


@router.post(
    "/{source_id}/ratings", status_code=201, response_model=SourcePublic,
    dependencies=[JsonBody], responses=WRITE | RACED | problems(404, missing=("source",)),
)
async def rerate_source(
    source_id: SourceId,
    body: Annotated[RatingCreate, Body(openapi_examples=examples.RATINGS)],
    ledger: LedgerDep, writer: WriterDep, turns: TurnsDep,
) -> dict[str, Any]:
    """Re-rate a source from a date on; views before that date keep the old rating."""
    return await turns.run(
        ledger.rerate_source, source_id, body.fields(), writer.actor, key=writer.key
    )
