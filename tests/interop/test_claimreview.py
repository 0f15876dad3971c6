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
