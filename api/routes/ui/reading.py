"""Whole answers from the ledger's paged reads, for pages that show or scan all of them:
every claim passing filters (up to ``MAX_CLAIMS``), every event of a claim, the sources
an event list cites. Each later page is read at the times the first one fixed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from api.routes.ui.render import instant
from ledger.application import ClaimsLedger
from ledger.errors import NotFound
from ledger.reads import MAX_LIMIT

#: The most claims a list page reads to sort and count (narrow the filters beyond that).
MAX_CLAIMS = 5000


def all_claims(
    ledger: ClaimsLedger, as_of: datetime | None, known_at: datetime | None, **filters: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], bool]:
    """Every claim passing the filters (up to MAX_CLAIMS), read page by page at the times
    the first page fixed; and whether there were more."""
    first = ledger.list_claims(as_of=as_of, known_at=known_at, limit=MAX_LIMIT, **filters)
    items, cursor = list(first["data"]), first["next_cursor"]
    fixed_as_of, fixed_known = instant(first["as_of"]), instant(first["known_at"])
    while cursor is not None and len(items) < MAX_CLAIMS:
        answer = ledger.list_claims(
            as_of=fixed_as_of, known_at=fixed_known, limit=MAX_LIMIT, cursor=cursor, **filters
        )
        items += answer["data"]
        cursor = answer["next_cursor"]
    return first, items[:MAX_CLAIMS], cursor is not None or len(items) > MAX_CLAIMS


def every_event(
    ledger: ClaimsLedger, claim_id: str, as_of: datetime, known_at: datetime | None
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        answer = ledger.claim_events(
            claim_id, as_of=as_of, known_at=known_at, limit=MAX_LIMIT, cursor=cursor
        )
        events += answer["events"]
        cursor = answer["next_cursor"]
        if cursor is None:
            return events


def sources_named(
    ledger: ClaimsLedger, ids: Iterable[str], as_of: datetime, known_at: datetime | None
) -> dict[str, dict[str, Any]]:
    found = {}
    for source_id in sorted(set(ids)):
        try:
            found[source_id] = ledger.get_source(source_id, known_at=known_at, as_of=as_of)
        except NotFound:
            continue
    return found
