"""Tamper evidence: the hash chain names the first position whose stored bytes changed."""

from __future__ import annotations

import sqlite3

import pytest

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.examples import load_article

from .helpers import log_length


def tamper(settings: Settings, ledger: ClaimsLedger, position: int) -> None:
    """Change one stored event's bytes behind the service's back."""
    if settings.backend == "memory":
        recorder = ledger.store.recorder
        stored = recorder._stored_events[position - 1]  # type: ignore[attr-defined]
        recorder._stored_events[position - 1] = stored.__class__(  # type: ignore[attr-defined]
            stored.originator_id,
            stored.originator_version,
            stored.topic,
            stored.state.replace(b"hoax", b"fact"),
        )
    elif settings.backend == "sqlite":
        with sqlite3.connect(settings.sqlite_path()) as db:
            db.execute(
                "UPDATE stored_events SET state = replace(state, 'hoax', 'fact') WHERE rowid = ?",
                (position,),
            )
    else:
        import psycopg

        env = settings.eventsourcing_env()
        with psycopg.connect(settings.store.split("?")[0], autocommit=True) as db:
            db.execute(
                f"UPDATE {env['POSTGRES_SCHEMA']}.claimsledger_events "
                "SET state = convert_to(replace(convert_from(state, 'UTF8'), 'hoax', 'fact'), "
                "'UTF8') "
                "WHERE notification_id = %s",
                (position,),
            )


def test_intact_log_verifies(ledger: ClaimsLedger) -> None:
    load_article(ledger)
    report = ledger.verify()
    assert report == {
        "ok": True,
        "checked": log_length(ledger),
        "head": report["head"],
        "first_bad_position": None,
        "reason": None,
    }
    assert len(report["head"]) == 64


def test_changed_bytes_are_found_at_their_position(
    settings: Settings, ledger: ClaimsLedger
) -> None:
    load_article(ledger)
    hoax = next(e for e in ledger.global_log(0, 1000)["events"] if e.get("quote") == "another hoax")
    tamper(settings, ledger, hoax["position"])
    report = ledger.verify()
    assert report["ok"] is False
    assert report["first_bad_position"] == hoax["position"]
    assert report["checked"] == hoax["position"] - 1
    assert "hash chain" in report["reason"]


def test_chain_is_verified_across_pages(ledger: ClaimsLedger) -> None:
    load_article(ledger)
    assert ledger.verify(page_size=3)["ok"] is True
    assert ledger.verify(page_size=3)["head"] == ledger.verify()["head"]


@pytest.mark.parametrize("page_size", [1, 1000])
def test_empty_log_verifies(ledger: ClaimsLedger, page_size: int) -> None:
    assert ledger.verify(page_size=page_size) == {
        "ok": True,
        "checked": 0,
        "head": "0" * 64,
        "first_bad_position": None,
        "reason": None,
    }
