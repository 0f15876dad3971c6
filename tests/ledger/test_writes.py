"""Appending: rules, atomic batches, optimistic concurrency, idempotency, tamper evidence."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.caching import Bounded
from ledger.config import Settings
from ledger.domain import claim_uuid, source_uuid
from ledger.errors import (
    AlreadyExists,
    ClaimNotFound,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidStatement,
    SourceNotFound,
    VersionMismatch,
)
from ledger.store import _stream_bytes

from .helpers import ACTOR, claim, log_length, say, source


@pytest.fixture
def seeded(ledger: ClaimsLedger) -> ClaimsLedger:
    source(ledger, "zelensky", "UA", "C")
    source(ledger, "peskov", "RU", "D")
    claim(ledger, "troops", ["RU", "KP"])
    return ledger


ASSERTION = {
    "type": "asserted",
    "source": "zelensky",
    "occurred_at": "2024-10-13",
    "quote": "troops",
}


def test_same_idempotency_key_and_body_returns_the_original_and_writes_nothing(
    seeded: ClaimsLedger,
) -> None:
    first = seeded.append("troops", ASSERTION, ACTOR, key="k-1")
    size = log_length(seeded)
    again = seeded.append("troops", dict(ASSERTION), ACTOR, key="k-1")
    assert again == first
    assert log_length(seeded) == size
    with pytest.raises(IdempotencyKeyReused, match="different request"):
        seeded.append("troops", {**ASSERTION, "quote": "other"}, ACTOR, key="k-1")
    assert log_length(seeded) == size


def test_idempotent_registration_and_batch(seeded: ClaimsLedger) -> None:
    body = {"id": "arms", "text": "North Korea supplies arms to Russia", "parties": ["KP", "RU"]}
    assert seeded.register_claim(body, ACTOR, key="c") == seeded.register_claim(
        body, ACTOR, key="c"
    )
    batch = [{**ASSERTION, "claim_id": "arms"}, {**ASSERTION, "claim_id": "troops"}]
    first = seeded.append_batch(batch, ACTOR, key="b")
    size = log_length(seeded)
    assert seeded.append_batch(batch, ACTOR, key="b") == first
    assert log_length(seeded) == size


def test_if_match_makes_an_append_conditional(seeded: ClaimsLedger) -> None:
    version = seeded.claim("troops")["version"]
    done = seeded.append("troops", ASSERTION, ACTOR, expected_version=version)
    assert done["version"] == version + 1
    with pytest.raises(VersionMismatch) as caught:
        seeded.append("troops", ASSERTION, ACTOR, expected_version=version)
    assert caught.value.actual == version + 1
    assert seeded.claim("troops")["version"] == version + 1


def test_batch_is_all_or_nothing(seeded: ClaimsLedger) -> None:
    size = log_length(seeded)
    bad = [
        {**ASSERTION, "claim_id": "troops"},
        {**ASSERTION, "claim_id": "troops", "source": "nobody"},
    ]
    with pytest.raises(SourceNotFound, match=r"\[1\]\.source"):
        seeded.append_batch(bad, ACTOR)
    with pytest.raises(InvalidInput, match=r"\[1\]\.claim_id"):
        seeded.append_batch([{**ASSERTION, "claim_id": "troops"}, dict(ASSERTION)], ACTOR)
    with pytest.raises(ClaimNotFound):
        seeded.append_batch([{**ASSERTION, "claim_id": "nope"}], ACTOR)
    assert log_length(seeded) == size


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "rumoured"}, "type"),
        ({**ASSERTION, "quote": None}, "quote"),
        ({**ASSERTION, "occurred_at": "yesterday"}, "occurred_at"),
        ({**ASSERTION, "source": "Not A Slug"}, "source"),
        ({**ASSERTION, "colour": "red"}, "colour"),
        ({**ASSERTION, "reference": "ftp://x"}, "reference"),
        ({"type": "assessed", "source": "zelensky", "occurred_at": "2024-10-13"}, "likelihood"),
        (
            {
                "type": "assessed",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "likelihood": "perhaps",
            },
            "likelihood",
        ),
        (
            {
                "type": "assessed",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "likelihood": 1.5,
            },
            "likelihood",
        ),
        (
            {
                "type": "assessed",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "likelihood": 0.7,
                "confidence": "total",
            },
            "confidence",
        ),
        (
            {
                "type": "resolved",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "outcome": "maybe",
            },
            "outcome",
        ),
        (
            {
                "type": "resolved",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "outcome": "confirmed",
            },
            "basis",
        ),
        ({"type": "retracted", "source": "zelensky", "occurred_at": "2024-10-13"}, "supersedes"),
        (
            {
                "type": "retracted",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "supersedes": "nope",
            },
            "supersedes",
        ),
    ],
)
def test_bad_statements_name_the_field_and_write_nothing(
    seeded: ClaimsLedger, body: dict[str, object], field: str
) -> None:
    size = log_length(seeded)
    with pytest.raises(InvalidInput) as caught:
        seeded.append("troops", body, ACTOR)
    assert caught.value.field == field
    assert log_length(seeded) == size


def test_unknown_term_lists_the_accepted_ones(seeded: ClaimsLedger) -> None:
    with pytest.raises(InvalidStatement, match="very likely"):
        seeded.append(
            "troops",
            {
                "type": "assessed",
                "source": "zelensky",
                "occurred_at": "2024-10-13",
                "likelihood": "perhaps",
            },
            ACTOR,
        )


def test_only_the_source_itself_can_retract(seeded: ClaimsLedger) -> None:
    said = seeded.append("troops", ASSERTION, ACTOR)
    with pytest.raises(InvalidStatement, match="only 'zelensky' can retract"):
        seeded.append(
            "troops",
            {
                "type": "retracted",
                "source": "peskov",
                "occurred_at": "2024-10-14",
                "supersedes": said["event_id"],
            },
            ACTOR,
        )
    with pytest.raises(InvalidStatement, match="before the statement"):
        seeded.append(
            "troops",
            {
                "type": "retracted",
                "source": "zelensky",
                "occurred_at": "2024-10-01",
                "supersedes": said["event_id"],
            },
            ACTOR,
        )
    seeded.append(
        "troops",
        {
            "type": "retracted",
            "source": "zelensky",
            "occurred_at": "2024-10-14",
            "supersedes": said["event_id"],
        },
        ACTOR,
    )
    assert seeded.claim("troops")["credibility"]["probability"] == 0.5


def test_ids_are_unique_and_unknown_things_are_not_found(seeded: ClaimsLedger) -> None:
    with pytest.raises(AlreadyExists):
        claim(seeded, "troops")
    with pytest.raises(AlreadyExists):
        source(seeded, "peskov")
    with pytest.raises(ClaimNotFound):
        seeded.append("nope", ASSERTION, ACTOR)
    with pytest.raises(SourceNotFound):
        seeded.append("troops", {**ASSERTION, "source": "nobody"}, ACTOR)
    with pytest.raises(SourceNotFound):
        seeded.get_source("nobody")


def test_server_made_claim_ids(ledger: ClaimsLedger) -> None:
    made = ledger.register_claim({"text": "An id is made for me"}, ACTOR)
    assert len(made["id"]) == 36
    assert ledger.claim(made["id"])["text"] == "An id is made for me"


def test_concurrent_appends_to_one_claim_all_land(seeded: ClaimsLedger) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                seeded.append("troops", {**ASSERTION, "quote": f"{n}-{i}"}, ACTOR)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(seeded.claim_events("troops", limit=1000)["events"]) == 20
    assert seeded.verify()["ok"] is True


def test_snapshots_do_not_change_answers(store: str, tmp_path: object) -> None:
    from ledger.config import Settings

    settings = Settings(store=store, snapshot_interval=3, _env_file=None)  # type: ignore[call-arg]
    app = ClaimsLedger(settings.eventsourcing_env(), snapshot_interval=3)
    try:
        source(app, "zelensky", "UA", "C")
        claim(app, "snap")
        for day in range(1, 10):
            say(app, "snap", "asserted", "zelensky", f"2024-10-0{day}")
        assert app.store.snapshots is not None
        assert len(app.claim_events("snap")["events"]) == 9
        assert app.claim("snap")["version"] == 10
    finally:
        app.close()


def test_idempotent_retry_of_a_source_write_returns_the_original_even_after_later_writes(
    seeded: ClaimsLedger,
) -> None:
    body = {"reliability": "B", "occurred_at": "2024-11-01"}
    first = seeded.rerate_source("peskov", body, ACTOR, key="r")
    seeded.rerate_source("peskov", {"reliability": "E", "occurred_at": "2024-12-01"}, ACTOR)
    assert seeded.rerate_source("peskov", body, ACTOR, key="r") == first
    assert first["reliability"] == "B" and len(first["ratings"]) == 2


def test_a_claim_cannot_name_one_affiliation_as_party_and_beneficiary(ledger: ClaimsLedger) -> None:
    with pytest.raises(InvalidInput) as caught:
        ledger.register_claim(
            {"text": "x", "parties": ["RU"], "beneficiaries": ["UA", "RU"]}, ACTOR
        )
    assert caught.value.field == "beneficiaries"
    assert ledger.global_log(0, 10)["events"] == []


# The in-memory store lives in one process, so only the shareable stores are tried.
@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_two_ledgers_sharing_a_store_honour_one_idempotency_key(
    settings: Settings, seeded: ClaimsLedger
) -> None:
    """Two API processes on one database: a retry that lands on the other one still dedups."""
    other = ClaimsLedger(settings.eventsourcing_env())
    try:
        size = log_length(seeded)
        results: list[object] = []
        barrier = threading.Barrier(2)

        def write(ledger: ClaimsLedger) -> None:
            barrier.wait()
            results.append(ledger.append("troops", ASSERTION, ACTOR, key="shared-key"))

        threads = [threading.Thread(target=write, args=(app,)) for app in (seeded, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(results) == 2 and results[0] == results[1]
        assert log_length(seeded) == size + 1
        with pytest.raises(IdempotencyKeyReused):
            other.append("troops", {**ASSERTION, "quote": "changed"}, ACTOR, key="shared-key")
    finally:
        other.close()


@pytest.mark.parametrize(
    ("correction", "field"),
    [
        ({"corrected_type": "resolved"}, "outcome"),
        ({"corrected_type": "resolved", "outcome": "confirmed"}, "basis"),
        ({"corrected_type": "assessed"}, "likelihood"),
    ],
)
def test_a_correction_must_leave_a_complete_event(
    seeded: ClaimsLedger, correction: dict[str, str], field: str
) -> None:
    said = seeded.append("troops", ASSERTION, ACTOR)
    size = log_length(seeded)
    with pytest.raises(InvalidStatement) as caught:
        seeded.append(
            "troops", {"type": "corrected", "supersedes": said["event_id"], **correction}, ACTOR
        )
    assert caught.value.field == field
    assert log_length(seeded) == size
    assert seeded.claim("troops")["credibility"]["probability"] > 0.5  # still readable


def test_a_correction_cannot_move_a_statement_past_its_retraction(seeded: ClaimsLedger) -> None:
    said = seeded.append("troops", ASSERTION, ACTOR)
    seeded.append(
        "troops",
        {
            "type": "retracted",
            "source": "zelensky",
            "occurred_at": "2024-10-20",
            "supersedes": said["event_id"],
        },
        ACTOR,
    )
    with pytest.raises(InvalidStatement, match="after its retraction"):
        seeded.append(
            "troops",
            {"type": "corrected", "supersedes": said["event_id"], "occurred_at": "2024-10-25"},
            ACTOR,
        )


def test_text_with_a_lone_surrogate_is_refused(seeded: ClaimsLedger) -> None:
    with pytest.raises(InvalidInput) as caught:
        seeded.append("troops", {**ASSERTION, "quote": "half an emoji \ud83d"}, ACTOR)
    assert caught.value.field == "quote"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"event_id": {"a": 1}}, "event_id"),
        ({"actor": 7}, "actor"),
        ({"event_id": "dup"}, "event_id"),
    ],
)
def test_imports_check_kept_ids_and_actors(
    seeded: ClaimsLedger, record: dict[str, object], field: str
) -> None:
    size = log_length(seeded)
    first = {**ASSERTION, "claim_id": "troops", "event_id": "dup"}
    with pytest.raises(InvalidInput) as caught:
        seeded.import_batch([first, {**ASSERTION, "claim_id": "troops", **record}], ACTOR)
    assert caught.value.field == f"line 2: {field}"
    assert log_length(seeded) == size


def test_an_import_cannot_reuse_a_recorded_event_id(seeded: ClaimsLedger) -> None:
    said = seeded.append("troops", ASSERTION, ACTOR)
    with pytest.raises(InvalidStatement, match="already recorded"):
        seeded.import_batch(
            [{**ASSERTION, "claim_id": "troops", "event_id": said["event_id"]}], ACTOR
        )


def test_ids_no_stream_can_have_are_not_found_whatever_their_text(seeded: ClaimsLedger) -> None:
    odd = "troops\ud83d"  # half an escaped emoji: no UTF-8 store can even hold it
    with pytest.raises(ClaimNotFound):
        seeded.claim(odd)
    with pytest.raises(SourceNotFound):
        seeded.get_source("é-source")
    size = log_length(seeded)
    with pytest.raises(ClaimNotFound):
        seeded.append_batch([{**ASSERTION, "claim_id": odd}], ACTOR)
    with pytest.raises(ClaimNotFound):
        seeded.import_batch([{**ASSERTION, "claim_id": odd}], ACTOR)
    assert log_length(seeded) == size


@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_what_one_process_keeps_in_memory_does_not_hide_another_process_writes(
    settings: Settings, seeded: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process keeps streams' log rows and the sources it found (they never change or
    go away once written); another process's appends and registrations are still seen, its
    answers equal a fresh process's, and the rows kept stay within their bound."""
    bound = 1500  # bytes: ten log rows, or a few short streams
    monkeypatch.setattr(seeded.store, "_streams", Bounded(bound, _stream_bytes))
    other = ClaimsLedger(settings.eventsourcing_env())
    try:
        seeded.append("troops", ASSERTION, ACTOR)
        assert seeded.claim("troops")["version"] == 2
        other.append("troops", {**ASSERTION, "source": "peskov", "type": "denied"}, ACTOR)
        mine = seeded.claim("troops")
        assert mine["version"] == 3
        assert [c["source"] for c in mine["credibility"]["contributions"]] == [
            "zelensky", "peskov"]
        # An answer of this process after the other's write is what a fresh one answers.
        answer = seeded.append("troops", {**ASSERTION, "occurred_at": "2024-10-14"}, ACTOR)
        fresh = ClaimsLedger(settings.eventsourcing_env())
        try:
            at = datetime.fromisoformat(answer["recorded_at"])
            assert fresh.claim("troops", as_of=at, known_at=at)["credibility"] == answer[
                "credibility"]
            # Every earlier version, answered by this process from the claim it keeps.
            for event in fresh.claim_events("troops")["events"]:
                then = datetime.fromisoformat(event["recorded_at"])
                assert fresh.claim("troops", as_of=then, known_at=then) == seeded.claim(
                    "troops", as_of=then, known_at=then)
        finally:
            fresh.close()
        # A source this process found missing, registered by the other, is found.
        with pytest.raises(SourceNotFound):
            seeded.append("troops", {**ASSERTION, "source": "nis"}, ACTOR)
        source(other, "nis", "KR", "B")
        assert seeded.append("troops", {**ASSERTION, "source": "nis"}, ACTOR)["version"] == 5
        for n in range(6):  # more rows than the bound, over several streams
            claim(seeded, f"c{n}", ["RU"])
            seeded.append(f"c{n}", ASSERTION, ACTOR)
            seeded.claim(f"c{n}")
        assert seeded.store._streams.size <= bound
        assert len(seeded.store._streams) < 7  # some streams were let go
        assert seeded.claim("troops")["version"] == 5
    finally:
        other.close()


