"""GET /claims/{id}/audit and GET /claims/{id}/timeline (JSON and SVG)."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from api.svg import timeline_svg
from ledger.application import ClaimsLedger
from ledger.models import VERSIONS

from .conftest import assert_problem

TROOPS = "nk-troops-for-russia"
SVG_NS = "{http://www.w3.org/2000/svg}"


def test_audit_chains_before_and_after(article: TestClient) -> None:
    trail = article.get(f"/claims/{TROOPS}/audit").json()
    assert trail["claim_id"] == TROOPS and trail["model"] == "credibility-v2"
    entries = trail["entries"]
    assert [e["source"] for e in entries] == ["kim-yong-hyun", "kr-nis", "peskov", "zelensky"]
    assert entries[0]["before"] == {"probability": 0.5, "band": "roughly even chance",
                                    "status": "unverified"}
    for previous, entry in itertools.pairwise(entries):
        assert entry["before"] == previous["after"]
    assert all(e["actor"] == "example-data" for e in entries)
    only = article.get(f"/claims/{TROOPS}/audit", params={"source": "peskov"}).json()["entries"]
    assert [e["type"] for e in only] == ["denied"]


def test_audit_as_of_since_until_known_at(article: TestClient) -> None:
    full = article.get(f"/claims/{TROOPS}/audit").json()
    early = article.get(f"/claims/{TROOPS}/audit", params={"as_of": "2024-10-09"}).json()
    assert early["as_of"] == "2024-10-09T23:59:59.999999Z"
    # Statements made after as_of change nothing at that as_of.
    assert early["entries"][-1]["after"] == early["entries"][-2]["after"]
    second = full["entries"][1]["recorded_at"]
    upto = article.get(f"/claims/{TROOPS}/audit", params={"until": second}).json()["entries"]
    assert len(upto) == 2
    since = article.get(f"/claims/{TROOPS}/audit", params={"since": second}).json()["entries"]
    assert len(since) == 3
    known = article.get(f"/claims/{TROOPS}/audit", params={"known_at": second}).json()
    assert known["known_at"] == second and known["entries"] == full["entries"][:2]
    assert_problem(article.get(f"/claims/{TROOPS}/audit", params={"since": "yesterday"}),
                   422, "since")
    assert_problem(article.get("/claims/nope/audit"), 404)


def test_audit_pages(article: TestClient) -> None:
    full = article.get(f"/claims/{TROOPS}/audit").json()
    assert full["next_cursor"] is None and len(full["entries"]) == 4  # the default limit: 100
    known = {"known_at": full["known_at"], "as_of": "2024-10-12"}
    whole = article.get(f"/claims/{TROOPS}/audit", params=known).json()["entries"]
    first = article.get(f"/claims/{TROOPS}/audit", params={**known, "limit": 3}).json()
    assert first["entries"] == whole[:3]
    assert first["next_cursor"] == str(whole[2]["position"])
    rest = article.get(f"/claims/{TROOPS}/audit",
                       params={**known, "limit": 3, "cursor": first["next_cursor"]}).json()
    assert rest["entries"] == whole[3:] and rest["next_cursor"] is None
    # Filters apply before the page is cut; before/after stay as known just before/after.
    since = {**known, "since": whole[1]["recorded_at"], "limit": 1}
    one = article.get(f"/claims/{TROOPS}/audit", params=since).json()
    assert one["entries"] == whole[1:2] and one["next_cursor"] == str(whole[1]["position"])
    last = article.get(f"/claims/{TROOPS}/audit",
                       params={**known, "cursor": str(whole[-1]["position"])}).json()
    assert last["entries"] == [] and last["next_cursor"] is None
    for bad in ({"limit": 0}, {"limit": 1001}, {"cursor": "abc"}, {"cursor": "9" * 19}):
        assert_problem(article.get(f"/claims/{TROOPS}/audit", params=bad), 422,
                       next(iter(bad)))


def test_timeline_json(article: TestClient) -> None:
    answer = article.get(f"/claims/{TROOPS}/timeline")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert "Accept" in answer.headers["vary"]
    timeline = answer.json()
    assert timeline["model"] == "credibility-v2" and timeline["known_at"]
    assert [p["valid_from"][:10] for p in timeline["points"]] == [
        "2024-10-08", "2024-10-10", "2024-10-13"]
    then = article.get(f"/claims/{TROOPS}/timeline", params={"known_at": "2020-01-01"})
    assert_problem(then, 404)


def test_timeline_svg(article: TestClient) -> None:
    answer = article.get(f"/claims/{TROOPS}/timeline", headers={"Accept": "image/svg+xml"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    svg = ET.fromstring(answer.text)
    assert svg.tag == f"{SVG_NS}svg"
    points = article.get(f"/claims/{TROOPS}/timeline").json()["points"]
    circles = svg.findall(f"{SVG_NS}circle")
    assert [c.get("data-event-id") for c in circles] == [p["event_id"] for p in points]
    assert TROOPS in (svg.findtext(f"{SVG_NS}title") or "")


def test_the_timeline_chart_has_its_own_url(article: TestClient) -> None:
    """A browser tab (Accept: text/html, ...) gets the chart at timeline.svg: titled with
    the claim's text, its x-axis labelled with dates a reader can use."""
    known_at = article.get(f"/claims/{TROOPS}/timeline").json()["known_at"]
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    answer = article.get(f"/claims/{TROOPS}/timeline.svg", params={"known_at": known_at},
                         headers=browser)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    negotiated = article.get(f"/claims/{TROOPS}/timeline", params={"known_at": known_at},
                             headers={"Accept": "image/svg+xml"})
    assert negotiated.text == answer.text
    svg = ET.fromstring(answer.text)
    text = "North Korea is sending troops to fight for Russia in Ukraine"
    assert (svg.findtext(f"{SVG_NS}title") or "").startswith(text)
    assert svg.findtext(f"{SVG_NS}text") == text  # the heading
    dates = [t for t in svg.iter(f"{SVG_NS}text") if t.get("class") == "date"]
    assert 3 <= len(dates) <= 7
    days = [date.fromisoformat(t.get("data-date") or "") for t in dates]
    assert days == sorted(days) and len(set(days)) == len(days)
    for label, day in zip(dates, days, strict=True):  # "13 Oct 2024", "Oct 2024" or "2024"
        assert label.text in (f"{day.day} {day:%b %Y}", f"{day:%b %Y}", str(day.year))
    xs = [float(t.get("x") or 0) for t in dates]
    assert xs == sorted(xs)
    points = article.get(f"/claims/{TROOPS}/timeline", params={"known_at": known_at}).json()
    # Every point lies within a step of the labelled dates, so a reader can place it.
    step = days[1] - days[0]
    for point in points["points"]:
        assert days[0] - step <= date.fromisoformat(point["valid_from"][:10]) <= days[-1] + step
    circles = svg.findall(f"{SVG_NS}circle")
    assert [c.get("data-event-id") for c in circles] == [p["event_id"] for p in points["points"]]
    assert_problem(article.get("/claims/nope/timeline.svg"), 404)
    assert_problem(article.get(f"/claims/{TROOPS}/timeline.svg",
                               params={"known_at": "2024-10-13T12:00"}), 422, "known_at")


