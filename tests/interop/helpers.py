"""What the interop tests share: a ledger with every kind of event, and the validators."""

from __future__ import annotations

import json
from typing import Any

from stix2validator import ValidationOptions, validate_instance

from ledger.application import ClaimsLedger
from ledger.examples import load_article

TROOPS = "nk-troops-for-russia"
PROBLEM = "application/problem+json"


def assert_valid_stix(bundle: dict[str, Any] | str) -> dict[str, Any]:
    """The bundle passes stix2-validator in strict mode: no error and no warning."""
    if isinstance(bundle, str):
        bundle = json.loads(bundle)
    assert isinstance(bundle, dict)
    results = validate_instance(bundle, ValidationOptions(version="2.1", strict=True))
    assert results.is_valid, [str(e) for e in results.errors]
    assert not results.warnings, [str(w) for w in results.warnings]
    return bundle


def load_every_kind(ledger: ClaimsLedger) -> dict[str, str]:
    """The article, then a retraction, a correction, a re-rating and a resolution: every
    kind of event the export maps. Answers the event ids it wrote, by kind."""
    load_article(ledger)
    events = ledger.claim_events(TROOPS)["events"]
    nis, peskov = events[1]["event_id"], events[2]["event_id"]
    retracted = ledger.append(TROOPS, {"type": "retracted", "source": "peskov",
                                       "occurred_at": "2024-10-20", "supersedes": peskov,
                                       "note": "withdrawn in a later briefing"}, "ana")
    corrected = ledger.append(TROOPS, {"type": "corrected", "supersedes": nis,
                                       "likelihood": "likely"}, "ana")
    ledger.rerate_source("peskov", {"reliability": "E", "occurred_at": "2024-11-01"}, "ana")
    resolved = ledger.append("ru-kp-defence-pact", {
        "type": "resolved", "source": "kr-nis", "occurred_at": "2024-12-04",
        "outcome": "confirmed", "basis": "the treaty entered into force"}, "ana")
    return {"retracted": retracted["event_id"], "corrected": corrected["event_id"],
            "resolved": resolved["event_id"], "peskov": peskov, "nis": nis}


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    return body
