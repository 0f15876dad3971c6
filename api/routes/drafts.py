"""Drafts: statements proposed from an article's text and date, for a person to accept.

``POST /drafts`` reads nothing but the body and the registered sources and writes nothing:
the proposals come from ``ledger.drafts`` (rules, no model). It is a POST (the article
can be long) and so, like every POST, needs a writer's key; accepting proposals is a
separate write (``POST /events/batch`` with the answer's ``event`` bodies).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel, Field

from api.bodies import Body as RequestBody
from api.bodies import Id, Time, Url
from api.deps import AuthenticatedRoute, JsonBody, LedgerDep, caller
from api.openapi_docs import READ, WRITE, problems
from ledger.drafts import MAX_ARTICLE, draft_article

router = APIRouter(tags=["drafts"], dependencies=[Depends(caller)], responses=READ,
                   route_class=AuthenticatedRoute)

EXAMPLE_TEXT = (
    "Kremlin spokesman Dmitry Peskov on Thursday dismissed allegations that North Korean "
    "personnel had been sent to help Russia as \u201canother hoax.\u201d But South Korea's "
    "National Intelligence Service said last week it believes the claim could be accurate."
)


class DraftRequest(RequestBody):
    """An article to draft statements from."""

    text: str = Field(min_length=1, max_length=MAX_ARTICLE,
                      description="the article's text (plain text; paragraphs on their own lines)",
                      examples=[EXAMPLE_TEXT])
    date: Time = Field(description="the article's publication date (or an RFC 3339 time: its "
                       "calendar day as written); relative dates in the text are read from it",
                       examples=["2024-10-14"])
    claim_id: Id | None = Field(
        default=None, description="the claim the statements are about (must be registered): "
        "each proposal's event then carries it, ready for POST /events/batch",
        examples=["nk-troops-for-russia"])
    reference: Url | None = Field(
        default=None, description="the article's URL: each proposal's event carries it",
        examples=["https://example.org/news/north-korea-russia"])


class NewSourcePublic(BaseModel):
    id: str = Field(description="a proposed slug")
    name: str
    role: str | None = None
    affiliation: str | None = Field(default=None, description="guessed from a country named")


class ProposalPublic(BaseModel):
    source: str = Field(description="a registered source's id, or new_source's id")
    source_name: str
    new_source: NewSourcePublic | None = Field(
        description="set when the source is not registered: register it before appending")
    type: str = Field(description="asserted, denied or assessed")
    likelihood: float | str | None = Field(
        description="assessed: the ICD 203 words used, or a probability for a hedge")
    likelihood_phrase: str | None = Field(description="the words the likelihood was read from")
    likelihood_term: str | None = Field(description="the ICD 203 band of the likelihood")
    occurred_at: str = Field(description="the date read (YYYY-MM-DD): the start of the "
                             "period the date phrase names")
    date_precision: str = Field(description="day, week, month or year")
    date_window: list[str] = Field(description="first and last day of that period")
    date_basis: str = Field(description="how the date was read, or that the article's date "
                            "stands in")
    dated: bool = Field(description="false when no date was read: the article's date stands in")
    quote: str = Field(description="the quoted words, else the sentence")
    sentence: str
    sentence_index: int = Field(description="the sentence's number in the article, from 1")
    reason: str = Field(description="the rules that fired")
    event: dict[str, Any] = Field(description="the proposal as an event body (with claim_id "
                                  "when the request named one)")


class DraftAnswer(BaseModel):
    date: str
    claim_id: str | None
    reference: str | None
    count: int
    proposals: list[ProposalPublic]
    new_sources: list[NewSourcePublic] = Field(
        description="every proposed new source once, as a body for POST /sources")


@router.post(
    "/drafts", response_model=DraftAnswer, dependencies=[JsonBody],
    responses=WRITE | problems(404, missing=("claim",)),
    description=(
        "Proposed statements from an article's text and date: who said it (a registered "
        "source, or a new one proposed with a slug), asserted, denied or assessed (with the "
        "likelihood words used), when (relative dates read against the article's date, with "
        "the period they name), the quote and the rule that fired. Nothing is written; a "
        "writer's key is needed, as for any POST. Accept proposals by appending their "
        "event bodies with POST /events/batch, after registering any new source."
    ),
)
def draft_statements(
    body: Annotated[DraftRequest, Body()], ledger: LedgerDep,
) -> dict[str, Any]:
    """Proposed statements from an article's text and date; nothing is written."""
    return draft_article(ledger, body.text, body.date, body.claim_id, body.reference)
