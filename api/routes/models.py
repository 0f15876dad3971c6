"""Credibility model versions: the list, and the claims two versions judge differently."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import (
    AsOf,
    AuthenticatedRoute,
    Cursor,
    KnownAt,
    LedgerDep,
    Limit,
    ModelName,
    caller,
)
from api.http import link_next
from api.openapi_docs import PAGED, READ
from api.schemas import ModelDiffPublic, ModelsPublic
from ledger.reads import DIFFERENCE

router = APIRouter(
    prefix="/models", tags=["models"], dependencies=[Depends(caller)], responses=READ,
    route_class=AuthenticatedRoute,
)


@router.get("", response_model=ModelsPublic)
def list_models(ledger: LedgerDep) -> dict[str, Any]:
    """The credibility model versions (name, description, default); `?model=` picks one."""
    return ledger.models()


@router.get("/diff", response_model=ModelDiffPublic, responses=PAGED)
def diff_models(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    from_: Annotated[ModelName, Query(alias="from", description="a model version",
                                      examples=["credibility-v1"])],
    to: Annotated[ModelName, Query(description="another model version",
                                   examples=["credibility-v2"])],
    as_of: AsOf,
    known_at: KnownAt,
    min_difference: Annotated[
        float, Query(ge=0, le=1, description="also list a claim whose band and status agree "
                     "when its probabilities differ by at least this much")
    ] = DIFFERENCE,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The claims two model versions judge differently at (as_of, known_at), and why."""
    page = ledger.models_diff(
        from_, to, as_of=as_of, known_at=known_at, min_difference=min_difference,
        limit=limit, cursor=cursor,
    )
    link_next(request, response, page)
    return page
