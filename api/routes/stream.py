"""Server-sent event streams: the global log, and one claim's credibility changes.

Each event's SSE ``id`` is its position in the log, so a client that reconnects with
``Last-Event-ID`` (as EventSource does by itself) resumes right after the last event it got,
across a reconnect or a restart of the server. A stream catches up, then follows the
process's one reader of the log (``ledger.live.LogHub``): this process's writes wake it at
once, PostgreSQL's LISTEN/NOTIFY too, and it reads again every ``stream_poll_seconds`` for
writes by other processes on SQLite. Comment lines keep an idle stream open
(``stream_ping_seconds``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from api.bodies import SLUG_PATTERN
from api.deps import AuthenticatedRoute, ClaimId, LedgerDep, SettingsDep, authorize
from api.openapi_docs import READ, problems
from ledger.errors import LedgerError
from ledger.inputs import MAX_ID
from ledger.live import JSON, LOG_TYPES, LogFilter, LogHub, Message, Page, follow, log_feed
from ledger.reads import MAX_POSITION
from ledger.watchdesk import Watches

router = APIRouter(tags=["stream"], dependencies=[Depends(authorize)], responses=READ,
                   route_class=AuthenticatedRoute)

STREAM: dict[int | str, dict[str, Any]] = {200: {
    "description": "a text/event-stream: one event per record, its id the record's position",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}}
After = Annotated[
    int | None,
    Query(ge=0, lt=MAX_POSITION, examples=[19],
          description="start after this position (0: from the start); Last-Event-ID wins"),
]
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
           description="the id (position) of the last event received: resume after it"),
]
Slug = Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=MAX_ID)]

def _start(after: int | None, last_event_id: str | None) -> int:
    return int(last_event_id) if last_event_id is not None else (after or 0)


def encode(message: Message) -> bytes:
    """One message of a feed as a server-sent event (the hub encodes each record once)."""
    return ServerSentEvent(json.dumps(message.data), event=message.name,
                           id=None if message.id is None else str(message.id)).encode()


async def _follow(
    request: Request, after: int, read: Callable[[int], Page],
    wants: LogFilter | Callable[[JSON], bool],
) -> AsyncIterator[bytes]:
    """Catch up from ``after``, then follow the process's log hub (``ledger.live.follow``)."""
    hub: LogHub = request.app.state.hub
    try:
        async for frames in follow(hub, after, read, wants):
            yield frames
    except LedgerError as error:  # damaged history: say so and end the stream
        yield ServerSentEvent(json.dumps({"detail": error.detail}), event="error").encode()


@router.get("/events/stream", response_class=EventSourceResponse, responses=STREAM)
async def stream_events(
    request: Request,
    ledger: LedgerDep,
    settings: SettingsDep,
    last_event_id: LastEventId = None,
    after: After = None,
    claim: Annotated[Slug, Query(description="only this claim's events")] = None,
    source: Annotated[Slug, Query(description="only this source's events")] = None,
    type: Annotated[
        Literal[LOG_TYPES] | None,  # type: ignore[valid-type]
        Query(description="only events of this type"),
    ] = None,
) -> EventSourceResponse:
    """The global log as server-sent events, from a position, then live; filtered."""
    wanted = LogFilter(claim=claim, source=source, type=type)
    start = _start(after, last_event_id)
    return EventSourceResponse(
        _follow(request, start, lambda position: log_feed(ledger, position, wanted),
                wanted),
        ping=settings.stream_ping_seconds)


@router.get("/claims/{claim_id}/stream", response_class=EventSourceResponse,
            responses=STREAM | problems(404, missing=("claim",)))
async def stream_claim(
    request: Request,
    claim_id: ClaimId,
    ledger: LedgerDep,
    settings: SettingsDep,
    last_event_id: LastEventId = None,
    after: After = None,
) -> EventSourceResponse:
    """The claim's credibility changes, and its watches' firings, as server-sent events."""
    await run_in_threadpool(ledger.claim_version, claim_id)  # a 404 before the stream opens
    watches: Watches = request.app.state.watches
    start = _start(after, last_event_id)

    def moves_it(record: JSON) -> bool:  # its own events, and a re-rating of a source
        return record.get("claim_id") == claim_id or record["type"] == "source_rerated"

    return EventSourceResponse(
        _follow(request, start, lambda position: watches.claim_feed(claim_id, position),
                moves_it),
        ping=settings.stream_ping_seconds)

