"""Sources stored before they held several affiliations are read through the library's
upcasting: events and snapshots of version 1 (one ``affiliation``) as ``affiliations``.

``v1_backup.ndjson`` is an export, with the stored bytes, that the ledger wrote before
version 2 (two sources, one with an affiliation and one without, a re-rating, a claim and a
denial); loaded into an empty store it restores those bytes exactly.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import Source

from .helpers import ACTOR

BACKUP = Path(__file__).with_name("v1_backup.ndjson")


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in BACKUP.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def restored(store: str) -> Iterator[ClaimsLedger]:
    ledger = open_ledger(Settings(store=store, _env_file=None))  # type: ignore[call-arg]
    try:
        answer = ledger.importer.import_batch(_records(), ACTOR)
        assert answer.get("restored") is True, answer  # the version 1 bytes, as stored
        ledger.importer.finish()
        yield ledger
    finally:
        ledger.close()


def test_the_backup_holds_version_1_events() -> None:
    registered = [r for r in _records() if r["type"] == "source_registered"]
    for record in registered:
        state = json.loads(base64.b64decode(record["stored"]["state"]))
        assert "affiliation" in state and "affiliations" not in state
        assert "class_version" not in state


def test_version_1_events_read_as_a_list(restored: ClaimsLedger) -> None:
    assert restored.store.source_for_update("fco").affiliations == ["GB"]
    assert restored.store.source_for_update("blogger").affiliations == []
    logged = restored.global_log(0, limit=100)["events"]
    sources = {e["source"]: e for e in logged if e["type"] == "source_registered"}
    assert sources["fco"]["affiliations"] == ["GB"] and sources["fco"]["affiliation"] == "GB"
    assert sources["blogger"]["affiliations"] == [] and sources["blogger"]["affiliation"] is None
    assert restored.get_source("fco")["affiliation"] == "GB"
    assert restored.verify()["ok"] is True
    claim = restored.claim("gb-claim")
    assert [c["source"] for c in claim["credibility"]["contributions"]] == ["fco"]


def test_a_version_2_event_is_stored_with_its_class_version(restored: ClaimsLedger) -> None:
    restored.register_source(
        {"id": "minister", "name": "Minister", "affiliations": ["GB", "GB-GOV"]}, ACTOR
    )
    logged = restored.global_log(5, limit=1, stored=True)["events"][0]
    state = json.loads(base64.b64decode(logged["stored"]["state"]))
    assert state["class_version"] == 2 and state["affiliations"] == ["GB", "GB-GOV"]
    assert "affiliation" not in state


def _version_1_snapshot(ledger: ClaimsLedger, source_id: str, affiliation: Any) -> None:
    """Store the snapshot version 1 of ``Source`` would have taken of the source."""
    taken: Any = Source.Snapshot.take(ledger.store.source_for_update(source_id))  # type: ignore[attr-defined]
    state = dict(taken.state)
    assert state.pop("class_version") == 2
    del state["affiliations"]
    state["affiliation"] = affiliation
    assert ledger.store.snapshots is not None
    ledger.store.snapshots.put([dataclasses.replace(taken, state=state)])


def test_a_version_1_snapshot_is_read_through_the_upcast(restored: ClaimsLedger) -> None:
    _version_1_snapshot(restored, "fco", "GB")
    assert restored.verify()["ok"] is True
    assert restored.store.snapshots is not None
    [stored] = list(restored.store.snapshots.get(Source.create_id("fco")))
    upcast = stored.mutate(None)
    assert isinstance(upcast, Source) and upcast.affiliations == ["GB"]
    assert restored.store.source_for_update("fco").affiliations == ["GB"]


def test_a_version_1_snapshot_that_differs_from_its_events_is_named(
    restored: ClaimsLedger,
) -> None:
    _version_1_snapshot(restored, "fco", "FR")
    found = restored.verify()
    assert found["ok"] is False
    assert "affiliations" in found["reason"] and "fco" in found["reason"], found
