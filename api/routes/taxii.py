"""TAXII 2.1, read only: discovery, the ledger's API root and its one collection
(``ledger.interop.taxii``). Reading needs a reader's key, as every read does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api import examples
from api.deps import AuthenticatedRoute, LedgerDep, SettingsDep, authorize
from api.openapi_docs import READ, problems
from ledger.interop.stix_terms import claim_grouping_id
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



class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA_TYPE


class DiscoveryPublic(BaseModel):
    """TAXII 2.1 discovery (section 4.1.1)."""

    title: str = Field(max_length=200)
    description: str = Field(max_length=2000)
    default: str = Field(max_length=2000, examples=["http://127.0.0.1:8000/taxii2/ledger/"])
    api_roots: list[str] = Field(max_length=1)


class ApiRootPublic(BaseModel):
    """TAXII 2.1 API root information (section 4.2.1)."""

    title: str = Field(max_length=200)
    description: str = Field(max_length=2000)
    versions: list[str] = Field(max_length=1, examples=[[TAXII_MEDIA_TYPE]])
    max_content_length: int


class CollectionPublic(BaseModel):
    """A TAXII 2.1 collection (section 5.2.1): read only."""

    id: str = Field(max_length=36, examples=[COLLECTION_ID])
    title: str = Field(max_length=200)
    description: str = Field(max_length=2000)
    can_read: bool
    can_write: bool
    media_types: list[str] = Field(max_length=1, examples=[[STIX_MEDIA_TYPE]])


class CollectionsPublic(BaseModel):
    collections: list[CollectionPublic] = Field(max_length=1)


class EnvelopePublic(BaseModel):
    """A TAXII 2.1 envelope (section 3.7): STIX objects, and next while there is more."""

    more: bool
    next: str | None = Field(default=None, max_length=30, examples=["19.1"])
    objects: list[dict[str, Any]] = Field(max_length=MAX_LIMIT)


class ManifestRecord(BaseModel):
    id: str = Field(max_length=300)
    date_added: str = Field(max_length=40)
    version: str = Field(max_length=40)
    media_type: str = Field(max_length=64, examples=[STIX_MEDIA_TYPE])


class ManifestPublic(BaseModel):
    """A TAXII 2.1 manifest (section 5.6.1): one record per object version."""

    more: bool
    next: str | None = Field(default=None, max_length=30)
    objects: list[ManifestRecord] = Field(max_length=MAX_LIMIT)


class VersionsPublic(BaseModel):
    """An object's versions (section 5.8.1): their modified times."""

    more: bool
    next: str | None = Field(default=None, max_length=30)
    versions: list[str] = Field(max_length=MAX_LIMIT)


CollectionId = Annotated[str, Path(description="the ledger's collection",
                                   examples=[COLLECTION_ID], max_length=36)]
#: The article's troops claim's grouping: an object id the examples use.
EXAMPLE_OBJECT_ID = claim_grouping_id(examples.CLAIM_ID)
ObjectId = Annotated[str, Path(description="a STIX object's id", max_length=300,
                               examples=[EXAMPLE_OBJECT_ID])]
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
    response = TaxiiResponse(body)
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


@router.get("/", response_model=DiscoveryPublic, response_class=TaxiiResponse,
            response_model_exclude_none=True)
def discovery(request: Request) -> Response:
    """TAXII 2.1 server discovery: the ledger's one API root."""
    root = str(request.url_for("api_root"))
    return _answer({"title": "Claims Ledger TAXII 2.1", "description": "A read-only API root "
                    "serving the ledger as STIX 2.1.", "default": root, "api_roots": [root]})


@router.get("/ledger/", response_model=ApiRootPublic, response_class=TaxiiResponse,
            response_model_exclude_none=True)
def api_root(settings: SettingsDep) -> Response:
    """The API root's information: TAXII 2.1, read only."""
    return _answer({"title": "Claims Ledger", "description": "The ledger's collection.",
                    "versions": [TAXII_MEDIA_TYPE],
                    "max_content_length": settings.max_body_bytes})


@router.get("/ledger/collections/", response_model=CollectionsPublic, response_class=TaxiiResponse,
            response_model_exclude_none=True)
def collections() -> Response:
    """The API root's collections: one, the whole ledger."""
    return _answer({"collections": [_collection_info()]})


@router.get("/ledger/collections/{collection_id}/", response_model=CollectionPublic,
            responses=problems(404), response_class=TaxiiResponse,
            response_model_exclude_none=True)
def collection(collection_id: CollectionId) -> Response:
    """The collection's information."""
    _ours(collection_id)
    return _answer(_collection_info())


@router.get("/ledger/collections/{collection_id}/objects/", response_model=EnvelopePublic,
            responses=problems(404), response_class=TaxiiResponse,
            response_model_exclude_none=True)
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
            response_model=EnvelopePublic, responses=problems(404), response_class=TaxiiResponse,
            response_model_exclude_none=True)
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
            response_model=VersionsPublic, responses=problems(404), response_class=TaxiiResponse,
            response_model_exclude_none=True)
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


@router.get("/ledger/collections/{collection_id}/manifest/", response_model=ManifestPublic,
            responses=problems(404), response_class=TaxiiResponse,
            response_model_exclude_none=True)
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
