"""Events: append one or many, read a claim's history, and read the global log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from api import examples
from api.batch import batch_items, request_body_openapi
from api.bodies import EventCreate
from api.deps import (
    AppenderDep,
    AsOf,
    AuthenticatedRoute,
    Caller,
    ClaimId,
    Cursor,
    JsonBody,
    KnownAt,
    LedgerDep,
    Limit,
    MetricsDep,
    ReadingRoute,
    TurnsDep,
    WriterDep,
    caller,
)
from api.http import etag, json_answer, link_next
from api.openapi_docs import PAGED, RACED, READ, WRITE, created, problems
from api.schemas import (
    AppendAnswer,
    BatchResult,
    ClaimEventsPublic,
    EventPublic,
    LogPage,
    PreviewResult,
)
from ledger.inputs import MAX_EVENT_ID
from ledger.reads import MAX_POSITION

router = APIRouter(tags=["events"], dependencies=[Depends(caller)], responses=READ,
                   route_class=AuthenticatedRoute)

APPEND_EXAMPLES = {**examples.EVENTS, "retracted": examples.RETRACTION}


@router.post(
    "/claims/{claim_id}/events", status_code=201, response_model=AppendAnswer,
    dependencies=[JsonBody],
    responses=WRITE | RACED | problems(404, 412, missing=("claim", "source")) | created(
        "the event's URL (GET it for the event as recorded)",
        "/claims/nk-troops-for-russia/events/2c5d6ec8-3eee-4068-80d9-9371bc37dd78"),
)
async def append_event(
    claim_id: ClaimId,
    body: Annotated[EventCreate, Body(openapi_examples=APPEND_EXAMPLES)],
    ledger: LedgerDep, writer: AppenderDep, metrics: MetricsDep, turns: TurnsDep,
) -> Any:
    """Append one event to a claim; answers its position and the credibility after it."""
    written = await turns.run(
        ledger.writes.append,
        claim_id, body.fields(), writer.actor, expected_version=writer.expected_version,
        key=writer.key, minimal=writer.minimal,
    )
    if not written.replayed:
        metrics.events_appended.inc()
    headers = {
        "ETag": etag(written.answer["version"]),
        "Location": f"/claims/{claim_id}/events/{written.answer['event_id']}",
    }
    if writer.minimal:
        headers["Preference-Applied"] = "return=minimal"
    # Built by the ledger in the contract's shape (AppendAnswer; tests hold it to the
    # model field for field): serialized once, not validated again.
    return json_answer(written.answer, 201, headers)


@router.post(
    "/events/batch", status_code=201, response_model=BatchResult,
    openapi_extra=request_body_openapi(),
    responses=WRITE | RACED | problems(404, missing=("claim", "source")),
)
async def append_batch(
    items: Annotated[list[dict[str, Any]], Depends(batch_items)],
    ledger: LedgerDep, writer: WriterDep, metrics: MetricsDep, turns: TurnsDep,
) -> dict[str, Any]:
    """Append many events, each with its claim_id, in one transaction: all of them or none."""
    written = await turns.run(ledger.writes.append_batch, items, writer.actor, key=writer.key)
    if not written.replayed:
        metrics.events_appended.inc(written.answer["count"])
    return written.answer


@router.get(
    "/claims/{claim_id}/events", response_model=ClaimEventsPublic,
    response_model_exclude_unset=True, responses=problems(404, missing=("claim",)) | PAGED,
)
def claim_events(
    request: Request, claim_id: ClaimId, ledger: LedgerDep, as_of: AsOf, known_at: KnownAt,
    response: Response, limit: Limit = 100, cursor: Cursor = None,
) -> dict[str, Any]:
    """The claim's raw, immutable events in position order, as recorded by known_at."""
    page = ledger.claim_events(claim_id, as_of=as_of, known_at=known_at, limit=limit, cursor=cursor)
    response.headers["ETag"] = etag(page["version"])
    link_next(request, response, page)
    return page


EventId = Annotated[
    str, Path(max_length=MAX_EVENT_ID, description="the event's id, as its append answered",
              examples=["2c5d6ec8-3eee-4068-80d9-9371bc37dd78"]),
]


@router.get(
    "/claims/{claim_id}/events/{event_id}", response_model=EventPublic,
    response_model_exclude_unset=True, responses=problems(404, missing=("claim", "event")),
)
def claim_event(
    claim_id: ClaimId, event_id: EventId, ledger: LedgerDep, known_at: KnownAt
) -> dict[str, Any]:
    """One event of the claim, as recorded by known_at: where an append's Location points."""
    return ledger.claim_event(claim_id, event_id, known_at=known_at)


@router.get("/events", response_model=LogPage, response_model_exclude_unset=True,
            responses=PAGED)
def global_log(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    limit: Limit = 100,
    cursor: Cursor = None,
    after: Annotated[
        int | None,
        Query(ge=0, lt=MAX_POSITION,
              description="start after this position instead of at a cursor: the position "
              "of the last event already read (0: from the start). Not with cursor.",
              examples=[19]),
    ] = None,
) -> dict[str, Any]:
    """The global log in position order, for subscribers (polling with after), replication."""
    page = ledger.log_page(cursor=cursor, limit=limit, after=after)
    link_next(request, response, page, replaces=("after",))
    return page


# A preview writes nothing: a reader's key is enough, whatever the method.
previews = APIRouter(tags=["events"], dependencies=[Depends(caller)], responses=READ,
                     route_class=ReadingRoute)


@previews.post(
    "/claims/{claim_id}/preview", response_model=PreviewResult,
    response_model_exclude_unset=True, dependencies=[JsonBody],
    responses=problems(404, missing=("claim", "source")) | problems(413, 415),
    description=(
        "How the claim's number would move if this event were appended now: its credibility "
        "now (`before`) and with the event added (`after`, with every contribution in "
        "`credibility`; the proposed one's event_id is `proposed`), by the engine an append "
        "answers with. The body is an append's, checked as an append checks it (the same 404 "
        "and 422 refusals). Nothing is written: the log's head and the claim's version stay "
        "as they are. A reader's key is enough."
    ),
)
def preview_event(
    claim_id: ClaimId,
    body: Annotated[EventCreate, Body(openapi_examples=APPEND_EXAMPLES)],
    ledger: LedgerDep, reader: Caller,
) -> dict[str, Any]:
    """How the claim's number would move if this event were appended now; writes nothing."""
    return ledger.preview(claim_id, body.fields(), reader.name)


router.include_router(previews)
