"""POST /claims/{id}/events (If-Match, Idempotency-Key), POST /events/batch (JSON, NDJSON),
GET /claims/{id}/events and GET /events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.schemas import AppendAnswer
from ledger.application import ClaimsLedger

from .conftest import assert_problem, log_length

TROOPS = "nk-troops-for-russia"
ARMS = "nk-arms-for-russia"
HOAX = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-17", "quote": "another hoax"}


def test_append_answers_position_version_and_credibility(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    written = log_length(ledger)
    answer = article.post(f"/claims/{TROOPS}/events", json=HOAX)
    assert answer.status_code == 201
    result = answer.json()
    assert answer.headers["etag"] == '"6"' and result["version"] == 6
    assert result["claim_id"] == TROOPS and result["position"] == written + 1
    assert result["recorded_at"].endswith("Z") and result["known_at"] == result["recorded_at"]
    assert result["credibility"]["model"] == "credibility-v2"
    stored = article.get(f"/claims/{TROOPS}/events").json()["events"][-1]
    assert stored["event_id"] == result["event_id"]
    assert stored["actor"] == "local"  # the principal, never a field of the body
    assert stored["quote"] == "another hoax" and "summary" not in stored


@pytest.mark.parametrize("prefer", [None, "return=minimal"])
def test_an_appends_answer_is_its_published_model_field_for_field(
    article: TestClient, prefer: str | None
) -> None:
    """The answer is serialized once, without the response model: it must be what the
    model (``AppendAnswer``, the OpenAPI schema) would have made of it, nothing more or
    less, for every kind of statement and contribution."""
    headers = {"Prefer": prefer} if prefer else {}
    bodies: list[dict[str, Any]] = [
        HOAX,
        {"type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-18",
         "likelihood": "highly likely", "confidence": "moderate",
         "evidence": "intercepted-communication"},
        {"type": "asserted", "source": "zelensky", "occurred_at": "2024-10-19",
         "summary": "again", "reference": "https://example.org/r", "note": "n"},
    ]
    for body in bodies:
        answer = article.post(f"/claims/{TROOPS}/events", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        sent = answer.json()
        assert AppendAnswer.model_validate(sent).model_dump(mode="json") == sent
        assert ("credibility" in sent) is (prefer is None)


MINIMAL = {"Prefer": "return=minimal"}


def test_prefer_return_minimal_answers_the_position_without_the_credibility(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    written = log_length(ledger)
    answer = article.post(f"/claims/{TROOPS}/events", json=HOAX, headers=MINIMAL)
    assert answer.status_code == 201
    assert answer.headers["preference-applied"] == "return=minimal"
    result = answer.json()
    assert set(result) == {"event_id", "claim_id", "position", "recorded_at", "version"}
    assert result["claim_id"] == TROOPS and result["position"] == written + 1
    assert answer.headers["etag"] == '"6"' and result["version"] == 6
    assert answer.headers["location"] == f"/claims/{TROOPS}/events/{result['event_id']}"
    stored = article.get(answer.headers["location"]).json()
    assert stored["position"] == result["position"]
    assert stored["recorded_at"] == result["recorded_at"]
    # The write is the same as without the preference: the claim's answer counts it.
    claim = article.get(f"/claims/{TROOPS}", params={"known_at": result["recorded_at"]}).json()
    assert claim["version"] == 6
    assert result["event_id"] in {c["event_id"] for c in claim["credibility"]["contributions"]}


def test_prefer_other_than_return_minimal_answers_in_full(article: TestClient) -> None:
    for prefer in ("return=representation", "respond-async", "return=minimalist", "x" * 2000):
        answer = article.post(f"/claims/{TROOPS}/events", headers={"Prefer": prefer},
                              json={**HOAX, "occurred_at": f"2024-10-{17 + len(prefer) % 9}"})
        assert answer.status_code == 201 and "preference-applied" not in answer.headers
        assert "credibility" in answer.json(), prefer
    spelled = article.post(f"/claims/{TROOPS}/events", json={**HOAX, "occurred_at": "2024-10-27"},
                           headers={"Prefer": 'respond-async, RETURN="Minimal"; x=1'})
    assert spelled.headers["preference-applied"] == "return=minimal"
    assert "credibility" not in spelled.json()


def test_prefer_return_minimal_with_if_match_and_idempotency_key(
    article: TestClient, ledger: ClaimsLedger
) -> None:
    stale = {**MINIMAL, "If-Match": '"4"'}
    assert_problem(article.post(f"/claims/{TROOPS}/events", json=HOAX, headers=stale), 412)
    keyed = {**MINIMAL, "If-Match": '"5"', "Idempotency-Key": "minimal-1"}
    first = article.post(f"/claims/{TROOPS}/events", json=HOAX, headers=keyed)
    written = log_length(ledger)
    again = article.post(f"/claims/{TROOPS}/events", json=HOAX, headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and log_length(ledger) == written
    # The same write asked in full, by the same key: the full answer of that one write.
    full = article.post(f"/claims/{TROOPS}/events", json=HOAX,
                        headers={"If-Match": '"5"', "Idempotency-Key": "minimal-1"}).json()
    assert log_length(ledger) == written
    assert {k: full[k] for k in first.json()} == first.json() and "credibility" in full


def test_actor_is_not_a_client_field(article: TestClient, ledger: ClaimsLedger) -> None:
    written = log_length(ledger)
    assert_problem(article.post(f"/claims/{TROOPS}/events", json={**HOAX, "actor": "mallory"}),
                   422, "actor")
    assert log_length(ledger) == written


def test_if_match(article: TestClient, ledger: ClaimsLedger) -> None:
    etag = article.get(f"/claims/{TROOPS}").headers["etag"]
    assert etag == '"5"'
    for stale in ('"4"', "4", 'W/"4"'):
        problem = assert_problem(article.post(f"/claims/{TROOPS}/events", json=HOAX,
                                              headers={"If-Match": stale}), 412)
        assert problem["current_version"] == 5
    assert log_length(ledger) == 19
    assert article.post(f"/claims/{TROOPS}/events", json=HOAX,
                        headers={"If-Match": etag}).headers["etag"] == '"6"'
    bare = article.post(f"/claims/{TROOPS}/events", json={**HOAX, "occurred_at": "2024-10-18"},
                        headers={"If-Match": "6"})
    assert bare.status_code == 201 and bare.headers["etag"] == '"7"'
    assert article.post(f"/claims/{TROOPS}/events", json={**HOAX, "occurred_at": "2024-10-19"},
                        headers={"If-Match": "*"}).status_code == 201


def test_idempotency_key(article: TestClient, ledger: ClaimsLedger) -> None:
    headers = {"Idempotency-Key": "append-1"}
    first = article.post(f"/claims/{TROOPS}/events", json=HOAX, headers=headers)
    written = log_length(ledger)
    again = article.post(f"/claims/{TROOPS}/events", json=HOAX, headers=headers)
    assert (again.status_code, again.json(), again.headers["etag"]) == (
        201, first.json(), first.headers["etag"])
    assert log_length(ledger) == written
    other = {**HOAX, "quote": "a different quote"}
    problem = assert_problem(article.post(f"/claims/{TROOPS}/events", json=other, headers=headers),
                             422)
    assert "Idempotency-Key" in problem["detail"]
    assert log_length(ledger) == written


def _batch(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"claim_id": ARMS, **item} for item in items]


NEW_DENIAL = {"type": "denied", "source": "kp-government", "occurred_at": "2024-10-15",
              "summary": "Pyongyang repeats its denial."}
NEW_ASSERTION = {"type": "asserted", "source": "zelensky", "occurred_at": "2024-10-13",
                 "quote": "It is no longer just about transferring weapons."}


def test_batch_json_array(article: TestClient, ledger: ClaimsLedger) -> None:
    written = log_length(ledger)
    items = [*_batch(NEW_DENIAL), {"claim_id": TROOPS, **HOAX}]
    answer = article.post("/events/batch", json=items)
    assert answer.status_code == 201
    result = answer.json()
    assert result["count"] == 2
    assert [e["claim_id"] for e in result["events"]] == [ARMS, TROOPS]
    assert [e["position"] for e in result["events"]] == [written + 1, written + 2]
    assert {c["claim_id"] for c in result["claims"]} == {ARMS, TROOPS}
    assert all(c["credibility"]["model"] == "credibility-v2" for c in result["claims"])


def test_batch_ndjson(article: TestClient) -> None:
    lines = "\n".join(json.dumps(item) for item in _batch(NEW_DENIAL, NEW_ASSERTION)) + "\n\n"
    answer = article.post("/events/batch", content=lines,
                          headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["count"] == 2
    events = article.get(f"/claims/{ARMS}/events").json()["events"]
    assert [e["source"] for e in events[-2:]] == ["kp-government", "zelensky"]


def test_batch_is_all_or_nothing(article: TestClient, ledger: ClaimsLedger) -> None:
    written = log_length(ledger)
    bad_rule = _batch(NEW_DENIAL, {**NEW_ASSERTION, "quote": None})
    assert_problem(article.post("/events/batch", json=bad_rule), 422, "[1].quote")
    bad_shape = _batch(NEW_DENIAL, {**NEW_ASSERTION, "likelihood": [1]})
    assert_problem(article.post("/events/batch", json=bad_shape), 422, "[1].likelihood")
    unknown = [*_batch(NEW_DENIAL), {"claim_id": "no-such-claim", **HOAX}]
    assert_problem(article.post("/events/batch", json=unknown), 404)
    assert log_length(ledger) == written


def test_batch_idempotency(article: TestClient, ledger: ClaimsLedger) -> None:
    headers = {"Idempotency-Key": "batch-1"}
    first = article.post("/events/batch", json=_batch(NEW_DENIAL), headers=headers)
    written = log_length(ledger)
    again = article.post("/events/batch", json=_batch(NEW_DENIAL), headers=headers)
    assert again.json() == first.json()
    assert log_length(ledger) == written


def test_claim_events_history(article: TestClient) -> None:
    page = article.get(f"/claims/{TROOPS}/events", params={"limit": 2})
    assert page.status_code == 200 and page.headers["etag"] == '"5"'
    body = page.json()
    assert [e["source"] for e in body["events"]] == ["kim-yong-hyun", "kr-nis"]
    assert body["events"][0]["likelihood_phrase"] == "highly likely"
    assert body["events"][0]["likelihood"] == 0.875
    rest = article.get(f"/claims/{TROOPS}/events",
                       params={"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [e["source"] for e in rest["events"]] == ["peskov", "zelensky"]
    assert rest["next_cursor"] is None
    positions = [e["position"] for e in body["events"] + rest["events"]]
    assert positions == sorted(positions)
    early = article.get(f"/claims/{TROOPS}/events", params={"as_of": "2024-10-09"}).json()
    assert {e["type"] for e in early["events"]} == {"assessed"}
    assert early["as_of"] == "2024-10-09T23:59:59.999999Z"
    assert_problem(article.get("/claims/nope/events"), 404)


def test_global_log(article: TestClient) -> None:
    answer = article.get("/events", params={"limit": 5})
    first = answer.json()
    assert set(first) == {"data", "next_cursor"}
    assert [e["position"] for e in first["data"]] == [1, 2, 3, 4, 5]
    assert isinstance(first["next_cursor"], str)
    assert answer.headers["link"] == f'</events?limit=5&cursor={first["next_cursor"]}>; rel="next"'
    rest = article.get("/events", params={"cursor": first["next_cursor"], "limit": 1000})
    assert len(rest.json()["data"]) == 14 and rest.json()["next_cursor"] is None
    assert "link" not in rest.headers
    log = first["data"] + rest.json()["data"]
    assert {e["type"] for e in log} == {
        "source_registered", "claim_registered", "asserted", "denied", "assessed"}
    troops = next(e for e in log if e.get("claim_id") == TROOPS)
    assert troops["type"] == "claim_registered"
    assert troops["text"].startswith("North Korea is sending troops")
    # A subscriber starts after the position of the last event it holds.
    assert [e["position"] for e in article.get("/events", params={"after": 17}).json()["data"]] \
        == [18, 19]
    done = article.get("/events", params={"after": 19}).json()
    assert done == {"data": [], "next_cursor": None}
    assert_problem(article.get("/events", params={"after": -1}), 422, "after")
    assert_problem(article.get("/events", params={"after": 3, "cursor": "5"}), 422, "after")
    assert_problem(article.get("/events", params={"cursor": "x"}), 422, "cursor")


def test_an_append_answers_the_events_location(article: TestClient) -> None:
    body = {"type": "denied", "source": "peskov", "occurred_at": "2024-10-21",
            "quote": "another hoax, again"}
    answer = article.post(f"/claims/{TROOPS}/events", json=body)
    assert answer.status_code == 201
    event_id = answer.json()["event_id"]
    assert answer.headers["location"] == f"/claims/{TROOPS}/events/{event_id}"
    event = article.get(answer.headers["location"])
    assert event.status_code == 200
    listed = article.get(f"/claims/{TROOPS}/events").json()["events"]
    assert event.json() == next(e for e in listed if e["event_id"] == event_id)
    assert event.json()["quote"] == "another hoax, again"
    # Before it was recorded, the event was not known; another claim does not hold it.
    claim = article.get(f"/claims/{TROOPS}").json()
    before = article.get(answer.headers["location"], params={"known_at": claim["as_of"]})
    assert before.status_code == 200  # (known by now)
    earlier = article.get(f"/claims/{TROOPS}/events").json()["events"][0]["recorded_at"]
    unknown = article.get(answer.headers["location"], params={"known_at": earlier})
    assert assert_problem(unknown, 404)["title"] == "Event not found"
    assert_problem(article.get(f"/claims/nk-arms-for-russia/events/{event_id}"), 404)
    assert_problem(article.get(f"/claims/nope/events/{event_id}"), 404)
