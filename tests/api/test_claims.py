"""POST /claims, GET /claims (as_of, known_at, status, tag, q, limit, cursor), GET /claims/{id}."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger

from .conftest import assert_problem, log_length

TROOPS = "nk-troops-for-russia"


def test_register_claim(client: TestClient) -> None:
    body = {"id": "hoax", "text": "A claim", "tags": ["Test"], "parties": ["Ru"]}
    created = client.post("/claims", json=body)
    assert created.status_code == 201
    assert created.headers["location"] == "/claims/hoax"
    assert created.headers["etag"] == '"1"'
    claim = created.json()
    assert claim["tags"] == ["test"] and claim["parties"] == ["RU"]
    assert claim["credibility"]["probability"] == 0.5
    assert claim["credibility"]["status"] == "unverified"
    assert claim["as_of"] and claim["known_at"]


def test_register_claim_without_id_gets_a_uuid(client: TestClient) -> None:
    created = client.post("/claims", json={"text": "No id given"})
    assert created.status_code == 201
    claim_id = created.json()["id"]
    assert len(claim_id) == 36
    assert created.headers["location"] == f"/claims/{claim_id}"
    assert client.get(f"/claims/{claim_id}").status_code == 200


def test_read_claim_states_its_times_model_and_etag(article: TestClient) -> None:
    answer = article.get(f"/claims/{TROOPS}")
    assert answer.status_code == 200
    claim = answer.json()
    assert answer.headers["etag"] == f'"{claim["version"]}"' == '"5"'
    assert claim["credibility"]["model"] == "credibility-v2"
    assert claim["credibility"]["band"] == "very likely"
    assert {c["source"] for c in claim["credibility"]["contributions"]} == {
        "kr-nis", "kim-yong-hyun", "peskov", "zelensky"}
    # Asking again with the stated times gives the same bytes.
    again = article.get(f"/claims/{TROOPS}",
                        params={"as_of": claim["as_of"], "known_at": claim["known_at"]})
    assert again.content == answer.content


def test_as_of_is_valid_time_with_bare_dates_at_end_of_day(article: TestClient) -> None:
    before = article.get(f"/claims/{TROOPS}", params={"as_of": "2024-10-07"}).json()
    assert before["as_of"] == "2024-10-07T23:59:59.999999Z"
    assert before["credibility"]["probability"] == 0.5
    on_the_8th = article.get(f"/claims/{TROOPS}", params={"as_of": "2024-10-08"}).json()
    assert on_the_8th["credibility"]["status"] == "leaning true"
    assert {c["source"] for c in on_the_8th["credibility"]["contributions"]} == {
        "kr-nis", "kim-yong-hyun"}


def test_known_at_is_recording_time(article: TestClient) -> None:
    assert_problem(article.get(f"/claims/{TROOPS}", params={"known_at": "2020-01-01"}), 404)
    now = article.get(f"/claims/{TROOPS}").json()
    article.post("/sources", json={"id": "nato", "name": "NATO", "reliability": "B"})
    article.post(f"/claims/{TROOPS}/events", json={
        "type": "asserted", "source": "nato", "occurred_at": "2024-10-18", "summary": "confirmed"})
    then = article.get(f"/claims/{TROOPS}", params={"known_at": now["known_at"]})
    assert then.json()["credibility"] == now["credibility"]
    assert then.headers["etag"] == '"5"'
    assert article.get(f"/claims/{TROOPS}").headers["etag"] == '"6"'


def test_list_claims_filters_and_pages(article: TestClient) -> None:
    everything = article.get("/claims").json()
    assert [c["id"] for c in everything["data"]] == [
        "nk-troops-for-russia", "nk-arms-for-russia", "ru-kp-defence-pact"]
    assert everything["next_cursor"] is None
    assert everything["as_of"] and everything["known_at"]
    arms = article.get("/claims", params={"tag": "arms"}).json()["data"]
    assert [c["id"] for c in arms] == ["nk-arms-for-russia"]
    pact = article.get("/claims", params={"q": "MILITARY ASSISTANCE"}).json()["data"]
    assert [c["id"] for c in pact] == ["ru-kp-defence-pact"]
    status = everything["data"][0]["credibility"]["status"]
    same = article.get("/claims", params={"status": status}).json()["data"]
    assert TROOPS in [c["id"] for c in same]
    assert all(c["credibility"]["status"] == status for c in same)
    page = article.get("/claims", params={"limit": 2}).json()
    assert len(page["data"]) == 2 and page["next_cursor"]
    rest = article.get("/claims", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [c["id"] for c in rest["data"]] == ["ru-kp-defence-pact"]
    early = article.get("/claims", params={"as_of": "2024-06-01"}).json()["data"]
    assert all(c["credibility"]["probability"] == 0.5 for c in early)
    assert article.get("/claims", params={"known_at": "2020-01-01"}).json()["data"] == []


def test_claim_errors_write_nothing(client: TestClient, ledger: ClaimsLedger) -> None:
    client.post("/claims", json={"id": "taken", "text": "A claim"})
    written = log_length(ledger)
    assert_problem(client.post("/claims", json={"id": "taken", "text": "Again"}), 409)
    assert_problem(client.post("/claims", json={"id": "Not A Slug", "text": "x"}), 422, "id")
    assert_problem(client.post("/claims", json={"text": "x", "parties": "RU"}), 422, "parties")
    assert_problem(client.get("/claims/nothing-here"), 404)
    assert log_length(ledger) == written


def test_idempotent_claim_registration_replays_the_original(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    headers = {"Idempotency-Key": "claim-1"}
    first = client.post("/claims", json={"text": "Server-made id"}, headers=headers)
    written = log_length(ledger)
    again = client.post("/claims", json={"text": "Server-made id"}, headers=headers)
    assert (again.status_code, again.json(), again.headers["etag"]) == (
        201, first.json(), first.headers["etag"])
    assert again.headers["location"] == first.headers["location"]
    assert log_length(ledger) == written
