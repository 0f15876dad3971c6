"""One claim's page (``/ui/claims/{id}``): the verdict, the timeline chart as known then
(and at another recording time), why the number is what it is, the audit, the events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Query, Request, Response

from api.deps import LedgerDep
from api.routes.ui.base import page_router
from api.routes.ui.chart import chart
from api.routes.ui.describe import EventNames, likelihood_words, tip
from api.routes.ui.forms import keep_token, recorder
from api.routes.ui.reading import every_event, sources_named
from api.routes.ui.render import END_OF_TIME, Fields, Link, blank, instant, render, when
from ledger.interop.claimreview import Publisher, claim_review
from ledger.statements import STANCE_TYPES, StatementType

#: Event types that say something about the claim (a correction or retraction reports nothing new).
STATEMENTS = (*STANCE_TYPES, StatementType.RESOLVED)

#: Entries of a claim's audit trail on one page (the ledger works up to the page's end).
AUDIT_PAGE = 200

pages = page_router()
def _supersession(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """For each event id, the events that retract or correct it."""
    by_target: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if event.get("supersedes"):
            by_target.setdefault(event["supersedes"], []).append(event)
    return by_target


def _moments(
    events: list[dict[str, Any]], sources: Mapping[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The recording times at which the claim's picture may have changed, latest first:
    each of its events, and each re-rating of a source it cites."""
    seen: dict[str, str] = {}
    for e in events:
        who = sources[e["source"]]["name"] if e.get("source") in sources else e.get("source")
        seen[e["recorded_at"]] = f"after #{e['position']} {e['type']}" + (
            f" by {who}" if who else "")
    for source in sources.values():
        for rating in source["ratings"]:
            if rating["occurred_at"] is not None:
                seen.setdefault(rating["recorded_at"], f"after #{rating['position']} "
                                f"{source['name']} re-rated {rating['reliability']}")
    return [{"value": recorded_at, "label": f"{when(recorded_at)} · {label}"}
            for recorded_at, label in sorted(seen.items(), reverse=True)]


@pages.get("/ui/claims/{claim_id}")
def claim_page(
    request: Request,
    claim_id: str,
    ledger: LedgerDep,
    as_of: str | None = None,
    known_at: str | None = None,
    compare: Annotated[str | None, Query(description="a second known_at to overlay")] = None,
    audit_after: Annotated[str | None, Query(description="the audit page's cursor")] = None,
    recorded: Annotated[str | None, Query(description="an event just recorded here")] = None,
) -> Response:
    """One claim: its timeline as known then (and another time), its audit, its events."""
    as_of, known_at, compare = blank(as_of), blank(known_at), blank(compare)
    audit_after = blank(audit_after)
    given_as_of, given_known, given_compare = as_of, known_at, compare
    fields = Fields()
    claim = ledger.claim(
        claim_id, as_of=fields.time("as_of", as_of), known_at=fields.time("known_at", known_at)
    )
    fixed_as_of, fixed_known = instant(claim["as_of"]), instant(claim["known_at"])
    timeline = ledger.timeline(claim_id, known_at=fixed_known)
    overlay = None
    compare_at = None if compare in (None, "now") else fields.time("compare", compare)
    if compare and "compare" not in fields.errors:
        overlay = ledger.timeline(claim_id, known_at=compare_at)
    # A refused time stays in its field, to be mended, and out of every link.
    as_of, known_at, compare = (None if name in fields.errors else value for name, value in
                                (("as_of", as_of), ("known_at", known_at), ("compare", compare)))
    # Every event known then, whatever its date, for the chart; those by as_of for the table.
    known_events = every_event(ledger, claim_id, END_OF_TIME, fixed_known)
    events = [e for e in known_events if e["occurred_at"] <= claim["as_of"]]
    audit = ledger.audit(claim_id, as_of=fixed_as_of, known_at=fixed_known, limit=AUDIT_PAGE,
                         cursor=audit_after)
    cited = [e["source"] for e in known_events if e.get("source")]
    sources = sources_named(ledger, cited, fixed_as_of, fixed_known)
    # Every recording moment so far, for the known_at control.
    if known_at is None:
        moments = _moments(known_events, sources)
    else:
        now_events = every_event(ledger, claim_id, END_OF_TIME, None)
        moments = _moments(now_events, sources_named(
            ledger, [e["source"] for e in now_events if e.get("source")], fixed_as_of, None))
    contributions = {c["event_id"]: c for c in claim["credibility"]["contributions"]}
    names = EventNames(known_events, sources)
    tips = {
        e["event_id"]: tip(e, sources.get(e["source"]), contributions.get(e["event_id"]),
                           claim["as_of"], names)
        for e in known_events
    }
    reported = [e["occurred_at"] for e in events if e["type"] in STATEMENTS]
    changes = [p["valid_from"] for p in timeline["points"] if p["valid_from"] <= claim["as_of"]]
    values = {m["value"] for m in moments}
    given = {name: value for name, value in (("as_of", given_as_of), ("known_at", given_known),
                                             ("compare", given_compare)) if name in fields.errors}
    link = Link(f"/ui/claims/{claim_id}", {"as_of": as_of, "known_at": known_at,
                                            "compare": compare, "audit_after": audit_after})
    form = recorder(request, ledger, claim_id)
    settings = request.app.state.settings
    review = claim_review(claim, events, sources, Publisher(settings.publisher_name,
                                                            settings.publisher_url),
                          url=str(request.url_for("claim_page", claim_id=claim_id)))
    page = render(request, "claim.html", {
        # schema.org ClaimReview for crawlers; "</" escaped so no text can end the script.
        "claimreview": json.dumps(review, ensure_ascii=False).replace("</", "<\\/"),
        "title": claim["text"],
        "claim": claim,
        "chart": chart(timeline, overlay, known_events, tips, claim["as_of"]),
        "timeline": timeline,
        "overlay": overlay,
        "events": events,
        "later_events": len(known_events) - len(events),
        "superseded_by": _supersession(known_events),
        "event_ids": {e["event_id"] for e in events},
        "positions": {e["event_id"]: e["position"] for e in known_events},
        "audit": audit,
        "sources": sources,
        "moments": moments,
        "form": {"as_of": as_of, "known_at": known_at, "compare": compare,
                 "audit_after": audit_after, **given},
        "errors": fields.errors,
        "known_at_is_moment": known_at is None or known_at in values,
        "compare_is_moment": compare in (None, "now") or compare in values,
        "link": link,
        "pinned": link(as_of=claim["as_of"], known_at=claim["known_at"]),
        "list_link": Link("/ui", {"as_of": as_of, "known_at": known_at})(),
        "likelihood_words": likelihood_words,
        "names": names,
        "first_reported": min(reported, default=None),
        "last_changed": max(changes, default=None),
        "recorder": form,
        "recorded": next((e for e in events if e["event_id"] == recorded), None),
    }, fields.status)
    return page if form is None else keep_token(request, page, form["token"])


