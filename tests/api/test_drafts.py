"""POST /drafts: proposals from an article's text and date, nothing written."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr

from ledger.application import ClaimsLedger
from tests.api.conftest import MakeClient, assert_problem, log_length

TEXT = (
    "Kremlin spokesman Dmitry Peskov on Thursday dismissed the reports as fake.\n"
    "South Korea's National Intelligence Service said last week the claim could be accurate.\n"
    "General Maria Ortiz told reporters on 2 October that troops had crossed the border."
)


def test_proposals_with_known_and_new_sources_and_nothing_written(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    before = log_length(ledger)
    response = article.post("/drafts", json={
        "text": TEXT, "date": "2024-10-14", "claim_id": "nk-troops-for-russia",
        "reference": "https://example.org/a"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["date"], body["claim_id"], body["count"]) == (
        "2024-10-14", "nk-troops-for-russia", 3)
    got = [(p["source"], p["type"], p["occurred_at"], p["date_precision"])
           for p in body["proposals"]]
    assert got == [("peskov", "denied", "2024-10-10", "day"),
                   ("kr-nis", "assessed", "2024-10-07", "week"),
                   ("maria-ortiz", "asserted", "2024-10-02", "day")]
    nis = body["proposals"][1]
    assert nis["likelihood"] == 0.6 and nis["likelihood_phrase"] == "could be accurate"
    assert nis["date_window"] == ["2024-10-07", "2024-10-13"]
    assert nis["event"] == {
        "claim_id": "nk-troops-for-russia", "type": "assessed", "source": "kr-nis",
        "occurred_at": "2024-10-07", "quote": nis["quote"], "likelihood": 0.6,
        "likelihood_phrase": "could be accurate", "reference": "https://example.org/a",
        "note": nis["event"]["note"]}
    assert body["new_sources"] == [{"id": "maria-ortiz", "name": "Maria Ortiz",
                                    "role": "General", "affiliation": None}]
    assert body["proposals"][2]["new_source"]["id"] == "maria-ortiz"
    assert log_length(ledger) == before  # nothing written


def test_accepted_proposals_append_as_one_batch(article: TestClient) -> None:
    body = article.post("/drafts", json={
        "text": TEXT, "date": "2024-10-14", "claim_id": "nk-troops-for-russia"}).json()
    for source in body["new_sources"]:  # each a body POST /sources takes as it is
        assert article.post("/sources", json=source).status_code == 201
    written = article.post("/events/batch", json=[p["event"] for p in body["proposals"]])
    assert written.status_code == 201, written.text
    assert written.json()["count"] == 3
    events = article.get("/claims/nk-troops-for-russia/events?limit=100").json()["events"]
    assert [e["source"] for e in events[-3:]] == ["peskov", "kr-nis", "maria-ortiz"]


def test_a_time_is_read_as_its_calendar_day(client: TestClient) -> None:
    response = client.post("/drafts", json={
        "text": "Anna Berg said on Sunday that the ships had left.",
        "date": "2024-10-14T23:30:00-05:00"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["date"] == "2024-10-14" and body["claim_id"] is None
    assert body["proposals"][0]["occurred_at"] == "2024-10-13"
    assert "claim_id" not in body["proposals"][0]["event"]


def test_bad_input_is_a_422_naming_the_field(client: TestClient, ledger: ClaimsLedger) -> None:
    before = log_length(ledger)
    assert_problem(client.post("/drafts", json={"date": "2024-10-14"}), 422, "text")
    assert_problem(client.post("/drafts", json={"text": "x"}), 422, "date")
    assert_problem(client.post("/drafts", json={"text": "", "date": "2024-10-14"}), 422, "text")
    assert_problem(client.post("/drafts", json={"text": "x" * 200_001, "date": "2024-10-14"}),
                   422, "text")
    refused = assert_problem(client.post("/drafts", json={"text": "x", "date": "14/10/2024"}), 422)
    assert refused["field"] == "date"
    future = assert_problem(client.post("/drafts", json={"text": "x", "date": "2999-01-01"}), 422)
    assert future["field"] == "date"
    assert_problem(client.post("/drafts", json={"text": "x", "date": "2024-10-14",
                                                "claim_id": "Not A Slug"}), 422, "claim_id")
    assert_problem(client.post("/drafts", json={"text": "x", "date": "2024-10-14",
                                                "reference": "ftp://x"}), 422, "reference")
    assert_problem(client.post("/drafts", json={"text": "x", "date": "2024-10-14",
                                                "colour": "red"}), 422, "colour")
    assert log_length(ledger) == before


def test_an_unknown_claim_is_a_404(client: TestClient) -> None:
    body = assert_problem(client.post("/drafts", json={
        "text": "Anna Berg said so.", "date": "2024-10-14", "claim_id": "no-such-claim"}), 404)
    assert "no-such-claim" in body["detail"]


def test_drafting_needs_a_writer_key(make_client: MakeClient) -> None:
    client = make_client(api_keys=SecretStr("ann:reader:r1,bob:writer:w1"))
    body = {"text": "Anna Berg said so.", "date": "2024-10-14"}
    assert_problem(client.post("/drafts", json=body), 401)
    assert_problem(client.post("/drafts", json=body, headers={"Authorization": "Bearer r1"}),
                   403)
    ok = client.post("/drafts", json=body, headers={"Authorization": "Bearer w1"})
    assert ok.status_code == 200 and ok.json()["count"] == 1
