"""A statement's ``relays`` and a claim's ``alleged_at`` over HTTP: written, read back,
checked (a 422 naming the field, nothing written), published in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger

from .conftest import assert_problem, log_length

TROOPS = "nk-troops-for-russia"
ARMS = "nk-arms-for-russia"
ECHO = {"type": "asserted", "source": "kim-yong-hyun", "occurred_at": "2024-10-16",
        "summary": "Repeats what Kyiv said."}


def _events(client: TestClient, claim: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get(f"/claims/{claim}/events").json()["events"]
    return events


def _first(client: TestClient, claim: str, kind: str) -> str:
    return next(e["event_id"] for e in _events(client, claim) if e["type"] == kind)


def test_a_relay_is_stored_and_read_back(article: TestClient) -> None:
    relayed = _first(article, TROOPS, "asserted")
    answer = article.post(f"/claims/{TROOPS}/events", json={**ECHO, "relays": relayed})
    assert answer.status_code == 201, answer.text
    stored = _events(article, TROOPS)[-1]
    assert stored["event_id"] == answer.json()["event_id"]
    assert stored["relays"] == relayed
    assert "relays" not in _events(article, TROOPS)[0]  # left out where it does not apply
    one = article.get(f"/claims/{TROOPS}/events/{stored['event_id']}").json()
    assert one["relays"] == relayed


def test_v2_gives_a_relay_no_independent_weight_and_says_so(article: TestClient) -> None:
    relayed = _first(article, TROOPS, "asserted")
    event_id = article.post(
        f"/claims/{TROOPS}/events", json={**ECHO, "relays": relayed}
    ).json()["event_id"]
    claim = article.get(f"/claims/{TROOPS}", params={"model": "credibility-v2"}).json()
    [mine] = [c for c in claim["credibility"]["contributions"] if c["event_id"] == event_id]
    assert mine["log_odds"] == 0.0
    assert f"it relays event {relayed}" in mine["reason"]
    assert "a relay counts x0" in mine["reason"]


def test_a_relay_must_name_an_earlier_statement_of_the_same_claim(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    written = log_length(ledger)
    other_claims = _first(article, ARMS, "denied")
    for relayed in ("no-such-event", other_claims):
        problem = assert_problem(
            article.post(f"/claims/{TROOPS}/events", json={**ECHO, "relays": relayed}),
            422, "relays",
        )
        assert "is not part of claim" in problem["errors"][0]["reason"]
    assert log_length(ledger) == written


def test_only_a_statement_relays_and_only_a_statement_is_relayed(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    relayed = _first(article, TROOPS, "asserted")
    resolution = {"type": "resolved", "source": "kim-yong-hyun", "occurred_at": "2024-10-16",
                  "outcome": "confirmed", "basis": "seen"}
    assert_problem(article.post(f"/claims/{TROOPS}/events",
                                json={**resolution, "relays": relayed}), 422, "relays")
    written = article.post(f"/claims/{TROOPS}/events", json=resolution)
    assert written.status_code == 201, written.text
    count = log_length(ledger)
    at_resolution = {**ECHO, "relays": written.json()["event_id"]}
    problem = assert_problem(article.post(f"/claims/{TROOPS}/events", json=at_resolution),
                             422, "relays")
    assert "is a resolved event" in problem["errors"][0]["reason"]
    too_long = {**ECHO, "relays": "x" * 201}
    assert_problem(article.post(f"/claims/{TROOPS}/events", json=too_long), 422, "relays")
    assert log_length(ledger) == count


def test_a_correction_cannot_make_a_statement_relay_what_it_may_not(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    target = _first(article, TROOPS, "asserted")
    correction = {"type": "corrected", "supersedes": target, "relays": target}
    count = log_length(ledger)
    assert_problem(article.post(f"/claims/{TROOPS}/events", json=correction), 422, "relays")
    assert log_length(ledger) == count
    denial = _first(article, TROOPS, "denied")
    fixed = article.post(f"/claims/{TROOPS}/events", json={**correction, "relays": denial})
    assert fixed.status_code == 201, fixed.text
    assert _events(article, TROOPS)[-1]["relays"] == denial


def test_a_batch_may_relay_an_event_earlier_in_the_same_batch(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    answer = article.post("/events/batch", json=[{"claim_id": ARMS, **ECHO}])
    relayed = answer.json()["events"][0]["event_id"]
    both = [{"claim_id": ARMS, **ECHO, "relays": relayed},
            {"claim_id": TROOPS, **ECHO, "relays": relayed}]
    count = log_length(ledger)
    assert_problem(article.post("/events/batch", json=both), 422, "[1].relays")
    assert log_length(ledger) == count  # all or nothing
    ok = article.post("/events/batch", json=both[:1])
    assert ok.status_code == 201, ok.text
    assert _events(article, ARMS)[-1]["relays"] == relayed


def test_alleged_at_is_registered_with_the_claim_and_read_back(article: TestClient) -> None:
    body = {"id": "mh17", "text": "A Buk missile downed MH17", "parties": ["RU"],
            "alleged_at": "2014-07-17"}
    answer = article.post("/claims", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["alleged_at"] == "2014-07-17T00:00:00.000000Z"  # a bare date: 00:00
    read = article.get("/claims/mh17").json()
    assert read["alleged_at"] == "2014-07-17T00:00:00.000000Z"
    timed = article.post("/claims", json={**body, "id": "mh17-b",
                                          "alleged_at": "2014-07-17T15:20:00+02:00"})
    assert timed.json()["alleged_at"] == "2014-07-17T13:20:00.000000Z"
    assert "alleged_at" not in article.get(f"/claims/{TROOPS}").json()  # not given: left out
    registered = [e for e in article.get("/events", params={"limit": 1000}).json()["data"]
                  if e.get("claim_id") == "mh17" and e["type"] == "claim_registered"]
    assert registered[0]["alleged_at"] == "2014-07-17T00:00:00.000000Z"


def test_alleged_at_is_checked(article: TestClient, ledger: ClaimsLedger) -> None:
    count = log_length(ledger)
    body = {"id": "later", "text": "Something will happen"}
    for bad in ("3024-01-01", "2014-07-17T10:00:00", "yesterday", 17):
        assert_problem(article.post("/claims", json={**body, "alleged_at": bad}),
                       422, "alleged_at")
    assert log_length(ledger) == count


def test_the_schema_publishes_both_fields(article: TestClient) -> None:
    schemas = article.get("/openapi.json").json()["components"]["schemas"]
    relays = schemas["EventCreate"]["properties"]["relays"]
    variants = relays.get("anyOf", [relays])
    text = next(v for v in variants if v.get("type") == "string")
    assert text["maxLength"] == 200 and text["pattern"]
    assert "repeats" in relays["description"]
    assert "relays" in schemas["EventPublic"]["properties"]
    alleged = schemas["ClaimCreate"]["properties"]["alleged_at"]
    assert "alleged thing happened" in alleged["description"]
    assert "alleged_at" in schemas["ClaimPublic"]["properties"]


def test_a_blank_relay_or_supersedes_is_refused_not_taken_as_left_out(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    """The schema publishes a non-blank event id: an append (or its preview) sent with
    ``relays: ""`` is a 422 naming the field, as the fuzzer found the preview answering
    200 and the append 201."""
    written = log_length(ledger)
    for path in (f"/claims/{TROOPS}/events", f"/claims/{TROOPS}/preview"):
        for blank in ("", "   "):
            assert_problem(article.post(path, json={**ECHO, "relays": blank}), 422, "relays")
    assert log_length(ledger) == written
