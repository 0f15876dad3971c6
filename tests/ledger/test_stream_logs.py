"""A claim's read asks for its cited sources' logs; a process keeps them and asks only for
the rows written since it last looked (``LedgerApplication.stream_logs``). What it answers
must always be the whole log, whoever wrote since: this process or another one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import source_uuid

from .helpers import ACTOR, claim, say, source

SOURCES = [f"s{i}" for i in range(6)]


@pytest.fixture
def two(sql_store: str) -> Iterator[tuple[ClaimsLedger, ClaimsLedger]]:
    """Two ledgers on one store, as two server processes would be."""
    settings = Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]
    first = open_ledger(settings)
    second = open_ledger(settings)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def _whole(ledger: ClaimsLedger, sid: str) -> dict[int, tuple[int, int]]:
    entries = ledger.store.index.entries_for(source_uuid(sid))
    return {e.originator_version: (e.position, e.recorded_at) for e in entries}


def test_a_source_rerated_by_another_process_is_read_with_its_new_rating(
    two: tuple[ClaimsLedger, ClaimsLedger],
) -> None:
    reader, writer = two
    source(reader, "gov", reliability="E")
    claim(reader, "c1")
    say(reader, "c1", "asserted", "gov", "2024-01-01")
    before = reader.claim("c1")["credibility"]["probability"]  # its log is kept now
    writer.rerate_source("gov", {"reliability": "A", "occurred_at": "2023-12-01"}, ACTOR)
    after = reader.claim("c1")["credibility"]["probability"]
    assert after > before  # read with the A it was given since, not the E kept
    assert after == writer.claim("c1")["credibility"]["probability"]


def test_the_logs_kept_are_the_whole_logs_whoever_writes(
    two: tuple[ClaimsLedger, ClaimsLedger],
) -> None:
    first = two[0]
    for sid in SOURCES:
        source(first, sid)
    claim(first, "c1")
    rng = random.Random(7)
    uids = [source_uuid(sid) for sid in SOURCES]
    for step in range(40):
        writer = rng.choice(two)
        sid = rng.choice(SOURCES)
        grade = rng.choice("ABCDE")
        writer.rerate_source(sid, {"reliability": grade, "occurred_at": "2024-01-01"}, ACTOR)
        if rng.random() < 0.3:
            say(writer, "c1", "asserted", sid, f"2024-02-{1 + step % 28:02d}")
        reader = rng.choice(two)
        asked = rng.sample(uids, rng.randint(1, len(uids)))
        logs = reader.store.stream_logs(asked)
        for uid, sid in ((u, SOURCES[uids.index(u)]) for u in asked):
            got = {v: (e.position, e.recorded_at) for v, e in logs[uid].items()}
            assert got == _whole(reader, sid), (step, sid)
