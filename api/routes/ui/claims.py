"""The claims page (``/ui``): every claim with its credibility at (as_of, known_at),
filtered, sorted and paged; every choice in the address. And the front door (``/``).

The ledger answers in registration order, so the page reads every match (up to
``MAX_CLAIMS``) and orders them for display.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from api.deps import LedgerDep
from api.routes.ui.base import page_router
from api.routes.ui.reading import MAX_CLAIMS, all_claims, every_event
from api.routes.ui.render import Fields, Link, blank, instant, render
from api.routes.ui.session import secured
from ledger.application import ClaimsLedger
from ledger.statements import STATUSES
from ledger.times import format_instant

PAGE_SIZES = (25, 50, 100, 200)
SORTS = ("registered", "text", "probability", "status")
#: "Moved since" looks this far back from as_of unless told otherwise.
SINCE_DAYS = 7

router = APIRouter(include_in_schema=False)
pages = page_router()


def _sorted(items: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    key = sort.lstrip("-")
    descending = sort.startswith("-")
    orders: dict[str, Callable[[dict[str, Any]], Any]] = {
        "text": lambda c: c["text"].casefold(),
        "probability": lambda c: c["credibility"]["probability"],
        "status": lambda c: STATUSES.index(c["credibility"]["status"]),
    }
    if key not in orders:  # registration order, as the ledger answers
        return list(reversed(items)) if descending else items
    return sorted(items, key=orders[key], reverse=descending)


def _tracking(
    ledger: ClaimsLedger, claims: list[dict[str, Any]], as_of: str, known_at: str, since: str
) -> dict[str, dict[str, Any]]:
    """For each claim shown: its events by as_of, the date its probability last changed by
    then, and how far it moved since ``since`` (the timeline's step there to the claim's
    probability now), all as known at known_at."""
    found = {}
    for claim in claims:
        points = ledger.timeline(claim["id"], known_at=instant(known_at))["points"]
        steps = [p for p in points if p["valid_from"] <= as_of]
        then = [p["probability"] for p in steps if p["valid_from"] <= since]
        found[claim["id"]] = {
            "events": len(every_event(ledger, claim["id"], instant(as_of), instant(known_at))),
            "last_change": steps[-1]["valid_from"] if steps else None,
            "moved": claim["credibility"]["probability"] - (then[-1] if then else 0.5),
        }
    return found


def _number(value: str | None, default: int, choices: Iterable[int] | None = None) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        return default
    if choices is not None:
        return number if number in choices else default
    return max(number, 1)


@router.get("/")
def home(request: Request) -> Response:
    """The service's front door: where the web view and the API's docs are."""
    return secured(render(request, "home.html", {}))


@pages.get("/ui")
def claims_page(
    request: Request,
    ledger: LedgerDep,
    as_of: str | None = None,
    known_at: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    band: str | None = None,
    q: str | None = None,
    sort: str | None = None,
    page: str | None = None,
    per: str | None = None,
    since: str | None = None,
) -> Response:
    """Every claim with its credibility at (as_of, known_at), sortable, filtered, paged,
    with its last change and how far it moved since a date."""
    as_of, known_at, tag, status, band, q, since = (
        blank(v) for v in (as_of, known_at, tag, status, band, q, since)
    )
    sort = sort if sort and sort.lstrip("-") in SORTS else "registered"
    size = _number(per, 50, PAGE_SIZES)
    fields = Fields()
    first, items, truncated = all_claims(
        ledger, fields.time("as_of", as_of), fields.time("known_at", known_at),
        tag=tag, status=status, band=band, q=q,
    )
    since_at = fields.time("since", since)
    if since_at is None:
        since_at = instant(first["as_of"]) - timedelta(days=SINCE_DAYS)
    ordered = _sorted(items, sort)
    pages_count = max(1, math.ceil(len(ordered) / size))
    number = min(_number(page, 1), pages_count)
    shown = ordered[(number - 1) * size : number * size]
    # A refused time stays in its field, to be mended, and out of every link.
    kept = {name: (None if name in fields.errors else value) for name, value in
            (("as_of", as_of), ("known_at", known_at), ("since", since))}
    params = {**kept, "tag": tag, "status": status, "band": band, "q": q,
              "sort": None if sort == "registered" else sort,
              "per": None if size == 50 else str(size)}
    link = Link("/ui", params)
    claim_times = {"as_of": kept["as_of"], "known_at": kept["known_at"]}
    return render(request, "claims.html", {
        "title": "Claims",
        "answer": first,
        "claims": shown,
        "tracking": _tracking(ledger, shown, first["as_of"], first["known_at"],
                              format_instant(since_at)),
        "since": format_instant(since_at),
        "total": len(ordered),
        "truncated": truncated,
        "max_claims": MAX_CLAIMS,
        "first_index": (number - 1) * size + 1,
        "page": number,
        "pages": pages_count,
        "per": size,
        "page_sizes": PAGE_SIZES,
        "sort": sort,
        "form": {**params, "as_of": as_of, "known_at": known_at, "since": since},
        "errors": fields.errors,
        "link": link,
        "claim_link": lambda claim_id: Link(f"/ui/claims/{claim_id}", claim_times)(),
        "pinned": link(as_of=first["as_of"], known_at=first["known_at"],
                       since=format_instant(since_at), page=None),
        "tags": sorted({t for c in items for t in c["tags"]}),
    }, fields.status)
