"""``load`` and ``export``: formats, line numbers of bad records, atomic batches, round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.application import ClaimsLedger

from .helpers import ARTICLE, Invoke

OpenLedger = Callable[[str], ClaimsLedger]
SOURCE = {"type": "source_registered", "source": "kr-nis", "name": "NIS", "reliability": "B"}
CLAIM = {
    "type": "claim_registered",
    "claim_id": "nk-troops",
    "text": "Troops are sent",
    "parties": ["KP"],
}


def statement(**fields: object) -> dict[str, object]:
    return {
        "claim_id": "nk-troops",
        "type": "asserted",
        "source": "kr-nis",
        "occurred_at": "2024-10-18",
        "summary": "said so",
        **fields,
    }


def ndjson(*records: object) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def log_size(open_ledger: OpenLedger, store: str) -> int:
    return len(open_ledger(store).global_log(0, limit=1000)["events"])


def test_load_reports_a_summary(invoke: Invoke, sqlite_store: str) -> None:
    result = invoke("--store", sqlite_store, "load", str(ARTICLE))
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (f"loaded 19 events from {ARTICLE} in 1 batch (positions 1-19)")
    assert result.stdout == ""


def test_load_from_stdin_in_batches(invoke: Invoke, sqlite_store: str) -> None:
    result = invoke(
        "--store", sqlite_store, "load", "--batch-size", "5", "-", input=ARTICLE.read_text()
    )
    assert result.exit_code == 0, result.output
    assert "loaded 19 events from stdin in 4 batches" in result.stderr


def test_load_a_json_array(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    file = tmp_path / "events.json"
    file.write_text(json.dumps([SOURCE, CLAIM, statement()], indent=2))
    result = invoke("--store", sqlite_store, "load", str(file))
    assert result.exit_code == 0, result.output
    assert open_ledger(sqlite_store).claim("nk-troops")["version"] == 2


def test_a_bad_record_in_a_json_array_is_named_by_its_line(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    bad = statement(type="assessed", likelihood="perhaps")
    file = tmp_path / "events.json"
    file.write_text(
        f"[\n{json.dumps(SOURCE)},\n{json.dumps(CLAIM)},\n{json.dumps(bad, indent=2)}\n]\n"
    )
    line = 4  # where the third record's "{" is
    result = invoke("--store", sqlite_store, "load", str(file))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: line {line}: likelihood:")
    assert log_size(open_ledger, sqlite_store) == 0


def test_a_missing_file_is_exit_2(invoke: Invoke, sqlite_store: str, tmp_path: Path) -> None:
    result = invoke("--store", sqlite_store, "load", str(tmp_path / "missing.ndjson"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot read {tmp_path / 'missing.ndjson'}: No such file or directory\n"
    )


def test_a_missing_file_creates_no_store(invoke: Invoke, tmp_path: Path) -> None:
    store = tmp_path / "new" / "ledger.sqlite3"
    result = invoke("--store", f"sqlite:///{store}", "load", str(tmp_path / "missing.ndjson"))
    assert result.exit_code == 2
    assert not store.exists() and not store.parent.exists()


def test_a_file_that_is_not_utf8_is_exit_2(
    invoke: Invoke, sqlite_store: str, tmp_path: Path
) -> None:
    file = tmp_path / "latin1.ndjson"
    file.write_bytes(ndjson(SOURCE).encode() + b'{"x": "\xe9"}\n')
    result = invoke("--store", sqlite_store, "load", str(file))
    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.stderr
    assert not (tmp_path / "ledger.sqlite3").exists()  # read before the store is opened


def test_an_unparseable_line_is_named_and_its_batch_not_written(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    file = tmp_path / "events.ndjson"
    file.write_text(ndjson(SOURCE, CLAIM) + "\n" + ndjson(statement()) + '{"claim_id": oops}\n')
    result = invoke("--store", sqlite_store, "load", str(file))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: line 5: not valid JSON (Expecting value at column 14)",
        "nothing was written",
        f"{tmp_path / 'ledger.sqlite3'} was new and holds nothing: removed",
    ]
    # A failed first load leaves no empty store behind (issue 29, point 4).
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ledger")) == []


def test_a_failed_load_into_a_store_that_held_data_keeps_it(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    file = tmp_path / "events.ndjson"
    file.write_text(ndjson(SOURCE, CLAIM))
    assert invoke("--store", sqlite_store, "load", str(file)).exit_code == 0
    file.write_text('{"claim_id": oops}\n')
    result = invoke("--store", sqlite_store, "load", str(file))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "nothing was written"
    assert log_size(open_ledger, sqlite_store) == 2


def test_a_bad_line_rejects_its_batch_and_keeps_earlier_batches(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    file = tmp_path / "events.ndjson"
    file.write_text(
        ndjson(SOURCE, CLAIM, statement(), statement(claim_id="no-such-claim"), statement())
    )
    result = invoke("--store", sqlite_store, "load", "--batch-size", "2", str(file))
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: line 4: ")
    assert "no-such-claim" in lines[0]
    assert lines[1].startswith("2 events up to line 2 were written (positions 1-2)")
    assert log_size(open_ledger, sqlite_store) == 2  # not line 3: it shared line 4's batch


def test_lines_are_numbered_in_the_file_despite_blank_lines(
    invoke: Invoke, sqlite_store: str, tmp_path: Path
) -> None:
    file = tmp_path / "events.ndjson"
    file.write_text("\n" + ndjson(SOURCE) + "\n\n" + ndjson(CLAIM, statement(source="nobody")))
    result = invoke("--store", sqlite_store, "load", str(file))
    assert result.exit_code == 3
    assert result.stderr.startswith("error: line 6: no source 'nobody'")


def test_records_json_cannot_hold_are_exit_2_and_write_nothing(
    invoke: Invoke, sqlite_store: str, open_ledger: OpenLedger
) -> None:
    for bad in (
        '{"claim_id": ' + "9" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        json.dumps({**CLAIM, "text": "\ud800"}),
    ):
        result = invoke("--store", sqlite_store, "load", "-", input=ndjson(SOURCE) + bad + "\n")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: line 2: "), result.stderr
        assert "Traceback" not in result.output
    assert log_size(open_ledger, sqlite_store) == 0


def test_a_record_that_is_not_an_object_is_exit_2(invoke: Invoke, sqlite_store: str) -> None:
    result = invoke("--store", sqlite_store, "load", "-", input='["a list"]\n')
    assert result.exit_code == 2
    assert result.stderr.startswith("error: line 1: record: must be a JSON object")


def test_loading_twice_skips_what_is_there(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger
) -> None:
    result = invoke("--store", loaded_store, "load", str(ARTICLE))
    assert result.exit_code == 0, result.output
    assert result.stderr == f"nothing new in {ARTICLE}: 19 records already in the store skipped\n"
    assert log_size(open_ledger, loaded_store) == 19


def with_ids(*records: dict[str, object]) -> list[dict[str, object]]:
    return [{"event_id": f"e-{n}", **record} for n, record in enumerate(records, start=1)]


def test_a_partial_load_resumes_once_the_bad_record_is_fixed(
    invoke: Invoke, persistent_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    records = with_ids(
        SOURCE,
        CLAIM,
        statement(),
        statement(type="denied", occurred_at="2024-10-19"),
        statement(occurred_at="2024-10-20", reference="not a url"),
        statement(occurred_at="2024-10-21"),
    )
    file = tmp_path / "events.ndjson"
    file.write_text(ndjson(*records))
    first = invoke("--store", persistent_store, "load", "--batch-size", "2", str(file))
    assert first.exit_code == 2
    assert first.stderr.splitlines()[0].startswith("error: line 5: reference")
    assert log_size(open_ledger, persistent_store) == 4

    records[4]["reference"] = "https://example.org/report"
    file.write_text(ndjson(*records))
    again = invoke("--store", persistent_store, "load", "--batch-size", "2", str(file))
    assert again.exit_code == 0, again.output
    assert again.stderr == (
        f"loaded 2 events from {file} in 1 batch (positions 5-6); "
        "4 records already in the store skipped\n"
    )
    log = open_ledger(persistent_store).global_log(0, limit=100)["events"]
    assert [e["event_id"] for e in log] == [f"e-{n}" for n in range(1, 7)]


def test_re_ratings_and_corrections_are_recognised_too(
    invoke: Invoke, sqlite_store: str, open_ledger: OpenLedger
) -> None:
    records = with_ids(
        SOURCE,
        CLAIM,
        statement(),
        {
            "type": "source_rerated",
            "source": "kr-nis",
            "reliability": "C",
            "occurred_at": "2024-11-01",
        },
        {"type": "corrected", "claim_id": "nk-troops", "supersedes": "e-3", "summary": "said more"},
    )
    assert invoke("--store", sqlite_store, "load", "-", input=ndjson(*records)).exit_code == 0
    again = invoke("--store", sqlite_store, "load", "-", input=ndjson(*records))
    assert again.exit_code == 0, again.output
    assert again.stderr == "nothing new in stdin: 5 records already in the store skipped\n"
    records[4]["summary"] = "said something else"
    changed = invoke("--store", sqlite_store, "load", "-", input=ndjson(*records))
    assert changed.exit_code == 5
    assert changed.stderr.startswith("error: line 5: event 'e-5' is already in the store")
    assert log_size(open_ledger, sqlite_store) == 5


def test_a_record_with_a_stored_event_id_and_other_content_is_a_conflict_naming_its_line(
    invoke: Invoke, loaded_store: str, open_ledger: OpenLedger
) -> None:
    records = [json.loads(line) for line in ARTICLE.read_text().splitlines() if line.strip()]
    records[2]["reliability"] = "A"  # the NIS, rated B when it was loaded
    result = invoke(
        "--store", loaded_store, "load", "--batch-size", "2", "-", input=ndjson(*records)
    )
    assert result.exit_code == 5
    assert result.stderr.splitlines() == [
        f"error: line 3: event {records[2]['event_id']!r} is already in the store "
        "(position 3) with other content",
        "nothing up to line 2 was written, 2 records already in the store skipped; nothing "
        "after line 2 was: fix the record, then run the same load again (what is already in "
        "the store is skipped)",
    ]
    assert log_size(open_ledger, loaded_store) == 19


def test_an_export_loaded_back_into_its_own_store_adds_nothing(
    invoke: Invoke, loaded_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    """The export spells times and defaults out; the article file leaves them bare."""
    exported = tmp_path / "export.ndjson"
    assert invoke("--store", loaded_store, "export", str(exported)).exit_code == 0
    result = invoke("--store", loaded_store, "load", str(exported))
    assert result.exit_code == 0, result.output
    assert "19 records already in the store skipped" in result.stderr
    assert log_size(open_ledger, loaded_store) == 19


def test_a_claim_registered_again_under_another_event_id_is_still_a_conflict(
    invoke: Invoke, loaded_store: str
) -> None:
    again = {
        "event_id": "another-id",
        "type": "claim_registered",
        "claim_id": "nk-troops-for-russia",
        "text": "North Korea is sending troops to fight for Russia in Ukraine",
    }
    result = invoke("--store", loaded_store, "load", "-", input=ndjson(again))
    assert result.exit_code == 5
    assert result.stderr.startswith("error: line 1: ")
    assert "already registered" in result.stderr


def test_an_empty_file_loads_nothing(invoke: Invoke, sqlite_store: str) -> None:
    result = invoke("--store", sqlite_store, "load", "-", input="\n\n")
    assert result.exit_code == 0
    assert "nothing to load" in result.stderr


def test_export_writes_ndjson_in_log_order(invoke: Invoke, loaded_store: str) -> None:
    result = invoke("--store", loaded_store, "export")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["position"] for e in events] == list(range(1, 20))
    assert result.stderr == "exported 19 events to stdout\n"


def test_export_to_a_file_in_a_missing_directory_is_exit_2(
    invoke: Invoke, loaded_store: str, tmp_path: Path
) -> None:
    result = invoke("--store", loaded_store, "export", str(tmp_path / "no" / "such.ndjson"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_export_onto_a_directory_is_exit_2_and_leaves_no_temporary_file(
    invoke: Invoke, loaded_store: str, tmp_path: Path
) -> None:
    (tmp_path / "backups").mkdir()
    result = invoke("--store", loaded_store, "export", str(tmp_path / "backups"))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: cannot write {tmp_path / 'backups'}: ")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".backups")] == []


def test_export_then_load_gives_the_same_answers(
    invoke: Invoke, persistent_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    """The round trip, on SQLite and PostgreSQL, with more events than one export page."""
    target = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    extra = [
        statement(
            claim_id="nk-arms-for-russia",
            source="zelensky",
            type=kind,
            occurred_at=f"2024-11-{1 + n % 28:02d}",
        )
        for n, kind in zip(range(1100), ["asserted", "denied"] * 550, strict=True)
    ]
    extra.append(
        {
            "type": "source_rerated",
            "source": "peskov",
            "reliability": "E",
            "occurred_at": "2024-12-01",
        }
    )
    loaded = invoke("--store", persistent_store, "load", "-", input=ndjson(*extra))
    assert loaded.exit_code == 0, loaded.output
    exported = tmp_path / "export.ndjson"
    assert invoke("--store", persistent_store, "export", str(exported)).exit_code == 0
    assert len(exported.read_text().splitlines()) == 19 + 1101

    result = invoke("--store", target, "load", str(exported))
    assert result.exit_code == 0, result.output
    assert "loaded 1120 events" in result.stderr

    original, copy = open_ledger(persistent_store), open_ledger(target)
    for claim in ("nk-troops-for-russia", "nk-arms-for-russia", "ru-kp-defence-pact"):
        before, after = original.claim(claim), copy.claim(claim)
        for view in (before, after):
            del view["as_of"], view["known_at"]
        assert after == before
    assert copy.verify()["ok"]


def test_export_load_export_keeps_positions_recording_times_and_the_chain(
    invoke: Invoke, persistent_store: str, tmp_path: Path
) -> None:
    """A backup restored into an empty store is the same ledger, byte for byte."""
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    first = tmp_path / "first.ndjson"
    assert invoke("--store", persistent_store, "export", str(first)).exit_code == 0
    head = json.loads(invoke("--store", persistent_store, "verify", "--json").stdout)["head"]
    restored = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    loaded = invoke("--store", restored, "load", str(first))
    assert loaded.exit_code == 0, loaded.stderr
    assert "restored as backed up" in loaded.stderr
    second = tmp_path / "second.ndjson"
    assert invoke("--store", restored, "export", str(second)).exit_code == 0
    assert second.read_bytes() == first.read_bytes()
    assert json.loads(invoke("--store", restored, "verify", "--json").stdout)["head"] == head
    # Into a store that already holds events, the same file is recorded anew.
    again = invoke("--store", restored, "load", str(first))
    assert "restored" not in again.stderr


def test_a_load_that_keeps_few_claims_in_memory_stores_the_same(
    invoke: Invoke, open_ledger: OpenLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims dropped from the loader's memory between batches (``--hold``: records; and
    claims) are reloaded from the store: the claims come out as with room for all of them."""
    from ledger.export import Importer
    from ledger_cli.bench.synthetic import SyntheticLedger

    path = tmp_path / "synthetic.ndjson"
    SyntheticLedger(3000, 3).write(path)
    roomy, tight = f"sqlite:///{tmp_path / 'roomy.db'}", f"sqlite:///{tmp_path / 'tight.db'}"
    assert invoke("--store", roomy, "load", str(path), "--batch-size", "200").exit_code == 0
    monkeypatch.setattr(Importer, "HELD", 3)  # claims, and records with --hold
    assert invoke(
        "--store", tight, "load", str(path), "--batch-size", "200", "--hold", "40"
    ).exit_code == 0

    def claims(store: str) -> list[object]:
        listed = open_ledger(store).list_claims(limit=1000)["data"]
        return [{k: v for k, v in c.items() if k not in ("as_of", "known_at")} for c in listed]

    assert claims(tight) == claims(roomy) != []


