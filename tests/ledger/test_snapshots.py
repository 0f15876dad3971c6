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
