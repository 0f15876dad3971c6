"""The log page: the global log's latest events with their JSON, a claim's versions, the
hash chain's state as ``GET /verify`` answers it and the latest signed checkpoint."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from api.routes.ui import log as log_routes
from ledger.application import ClaimsLedger
from ledger.config import Settings

from .conftest import TROOPS, Article, parse


def test_the_log_page_shows_the_chain_and_the_latest_events(article: Article) -> None:
    page = article.page("/ui/log")
    verify = article.api("/verify")
    chain = page.one("section", cls="chain")
    assert chain.data("ok") == "true" and int(chain.data("checked")) == verify["checked"]
    assert chain.data("head") == verify["head"]
    assert page.by_id("chain-state").text().startswith(f"Intact: all {verify['checked']} events")
    log = article.api("/events", limit=1000)["data"]
    shown = page.all("li", cls="log-event")
    assert [int(li.data("position")) for li in shown] == [e["position"] for e in reversed(log)]
    # Each event's detail is its record as the API's log has it.
    latest = shown[0]
    assert json.loads(latest.one("pre", cls="json").text()) == log[-1]
    assert latest.data("type") == log[-1]["type"]
    assert "No checkpoint has been signed yet" in page.by_id("checkpoint").text()


def test_the_log_pages_back_by_position(article: Article, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_routes, "LOG_PAGE", 5)
    head = article.api("/verify")["checked"]
    first = article.page("/ui/log")
    assert [int(li.data("position")) for li in first.all("li", cls="log-event")] == list(
        range(head, head - 5, -1))
    (earlier,) = [a for a in first.all("a") if a.attrs.get("rel") == "next"]
    answer = article.client.get(earlier.attrs["href"])
    assert answer.status_code == 200
    second = parse(answer.text)
    assert [int(li.data("position")) for li in second.all("li", cls="log-event")] == list(
        range(head - 5, head - 10, -1))
    assert article.client.get("/ui/log", params={"before": "x"}).status_code == 422


def test_a_claims_versions(article: Article) -> None:
    page = article.page("/ui/log", claim=TROOPS)
    table = page.one("table", cls="versions")
    claim = article.api(f"/claims/{TROOPS}")
    events = article.api(f"/claims/{TROOPS}/events")["events"]
    rows = [r for r in table.all("tr") if "data-version" in r.attrs]
    assert int(table.data("version")) == claim["version"] == len(rows)
    assert [r.attrs.get("data-event-id") for r in rows[1:]] == [e["event_id"] for e in events]
    assert article.client.get("/ui/log", params={"claim": "no-such"}).status_code == 404


def test_the_latest_signed_checkpoint(settings: Settings, ledger: ClaimsLedger) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    signing = settings.model_copy(update={"signing_key": SecretStr(pem)})
    with TestClient(create_app(signing, ledger)) as client:
        client.post("/sources", json={"id": "s1", "name": "One"})
        signed = client.post("/checkpoints")
        assert signed.status_code == 201, signed.text
        page = parse(client.get("/ui/log").text)
    found = page.by_id("checkpoint")
    assert int(found.data("position")) == signed.json()["position"]
    assert found.data("head") == signed.json()["head"]
    assert signed.json()["key_id"] in found.text()
