"""POST/GET /sources, GET /sources/{id}, POST /sources/{id}/ratings."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger

from .conftest import assert_problem, log_length

ZELENSKY = {"id": "zelensky", "name": "Volodymyr Zelensky", "role": "President of Ukraine",
            "affiliation": "UA", "reliability": "C"}


def test_register_read_and_list(client: TestClient) -> None:
    created = client.post("/sources", json=ZELENSKY)
    assert created.status_code == 201
    assert created.headers["location"] == "/sources/zelensky"
    body = created.json()
    assert {k: body[k] for k in ZELENSKY} == ZELENSKY
    assert body["version"] == 1 and body["ratings"][0]["actor"] == "local"

    read = client.get("/sources/zelensky")
    assert read.status_code == 200
    assert read.json()["reliability"] == "C"

    client.post("/sources", json={"id": "peskov", "name": "Dmitry Peskov", "affiliation": "RU"})
    listed = client.get("/sources", params={"limit": 1})
    assert [s["id"] for s in listed.json()["data"]] == ["zelensky"]
    cursor = listed.json()["next_cursor"]
    rest = client.get("/sources", params={"limit": 1, "cursor": cursor}).json()
    assert [s["id"] for s in rest["data"]] == ["peskov"]
    assert rest["data"][0]["reliability"] == "F"  # the default: cannot be judged
    assert rest["next_cursor"] is None


def test_rerating_keeps_the_past(client: TestClient) -> None:
    before = client.post("/sources", json=ZELENSKY).json()["known_at"]
    rated = client.post("/sources/zelensky/ratings",
                        json={"reliability": "B", "occurred_at": "2024-10-14", "note": "review"})
    assert rated.status_code == 201
    assert rated.json()["reliability"] == "B"
    assert [r["reliability"] for r in rated.json()["ratings"]] == ["C", "B"]
    then = client.get("/sources/zelensky", params={"known_at": before}).json()
    assert then["reliability"] == "C" and then["known_at"] == before
    assert len(then["ratings"]) == 1


def test_source_known_at_before_registration_is_404(client: TestClient) -> None:
    client.post("/sources", json=ZELENSKY)
    assert_problem(client.get("/sources/zelensky", params={"known_at": "2020-01-01"}), 404)
    assert client.get("/sources", params={"known_at": "2020-01-01"}).json()["data"] == []


def test_source_errors(client: TestClient, ledger: ClaimsLedger) -> None:
    client.post("/sources", json=ZELENSKY)
    written = log_length(ledger)
    assert_problem(client.post("/sources", json=ZELENSKY), 409)
    assert_problem(client.post("/sources", json={**ZELENSKY, "id": "x", "reliability": "Z"}),
                   422, "reliability")
    assert_problem(client.post("/sources", json={"id": "x"}), 422, "name")
    assert_problem(client.get("/sources/nobody"), 404)
    assert_problem(client.post("/sources/nobody/ratings",
                               json={"reliability": "A", "occurred_at": "2024-10-14"}), 404)
    assert_problem(client.post("/sources/zelensky/ratings", json={"reliability": "A"}),
                   422, "occurred_at")
    assert log_length(ledger) == written


def test_idempotent_registration(client: TestClient, ledger: ClaimsLedger) -> None:
    headers = {"Idempotency-Key": "src-1"}
    first = client.post("/sources", json=ZELENSKY, headers=headers)
    written = log_length(ledger)
    again = client.post("/sources", json=ZELENSKY, headers=headers)
    assert again.status_code == 201
    assert again.json()["id"] == "zelensky" and again.json()["ratings"] == first.json()["ratings"]
    assert log_length(ledger) == written
    assert_problem(client.post("/sources", json={**ZELENSKY, "reliability": "A"}, headers=headers),
                   422)
    assert log_length(ledger) == written


def test_idempotent_writes_replay_the_same_bytes(client: TestClient) -> None:
    headers = {"Idempotency-Key": "src-2"}
    first = client.post("/sources", json=ZELENSKY, headers=headers)
    assert client.post("/sources", json=ZELENSKY, headers=headers).content == first.content
    rating = {"reliability": "B", "occurred_at": "2024-10-14"}
    headers = {"Idempotency-Key": "rating-1"}
    rated = client.post("/sources/zelensky/ratings", json=rating, headers=headers)
    client.post("/sources/zelensky/ratings", json={"reliability": "A", "occurred_at": "2024-10-15"})
    again = client.post("/sources/zelensky/ratings", json=rating, headers=headers)
    assert (again.status_code, again.content) == (201, rated.content)
