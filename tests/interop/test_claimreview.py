"""GET /claims/{id}/claimreview: schema.org ClaimReview JSON-LD, read by a JSON-LD processor."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from pyld import jsonld

from ledger.application import ClaimsLedger
from ledger.examples import load_article

from .conftest import MakeClient
from .helpers import TROOPS, assert_problem

SCHEMA = "http://schema.org/"


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """schema.org's context as it defines the vocabulary (``@vocab``), served without the
    network: the tests run offline."""
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {"contextUrl": None, "documentUrl": url,
            "document": {"@context": {"@vocab": SCHEMA}}}


def expand(review: dict[str, Any]) -> dict[str, Any]:
    [node] = jsonld.expand(review, {"documentLoader": _offline_loader})
    return dict(node)


def value(node: dict[str, Any], name: str) -> Any:
    [found] = node[SCHEMA + name]
    return found.get("@value", found)


def test_the_review_has_schema_orgs_required_properties(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    response = client.get(f"/claims/{TROOPS}/claimreview")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"
    node = expand(response.json())
    assert node["@type"] == [SCHEMA + "ClaimReview"]
    claim = ledger.claim(TROOPS)
    assert value(node, "claimReviewed") == claim["text"]
    assert value(node, "url") == f"http://testserver/ui/claims/{TROOPS}"
    assert value(node, "datePublished") == claim["known_at"][:10]
    author = value(node, "author")
    assert author["@type"] == [SCHEMA + "Organization"]
    assert value(author, "name") == "Claims Ledger"
    rating = value(node, "reviewRating")
    assert rating["@type"] == [SCHEMA + "Rating"]
    band = claim["credibility"]["band"]
    assert band == "very likely" and value(rating, "alternateName") == band
    assert (value(rating, "worstRating"), value(rating, "ratingValue"),
            value(rating, "bestRating")) == (1, 6, 7)
    explanation = value(rating, "ratingExplanation")
    assert claim["credibility"]["model"] in explanation
    assert all(c["reason"] in explanation for c in claim["credibility"]["contributions"])
    item = value(node, "itemReviewed")
    assert item["@type"] == [SCHEMA + "Claim"]
    first = value(item, "firstAppearance")
    assert value(first, "datePublished") == "2024-10-13"
    assert value(value(first, "author"), "name") == "Volodymyr Zelensky"


def test_appearances_are_the_assertions_in_scope_with_their_references(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    ledger.append(TROOPS, {"type": "asserted", "source": "accusing-governments",
                           "occurred_at": "2024-10-11", "summary": "Troops are on the way.",
                           "reference": "https://example.org/report"}, "ana")
    review = client.get(f"/claims/{TROOPS}/claimreview").json()
    item = review["itemReviewed"]
    assert [(a["datePublished"], a["author"]["name"]) for a in item["appearance"]] == [
        ("2024-10-11", "Governments accusing Pyongyang (unnamed in the article)"),
        ("2024-10-13", "Volodymyr Zelensky")]
    assert item["firstAppearance"]["url"] == "https://example.org/report"
    assert item["firstAppearance"]["author"]["@type"] == "Organization"  # role: governments
    early = client.get(f"/claims/{TROOPS}/claimreview", params={"as_of": "2024-10-12"}).json()
    assert [a["datePublished"] for a in early["itemReviewed"]["appearance"]] == ["2024-10-11"]
    before = client.get(f"/claims/{TROOPS}/claimreview", params={"as_of": "2024-10-01"}).json()
    assert "appearance" not in before["itemReviewed"]
    assert before["reviewRating"]["alternateName"] == "roughly even chance"
    assert before["reviewRating"]["ratingValue"] == 4


def test_the_author_comes_from_settings(make_client: MakeClient, ledger: ClaimsLedger) -> None:
    load_article(ledger)
    client = make_client(publisher_name="Example Checks", publisher_url="https://example.org")
    review = client.get(f"/claims/{TROOPS}/claimreview").json()
    assert review["author"] == {"@type": "Organization", "name": "Example Checks",
                                "url": "https://example.org"}


def test_the_claim_page_embeds_the_same_review(client: TestClient, ledger: ClaimsLedger) -> None:
    load_article(ledger)
    known = ledger.claim(TROOPS)["known_at"]
    page = client.get(f"/ui/claims/{TROOPS}", params={"known_at": known})
    assert page.status_code == 200
    [embedded] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.text,
                            re.S)
    api = client.get(f"/claims/{TROOPS}/claimreview", params={"known_at": known}).json()
    assert json.loads(embedded) == api


def test_bad_requests_are_problems(client: TestClient, ledger: ClaimsLedger) -> None:
    load_article(ledger)
    assert_problem(client.get("/claims/no-such-claim/claimreview"), 404)
    assert_problem(client.get(f"/claims/{TROOPS}/claimreview",
                              params={"as_of": "2024-10-13T00:00:00"}), 422)
    assert_problem(client.get(f"/claims/{TROOPS}/claimreview",
                              params={"model": "credibility-v0"}), 422)


FACT_CHECK = {
    "@context": "https://schema.org", "@type": "ClaimReview",
    "url": "https://factcheck.example.org/nk-troops",
    "datePublished": "2024-10-20",
    "claimReviewed": "North Korea is sending troops to fight for Russia in Ukraine",
    "author": {"@type": "Organization", "name": "Example Fact Check"},
    "reviewRating": {"@type": "Rating", "ratingValue": 2, "worstRating": 1, "bestRating": 5,
                     "alternateName": "Mostly false"},
}


def test_a_fact_checkers_review_is_previewed_then_recorded_as_its_assessment(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    before = ledger.claim(TROOPS)["credibility"]["probability"]
    url = f"/claims/{TROOPS}/claimreview"
    preview = client.post(url, json=FACT_CHECK)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["committed"] is False and body["count"] == 0
    assert [a["record"]["type"] for a in body["appended"]] == ["source_registered", "assessed"]
    assert body["appended"][0]["record"]["source"] == "example-fact-check"
    assessed = body["appended"][1]["record"]
    # 2 on a 1-5 scale: a quarter of the way up, "unlikely"; the verdict's words are kept.
    assert (assessed["likelihood"], assessed["likelihood_phrase"]) == ("unlikely",
                                                                      "Mostly false")
    assert assessed["reference"] == FACT_CHECK["url"]
    assert ledger.claim(TROOPS)["credibility"]["probability"] == before
    committed = client.post(url, params={"commit": "true"}, json=FACT_CHECK).json()
    assert committed["committed"] is True and committed["count"] == 2
    event = ledger.claim_events(TROOPS)["events"][-1]
    assert (event["type"], event["source"], event["occurred_at"][:10], event["likelihood"]) == (
        "assessed", "example-fact-check", "2024-10-20", 0.325)
    assert ledger.claim(TROOPS)["credibility"]["probability"] < before
    again = client.post(url, params={"commit": "true"}, json=FACT_CHECK).json()
    assert again["count"] == 0 and "already in the ledger" in again["skipped"][0]["reason"]


def test_verdict_words_and_the_ledgers_own_reviews_are_read(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    url = f"/claims/{TROOPS}/claimreview"
    words_only = {**FACT_CHECK, "reviewRating": {"@type": "Rating", "alternateName": "False"}}
    record = client.post(url, json=words_only).json()["appended"][-1]["record"]
    assert record["likelihood"] == "very unlikely"
    own = client.get(url).json()  # the ledger's own review: its band is an ICD 203 term
    record = client.post(url, json=own).json()["appended"][-1]["record"]
    assert record["likelihood"] == own["reviewRating"]["alternateName"] == "very likely"
    assert record["source"] == "claims-ledger"


def test_unreadable_reviews_are_problems_or_skipped_and_write_nothing(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    size = len(ledger.global_log(0, 1000)["events"])
    url = f"/claims/{TROOPS}/claimreview"
    assert_problem(client.post(url, json={"@type": "Claim"}), 422)
    assert_problem(client.post("/claims/no-such-claim/claimreview", json=FACT_CHECK), 404)
    assert_problem(client.post(url, content=b"<html/>",
                               headers={"Content-Type": "text/html"}), 415)
    anonymous = {k: v for k, v in FACT_CHECK.items() if k != "author"}
    body = client.post(url, params={"commit": "true"}, json=anonymous).json()
    assert body["count"] == 0 and "no author" in body["skipped"][0]["reason"]
    unrated = {**FACT_CHECK, "reviewRating": {"@type": "Rating", "alternateName": "Spicy"}}
    body = client.post(url, params={"commit": "true"}, json=unrated).json()
    assert body["count"] == 0 and "no reviewRating" in body["skipped"][0]["reason"]
    future = {**FACT_CHECK, "datePublished": "2999-01-01"}
    body = client.post(url, params={"commit": "true"}, json=future).json()
    assert body["count"] == 0 and "future" in body["skipped"][0]["reason"]
    assert len(ledger.global_log(0, 1000)["events"]) == size
