"""Which claims are resolved, and when the sources' records changed, read from the log.

On SQL stores holding plain JSON the database finds the events whose bytes hold
``"resolved"`` and the resolved streams' rows (``ledger.resolutions.Resolutions``);
otherwise the log is read page by page. Both must find the same: the claims resolved (by a
resolution, or by a correction that makes one), in the order of their first, when each was,
and every recording time at which what resolved claims add to the records changed. Each
case is read in one go and in steps, as a process reads what was written since it last
looked.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.persistence import sql
from ledger.store import LedgerApplication
from ledger.times import parse_instant

from .helpers import ACTOR, claim, say, source


def _found(store: LedgerApplication) -> tuple[Any, ...]:
    store.resolved_claims(2**62)
    known = store.resolutions
    return (list(known.resolved.items()), list(known.streams.items()), list(known.changes),
            known.head)


def _paged(store: LedgerApplication, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    with monkeypatch.context() as patch:
        patch.setattr(store.index, "holding", lambda *args: None)
        return _found(store)


def _write(ledger: ClaimsLedger, rng: random.Random, steps: int, claims: list[str]) -> None:
    said: dict[str, list[dict[str, Any]]] = {cid: [] for cid in claims}
    for step in range(steps):
        cid = rng.choice(claims)
        day = f"2024-{1 + step % 12:02d}-{1 + step % 28:02d}"
        roll = rng.random()
        if roll < 0.15:
            answer = say(ledger, cid, "resolved", "judge", day,
                         outcome=rng.choice(["confirmed", "refuted"]), basis="found")
        elif roll < 0.25 and said[cid]:
            # A correction that makes a statement a resolution, or a resolution a denial.
            target = rng.choice(said[cid])
            body: dict[str, Any] = {"type": "corrected", "supersedes": target["event_id"]}
            if rng.random() < 0.5:
                body |= {"corrected_type": "resolved", "outcome": "refuted", "basis": "found"}
            else:
                body |= {"corrected_type": "denied", "summary": "it was a denial"}
            ledger.append(cid, body, ACTOR)
            continue  # a correction is not itself corrected
        else:
            answer = say(ledger, cid, rng.choice(["asserted", "denied"]),
                         rng.choice(["a", "b", "c"]), day, summary=f"step {step}")
        said[cid].append(answer)


def _sources_and_claims(writer: ClaimsLedger) -> list[str]:
    for sid in ("a", "b", "c", "judge"):
        source(writer, sid)
    claims = [f"c{i}" for i in range(5)]
    for cid in claims:
        claim(writer, cid)
    return claims


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("sifted_at_most", [0, sql.SIFTED_AT_MOST], ids=["by-stream", "sifted"])
def test_the_database_finds_what_reading_every_page_finds(
    opened: list[ClaimsLedger],
    sql_store: str,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    sifted_at_most: int,
) -> None:
    monkeypatch.setattr(sql, "SIFTED_AT_MOST", sifted_at_most)  # each way of asking
    writer, fast, paged = opened
    rng = random.Random(seed)
    claims = _sources_and_claims(writer)
    for _ in range(4):  # in steps: each read takes only what was written since
        _write(writer, rng, 25, claims)
        assert _found(fast.store) == _paged(paged.store, monkeypatch)
    whole = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        assert _found(whole.store) == _found(fast.store)
    finally:
        whole.close()
    assert fast.store.resolutions.resolved  # the case resolved some claims
    assert fast.store.resolutions.changes


def _held(store: LedgerApplication) -> tuple[Any, ...]:
    """What a process holds of the resolutions now, without reading the log again."""
    known = store.resolutions
    return (list(known.resolved.items()), list(known.streams.items()), list(known.changes),
            known.head)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_writer_notes_its_own_writes_as_a_reader_finds_them(
    opened: list[ClaimsLedger], seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The resolutions a process notes from what it writes (``Resolutions.note_written``), without
    reading the log back, are what another process reads from the log."""
    writer, reader, _ = opened
    rng = random.Random(seed)
    claims = _sources_and_claims(writer)
    for _ in range(3):
        _write(writer, rng, 25, claims)
        assert _held(writer.store) == _found(reader.store)
    assert writer.store.resolutions.resolved and writer.store.resolutions.changes
    # As known at its last write, it asks the database nothing (an append's answer).
    last = writer.store.entry(writer.store.resolutions.head).recorded_at

    def asked() -> int:
        raise AssertionError("the log's head was asked for")

    monkeypatch.setattr(writer.store.recorder, "max_notification_id", asked)
    assert writer.store.records_revision(last) == writer.store.resolutions.changes[-1]
    with pytest.raises(AssertionError, match="head was asked"):
        writer.store.records_revision(last + 1)


def test_an_append_answers_with_another_processes_resolution(opened: list[ClaimsLedger]) -> None:
    """A process whose last write does not follow what it read (another process wrote
    between) reads the log for the resolutions before answering an append: a source's
    record includes the claim another process resolved."""
    first, second, fresh = opened
    for sid in ("s", "judge"):
        source(first, sid)
    for cid in ("x", "y", "z"):
        claim(first, cid)
    say(first, "z", "asserted", "s", "2024-01-01")  # the first process has read its writes
    say(second, "x", "asserted", "s", "2024-01-02")
    say(second, "x", "resolved", "judge", "2024-02-01", outcome="refuted", basis="found")
    answer = say(first, "y", "asserted", "s", "2024-03-01")
    known = parse_instant("known_at", answer["known_at"])
    as_of = parse_instant("as_of", answer["as_of"])
    read = fresh.claim("y", as_of=as_of, known_at=known)["credibility"]
    assert answer["credibility"] == read
    # The refuted claim counted: the same statement weighs less than with no record.
    before = fresh.claim("z", as_of=datetime(2024, 3, 2, tzinfo=UTC), known_at=known)["credibility"]
    assert read["probability"] < before["probability"]
