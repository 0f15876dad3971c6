"""STIX 2.1: the ledger's log as a bundle (``ledger.interop.stix_export``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import AuthenticatedRoute, Cursor, LedgerDep, Limit, authorize
from api.http import link_next
from api.openapi_docs import PAGED, READ
from ledger.interop.stix_export import StixExport, bundle_id, definitions
from ledger.reads import MAX_POSITION

#: STIX 2.1's media type (STIX 2.1 section 1.7).
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"

router = APIRouter(prefix="/stix", tags=["stix"], dependencies=[Depends(authorize)],
                   responses=READ, route_class=AuthenticatedRoute)


class StixBundle(BaseModel):
    """A STIX 2.1 bundle: the ledger's identity and extension definition, then the objects
    of the events in scope (identities, notes, opinions, groupings)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["bundle"], max_length=6)
    id: str = Field(examples=["bundle--5d0c0b53-6c6e-4b8e-9c59-5a1f5f0a7a2e"], max_length=64)
    objects: list[dict[str, Any]] = Field(max_length=3 * 1000 + 2)


class StixResponse(Response):
    media_type = STIX_MEDIA_TYPE


@router.get(
    "/bundle", response_model=StixBundle, response_class=StixResponse, responses=PAGED,
)
def export_bundle(
    request: Request,
    ledger: LedgerDep,
    limit: Limit = 100,
    cursor: Cursor = None,
    after: Annotated[
        int | None,
        Query(ge=0, lt=MAX_POSITION,
              description="start after this log position instead of at a cursor (0: from "
              "the start). Not with cursor.", examples=[19]),
    ] = None,
) -> Response:
    """The events of one page of the global log (as GET /events pages it) as a STIX bundle."""
    page = StixExport(ledger).page(after=after, limit=limit, cursor=cursor)
    body = {
        "type": "bundle",
        "id": bundle_id("log", page.after, page.last_position),
        "objects": definitions() + [item.obj for item in page.items],
    }
    response = StixResponse(json.dumps(body, ensure_ascii=False))
    link_next(request, response, {"next_cursor": page.next_cursor}, replaces=("after",))
    return response
