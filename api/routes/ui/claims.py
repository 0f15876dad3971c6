"""The claims page (``/ui``): claims with their credibility at (as_of, known_at), filtered,
sorted and paged by the ledger (``GET /claims``: its ``sort``, ``since`` and cursors), every
choice in the address; the viewer's saved views (``views``). And the front door (``/``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from api.access import Role
from api.deps import LedgerDep
from api.routes.ui import views
from api.routes.ui.base import page_router
from api.routes.ui.forms import keep_token
from api.routes.ui.reading import every_event
from api.routes.ui.render import Fields, Link, blank, instant, render
from api.routes.ui.session import secured, viewer
from ledger.application import ClaimsLedger
from ledger.projection.tables import SORT_KEYS
from ledger.times import format_instant

PAGE_SIZES = (25, 50, 100, 200)
#: The orders the page offers (the ledger's, ``-`` first for largest first).
SORTS = tuple(f"{sign}{key}" for key in SORT_KEYS for sign in ("", "-"))
#: "Moved since" looks this far back from as_of unless told otherwise.
SINCE_DAYS = 7

router = APIRouter(include_in_schema=False)
pages = page_router()


def _events(
    ledger: ClaimsLedger, claims: list[dict[str, Any]], as_of: str, known_at: str
) -> dict[str, int]:
    """For each claim shown, how many of its events occurred by as_of, as known at known_at."""
    return {c["id"]: len(every_event(ledger, c["id"], instant(as_of), instant(known_at)))
            for c in claims}


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
    per: str | None = None,
    since: str | None = None,
    cursor: str | None = None,
    start: str | None = None,
) -> Response:
    """Claims with their credibility at (as_of, known_at), sorted, filtered and paged by
    the ledger, with each one's last change and how far it moved since a date."""
    as_of, known_at, tag, status, band, q, since = (
        blank(v) for v in (as_of, known_at, tag, status, band, q, since)
    )
    sort = sort if sort in SORTS else "registered"
    size = _number(per, 50, PAGE_SIZES)
    first_index = _number(start, 1)
    fields = Fields()
    as_of_at, known_at_at = fields.time("as_of", as_of), fields.time("known_at", known_at)
    since_at = fields.time("since", since)
    # The times the first page fixed, so "moved since" defaults from the concrete as_of.
    fixed = ledger.list_claims(as_of=as_of_at, known_at=known_at_at, limit=1)
    if since_at is None:
        since_at = instant(fixed["as_of"]) - timedelta(days=SINCE_DAYS)
    answer = ledger.list_claims(
        as_of=instant(fixed["as_of"]), known_at=instant(fixed["known_at"]), tag=tag,
        status=status, band=band, q=q, sort=sort, since=since_at, limit=size,
        cursor=cursor if cursor and cursor.isdigit() else None,
    )
    shown = answer["data"]
    # A refused time stays in its field, to be mended, and out of every link.
    kept = {name: (None if name in fields.errors else value) for name, value in
            (("as_of", as_of), ("known_at", known_at), ("since", since))}
    params = {**kept, "tag": tag, "status": status, "band": band, "q": q,
              "sort": None if sort == "registered" else sort,
              "per": None if size == 50 else str(size)}
    link = Link("/ui", params)
    pinned_times = {"as_of": answer["as_of"], "known_at": answer["known_at"],
                    "since": format_instant(since_at)}
    claim_times = {"as_of": kept["as_of"], "known_at": kept["known_at"]}
    nxt = answer["next_cursor"]
    saved = views.shelf(request, {**params, "as_of": kept["as_of"], "known_at": kept["known_at"],
                                  "since": kept["since"]})
    page = render(request, "claims.html", {
        "title": "Claims",
        "answer": answer,
        # The projection was behind the log when the times were fixed (said on the page).
        "behind": fixed.get("behind"),
        "claims": shown,
        "events": _events(ledger, shown, answer["as_of"], answer["known_at"]),
        "since": format_instant(since_at),
        "first_index": first_index,
        "more": nxt is not None,
        # The next page at the times this one was read, so it continues the same list.
        "next_link": None if nxt is None else link(
            **pinned_times, cursor=nxt, start=str(first_index + len(shown))),
        "first_link": link() if cursor else None,
        "per": size,
        "page_sizes": PAGE_SIZES,
        "sort": sort,
        "form": {**params, "as_of": as_of, "known_at": known_at, "since": since},
        "errors": fields.errors,
        "link": link,
        "claim_link": lambda claim_id: Link(f"/ui/claims/{claim_id}", claim_times)(),
        "pinned": link(**pinned_times),
        "tags": sorted({t for c in shown for t in c.get("tags", [])}),
        "saved": saved,
        "writer": viewer(request, Role.writer) is not None,  # offered "Register a claim"
    }, fields.status)
    return page if saved is None else keep_token(request, page, saved["token"])
