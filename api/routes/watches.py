"""Watches: conditions on claims, delivered by signed webhook (``ledger.watchdesk``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.bodies import SLUG_PATTERN, Body
from api.deps import AuthenticatedRoute, Caller, JsonBody, authorize
from api.openapi_docs import READ, WRITE, problems
from ledger.likelihood import ICD203_TERMS
from ledger.watchdesk import Watches
from ledger.watches import CONDITION_KINDS, DIRECTIONS, MAX_URL

router = APIRouter(prefix="/watches", tags=["watches"], dependencies=[Depends(authorize)],
                   responses=READ, route_class=AuthenticatedRoute)


async def _watches(request: Request) -> Watches:
    watches: Watches = request.app.state.watches
    return watches


WatchesDep = Annotated[Watches, Depends(_watches)]
WatchId = Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f-]{1,64}$",
                              description="the watch's id, as its creation answered")]


class ConditionBody(BaseModel):
    """When the watch fires: ``band`` (the band changes; into ``band`` if given),
    ``threshold`` (the probability crosses it; ``direction`` up, down or either), ``move``
    (by at least ``points`` percentage points within ``window_seconds``), ``new_source`` (a
    source speaks on the claim for the first time), ``resolved``."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal[CONDITION_KINDS]  # type: ignore[valid-type]
    band: Literal[ICD203_TERMS] | None = None  # type: ignore[valid-type]
    threshold: float | None = Field(default=None, gt=0, lt=1)
    direction: Literal[DIRECTIONS] | None = None  # type: ignore[valid-type]
    points: float | None = Field(default=None, gt=0, lt=100)
    window_seconds: float | None = Field(default=None, gt=0, lt=10**9)


class ScopeBody(BaseModel):
    """One claim, or the claims matching every filter given (tag, party, words of text)."""

    model_config = ConfigDict(extra="forbid")
    claim: str | None = Field(default=None, pattern=SLUG_PATTERN, max_length=64)
    tag: str | None = Field(default=None, min_length=1, max_length=256)
    party: str | None = Field(default=None, min_length=1, max_length=256)
    text: str | None = Field(default=None, min_length=1, max_length=256)


class WatchCreate(Body):
    """A new watch: a condition over a scope of claims, and where to deliver it."""

    condition: ConditionBody
    scope: ScopeBody
    url: str | None = Field(default=None, max_length=MAX_URL, pattern=r"^https?://",
                            description="the webhook: each firing is POSTed here, signed")
    secret: str | None = Field(default=None, min_length=16, max_length=256,
                               description="the key of the signatures (default: made here, "
                               "answered once)")

    def fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


WATCH_ID = "5b0e9a43-7c1d-4f2a-9e6b-3d8c2a1f0e77"
WHEN = "2026-12-07T03:00:00.000000Z"


class WatchHistory(BaseModel):
    action: str = Field(description="created, paused, active (resumed) or deleted",
                        examples=["created"])
    actor: str = Field(description="who did it (the API key's principal)", examples=["desk"])
    at: str = Field(examples=[WHEN])


class WatchPublic(BaseModel):
    id: str = Field(examples=[WATCH_ID])
    condition: dict[str, Any] = Field(examples=[{"kind": "band", "band": "almost certain"}])
    scope: dict[str, str] = Field(examples=[{"claim": "nk-troops-for-russia"}])
    url: str | None = Field(description="the webhook, if any",
                            examples=["https://newsroom.example/hooks/ledger"])
    status: str = Field(description="active, paused or deleted", examples=["active"])
    actor: str = Field(description="who set it", examples=["desk"])
    created_at: str = Field(examples=[WHEN])
    after: int = Field(description="the log position it was set at: it fires on later events",
                       examples=[19])
    history: list[WatchHistory]


class WatchCreated(WatchPublic):
    secret: str = Field(description="the key of its signatures; answered only here",
                        examples=["Jx0c3cW8xq2m0dV9l5ZbKQ7rT1uYpA6sN4eH8gF2iLo"])


class WatchesPublic(BaseModel):
    data: list[WatchPublic]


class DeliveryPublic(BaseModel):
    delivery_id: str = Field(description="the same on every attempt: de-duplicate on it")
    position: int = Field(description="the log position of the event that fired the watch")
    status: str = Field(description="pending, retrying, delivered, failed, or stream-only "
                        "(no url)")
    attempts: int
    last_status: int | None
    last_error: str | None
    last_attempt_at: str | None
    next_attempt_at: str | None
    created_at: str


class DeliveriesPublic(BaseModel):
    watch_id: str
    data: list[DeliveryPublic]


NOT_FOUND = problems(404, examples={404: ("not-found",)},
                     descriptions={404: "no such watch (or it was deleted)"})


@router.post("", status_code=201, response_model=WatchCreated, dependencies=[JsonBody],
             responses=WRITE | problems(404, missing=("claim",)))
def create_watch(body: WatchCreate, watches: WatchesDep, caller: Caller, response: Response
                 ) -> dict[str, Any]:
    """Set a watch on one claim or a filter of claims; it fires on events after now."""
    made = watches.create(body.fields(), caller.name)
    response.headers["Location"] = f"/watches/{made['id']}"
    return made


@router.get("", response_model=WatchesPublic)
def list_watches(watches: WatchesDep) -> dict[str, Any]:
    """Every watch not deleted, in the order they were set."""
    return watches.list_watches()


@router.get("/{watch_id}", response_model=WatchPublic, responses=NOT_FOUND)
def get_watch(watch_id: WatchId, watches: WatchesDep) -> dict[str, Any]:
    """One watch: its condition, scope, status and who changed it when."""
    return watches.get(watch_id)


@router.post("/{watch_id}/pause", response_model=WatchPublic, responses=WRITE | NOT_FOUND)
def pause_watch(watch_id: WatchId, watches: WatchesDep, caller: Caller) -> dict[str, Any]:
    """Pause a watch: it owes nothing for events stored while it is paused."""
    return watches.set_status(watch_id, "paused", caller.name)


@router.post("/{watch_id}/resume", response_model=WatchPublic, responses=WRITE | NOT_FOUND)
def resume_watch(watch_id: WatchId, watches: WatchesDep, caller: Caller) -> dict[str, Any]:
    """Resume a paused watch."""
    return watches.set_status(watch_id, "active", caller.name)


@router.delete("/{watch_id}", response_model=WatchPublic, responses=WRITE | NOT_FOUND)
def delete_watch(watch_id: WatchId, watches: WatchesDep, caller: Caller) -> dict[str, Any]:
    """Delete a watch: it fires no more; answers it as deleted (its history stays stored)."""
    return watches.set_status(watch_id, "deleted", caller.name)


@router.get("/{watch_id}/deliveries", response_model=DeliveriesPublic, responses=NOT_FOUND)
def watch_deliveries(watch_id: WatchId, watches: WatchesDep) -> dict[str, Any]:
    """The notifications the watch owes or made: status, attempts, last error."""
    return watches.deliveries(watch_id)
