"""TAXII 2.1, read only: discovery, the ledger's API root and its one collection
(``ledger.interop.taxii``). Reading needs a reader's key, as every read does."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response

from api.deps import AuthenticatedRoute, LedgerDep, SettingsDep, authorize
from api.openapi_docs import READ, problems
from ledger.interop.taxii import (
    COLLECTION_ID,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    STIX_MEDIA_TYPE,
    Collection,
    Page,
    parse_filters,
)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
ROOT = "/taxii2/ledger/"
COLLECTION = f"{ROOT}collections/{{collection_id}}/"


async def _accepts_taxii(accept: Annotated[str | None, Header(include_in_schema=False)] = None
                         ) -> None:
    """TAXII 2.1 answers only its media type: an Accept that allows none is a 406."""
    if accept is None:
        return
    for part in accept.split(","):
        kind, *params = (p.strip().lower() for p in part.split(";"))
        version = next((p.split("=", 1)[1] for p in params if p.startswith("version=")), None)
        if kind in ("*/*", "application/*") or (
            kind == "application/taxii+json" and version in (None, "2.1")
        ):
            return
    raise HTTPException(406, f"this route answers {TAXII_MEDIA_TYPE}; Accept allows none of it")


router = APIRouter(
    prefix="/taxii2", tags=["taxii"], responses=READ | problems(406),
    dependencies=[Depends(authorize), Depends(_accepts_taxii)], route_class=AuthenticatedRoute,
)

_TAXII_BODY: dict[int | str, dict[str, Any]] = {
    200: {"content": {TAXII_MEDIA_TYPE: {"schema": {"type": "object"}}}}}
CollectionId = Annotated[str, Path(description="the ledger's collection",
                                   examples=[COLLECTION_ID], max_length=36)]
ObjectId = Annotated[str, Path(description="a STIX object's id", max_length=300,
                               examples=["grouping--1b7cbb5c-7a8c-4a77-8d2c-0d3b5e2a3a1f"])]
AddedAfter = Annotated[str | None, Query(
    description="only objects added (recorded) after this RFC 3339 time", max_length=40,
    examples=["2026-01-01T00:00:00Z"])]
TaxiiLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most this many "
                                  f"objects, 1-{MAX_LIMIT}")]
Next = Annotated[str | None, Query(description="the previous page's next", max_length=30,
                                   pattern=r"^(-1|[0-9]{1,18})\.[0-9]{1,6}$")]
MatchId = Annotated[str | None, Query(alias="match[id]", max_length=10_000,
                                      description="object ids, comma-separated")]
MatchType = Annotated[str | None, Query(alias="match[type]", max_length=1000,
                                        description="STIX types, comma-separated",
                                        examples=["opinion,note"])]
MatchVersion = Annotated[str | None, Query(
    alias="match[version]", max_length=1000,
    description="last (default), first, all, or modified timestamps, comma-separated")]
MatchSpecVersion = Annotated[str | None, Query(alias="match[spec_version]", max_length=100,
                                               description="2.1: the only one held")]


def _answer(body: dict[str, Any], page: Page | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), media_type=TAXII_MEDIA_TYPE)
    if page is not None and page.items:
        response.headers["X-TAXII-Date-Added-First"] = str(page.first_added)
        response.headers["X-TAXII-Date-Added-Last"] = str(page.last_added)
    return response


def _collection_info() -> dict[str, Any]:
    return {
        "id": COLLECTION_ID, "title": "Claims Ledger",
        "description": "Every source, statement, assessment and claim of this ledger as STIX "
        "2.1 objects, in the order the ledger recorded them.",
        "can_read": True, "can_write": False, "media_types": [STIX_MEDIA_TYPE],
    }


def _ours(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise HTTPException(404, f"there is no collection {collection_id!r}; "
                            f"{ROOT}collections/ lists the one there is")


def _envelope(page: Page) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more, "objects": [item.obj for item in page.items]}
    if page.next is not None:
        body["next"] = page.next
    return body


@router.get("/", response_class=Response, responses=_TAXII_BODY)
def discovery(request: Request) -> Response:
    """TAXII 2.1 server discovery: the ledger's one API root."""
    root = str(request.url_for("api_root"))
    return _answer({"title": "Claims Ledger TAXII 2.1", "description": "A read-only API root "
                    "serving the ledger as STIX 2.1.", "default": root, "api_roots": [root]})