def test_a_source_read_at_its_latest_version_answers_for_its_earlier_ones(
    settings: Settings, seeded: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process reads a source from the store once: at an earlier version it is the one
    kept with the ratings up to that version, as a fresh process reads it."""
    seeded.append("troops", ASSERTION, ACTOR)  # zelensky's
    times = []
    for grade in "ABCD":
        answer = seeded.rerate_source(
            "zelensky", {"reliability": grade, "occurred_at": "2024-10-12"}, ACTOR
        )
        times.append(datetime.fromisoformat(answer["known_at"]))
    loads: list[Any] = []
    aggregate = seeded.store.aggregate

    def counted(uid: Any, *args: Any, **kwargs: Any) -> Any:
        loads.append(uid)
        return aggregate(uid, *args, **kwargs)

    monkeypatch.setattr(seeded.store, "aggregate", counted)
    seeded.store._sources_seen.clear()
    seeded.store._sources_latest.clear()
    knowns = [times[-1], *times[:-1]]  # the latest first, then the earlier ones
    mine = [seeded.claim("troops", as_of=times[-1], known_at=t) for t in knowns]
    assert loads.count(source_uuid("zelensky")) == 1

    def unkept(known_at: datetime) -> Any:
        """The answer of a process that has kept nothing: the source read at its version."""
        seeded.store._sources_seen.clear()
        seeded.store._sources_latest.clear()
        return seeded.claim("troops", as_of=times[-1], known_at=known_at)

    assert mine == [unkept(t) for t in knowns]
    assert loads.count(source_uuid("zelensky")) == 1 + len(knowns)
    reasons = [[c["reason"] for c in m["credibility"]["contributions"]] for m in mine]
    assert any("reliability D" in r for r in reasons[0])
    assert any("reliability A" in r for r in reasons[1])



@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_kept_claim_grows_by_its_new_records_and_answers_as_a_fresh_process(
    settings: Settings, seeded: ClaimsLedger
) -> None:
    """An append's answer reuses the statements kept of the claim's earlier versions and
    turns only the new record into one; every answer equals a fresh process's."""
    kept = seeded.store._claims_seen
    answers, before = [], []
    bodies = [{**ASSERTION, "occurred_at": f"2024-10-{d}"} for d in range(10, 16)]
    for body in bodies:
        answers.append(seeded.append("troops", body, ACTOR))
        claim_data = next(iter(kept.values()))
        assert claim_data.version == len(answers) + 1
        # The statements kept before this append are the very ones kept after it.
        assert all(a is b.statement for a, b in zip(before, claim_data.records, strict=False))
        before = [r.statement for r in claim_data.records]
    answers.append(seeded.append(
        "troops", {"type": "corrected", "supersedes": answers[0]["event_id"],
                   "source": "zelensky", "occurred_at": "2024-10-09",
                   "quote": "troops, corrected"}, ACTOR))
    answers.append(seeded.append("troops", {**ASSERTION, "source": "peskov", "type": "denied"},
                                 ACTOR))
    fresh = ClaimsLedger(settings.eventsourcing_env())
    try:
        for answer in answers:
            at = datetime.fromisoformat(answer["recorded_at"])
            assert fresh.claim("troops", as_of=at, known_at=at)["credibility"] == answer[
                "credibility"]
    finally:
        fresh.close()


def test_a_load_keeps_its_claims_between_batches_until_another_writer_writes(
    seeded: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An importer adds to the claims it holds from its last batch without reading them
    again while the log ends where it wrote; once another writer wrote, it checks each
    claim it holds, and one written meanwhile is read again: no event is lost."""
    checks: list[object] = []  # the claim's version asked of the log
    version_at = seeded.store.index.version_at

    def checked(oid: Any, known_at: int) -> int | None:
        if oid == claim_uuid("troops"):
            checks.append(oid)
        return version_at(oid, known_at)

    monkeypatch.setattr(seeded.store.index, "version_at", checked)
    line = {**ASSERTION, "claim_id": "troops"}
    seeded.import_batch([line], ACTOR)
    seeded.import_batch([{**line, "occurred_at": "2024-10-14"}], ACTOR)
    assert checks == []  # held, and nobody else wrote: not read, not checked
    seeded.append("troops", {**ASSERTION, "source": "peskov", "type": "denied"}, ACTOR)
    seeded.import_batch([{**line, "occurred_at": "2024-10-15"}], ACTOR)
    assert len(checks) == 1
    events = seeded.claim_events("troops")["events"]
    assert seeded.claim("troops")["version"] == 5
    assert [e["source"] for e in events] == ["zelensky", "zelensky", "peskov", "zelensky"]


def test_minimal_answers_are_the_stored_events_when_two_processes_race(sql_store: str) -> None:
    """``minimal``: where each event landed, as stored, also for the writer that lost a race
    for the claim and wrote again, and for an idempotent replay."""
    settings = Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]
    first, second = ClaimsLedger(settings.eventsourcing_env()), ClaimsLedger(
        settings.eventsourcing_env()
    )
    try:
        source(first, "zelensky", "UA", "C")
        claim(first, "troops", ["RU", "KP"])
        answers: list[dict[str, Any]] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)

        def write(ledger: ClaimsLedger, n: int) -> None:
            barrier.wait()
            try:
                for i in range(5):
                    body = {**ASSERTION, "quote": f"{n}-{i}"}
                    written = ledger.writes.append("troops", body, ACTOR, minimal=True)
                    answers.append(written.answer)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=write, args=pair) for pair in ((first, 0), (second, 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        stored = {e["event_id"]: e for e in first.claim_events("troops", limit=100)["events"]}
        assert len(answers) == len(stored) == 10
        for answer in answers:
            event = stored[answer["event_id"]]
            assert set(answer) == {"event_id", "claim_id", "position", "recorded_at", "version"}
            assert answer["claim_id"] == "troops"
            assert (answer["position"], answer["recorded_at"]) == (
                event["position"], event["recorded_at"]
            )
        assert sorted(a["version"] for a in answers) == list(range(2, 12))
        keyed = first.writes.append("troops", ASSERTION, ACTOR, key="k", minimal=True)
        replayed = second.writes.append("troops", ASSERTION, ACTOR, key="k", minimal=True)
        assert replayed.replayed and replayed.answer == keyed.answer
    finally:
        first.close()
        second.close()