CHARTS = (("timeline", {"Accept": "image/svg+xml"}), ("timeline.svg", {}))


def test_the_chart_is_the_timeline_titled_with_the_claims_text(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    """Both chart routes answer the bytes of the timeline drawn under the claim's text, each
    read on its own as known then, for every claim of the article in every model version."""
    known_at = article.get(f"/claims/{TROOPS}/timeline").json()["known_at"]
    known = datetime.fromisoformat(known_at)
    claims = [c["id"] for c in article.get("/claims", params={"limit": 1000}).json()["data"]]
    assert len(claims) > 1
    for claim_id, model in itertools.product(claims, VERSIONS):
        expected = timeline_svg(ledger.timeline(claim_id, known_at=known, model=model),
                                title=ledger.claim(claim_id, known_at=known)["text"])
        for path, headers in CHARTS:
            answer = article.get(f"/claims/{claim_id}/{path}", headers=headers,
                                 params={"known_at": known_at, "model": model})
            assert answer.status_code == 200, answer.text
            assert answer.text == expected, (claim_id, model, path)


def test_the_chart_reads_the_claim_once(
    article: TestClient, ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeline's steps and the chart's title come from one read of the claim."""
    loaded: list[str] = []
    load = ledger.store.claim_as_known

    def spy(claim_id: str, known_at_us: int) -> object:
        loaded.append(claim_id)
        return load(claim_id, known_at_us)

    monkeypatch.setattr(ledger.store, "claim_as_known", spy)
    for path, headers in CHARTS:
        loaded.clear()
        answer = article.get(f"/claims/{TROOPS}/{path}", headers=headers)
        assert answer.status_code == 200, answer.text
        assert loaded == [TROOPS], path
    loaded.clear()  # the spy sees every read: the JSON timeline reads the claim once too
    assert article.get(f"/claims/{TROOPS}/timeline").status_code == 200
    assert loaded == [TROOPS]


def test_timeline_negotiation(article: TestClient) -> None:
    def kind(accept: str) -> str:
        response = article.get(f"/claims/{TROOPS}/timeline", headers={"Accept": accept})
        return str(response.headers["content-type"])

    assert kind("*/*") == "application/json"
    assert kind("image/*") == "image/svg+xml"
    assert kind("application/json;q=0.5, image/svg+xml") == "image/svg+xml"
    assert kind("image/svg+xml;q=0.2, application/json") == "application/json"
    assert kind("text/html, image/svg+xml;q=0.9, */*;q=0.8") == "image/svg+xml"
    assert_problem(article.get(f"/claims/{TROOPS}/timeline", headers={"Accept": "text/csv"}), 406)


def test_empty_timeline_svg(client: TestClient) -> None:
    client.post("/claims", json={"id": "quiet", "text": "Nothing said yet"})
    assert client.get("/claims/quiet/timeline").json()["points"] == []
    svg = client.get("/claims/quiet/timeline", headers={"Accept": "image/svg+xml"}).text
    assert "no events in scope" in ET.tostring(ET.fromstring(svg), encoding="unicode")


def test_timeline_svg_of_a_statement_dated_in_antiquity(article: TestClient) -> None:
    article.post(f"/claims/{TROOPS}/events", json={
        "type": "asserted", "source": "zelensky", "occurred_at": "0001-01-01", "quote": "old"})
    answer = article.get(f"/claims/{TROOPS}/timeline", headers={"Accept": "image/svg+xml"})
    assert answer.status_code == 200
    ET.fromstring(answer.text)


def test_an_audit_since_later_than_until_is_refused(article: TestClient) -> None:
    answer = article.get(
        f"/claims/{TROOPS}/audit", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert answer.status_code == 422
    assert "since" in answer.json()["detail"] and "until" in answer.json()["detail"]
