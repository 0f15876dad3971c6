"""Watches over HTTP: set, list, pause, resume, delete; deliveries; refusals as problems
that write nothing. Delivery itself: tests/e2e/test_webhooks.py."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings

from .conftest import assert_problem, log_length

CLAIM = "nk-troops-for-russia"
BAND = {"kind": "band", "band": "almost certain"}


def test_a_watch_is_set_listed_paused_resumed_and_deleted(article: TestClient) -> None:
    made = article.post("/watches", json={"condition": BAND, "scope": {"claim": CLAIM},
                                          "url": "https://example.org/hook"})
    assert made.status_code == 201, made.text
    watch = made.json()
    assert made.headers["location"] == f"/watches/{watch['id']}"
    assert watch["condition"] == BAND and watch["scope"] == {"claim": CLAIM}
    assert watch["actor"] == "local" and len(watch["secret"]) >= 32
    listed = article.get("/watches").json()["data"]
    assert [w["id"] for w in listed] == [watch["id"]] and "secret" not in listed[0]
    path = f"/watches/{watch['id']}"
    assert article.post(f"{path}/pause").json()["status"] == "paused"
    assert article.get(path).json()["status"] == "paused"
    assert article.post(f"{path}/resume").json()["status"] == "active"
    assert [h["action"] for h in article.get(path).json()["history"]] == [
        "created", "paused", "active"]
    assert article.get(f"{path}/deliveries").json() == {"watch_id": watch["id"], "data": []}
    deleted = article.delete(path)
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
    assert article.get("/watches").json()["data"] == []
    assert_problem(article.get(path), 404)
    assert_problem(article.delete(path), 404)


def test_the_worked_example_owes_one_notification(article: TestClient) -> None:
    watch = article.post("/watches", json={"condition": BAND, "scope": {"claim": CLAIM}}).json()
    appended = article.post(f"/claims/{CLAIM}/events", json={
        "type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-18",
        "likelihood": "almost certain", "confidence": "high",
        "summary": "North Korea has sent about 1,500 special forces troops to Russia"})
    assert appended.json()["credibility"]["band"] == "almost certain"
    article.app.state.watches.scan()  # what the server's dispatcher does when woken
    (owed,) = article.get(f"/watches/{watch['id']}/deliveries").json()["data"]
    assert owed["position"] == appended.json()["position"]
    assert owed["status"] == "stream-only" and owed["attempts"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"scope": {"claim": CLAIM}}, "condition"),
    ({"condition": {"kind": "sudden"}, "scope": {"claim": CLAIM}}, "condition.kind"),
    ({"condition": {"kind": "band", "band": "sure"}, "scope": {"claim": CLAIM}},
     "condition.band"),
    ({"condition": {"kind": "threshold", "threshold": 2}, "scope": {"claim": CLAIM}},
     "condition.threshold"),
    ({"condition": {"kind": "threshold"}, "scope": {"claim": CLAIM}}, "condition.threshold"),
    ({"condition": {"kind": "move", "points": 10}, "scope": {"claim": CLAIM}},
     "condition.window_seconds"),
    ({"condition": BAND, "scope": {}}, "scope"),
    ({"condition": BAND, "scope": {"colour": "red"}}, "scope.colour"),
    ({"condition": BAND, "scope": {"claim": CLAIM, "tag": "nk"}}, "scope"),
    ({"condition": BAND, "scope": {"claim": CLAIM}, "url": "ftp://example.org"}, "url"),
    # Webhooks go to public addresses only (CLAIMS_LEDGER_WEBHOOK_ALLOW_PRIVATE is unset).
    ({"condition": BAND, "scope": {"claim": CLAIM}, "url": "http://127.0.0.1:9/hook"}, "url"),
    ({"condition": BAND, "scope": {"claim": CLAIM}, "url": "http://localhost/hook"}, "url"),
    ({"condition": BAND, "scope": {"claim": CLAIM},
      "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
    ({"condition": BAND, "scope": {"claim": CLAIM}, "url": "https://10.1.2.3/hook"}, "url"),
    ({"condition": BAND, "scope": {"claim": CLAIM}, "url": "http://[::1]:8080/hook"}, "url"),
    ({"condition": BAND, "scope": {"claim": CLAIM}, "secret": "short"}, "secret"),
    ({"condition": BAND, "scope": {"claim": CLAIM}, "colour": "red"}, "colour"),
])
def test_a_bad_watch_is_a_422_naming_the_field_and_writes_nothing(
    article: TestClient, ledger: ClaimsLedger, body: dict[str, Any], field: str
) -> None:
    before = log_length(ledger)
    assert_problem(article.post("/watches", json=body), 422, field)
    assert article.get("/watches").json()["data"] == []
    assert log_length(ledger) == before


def test_a_watch_on_an_unknown_claim_is_a_404(article: TestClient) -> None:
    body = assert_problem(article.post("/watches", json={
        "condition": BAND, "scope": {"claim": "no-such-claim"}}), 404)
    assert "no-such-claim" in body["detail"]
    assert article.get("/watches").json()["data"] == []


def test_unknown_watches_are_404_and_bad_ids_422(article: TestClient) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for answer in (article.get(f"/watches/{missing}"), article.post(f"/watches/{missing}/pause"),
                   article.get(f"/watches/{missing}/deliveries")):
        assert_problem(answer, 404)
    assert_problem(article.get("/watches/NOT%20AN%20ID"), 422)


def test_readers_list_writers_set(memory_ledger: ClaimsLedger) -> None:
    keys = "ana:reader:read-token-0123456789,wes:writer:write-token-0123456789"
    settings = Settings(store="memory", api_keys=SecretStr(keys),
                        _env_file=None)  # type: ignore[call-arg]
    memory_ledger.register_claim({"id": "c", "text": "a claim"}, "wes")
    reader = {"Authorization": "Bearer read-token-0123456789"}
    writer = {"Authorization": "Bearer write-token-0123456789"}
    body = {"condition": {"kind": "resolved"}, "scope": {"claim": "c"}}
    with TestClient(create_app(settings, memory_ledger)) as client:
        assert_problem(client.get("/watches"), 401)
        assert_problem(client.post("/watches", json=body, headers=reader), 403)
        made = client.post("/watches", json=body, headers=writer)
        assert made.status_code == 201 and made.json()["actor"] == "wes"
        assert len(client.get("/watches", headers=reader).json()["data"]) == 1
        assert_problem(client.delete(f"/watches/{made.json()['id']}", headers=reader), 403)


def test_private_webhook_addresses_are_allowed_when_the_settings_say_so(
    memory_ledger: ClaimsLedger,
) -> None:
    settings = Settings(store="memory", webhook_allow_private=True,
                        _env_file=None)  # type: ignore[call-arg]
    memory_ledger.register_claim({"id": "c", "text": "a claim"}, "wes")
    body = {"condition": {"kind": "resolved"}, "scope": {"claim": "c"},
            "url": "http://127.0.0.1:8765/hook"}
    with TestClient(create_app(settings, memory_ledger)) as client:
        made = client.post("/watches", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["url"] == body["url"]
