"""Small builders shared by the ledger tests."""

from __future__ import annotations

from typing import Any

from ledger.application import ClaimsLedger

ACTOR = "tester"


def source(
    ledger: ClaimsLedger, sid: str, affiliation: str | None = None, reliability: str = "C"
) -> None:
    body: dict[str, Any] = {
        "id": sid,
        "name": sid.replace("-", " ").title(),
        "reliability": reliability,
    }
    if affiliation:
        body["affiliation"] = affiliation
    ledger.register_source(body, ACTOR)


def claim(ledger: ClaimsLedger, cid: str, parties: list[str] | None = None) -> None:
    ledger.register_claim({"id": cid, "text": f"Claim {cid}", "parties": parties or []}, ACTOR)


def say(
    ledger: ClaimsLedger, cid: str, kind: str, src: str, when: str, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind, "source": src, "occurred_at": when, **fields}
    if kind in ("asserted", "denied") and "quote" not in fields and "summary" not in fields:
        body["summary"] = f"{src} {kind}"
    return ledger.append(cid, body, ACTOR)


def log_length(ledger: ClaimsLedger) -> int:
    return len(ledger.global_log(0, 1000)["events"])
