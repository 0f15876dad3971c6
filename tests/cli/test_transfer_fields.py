"""``export`` and ``load`` keep a source's affiliations, parties that name sources and a
statement's evidence: through a backup's restore and through an import of its records anew."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.application import ClaimsLedger

from .helpers import Invoke

OpenLedger = Callable[[str], ClaimsLedger]
MINISTER = {"type": "source_registered", "source": "minister", "name": "A minister",
            "affiliations": ["GB", "GB-GOV"], "reliability": "B"}
OLD_STYLE = {"type": "source_registered", "source": "fco", "name": "Foreign Office",
             "affiliation": "GB"}
COMPANY = {"type": "source_registered", "source": "luckin", "name": "Luckin Coffee"}
CLAIM = {"type": "claim_registered", "claim_id": "sales", "text": "Sales were fabricated",
         "parties": ["luckin"], "beneficiaries": ["muddy-waters", "US"]}
FINDING = {"claim_id": "sales", "type": "asserted", "source": "minister",
           "occurred_at": "2020-07-01", "summary": "The inquiry found it.",
           "evidence": "official-inquiry", "event_id": "finding"}
DENIAL = {"claim_id": "sales", "type": "denied", "source": "luckin",
          "occurred_at": "2020-02-03", "quote": "baseless", "event_id": "denial"}
FIX = {"claim_id": "sales", "type": "corrected", "supersedes": "denial",
       "evidence": "named-official", "event_id": "fix"}


def ndjson(*records: object) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def _content(path: Path) -> list[dict[str, object]]:
    """An export's records without where and when the log holds them."""
    return [{k: v for k, v in json.loads(line).items()
             if k not in ("stored", "position", "recorded_at")}
            for line in path.read_text().splitlines()]


def test_affiliations_parties_and_evidence_survive_export_and_load(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    loaded = invoke("--store", sqlite_store, "load", "-",
                    input=ndjson(MINISTER, OLD_STYLE, COMPANY, CLAIM, FINDING, DENIAL, FIX))
    assert loaded.exit_code == 0, loaded.output
    exported = tmp_path / "export.ndjson"
    assert invoke("--store", sqlite_store, "export", str(exported)).exit_code == 0
    records = [json.loads(line) for line in exported.read_text().splitlines()]
    assert records[0]["affiliations"] == ["GB", "GB-GOV"] and records[0]["affiliation"] == "GB"
    assert records[1]["affiliations"] == ["GB"] and records[2]["affiliations"] == []
    assert records[3]["parties"] == ["luckin"]
    assert records[3]["beneficiaries"] == ["muddy-waters", "US"]
    assert records[4]["evidence"] == "official-inquiry" and "evidence" not in records[5]
    assert records[6]["evidence"] == "named-official"
    anew = tmp_path / "anew.ndjson"
    anew.write_text(ndjson(*({k: v for k, v in r.items() if k != "stored"} for r in records)))

    original = open_ledger(sqlite_store)
    for name, source in (("restored", exported), ("anew", anew)):
        target = f"sqlite:///{tmp_path / name}.sqlite3"
        result = invoke("--store", target, "load", str(source))
        assert result.exit_code == 0, result.output
        copy = open_ledger(target)
        for sid in ("minister", "fco", "luckin"):
            assert (copy.store.source_for_update(sid).affiliations
                    == original.store.source_for_update(sid).affiliations)
        assert copy.store.source_for_update("minister").affiliations == ["GB", "GB-GOV"]
        claim = copy.claim("sales")
        assert claim["parties"] == ["luckin"]
        assert claim["beneficiaries"] == ["muddy-waters", "US"]
        assert claim["credibility"] == original.claim("sales")["credibility"]
        events = copy.claim_events("sales")["events"]
        assert [e.get("evidence") for e in events] == [
            "official-inquiry", None, "named-official"
        ]
        again = tmp_path / f"{name}-again.ndjson"
        assert invoke("--store", target, "export", str(again)).exit_code == 0
        if name == "restored":  # the same bytes, places and times
            assert again.read_text() == exported.read_text()
        else:  # the same content and actors, recorded anew
            assert _content(again) == _content(exported)
    again = invoke("--store", sqlite_store, "load", str(anew))
    assert "7 records already in the store skipped" in again.stderr


def test_a_bad_evidence_or_affiliation_names_its_line_and_loads_nothing_of_the_batch(
    invoke: Invoke, sqlite_store: str, open_ledger: OpenLedger
) -> None:
    for bad, field in (({**FINDING, "evidence": "rumour"}, "evidence"),
                       ({**MINISTER, "source": "other", "affiliation": "FR"}, "affiliation")):
        result = invoke("--store", sqlite_store, "load", "-",
                        input=ndjson(MINISTER, COMPANY, CLAIM, bad))
        assert result.exit_code != 0
        assert f"line 4: {field}" in result.stderr, result.stderr
        assert open_ledger(sqlite_store).global_log(0, limit=10)["events"] == []


def test_show_says_what_backs_each_statement_as_corrected(
    invoke: Invoke, sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # a wide terminal: no label is wrapped
    loaded = invoke("--store", sqlite_store, "load", "-",
                    input=ndjson(MINISTER, COMPANY, CLAIM, FINDING, DENIAL, FIX))
    assert loaded.exit_code == 0, loaded.output
    shown = invoke("--store", sqlite_store, "show", "sales")
    assert shown.exit_code == 0, shown.output
    assert "official inquiry or court finding" in shown.stdout
    assert "named official" in shown.stdout  # the denial's, given by its correction
    before = invoke("--store", sqlite_store, "show", "sales", "--as-of", "2020-03-01")
    assert "named official" in before.stdout
    assert "official inquiry" not in before.stdout  # the finding came later
