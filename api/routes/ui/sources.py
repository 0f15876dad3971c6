"""The sources: ``/ui/sources``, every source on one page, and ``/ui/sources/{id}``, one
source's page: its affiliations, its Admiralty rating and its history, and what it said on
which claim, when. Who said what is read from the events of the first
``MAX_SCANNED_CLAIMS`` claims."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request, Response

from api.access import Role
from api.deps import LedgerDep
from api.routes.ui.base import page_router
from api.routes.ui.reading import all_claims, every_event
from api.routes.ui.render import Fields, Link, blank, instant, render
from api.routes.ui.session import viewer
from ledger.application import ClaimsLedger
from ledger.reads import MAX_LIMIT

#: The most claims the sources pages read events of, to tell who spoke on what.
MAX_SCANNED_CLAIMS = 500

pages = page_router()


def _statements(
    ledger: ClaimsLedger, as_of: datetime, known_at: datetime
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]:
    """Every (claim, event) of the first claims, by as_of as known at known_at, and how
    many claims were left unread."""
    _, claims, _ = all_claims(ledger, as_of, known_at)
    scanned = claims[:MAX_SCANNED_CLAIMS]
    said = [(claim, event) for claim in scanned
            for event in every_event(ledger, claim["id"], as_of, known_at) if event.get("source")]
    return said, len(claims) - len(scanned)


def _spoke_on(
    said: list[tuple[dict[str, Any], dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """For each source, the claims it has events on, with how many of each type."""
    spoke: dict[str, dict[str, dict[str, Any]]] = {}
    for claim, event in said:
        entry = spoke.setdefault(event["source"], {}).setdefault(
            claim["id"], {"claim": claim, "types": {}, "first": event["occurred_at"],
                          "last": event["occurred_at"]}
        )
        entry["types"][event["type"]] = entry["types"].get(event["type"], 0) + 1
        entry["first"] = min(entry["first"], event["occurred_at"])
        entry["last"] = max(entry["last"], event["occurred_at"])
    return {source: list(on.values()) for source, on in spoke.items()}


@pages.get("/ui/sources")
def sources_page(
    request: Request, ledger: LedgerDep, as_of: str | None = None, known_at: str | None = None
) -> Response:
    """Every source: affiliation, Admiralty rating and its history, the claims it spoke on."""
    as_of, known_at = blank(as_of), blank(known_at)
    fields = Fields()
    first = ledger.list_sources(as_of=fields.time("as_of", as_of),
                                known_at=fields.time("known_at", known_at), limit=MAX_LIMIT)
    fixed_as_of, fixed_known = instant(first["as_of"]), instant(first["known_at"])
    sources, cursor = list(first["data"]), first["next_cursor"]
    while cursor is not None:
        answer = ledger.list_sources(as_of=fixed_as_of, known_at=fixed_known, limit=MAX_LIMIT,
                                     cursor=cursor)
        sources += answer["data"]
        cursor = answer["next_cursor"]
    said, unscanned = _statements(ledger, fixed_as_of, fixed_known)
    times = {name: value for name, value in (("as_of", as_of), ("known_at", known_at))
             if name not in fields.errors}
    return render(request, "sources.html", {
        "title": "Sources",
        "answer": first,
        "sources": sources,
        "spoke_on": _spoke_on(said),
        "unscanned": unscanned,
        "form": {"as_of": as_of, "known_at": known_at},
        "errors": fields.errors,
        "pinned": Link("/ui/sources", {})(as_of=first["as_of"], known_at=first["known_at"]),
        "claim_link": lambda claim_id: Link(f"/ui/claims/{claim_id}", times)(),
        "source_link": lambda source_id: Link(f"/ui/sources/{source_id}", times)(),
        "writer": viewer(request, Role.writer) is not None,  # offered "Register a source"
    }, fields.status)


@pages.get("/ui/sources/{source_id}")
def source_page(
    request: Request, source_id: str, ledger: LedgerDep, as_of: str | None = None,
    known_at: str | None = None,
) -> Response:
    """One source: its affiliations, rating and rating history, and what it said, dated."""
    as_of, known_at = blank(as_of), blank(known_at)
    fields = Fields()
    source = ledger.get_source(source_id, as_of=fields.time("as_of", as_of),
                               known_at=fields.time("known_at", known_at))
    fixed_as_of, fixed_known = instant(source["as_of"]), instant(source["known_at"])
    said, unscanned = _statements(ledger, fixed_as_of, fixed_known)
    times = {name: value for name, value in (("as_of", as_of), ("known_at", known_at))
             if name not in fields.errors}
    return render(request, "source.html", {
        "title": source["name"],
        "source": source,
        "said": sorted(((claim, event) for claim, event in said if event["source"] == source_id),
                       key=lambda pair: (pair[1]["occurred_at"], pair[1]["position"])),
        "unscanned": unscanned,
        "form": {"as_of": as_of, "known_at": known_at},
        "errors": fields.errors,
        "pinned": Link(f"/ui/sources/{source_id}", {})(as_of=source["as_of"],
                                                        known_at=source["known_at"]),
        "claim_link": lambda claim_id: Link(f"/ui/claims/{claim_id}", times)(),
    }, fields.status)
