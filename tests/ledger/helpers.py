"""Small builders shared by the ledger tests."""

from __future__ import annotations

import sqlite3
from typing import Any

from ledger.application import ClaimsLedger
from ledger.config import Settings

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


# Changing a store behind the service's back (the tamper and damage tests).


def tables(settings: Settings) -> dict[str, str]:
    if settings.backend == "sqlite":
        return {
            "events": "stored_events",
            "log": "stored_events_log",
            "streams": "stored_events_streams",
            "snapshots": "stored_snapshots",
        }
    schema = settings.eventsourcing_env()["POSTGRES_SCHEMA"]
    return {
        "events": f"{schema}.claimsledger_events",
        "log": f"{schema}.claimsledger_events_log",
        "streams": f"{schema}.claimsledger_events_streams",
        "snapshots": f"{schema}.claimsledger_snapshots",
    }


def execute(
    settings: Settings, sqlite_sql: str, params: Any = (), *, postgres_sql: str | None = None
) -> None:
    """Run a statement straight on the store, behind the service's back."""
    names = tables(settings)
    if settings.backend == "sqlite":
        with sqlite3.connect(settings.sqlite_path()) as db:
            db.execute(sqlite_sql.format(**names), params)
        return
    import psycopg

    statement = (postgres_sql or sqlite_sql.replace("?", "%s")).format(**names)
    with psycopg.connect(settings.store.split("?")[0], autocommit=True) as db:
        db.execute(statement, params)