def test_relays_and_alleged_at_survive_export_and_load(
    invoke: Invoke, sqlite_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    """Both through a backup's restore and through the import of its records anew."""
    claim = {**CLAIM, "alleged_at": "2024-10-01"}
    first = statement(event_id="first-report")
    echo = statement(
        event_id="echo", source="echo", occurred_at="2024-10-19", relays="first-report"
    )
    echo_source = {**SOURCE, "source": "echo", "name": "Echo"}
    loaded = invoke(
        "--store", sqlite_store, "load", "-", input=ndjson(SOURCE, echo_source, claim, first, echo)
    )
    assert loaded.exit_code == 0, loaded.output
    exported = tmp_path / "export.ndjson"
    assert invoke("--store", sqlite_store, "export", str(exported)).exit_code == 0
    records = [json.loads(line) for line in exported.read_text().splitlines()]
    assert records[2]["alleged_at"] == "2024-10-01T00:00:00.000000Z"
    assert records[4]["relays"] == "first-report"
    anew = tmp_path / "anew.ndjson"
    anew.write_text(ndjson(*({k: v for k, v in r.items() if k != "stored"} for r in records)))

    original = open_ledger(sqlite_store)
    for name, source in (("restored", exported), ("anew", anew)):
        target = f"sqlite:///{tmp_path / name}.sqlite3"
        result = invoke("--store", target, "load", str(source))
        assert result.exit_code == 0, result.output
        copy = open_ledger(target)
        for model in ("credibility-v1", "credibility-v2"):
            before = original.claim("nk-troops", model=model)
            after = copy.claim("nk-troops", model=model)
            assert before["alleged_at"] == after["alleged_at"] == "2024-10-01T00:00:00.000000Z"
            assert after["credibility"] == before["credibility"]
        events = copy.claim_events("nk-troops")["events"]
        assert events[-1]["relays"] == "first-report"
    again = invoke("--store", sqlite_store, "load", str(anew))
    assert "5 records already in the store skipped" in again.stderr


def _one_at_a_time(ledger: ClaimsLedger, records: list[dict[str, object]], actor: str) -> None:
    """Each record through the write use cases of its kind, one transaction each: the path
    a bulk load must store the same events as (registrations get event ids of their own)."""
    for record in records:
        body = {k: v for k, v in record.items() if k not in ("type", "event_id")}
        kind = record["type"]
        if kind == "source_registered":
            body["id"] = body.pop("source")
            ledger.register_source(body, actor)
        elif kind == "claim_registered":
            body["id"] = body.pop("claim_id")
            ledger.register_claim(body, actor)
        elif kind == "source_rerated":
            ledger.rerate_source(str(body.pop("source")), body, actor)
        else:
            claim = str(body.pop("claim_id"))
            ledger.append(claim, {"type": kind, **body}, actor, event_id=record["event_id"])


def _stored(ledger: ClaimsLedger) -> list[dict[str, object]]:
    """Every event of the log as stored, less what differs from run to run (recording
    times and the hashes made of them, the library's event timestamps) and the event ids
    a registration or re-rating made through the write use cases gets anew."""
    import base64

    events, after = [], 0
    while page := ledger.global_log(after, limit=1000, stored=True)["events"]:
        events += page
        after = page[-1]["position"]
    kept = []
    for event in events:
        stored = dict(event.pop("stored"))
        state = json.loads(base64.b64decode(str(stored.pop("state"))))
        state.pop("timestamp")
        renamed = event["type"] in ("source_registered", "claim_registered", "source_rerated")
        if renamed:
            state.pop("event_id")
            del event["event_id"]
        del event["recorded_at"]
        kept.append({**event, **stored, "state": state})
    return kept


def test_a_bulk_load_stores_what_the_writes_store_one_event_at_a_time(
    invoke: Invoke, persistent_store: str, tmp_path: Path, open_ledger: OpenLedger
) -> None:
    """A synthetic ledger (every event type, claims long enough to be snapshot) loaded in
    batches stores, position by position, the events its records appended one at a time
    through the write use cases store: the same streams, versions, topics and bytes (times
    aside), the same answers, read back through the snapshots the load took; and its
    export restores byte for byte, in batches too."""
    from ledger_cli.bench.synthetic import SyntheticLedger

    path = tmp_path / "synthetic.ndjson"
    SyntheticLedger(1200, 7).write(path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    loaded = invoke(
        "--store", persistent_store, "load", str(path), "--batch-size", "70", "--actor", "t"
    )
    assert loaded.exit_code == 0, loaded.output
    one_by_one = f"sqlite:///{tmp_path / 'one-by-one.sqlite3'}"
    _one_at_a_time(open_ledger(one_by_one), records, "t")

    bulk, single = open_ledger(persistent_store), open_ledger(one_by_one)
    assert _stored(bulk) == _stored(single)
    assert len(_stored(bulk)) == 1200
    claims = sorted({str(r["claim_id"]) for r in records if "claim_id" in r})
    assert max(bulk.claim(c)["version"] for c in claims) > 100  # a snapshot was due
    for claim in claims:
        answers = [ledger.claim(claim) for ledger in (bulk, single)]
        for answer in answers:
            del answer["as_of"], answer["known_at"]
        assert answers[0] == answers[1]
    assert bulk.verify()["ok"]

    backup, copy = tmp_path / "backup.ndjson", tmp_path / "copy.ndjson"
    assert invoke("--store", persistent_store, "export", str(backup)).exit_code == 0
    restored = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    result = invoke("--store", restored, "load", str(backup), "--batch-size", "70")
    assert "restored as backed up" in result.stderr, result.output
    assert invoke("--store", restored, "export", str(copy)).exit_code == 0
    assert copy.read_bytes() == backup.read_bytes()


def test_a_line_that_spells_a_character_the_ledger_cannot_keep_is_refused_by_its_line(
    invoke: Invoke, sqlite_store: str, open_ledger: OpenLedger
) -> None:
    """However a string spells it (a JSON escape, in a key or a value), while a backslash
    before ``u`` that is not an escape is text like any other."""
    for bad in (r'"text": "a\u0000b"', r'"te\ud800xt": "x"', r'"tags": ["\uDFFF"]'):
        line = json.dumps(CLAIM)[:-1] + ", " + bad + "}"
        result = invoke("--store", sqlite_store, "load", "-", input=ndjson(SOURCE) + line + "\n")
        assert result.exit_code == 2, result.output
        # The reader's refusal, before any field's own check.
        assert result.stderr.startswith(
            ("error: line 2: holds a NUL", "error: line 2: is not valid Unicode")
        ), result.stderr
    assert log_size(open_ledger, sqlite_store) == 0
    fine = json.dumps({**CLAIM, "text": "a \\u0000 b"})  # a backslash, then "u0000"
    result = invoke("--store", sqlite_store, "load", "-", input=ndjson(SOURCE) + fine + "\n")
    assert result.exit_code == 0, result.output
    assert open_ledger(sqlite_store).claim("nk-troops")["text"] == "a \\u0000 b"
