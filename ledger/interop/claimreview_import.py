"""A fact-checker's ClaimReview as an ``assessed`` statement by that fact-checker.

``plan_review`` reads one schema.org ClaimReview (JSON-LD, as ``claimreview`` writes it or
as fact-checkers publish it) about a claim the ledger holds and answers the records it
would append: the fact-checker as a source (``author``; registered with reliability F when
the ledger does not know it) and its verdict as an assessment. Nothing is written;
``stix_import.apply_import`` writes a plan.

The verdict's likelihood is read, in this order, from ``reviewRating``'s ``alternateName``
when it is an ICD 203 term (or a synonym the ledger knows), from ``ratingValue`` on its
``worstRating``-``bestRating`` scale (the lowest "almost no chance", the highest "almost
certain"), or from the common fact-check words (false, mostly false, half true, ...). The
statement is dated ``datePublished`` and referenced by ``url``; its event id is derived from
the review's author, url and date, so importing the same review twice appends nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from ledger import inputs
from ledger.answers import JSON
from ledger.application import ClaimsLedger
from ledger.errors import InvalidInput, NotFound
from ledger.interop.stix_import import ImportPlan, Planned, Skipped
from ledger.interop.stix_terms import band_term
from ledger.likelihood import InvalidLikelihood, parse_likelihood

_NAMESPACE = uuid5(NAMESPACE_URL, "https://claims-ledger/claimreview-import")
#: Fact-checkers' common verdicts -> the ICD 203 term they read as.
VERDICTS = {
    "pants on fire": "almost no chance",
    "false": "very unlikely",
    "fake": "very unlikely",
    "incorrect": "very unlikely",
    "mostly false": "unlikely",
    "misleading": "unlikely",
    "half true": "roughly even chance",
    "mixture": "roughly even chance",
    "unproven": "roughly even chance",
    "mostly true": "likely",
    "true": "very likely",
    "correct": "very likely",
}


def _text(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _term(rating: Mapping[str, Any]) -> str | None:
    words = _text(rating.get("alternateName"))
    if words:
        try:
            return parse_likelihood(words).term
        except InvalidLikelihood:
            pass
    try:
        value, worst, best = (float(rating[k]) for k in ("ratingValue", "worstRating",
                                                          "bestRating"))
    except (KeyError, TypeError, ValueError):
        value = worst = best = 0.0
    if best > worst and worst <= value <= best:
        return band_term(min(0.99, max(0.01, (value - worst) / (best - worst))))
    if words:
        return VERDICTS.get(re.sub(r"[^a-z ]", "", words.lower()).strip())
    return None


def source_id_for(name: str) -> str:
    """The source id of a fact-checker that the ledger does not know: its name as a slug."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return slug or "fact-checker"


def plan_review(ledger: ClaimsLedger, claim_id: str, review: object) -> ImportPlan:
    """What importing ``review`` about ``claim_id`` would append; writes nothing."""
    if not isinstance(review, Mapping) or review.get("@type") != "ClaimReview":
        raise InvalidInput("@type", "must be 'ClaimReview': send schema.org ClaimReview JSON-LD")
    ledger.claim_version(claim_id)  # ClaimNotFound (404) for a claim the ledger lacks
    plan = ImportPlan()
    url = _text(review.get("url"))
    where = url or "the review"
    author = _text(review.get("author"))
    rating = review.get("reviewRating")
    term = _term(rating) if isinstance(rating, Mapping) else None
    date = _text(review.get("datePublished"))
    missing = [name for name, value in (("author", author), ("reviewRating", term),
                                        ("datePublished", date)) if value is None]
    if missing or author is None or term is None or date is None:
        plan.skipped.append(Skipped(where, date, f"no {missing[0]} the ledger can read: a "
                                    "verdict needs its author, its rating and its date"))
        return plan
    source = source_id_for(author)
    event_id = str(uuid5(_NAMESPACE, f"{author}|{url}|{date}|{claim_id}"))
    rated = rating if isinstance(rating, Mapping) else {}
    words = _text(rated.get("alternateName"))
    said: JSON = {"type": "assessed", "source": source, "occurred_at": date,
                  "likelihood": term,
                  "summary": (_text(rated.get("ratingExplanation")) or
                              f"{author}: {words or term}")[:inputs.MAX_TEXT]}
    if words:
        said["likelihood_phrase"] = words[:200]
    if url:
        said["reference"] = url
    try:
        inputs.statement(said, event_id=event_id, actor="import")
    except InvalidInput as error:
        plan.skipped.append(Skipped(where, date, f"cannot be a statement: {error.detail}"))
        return plan
    try:
        ledger.claim_event(claim_id, event_id)
        plan.skipped.append(Skipped(where, date, f"event {event_id} is already in the ledger"))
        return plan
    except NotFound:
        pass
    try:
        ledger.get_source(source)
    except NotFound:
        plan.appended.append(Planned(where, date, {
            "type": "source_registered", "source": source, "name": author[:200],
            "role": "fact-checker", "reliability": "F"}))
    plan.appended.append(Planned(where, date, {"claim_id": claim_id, "event_id": event_id,
                                               **said}))
    return plan
