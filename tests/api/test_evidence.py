"""A statement's ``evidence`` over HTTP: written, read back, corrected, checked (a 422 naming
the field and listing the kinds, nothing written), in batches, in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger
from ledger.statements import EVIDENCE_KINDS, STATEMENT_TYPES

from .conftest import assert_problem, log_length

TROOPS = "nk-troops-for-russia"
STATEMENTS = {
    "asserted": {"summary": "Satellite images show the camps."},
    "denied": {"quote": "another hoax"},
    "assessed": {"likelihood": "likely", "confidence": "moderate"},
}


def _events(client: TestClient, claim: str = TROOPS) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get(f"/claims/{claim}/events").json()["events"]
    return events


def _statement(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "source": "kr-nis", "occurred_at": "2024-10-18",
            **STATEMENTS[kind], **fields}


def test_the_vocabulary_is_the_one_the_issue_names() -> None:
    assert EVIDENCE_KINDS == (
        "official-inquiry", "forensic-documentary", "intercepted-communication", "eyewitness",
        "named-official", "unnamed-sources", "hearsay",
    )


@pytest.mark.parametrize("kind", ["asserted", "denied", "assessed"])
def test_every_statement_type_takes_every_kind_and_shows_it(
    article: TestClient, kind: str
) -> None:
    for evidence in EVIDENCE_KINDS:
        answer = article.post(f"/claims/{TROOPS}/events",
                              json=_statement(kind, evidence=evidence))
        assert answer.status_code == 201, answer.text
        stored = _events(article)[-1]
        assert stored["event_id"] == answer.json()["event_id"]
        assert stored["evidence"] == evidence
        one = article.get(f"/claims/{TROOPS}/events/{stored['event_id']}").json()
        assert one["evidence"] == evidence


def test_evidence_is_left_out_where_it_was_not_given(article: TestClient) -> None:
    answer = article.post(f"/claims/{TROOPS}/events", json=_statement("asserted"))
    assert answer.status_code == 201, answer.text
    assert all("evidence" not in event for event in _events(article))
    logged = article.get("/events", params={"limit": 1000}).json()["data"]
    assert all("evidence" not in event for event in logged)


def test_the_global_log_carries_it(article: TestClient) -> None:
    answer = article.post(f"/claims/{TROOPS}/events",
                          json=_statement("denied", evidence="named-official"))
    logged = article.get("/events", params={"limit": 1000}).json()["data"]
    [event] = [e for e in logged if e["event_id"] == answer.json()["event_id"]]
    assert event["evidence"] == "named-official"


@pytest.mark.parametrize("bad", ["rumour", "Eyewitness", "official inquiry", "", 7, ["hearsay"]])
def test_an_unknown_kind_is_a_422_listing_the_kinds_and_writes_nothing(
    article: TestClient, ledger: ClaimsLedger, bad: object
) -> None:
    written = log_length(ledger)
    problem = assert_problem(
        article.post(f"/claims/{TROOPS}/events", json=_statement("asserted", evidence=bad)),
        422, "evidence",
    )
    if isinstance(bad, str) and bad:  # a string: the ledger's own words, with every kind
        [error] = problem["errors"]
        assert all(kind in error["reason"] for kind in EVIDENCE_KINDS), error
    assert log_length(ledger) == written


@pytest.mark.parametrize("kind", ["retracted", "resolved"])
def test_only_a_statement_or_its_correction_carries_evidence(
    article: TestClient, ledger: ClaimsLedger, kind: str
) -> None:
    first = article.post(f"/claims/{TROOPS}/events", json=_statement("asserted")).json()
    written = log_length(ledger)
    event = {"type": kind, "source": "kr-nis", "occurred_at": "2024-10-19",
             "evidence": "eyewitness",
             **({"supersedes": first["event_id"]} if kind == "retracted" else
                {"outcome": "confirmed", "basis": "seen"})}
    assert_problem(article.post(f"/claims/{TROOPS}/events", json=event), 422, "evidence")
    assert log_length(ledger) == written


def test_a_correction_may_give_or_change_the_evidence(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    first = article.post(f"/claims/{TROOPS}/events", json=_statement("asserted")).json()
    fix = {"type": "corrected", "supersedes": first["event_id"], "evidence": "hearsay"}
    answer = article.post(f"/claims/{TROOPS}/events", json=fix)
    assert answer.status_code == 201, answer.text
    assert _events(article)[-1]["evidence"] == "hearsay"
    claim = ledger.store.claim_for_update(TROOPS)
    target = claim.find(first["event_id"])
    assert target is not None and target.evidence is None  # as first recorded
    assert claim.current(target).evidence == "hearsay"  # as corrected
    written = log_length(ledger)
    assert_problem(article.post(f"/claims/{TROOPS}/events", json={**fix, "evidence": "gossip"}),
                   422, "evidence")
    assert log_length(ledger) == written


def test_a_batch_takes_evidence_and_a_bad_kind_rejects_the_whole_batch(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    good = {"claim_id": TROOPS, **_statement("asserted", evidence="forensic-documentary")}
    written = log_length(ledger)
    problem = assert_problem(
        article.post("/events/batch", json=[good, {**good, "evidence": "satellite"}]),
        422, "[1].evidence",
    )
    assert "official-inquiry" in problem["errors"][0]["reason"]
    assert log_length(ledger) == written
    answer = article.post("/events/batch", json=[good])
    assert answer.status_code == 201, answer.text
    assert _events(article)[-1]["evidence"] == "forensic-documentary"


def test_the_schema_publishes_the_kinds_and_where_they_apply(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    event = schemas["EventCreate"]
    published = event["properties"]["evidence"]["anyOf"][0]
    assert published["enum"] == list(EVIDENCE_KINDS)
    assert "hearsay or repeated report" in published["description"]
    branches = {b["properties"]["type"]["const"]: b for b in event["oneOf"]}
    assert set(branches) == set(STATEMENT_TYPES)
    for kind in ("retracted", "resolved"):
        assert branches[kind]["properties"]["evidence"] is False
    for kind in ("asserted", "denied", "assessed", "corrected"):
        assert "evidence" not in branches[kind]["properties"]
    assert "evidence" in schemas["EventPublic"]["properties"]
