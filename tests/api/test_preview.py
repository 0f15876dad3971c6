"""POST /claims/{id}/preview: how an append would move the number, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.main import create_app
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article

from .conftest import assert_problem, log_length

TROOPS = "nk-troops-for-russia"
CONFIRMS = {"type": "assessed", "source": "kr-nis", "occurred_at": "2024-10-19",
            "quote": "we confirm it", "likelihood": "almost certain"}
DENIES = {"type": "denied", "source": "putin", "occurred_at": "2024-10-19",
          "quote": "another hoax"}


def _state(client: TestClient, ledger: ClaimsLedger) -> tuple[int, str, Any]:
    claim = client.get(f"/claims/{TROOPS}")
    return log_length(ledger), claim.headers["etag"], claim.json()["credibility"]["probability"]


@pytest.mark.parametrize("body", [CONFIRMS, DENIES])
def test_preview_answers_what_the_append_then_answers_and_writes_nothing(
    article: TestClient, ledger: ClaimsLedger, body: dict[str, Any]
) -> None:
    head, etag, probability = _state(article, ledger)
    answer = article.post(f"/claims/{TROOPS}/preview", json=body)
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert set(preview) == {"claim_id", "as_of", "known_at", "version", "before", "after",
                            "change", "event", "credibility"}
    assert preview["before"]["probability"] == probability
    assert preview["change"] == pytest.approx(
        preview["after"]["probability"] - preview["before"]["probability"], abs=1e-6)
    assert preview["change"] != 0  # either statement moves this claim
    assert (preview["change"] > 0) == (body["type"] == "assessed")
    assert preview["event"]["event_id"] == "proposed" and "position" not in preview["event"]
    assert preview["event"]["source"] == body["source"]
    proposed = [c for c in preview["credibility"]["contributions"]
                if c["event_id"] == "proposed"]
    assert len(proposed) == 1 and proposed[0]["source"] == body["source"]
    assert preview["after"]["probability"] == preview["credibility"]["probability"]
    # Nothing written: the log's head and the claim's version did not move.
    assert _state(article, ledger) == (head, etag, probability)
    assert preview["version"] == int(etag.strip('"'))
    # The append of the same body then lands where the preview said.
    appended = article.post(f"/claims/{TROOPS}/events", json=body).json()
    assert appended["credibility"]["probability"] == pytest.approx(
        preview["after"]["probability"], abs=1e-9)
    assert appended["credibility"]["band"] == preview["after"]["band"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({**CONFIRMS, "type": "whispered"}, 422, "type"),
    ({**CONFIRMS, "likelihood": "probably maybe"}, 422, "likelihood"),
    ({**CONFIRMS, "occurred_at": "next tuesday-ish"}, 422, "occurred_at"),
    ({"type": "retracted", "source": "kr-nis", "occurred_at": "2024-10-19",
      "supersedes": "no-such-event"}, 422, None),
    ({**CONFIRMS, "source": "nobody-registered"}, 404, None),
])
def test_preview_refuses_what_the_append_refuses_the_same_way(
    article: TestClient, ledger: ClaimsLedger, body: dict[str, Any], status: int,
    field: str | None,
) -> None:
    head = log_length(ledger)
    previewed = assert_problem(
        article.post(f"/claims/{TROOPS}/preview", json=body), status, field)
    assert log_length(ledger) == head
    appended = assert_problem(article.post(f"/claims/{TROOPS}/events", json=body), status, field)
    assert log_length(ledger) == head
    for name in ("type", "title", "detail", "errors"):
        assert previewed.get(name) == appended.get(name)


def test_preview_of_an_unknown_claim_is_its_404(article: TestClient) -> None:
    assert_problem(article.post("/claims/no-such-claim/preview", json=CONFIRMS), 404)


def test_a_reader_may_preview_but_not_append() -> None:
    keys = "ana:reader:tok-reader-0123456789ab,wes:writer:tok-writer-0123456789ab"
    settings = Settings(store="memory", api_keys=SecretStr(keys),
                        _env_file=None)  # type: ignore[call-arg]
    from ledger.bootstrap import open_ledger

    ledger = open_ledger(settings)
    load_article(ledger)
    try:
        with TestClient(create_app(settings, ledger)) as client:
            reader = {"Authorization": "Bearer tok-reader-0123456789ab"}
            head = log_length(ledger)
            answer = client.post(f"/claims/{TROOPS}/preview", json=CONFIRMS,
                                 headers=reader)
            assert answer.status_code == 200, answer.text
            assert_problem(client.post(f"/claims/{TROOPS}/events", json=CONFIRMS,
                                       headers=reader), 403)
            assert_problem(client.post(f"/claims/{TROOPS}/preview", json=CONFIRMS), 401)
            assert log_length(ledger) == head
    finally:
        ledger.close()
