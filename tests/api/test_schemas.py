"""Response models drop nothing: every read route answers the ledger's own dict, field for
field, and a claim registered over HTTP takes every field the ledger takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.application import ClaimsLedger
from ledger.times import parse_instant

TROOPS = "nk-troops-for-russia"
AS_OF, KNOWN_AT = "2024-10-31", "2030-01-01T00:00:00Z"
TIMES = {"as_of": AS_OF, "known_at": KNOWN_AT}


def _at() -> dict[str, Any]:
    return {"as_of": parse_instant("as_of", AS_OF, bare_date="end"),
            "known_at": parse_instant("known_at", KNOWN_AT)}


READS: dict[str, tuple[str, dict[str, Any], Callable[[ClaimsLedger], dict[str, Any]]]] = {
    "claim": (f"/claims/{TROOPS}", TIMES, lambda ledger: ledger.claim(TROOPS, **_at())),
    "claims": ("/claims", TIMES, lambda ledger: ledger.list_claims(**_at())),
    "claim events": (f"/claims/{TROOPS}/events", TIMES,
                     lambda ledger: ledger.claim_events(TROOPS, **_at())),
    "audit": (f"/claims/{TROOPS}/audit", TIMES, lambda ledger: ledger.audit(TROOPS, **_at())),
    "timeline": (f"/claims/{TROOPS}/timeline", {"known_at": KNOWN_AT},
                 lambda ledger: ledger.timeline(TROOPS, known_at=_at()["known_at"])),
    "source": ("/sources/kr-nis", TIMES, lambda ledger: ledger.get_source("kr-nis", **_at())),
    "sources": ("/sources", TIMES, lambda ledger: ledger.list_sources(**_at())),
    "log": ("/events", {"limit": 1000}, lambda ledger: ledger.global_log(limit=1000)),
    "verify": ("/verify", {}, lambda ledger: ledger.verify()),
}


@pytest.mark.parametrize("name", READS)
def test_every_read_answers_the_ledgers_dict(
    name: str, article: TestClient, ledger: ClaimsLedger
) -> None:
    path, params, read = READS[name]
    assert article.get(path, params=params).json() == read(ledger)


def test_a_claim_takes_and_shows_its_beneficiaries(
    client: TestClient, ledger: ClaimsLedger
) -> None:
    body = {"id": "aid-diverted", "text": "Aid was diverted", "parties": ["RU"],
            "beneficiaries": ["ua"]}
    created = client.post("/claims", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["beneficiaries"] == ["UA"]
    assert client.get("/claims/aid-diverted").json()["beneficiaries"] == ["UA"]
    registered = client.get("/events").json()["events"][-1]
    assert registered["type"] == "claim_registered" and registered["beneficiaries"] == ["UA"]


def test_the_contract_fields_are_there(article: TestClient) -> None:
    """SPEC "Shapes": the field names a client relies on."""
    claim = article.get(f"/claims/{TROOPS}").json()
    assert {"id", "text", "tags", "parties", "version", "as_of", "known_at",
            "credibility"} <= set(claim)
    assert {"probability", "band", "status", "grade", "model",
            "contributions"} <= set(claim["credibility"])
    entry = article.get(f"/claims/{TROOPS}/audit").json()["entries"][0]
    assert {"position", "event_id", "recorded_at", "occurred_at", "type", "source", "actor",
            "before", "after", "reason"} <= set(entry)
    assert entry["reason"]
