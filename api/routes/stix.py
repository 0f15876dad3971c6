"""STIX 2.1: the ledger's log as a bundle (``ledger.interop.stix_export``), and a bundle's
statements into the ledger (``ledger.interop.stix_import``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    AuthenticatedRoute,
    Caller,
    Cursor,
    LedgerDep,
    Limit,
    authorize,
    media_type,
)
from api.errors import UnsupportedMediaType
from api.http import link_next
from api.openapi_docs import PAGED, READ, WRITE, problems
from ledger.interop.stix_export import StixExport, bundle_id, definitions
from ledger.interop.stix_import import apply_import, plan_import
from ledger.reads import MAX_POSITION

#: STIX 2.1's media type (STIX 2.1 section 1.7).
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
STIX_BODY_TYPES = ("application/json", "application/stix+json")

router = APIRouter(prefix="/stix", tags=["stix"], dependencies=[Depends(authorize)],
                   responses=READ, route_class=AuthenticatedRoute)


class StixBundle(BaseModel):
    """A STIX 2.1 bundle: the ledger's identity and extension definition, then the objects
    of the events in scope (identities, notes, opinions, groupings)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["bundle"], max_length=6)
    id: str = Field(examples=["bundle--5d0c0b53-6c6e-4b8e-9c59-5a1f5f0a7a2e"], max_length=64)
    objects: list[dict[str, Any]] = Field(max_length=3 * 1000 + 2)


class StixResponse(JSONResponse):
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
    response = StixResponse(body)
    link_next(request, response, {"next_cursor": page.next_cursor}, replaces=("after",))
    return response


class ImportedObject(BaseModel):
    stix_id: str = Field(max_length=300)
    version: str = Field(max_length=40)
    record: dict[str, Any] = Field(description="the ledger record it becomes (export format)")


class SkippedObject(BaseModel):
    stix_id: str = Field(max_length=300)
    version: str | None = Field(max_length=40)
    reason: str = Field(max_length=2000)


class StixImportResult(BaseModel):
    """What a bundle's import appends (or, without commit, would append) and what it skips."""

    committed: bool
    count: int = Field(description="events appended (0 in a preview)")
    first_position: int | None = None
    last_position: int | None = None
    appended: list[ImportedObject] = Field(max_length=1_000_000)
    skipped: list[SkippedObject] = Field(max_length=1_000_000)


async def _stix_body(request: Request) -> None:
    if media_type(request) not in STIX_BODY_TYPES:
        raise UnsupportedMediaType(request.headers.get("content-type"), STIX_BODY_TYPES)


@router.post(
    "/bundle", response_model=StixImportResult, dependencies=[Depends(_stix_body)],
    responses=WRITE | problems(404, 409),
)
def import_bundle(
    bundle: Annotated[dict[str, Any], Body(description="a STIX 2.1 bundle")],
    ledger: LedgerDep, caller: Caller,
    commit: Annotated[bool, Query(description="append what the preview lists (default: "
                                  "only answer the preview, writing nothing)")] = False,
) -> dict[str, Any]:
    """A STIX bundle's statements: a preview of what is appended and skipped; commit writes."""
    plan = plan_import(ledger, bundle)
    written = apply_import(ledger, plan, caller.name) if commit else {"count": 0}
    return {"committed": commit, **written, **plan.answer()}