@router.get("/ledger/", response_class=Response, responses=_TAXII_BODY)
def api_root(settings: SettingsDep) -> Response:
    """The API root's information: TAXII 2.1, read only."""
    return _answer({"title": "Claims Ledger", "description": "The ledger's collection.",
                    "versions": [TAXII_MEDIA_TYPE],
                    "max_content_length": settings.max_body_bytes})


@router.get("/ledger/collections/", response_class=Response, responses=_TAXII_BODY)
def collections() -> Response:
    """The API root's collections: one, the whole ledger."""
    return _answer({"collections": [_collection_info()]})


@router.get("/ledger/collections/{collection_id}/", response_class=Response,
            responses=_TAXII_BODY | problems(404))
def collection(collection_id: CollectionId) -> Response:
    """The collection's information."""
    _ours(collection_id)
    return _answer(_collection_info())


@router.get("/ledger/collections/{collection_id}/objects/", response_class=Response,
            responses=_TAXII_BODY | problems(404))
def objects(
    collection_id: CollectionId, ledger: LedgerDep, added_after: AddedAfter = None,
    limit: TaxiiLimit = DEFAULT_LIMIT, next: Next = None, match_id: MatchId = None,
    match_type: MatchType = None, match_version: MatchVersion = None,
    match_spec_version: MatchSpecVersion = None,
) -> Response:
    """The collection's objects, by date added: an envelope, with more and next."""
    _ours(collection_id)
    filters = parse_filters(added_after, _list(match_id), _list(match_type),
                            _list(match_version), _list(match_spec_version))
    page = Collection(ledger).page(filters, limit, next)
    return _answer(_envelope(page), page)


@router.get("/ledger/collections/{collection_id}/objects/{object_id}/",
            response_class=Response, responses=_TAXII_BODY | problems(404))
def get_object(
    collection_id: CollectionId, object_id: ObjectId, ledger: LedgerDep,
    added_after: AddedAfter = None, limit: TaxiiLimit = DEFAULT_LIMIT, next: Next = None,
    match_version: MatchVersion = None, match_spec_version: MatchSpecVersion = None,
) -> Response:
    """One object's versions (by default its latest): an envelope."""
    _ours(collection_id)
    filters = parse_filters(added_after, (), (), _list(match_version),
                            _list(match_spec_version))
    page = Collection(ledger).object_versions(object_id, filters, limit, next)
    return _answer(_envelope(page), page)


@router.get("/ledger/collections/{collection_id}/objects/{object_id}/versions/",
            response_class=Response, responses=_TAXII_BODY | problems(404))
def object_versions(
    collection_id: CollectionId, object_id: ObjectId, ledger: LedgerDep,
    added_after: AddedAfter = None, limit: TaxiiLimit = DEFAULT_LIMIT, next: Next = None,
    match_spec_version: MatchSpecVersion = None,
) -> Response:
    """The modified times of every version of one object."""
    _ours(collection_id)
    filters = parse_filters(added_after, (), (), ("all",), _list(match_spec_version))
    page = Collection(ledger).object_versions(object_id, filters, limit, next)
    body: dict[str, Any] = {"more": page.more,
                            "versions": [item.obj["modified"] for item in page.items]}
    if page.next is not None:
        body["next"] = page.next
    return _answer(body, page)


@router.get("/ledger/collections/{collection_id}/manifest/", response_class=Response,
            responses=_TAXII_BODY | problems(404))
def manifest(
    collection_id: CollectionId, ledger: LedgerDep, added_after: AddedAfter = None,
    limit: TaxiiLimit = DEFAULT_LIMIT, next: Next = None, match_id: MatchId = None,
    match_type: MatchType = None, match_version: MatchVersion = None,
    match_spec_version: MatchSpecVersion = None,
) -> Response:
    """What the collection holds, one entry per object version, without the objects."""
    _ours(collection_id)
    filters = parse_filters(added_after, _list(match_id), _list(match_type),
                            _list(match_version), _list(match_spec_version))
    page = Collection(ledger).page(filters, limit, next)
    body: dict[str, Any] = {"more": page.more, "objects": [
        {"id": item.obj["id"], "date_added": item.date_added,
         "version": item.obj.get("modified", item.obj.get("created")),
         "media_type": STIX_MEDIA_TYPE}
        for item in page.items]}
    if page.next is not None:
        body["next"] = page.next
    return _answer(body, page)


def _list(value: str | None) -> tuple[str, ...]:
    return () if value is None else (value,)
