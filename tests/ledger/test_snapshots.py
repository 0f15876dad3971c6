"""Snapshots of a long claim are pruned: the latest and one at interval x 2^k are kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import claim_uuid
from ledger.times import from_micros, to_micros

from .helpers import ACTOR, claim, source


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("postgres_store"))


def snapshot_versions(ledger: Any, claim_id: str) -> list[int]:
    snapshots = ledger.store.snapshots
    return [s.originator_version for s in snapshots.get(claim_uuid(claim_id))]


def test_a_long_claims_snapshots_are_few_and_reads_at_any_time_still_hold(sql_store: str) -> None:
    settings = Settings(store=sql_store, snapshot_interval=4, _env_file=None)  # type: ignore[call-arg]
    ledger = open_ledger(settings)
    try:
        source(ledger, "s", reliability="B")
        claim(ledger, "long")
        answers = []
        for n in range(60):
            body = {"type": "asserted" if n % 3 else "denied", "source": "s",
                    "occurred_at": f"2024-01-{1 + n % 28:02d}", "summary": f"said {n}"}
            if n % 2:  # half through batches, half one at a time
                answers.append(ledger.append("long", body, ACTOR))
            else:
                answers.append(ledger.append_batch([{"claim_id": "long", **body}], ACTOR))
        versions = snapshot_versions(ledger, "long")
        assert versions == sorted(versions)
        kept_powers = {v for v in versions if v != versions[-1]}
        assert kept_powers <= {4, 8, 16, 32}
        assert versions[-1] >= 56
        # Reads as known at any past time rebuild the claim from what is kept.
        for n in range(0, 60, 7):
            recorded = answers[n].get("recorded_at") or answers[n]["known_at"]
            known = from_micros(to_micros(datetime.fromisoformat(recorded)))
            assert ledger.claim("long", known_at=known)["version"] == n + 2
            events = ledger.claim_events("long", known_at=known)["events"]
            assert [e["summary"] for e in events] == [f"said {i}" for i in range(n + 1)]
    finally:
        ledger.close()



def test_a_load_snapshots_a_claim_once_at_its_end(sql_store: str) -> None:
    """A load owes a claim's snapshot when it crosses an interval and takes it once, at the
    claim's last version, at its end: the snapshot a snapshot per crossing would have left
    (each pruned by the next). Reads at every past time still answer."""
    settings = Settings(store=sql_store, snapshot_interval=4, _env_file=None)  # type: ignore[call-arg]
    ledger = open_ledger(settings)
    taken: list[int] = []
    try:
        snapshot = ledger.store.snapshot

        def counted(aggregate: Any) -> None:
            taken.append(aggregate.version)
            snapshot(aggregate)

        ledger.store.snapshot = counted  # type: ignore[method-assign]
        source(ledger, "s", reliability="B")
        records: list[dict[str, Any]] = [
            {"type": "claim_registered", "claim_id": "long", "text": "A long claim"}
        ]
        records += [
            {"type": "asserted" if n % 3 else "denied", "claim_id": "long", "source": "s",
             "occurred_at": f"2024-01-{1 + n % 28:02d}", "summary": f"said {n}"}
            for n in range(69)
        ]
        for first in range(0, len(records), 3):  # batches of three: crossings in most
            ledger.import_batch(records[first : first + 3], ACTOR)
        assert taken == []
        ledger.importer.finish()
        assert taken == [70]
        assert snapshot_versions(ledger, "long") == [70]
        ledger.importer.finish()  # nothing more owed
        assert taken == [70]
        events = ledger.claim_events("long", limit=1000)["events"]
        for version in (2, 5, 33, 69, 70):
            known = from_micros(to_micros(datetime.fromisoformat(
                events[version - 2]["recorded_at"])))
            assert ledger.claim("long", known_at=known)["version"] == version
            assert len(ledger.claim_events("long", known_at=known, limit=1000)["events"]) == (
                version - 1
            )
    finally:
        ledger.close()


def test_a_claim_dropped_from_a_load_s_memory_is_snapshot_then(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        store=f"sqlite:///{tmp_path / 'l.sqlite3'}", snapshot_interval=4, _env_file=None
    )
    ledger = open_ledger(settings)
    try:
        ledger.importer.claims_held = 1  # a second claim pushes the first out
        source(ledger, "s", reliability="B")
        said = [{"type": "asserted", "source": "s", "occurred_at": "2024-01-01",
                 "summary": f"said {n}"} for n in range(5)]
        ledger.import_batch(
            [{"type": "claim_registered", "claim_id": "a", "text": "A"}]
            + [{"claim_id": "a", **s} for s in said], ACTOR
        )
        ledger.import_batch([{"claim_id": "a", **s} for s in said], ACTOR)  # version 11
        assert snapshot_versions(ledger, "a") == []  # owed
        ledger.import_batch([{"type": "claim_registered", "claim_id": "b", "text": "B"}], ACTOR)
        assert snapshot_versions(ledger, "a") == [11]  # dropped from memory: taken then
        assert not ledger.importer.owed
    finally:
        ledger.close()
