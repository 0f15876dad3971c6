"""Finding a claim's state at known_at reads its own stream only, through the side table."""

from __future__ import annotations

import sqlite3
import time

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.times import now, to_micros

from .helpers import claim, say, source


def test_version_at_follows_each_stream_through_interleaved_writes(ledger: ClaimsLedger) -> None:
    source(ledger, "s", "UA")
    claim(ledger, "a")
    claim(ledger, "b")
    marks = []
    for _ in range(4):
        say(ledger, "a", "asserted", "s", "2024-10-01")
        say(ledger, "b", "denied", "s", "2024-10-01")
        marks.append(now())
        time.sleep(0.001)
    for i, mark in enumerate(marks):
        a = ledger.claim("a", known_at=mark)
        b = ledger.claim("b", known_at=mark)
        assert a["version"] == b["version"] == i + 2
        assert len(ledger.claim_events("a", known_at=mark)["events"]) == i + 1


def test_sqlite_lookup_uses_the_stream_index(tmp_path: object) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path}/x.sqlite3", _env_file=None)  # type: ignore[call-arg]
    app = ClaimsLedger(settings.eventsourcing_env())
    claim(app, "a")
    index = app.store.recorder.index  # type: ignore[attr-defined]
    with sqlite3.connect(settings.sqlite_path()) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT MAX(originator_version) AS v FROM "
            f"{index.log} WHERE originator_id = ? AND recorded_at <= ?",
            ("x", to_micros(now())),
        ).fetchall()
    app.close()
    detail = " ".join(str(row[-1]) for row in plan)
    # The stream and recording time index (covering), or at least the stream's.
    assert "INDEX stored_events_log_stream" in detail, detail
