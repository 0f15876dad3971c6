"""schema.org ClaimReview of a claim (``ledger.interop.claimreview``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import (
    AsOf,
    AuthenticatedRoute,
    Caller,
    ClaimId,
    JsonBody,
    KnownAt,
    LedgerDep,
    ModelQuery,
    SettingsDep,
    authorize,
)
from api.openapi_docs import READ, WRITE, problems
from api.routes.stix import StixImportResult
from ledger.interop.claimreview import BEST, WORST, Publisher, review_claim
from ledger.interop.claimreview_import import plan_review
from ledger.interop.stix_import import apply_import

JSON_LD = "application/ld+json"

router = APIRouter(tags=["claimreview"], dependencies=[Depends(authorize)], responses=READ,
                   route_class=AuthenticatedRoute)


class ReviewRatingPublic(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = Field(alias="@type", examples=["Rating"], max_length=6)
    ratingValue: int = Field(ge=WORST, le=BEST, description="the ICD 203 band, 1 (almost no "
                             "chance) to 7 (almost certain)", examples=[6])
    worstRating: int = Field(examples=[WORST], ge=WORST, le=WORST)
    bestRating: int = Field(examples=[BEST], ge=BEST, le=BEST)
    alternateName: str = Field(description="the band's words", examples=["very likely"],
                               max_length=32)
    ratingExplanation: str = Field(description="the credibility model's reasons",
                                   max_length=1_000_000)


class ClaimReviewPublic(BaseModel):
    """schema.org ClaimReview JSON-LD."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    context: str = Field(alias="@context", examples=["https://schema.org"], max_length=32)
    type: str = Field(alias="@type", examples=["ClaimReview"], max_length=16)
    claimReviewed: str = Field(max_length=10_000)
    datePublished: str = Field(description="the day of the known_at the review was made for",
                               examples=["2026-01-01"], max_length=10)
    author: dict[str, Any] = Field(description="the publisher (settings: publisher_name, "
                                   "publisher_url)")
    itemReviewed: dict[str, Any] = Field(description="the Claim, its appearance (the "
                                         "assertions, with their references) and "
                                         "firstAppearance")
    reviewRating: ReviewRatingPublic
    url: str = Field(description="the claim's page in the web view", max_length=2100)


class JsonLdResponse(JSONResponse):
    media_type = JSON_LD


@router.get(
    "/claims/{claim_id}/claimreview", response_model=ClaimReviewPublic,
    response_class=JsonLdResponse, responses=problems(404, missing=("claim",)),
)
def claim_review(
    request: Request, claim_id: ClaimId, ledger: LedgerDep, settings: SettingsDep,
    as_of: AsOf, known_at: KnownAt, model: ModelQuery = None,
) -> Response:
    """The claim's credibility at (as_of, known_at) as schema.org ClaimReview JSON-LD."""
    review = review_claim(
        ledger, claim_id, Publisher(settings.publisher_name, settings.publisher_url),
        as_of=as_of, known_at=known_at, model=model,
        url=str(request.url_for("claim_page", claim_id=claim_id)),
    )
    return JsonLdResponse(review)


@router.post(
    "/claims/{claim_id}/claimreview", response_model=StixImportResult, dependencies=[JsonBody],
    responses=WRITE | problems(404, missing=("claim",)),
)
def import_claim_review(
    claim_id: ClaimId,
    review: Annotated[dict[str, Any], Body(description="schema.org ClaimReview JSON-LD")],
    ledger: LedgerDep, caller: Caller,
    commit: Annotated[bool, Query(description="append what the preview lists (default: "
                                  "only answer the preview, writing nothing)")] = False,
) -> dict[str, Any]:
    """A fact-checker's ClaimReview as its assessment of the claim: a preview; commit writes."""
    plan = plan_review(ledger, claim_id, review)
    written = apply_import(ledger, plan, caller.name) if commit else {"count": 0}
    return {"committed": commit, **written, **plan.answer()}
