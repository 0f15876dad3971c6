"""A claim's credibility as schema.org ClaimReview JSON-LD, for fact-check aggregators.

``claim_review`` is a pure function of the claim's answer (``ClaimsLedger.claim``), its
events and its sources' names; ``review_claim`` reads those through the ledger's public
reads. The rating is the ICD 203 band on a stated seven-step scale (1 "almost no chance" to
7 "almost certain"), the band's words as ``alternateName`` and the model's reasons as
``ratingExplanation``. The claim's appearances are its assertions: each a ``CreativeWork``
by the source that made it (a ``Person``, or an ``Organization`` when its role names
a body: a government, a service, an agency...), on the day it was made, at its reference
when it has one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.answers import JSON
from ledger.application import ClaimsLedger
from ledger.likelihood import ICD203_TERMS

SCHEMA_ORG = "https://schema.org"
#: ratingValue 1..7: the ICD 203 terms in order ("almost no chance" is 1).
WORST, BEST = 1, len(ICD203_TERMS)
_APPEARS = ("asserted",)  # where the claim itself is made


@dataclass(frozen=True)
class Publisher:
    """Who publishes the review (``Settings.publisher_name``, ``publisher_url``)."""

    name: str
    url: str | None = None


def rating_value(band: str) -> int:
    return ICD203_TERMS.index(band) + 1


def _day(instant: str) -> str:
    return instant[:10]


#: Words in a source's role that make it an organisation rather than a person.
_BODIES = ("government", "service", "agency", "ministry", "office", "organisation",
           "organization", "company", "news", "media", "council", "army", "forces")


def _speaker(source_id: str, sources: Mapping[str, Mapping[str, Any]]) -> JSON:
    source = sources.get(source_id, {})
    role = str(source.get("role") or "").lower()
    person = not any(word in role for word in _BODIES)
    speaker: JSON = {"@type": "Person" if person else "Organization",
                     "name": source.get("name", source_id)}
    if person and source.get("role"):
        speaker["jobTitle"] = source["role"]
    return speaker


def _appearance(event: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]) -> JSON:
    work: JSON = {
        "@type": "CreativeWork",
        "datePublished": _day(event["occurred_at"]),
        "author": _speaker(event["source"], sources),
    }
    if event.get("reference"):
        work["url"] = event["reference"]
    words = event.get("quote") or event.get("summary")
    if words:
        work["text"] = words
    return work


def _explanation(credibility: Mapping[str, Any]) -> str:
    head = (f"{credibility['status'].capitalize()}: probability {credibility['probability']} "
            f"({credibility['band']}) by the ledger's model {credibility['model']}.")
    reasons = [c["reason"] for c in credibility.get("contributions", []) if c.get("reason")]
    return " ".join([head, *(f"{reason}." for reason in reasons)])


def claim_review(
    claim: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    sources: Mapping[str, Mapping[str, Any]],
    publisher: Publisher,
    url: str | None = None,
) -> JSON:
    """The ClaimReview of ``claim`` (its answer) given its events in scope and their
    sources (``GET /sources/{id}`` answers, by id); ``url`` is the review's own address."""
    credibility = claim["credibility"]
    withdrawn = {e.get("supersedes") for e in events if e["type"] == "retracted"}
    made = sorted((e for e in events if e["type"] in _APPEARS and e["event_id"] not in withdrawn),
                  key=lambda e: (e["occurred_at"], e["position"]))
    author: JSON = {"@type": "Organization", "name": publisher.name}
    if publisher.url:
        author["url"] = publisher.url
    item: JSON = {"@type": "Claim", "name": claim["text"]}
    if made:
        item["appearance"] = [_appearance(e, sources) for e in made]
        item["firstAppearance"] = item["appearance"][0]
        item["datePublished"] = _day(made[0]["occurred_at"])
        item["author"] = item["appearance"][0]["author"]
    review: JSON = {
        "@context": SCHEMA_ORG,
        "@type": "ClaimReview",
        "claimReviewed": claim["text"],
        "datePublished": _day(claim["known_at"]),
        "author": author,
        "itemReviewed": item,
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": rating_value(credibility["band"]),
            "worstRating": WORST,
            "bestRating": BEST,
            "alternateName": credibility["band"],
            "ratingExplanation": _explanation(credibility),
        },
    }
    if url:
        review["url"] = url
    return review


def review_claim(
    ledger: ClaimsLedger,
    claim_id: str,
    publisher: Publisher,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    model: str | None = None,
    url: str | None = None,
) -> JSON:
    """The ClaimReview of a claim at (``as_of``, ``known_at``), read through the ledger."""
    claim = ledger.claim(claim_id, as_of=as_of, known_at=known_at, model=model)
    events: list[JSON] = []
    cursor: str | None = None
    while True:
        page = ledger.claim_events(claim_id, as_of=datetime.fromisoformat(claim["as_of"]),
                                   known_at=datetime.fromisoformat(claim["known_at"]),
                                   limit=1000, cursor=cursor)
        events += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    sources = {sid: ledger.get_source(sid) for sid in {e["source"] for e in events}}
    return claim_review(claim, events, sources, publisher, url)
