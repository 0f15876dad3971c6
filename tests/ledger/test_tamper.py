"""Tamper evidence beyond the hash chain: the streams table and the snapshots.

Each test changes a row behind the service's back, on SQLite and on PostgreSQL, and
``verify`` must name what was changed. Snapshots must also not be served once changed
(``ledger.snapshots.guard_snapshots``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import claim_uuid, source_uuid
from ledger.examples import load_article
from ledger.integrity import check_streams, failed_part, walk_chain
from ledger.persistence.chain import now_micros
from ledger.snapshots import CheckedSnapshots, guard_snapshots

from .helpers import ACTOR, claim, execute, say, source, tables

TROOPS = "nk-troops-for-russia"
ARMS = "nk-arms-for-russia"
ARMS_TEXT = "North Korea is supplying arms to Russia for its war in Ukraine"


@pytest.fixture
def sql_settings(sql_store: str) -> Settings:
    return Settings(store=sql_store, snapshot_interval=2, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def article(sql_settings: Settings) -> Iterator[ClaimsLedger]:
    """A ledger holding the article, with a snapshot every 2 versions."""
    ledger = open_ledger(sql_settings)
    guard_snapshots(ledger.store)
    load_article(ledger)
    assert ledger.verify()["ok"] is True
    try:
        yield ledger
    finally:
        ledger.close()


def edit_snapshot(settings: Settings, old: str, new: str) -> None:
    execute(
        settings,
        "UPDATE {snapshots} SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB)",
        (old, new),
        postgres_sql="UPDATE {snapshots} SET state = "
        "convert_to(replace(convert_from(state, 'UTF8'), %s, %s), 'UTF8')",
    )


def first_position(ledger: ClaimsLedger, stream: Any) -> int:
    return ledger.store.index.entries_for(stream)[0].position


# The streams table.


def test_a_moved_recording_time_of_a_claim_is_named(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    def listed() -> set[str]:
        return {public for public, _ in article.store.index.stream_ids("claim", now_micros(), 0, 9)}

    assert TROOPS in listed()
    execute(
        sql_settings,
        "UPDATE {streams} SET recorded_at = recorded_at + 86400000000 WHERE public_id = ?",
        (TROOPS,),
    )
    # What the issue reported: the claim drops out of what lists read as known now...
    assert TROOPS not in listed()
    # ... and verify now says why.
    report = article.verify()
    assert report["ok"] is False
    assert report["first_bad_position"] == first_position(article, claim_uuid(TROOPS))
    assert report["reason"].startswith("the streams table's row for claim 'nk-troops-for-russia'")
    assert "recorded at" in report["reason"]
    assert failed_part(report) == "streams"
    assert report["checked"] == 19  # the chain itself is intact


def test_a_moved_start_of_a_stream_is_named(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    execute(sql_settings, "UPDATE {streams} SET position = 1000 WHERE public_id = ?", (TROOPS,))
    report = article.verify()
    assert report["ok"] is False
    assert "says it starts at position 1000" in report["reason"]
    assert report["first_bad_position"] == first_position(article, claim_uuid(TROOPS))


def test_a_deleted_row_is_named(sql_settings: Settings, article: ClaimsLedger) -> None:
    execute(sql_settings, "DELETE FROM {streams} WHERE public_id = ?", ("peskov",))
    report = article.verify()
    assert report["ok"] is False
    assert report["reason"] == "the streams table's row for the source 'peskov' is missing"
    assert report["first_bad_position"] == first_position(article, source_uuid("peskov"))


def test_a_row_pointing_at_another_stream_is_named(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    execute(
        sql_settings,
        "UPDATE {streams} SET originator_id = ? WHERE public_id = ?",
        (claim_uuid(ARMS).hex, TROOPS),
    )
    report = article.verify()
    assert report["ok"] is False
    assert f"row for claim {TROOPS!r} names stream {claim_uuid(ARMS).hex}" in report["reason"]


def test_an_invented_row_is_named(sql_settings: Settings, article: ClaimsLedger) -> None:
    ghost = claim_uuid("ghost").hex
    execute(
        sql_settings,
        "INSERT INTO {streams} (kind, public_id, originator_id, position, recorded_at) "
        "VALUES ('claim', 'ghost', ?, 1, 1)",
        (ghost,),
    )
    report = article.verify()
    assert report["ok"] is False
    assert report["reason"] == (
        "the streams table's row for claim 'ghost' names a stream without events in the log"
    )


def test_the_streams_table_is_read_in_pages(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    assert article.verify(page_size=2)["ok"] is True
    execute(sql_settings, "UPDATE {streams} SET recorded_at = 5 WHERE public_id = ?", ("putin",))
    report = article.verify(page_size=2)
    assert report["ok"] is False and "'putin'" in report["reason"]


# Snapshots.


def test_an_edited_snapshot_is_named_and_never_served(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    assert article.store.snapshots is not None
    assert [s.originator_version for s in article.store.snapshots.get(claim_uuid(ARMS))] == [4]
    edit_snapshot(sql_settings, "North Korea is supplying", "Nobody is supplying")
    report = article.verify()
    assert report["ok"] is False
    assert report["reason"] == (
        f"the snapshot of {ARMS!r} at version 4 does not match its events: "
        "its 'text' differs from what its events give"
    )
    assert report["first_bad_position"] == article.store.versions(claim_uuid(ARMS))[4].position
    assert failed_part(report) == "snapshots"
    # Reads rebuild the claim from its events instead, in this process and in a new one.
    assert article.claim(ARMS)["text"] == ARMS_TEXT
    fresh = open_ledger(sql_settings)
    try:
        guard_snapshots(fresh.store)
        assert fresh.claim(ARMS)["text"] == ARMS_TEXT
        assert fresh.claim_events(ARMS)["version"] == 4
        assert isinstance(fresh.store.snapshots, CheckedSnapshots)
        assert fresh.store.snapshots.refused == 1
    finally:
        fresh.close()


def test_a_fresh_process_checks_a_snapshot_once_and_decodes_it_once(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    """The check rebuilds the claim from its events and compares; the snapshot it decoded
    to compare is the one the read starts from (decoding a long claim's snapshot costs
    about as much as replaying it, so a cold read used to pay for that three times)."""
    moment = datetime.now(UTC)
    expected = article.claim(ARMS, moment, moment)
    fresh = open_ledger(sql_settings)
    try:
        guard_snapshots(fresh.store)
        snapshots = fresh.store.snapshots
        assert isinstance(snapshots, CheckedSnapshots)
        decoded: list[int] = []
        mapper = snapshots.mapper
        to_domain_event = mapper.to_domain_event

        def counting(stored: Any) -> Any:
            if "Snapshot" in stored.topic:
                decoded.append(stored.originator_version)
            return to_domain_event(stored)

        mapper.to_domain_event = counting  # type: ignore[method-assign]
        try:
            assert fresh.claim(ARMS, moment, moment) == expected
        finally:
            mapper.to_domain_event = to_domain_event  # type: ignore[method-assign]
        assert decoded == [4]  # the stored snapshot, once; the rebuilt one never
        assert snapshots.refused == 0
    finally:
        fresh.close()


def test_without_the_guard_an_edited_snapshot_would_be_served(sql_settings: Settings) -> None:
    """What the issue reported, and why reads need ``guard_snapshots``."""
    ledger = open_ledger(sql_settings)
    try:
        load_article(ledger)
        edit_snapshot(sql_settings, "North Korea is supplying", "Nobody is supplying")
        if not isinstance(ledger.store.snapshots, CheckedSnapshots):  # until the store has it
            assert ledger.claim(ARMS)["text"].startswith("Nobody")
        guard_snapshots(ledger.store)
        assert ledger.claim(ARMS)["text"] == ARMS_TEXT
        assert ledger.verify()["ok"] is False
    finally:
        ledger.close()


def test_an_unreadable_snapshot_is_named_and_skipped(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    edit_snapshot(sql_settings, '"records":[', '"records":{')
    report = article.verify()
    assert report["ok"] is False
    assert "cannot be read" in report["reason"]
    assert article.claim(ARMS)["text"] == ARMS_TEXT


def rewrite_snapshots(settings: Settings, change: Callable[[dict[str, Any]], None]) -> None:
    """Decode every stored snapshot's state, ``change`` it, store it again."""
    names = tables(settings)
    select = f"SELECT originator_id, originator_version, state FROM {names['snapshots']}"
    update = (
        f"UPDATE {names['snapshots']} SET state = ? "
        "WHERE originator_id = ? AND originator_version = ?"
    )
    if settings.backend == "sqlite":
        with sqlite3.connect(settings.sqlite_path()) as db:
            for oid, version, state in db.execute(select).fetchall():
                body = json.loads(state)
                change(body["state"])
                db.execute(update, (json.dumps(body).encode(), oid, version))
        return
    import psycopg

    with psycopg.connect(settings.store.split("?")[0], autocommit=True) as db:
        for oid, version, state in db.execute(select).fetchall():
            body = json.loads(bytes(state))
            change(body["state"])
            db.execute(update.replace("?", "%s"), (json.dumps(body).encode(), oid, version))


def test_a_snapshot_without_its_caches_is_accepted(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    """A snapshot taken before ``Claim`` indexed its records lacks the index: not tampering;
    but one that holds an index must hold the right one."""

    def forget_caches(state: dict[str, Any]) -> None:
        state.pop("_records_by_id", None)
        state.pop("_records_indexed", None)

    rewrite_snapshots(sql_settings, forget_caches)
    assert article.verify()["ok"] is True

    def misindex(state: dict[str, Any]) -> None:
        state["_records_by_id"] = {"invented": [0]}
        state["_records_indexed"] = len(state["records"])

    rewrite_snapshots(sql_settings, misindex)
    report = article.verify()
    assert report["ok"] is False
    assert "its '_records_by_id' differs from what its events give" in report["reason"]


def test_an_invented_attribute_is_named(sql_settings: Settings, article: ClaimsLedger) -> None:
    edit_snapshot(sql_settings, ',"_records_by_id":', ',"_unused_cache":')
    assert "'_unused_cache', which its events never set" in article.verify()["reason"]


def test_a_snapshot_beyond_its_stream_is_named(
    sql_settings: Settings, article: ClaimsLedger
) -> None:
    execute(sql_settings, "UPDATE {snapshots} SET originator_version = 40")
    report = article.verify()
    assert report["ok"] is False
    assert "at version 40 does not match its events: its stream has" in report["reason"]
    assert article.claim(ARMS)["text"] == ARMS_TEXT


def test_a_long_claims_snapshots_verify(sql_settings: Settings) -> None:
    """Many snapshots (pruned to interval x 2^k), corrections and retractions: no false alarm."""
    ledger = open_ledger(sql_settings.model_copy(update={"snapshot_interval": 3}))
    try:
        guard_snapshots(ledger.store)
        source(ledger, "s", reliability="B")
        claim(ledger, "long")
        said = []
        for n in range(40):
            said.append(say(ledger, "long", "asserted" if n % 3 else "denied", "s",
                            f"2024-01-{1 + n % 28:02d}"))
        ledger.append("long", {"type": "corrected", "source": "s", "supersedes":
                               said[3]["event_id"], "summary": "said better"}, ACTOR)
        ledger.append("long", {"type": "retracted", "source": "s", "supersedes":
                               said[5]["event_id"], "occurred_at": "2024-02-01"}, ACTOR)
        assert ledger.store.snapshots is not None
        assert len(list(ledger.store.snapshots.get(claim_uuid("long")))) >= 3
        assert ledger.verify() == ledger.verify(page_size=1)
        assert ledger.verify()["ok"] is True
    finally:
        ledger.close()


def test_a_claim_registered_while_verify_runs_is_no_problem(article: ClaimsLedger) -> None:
    """The streams table is read after the chain: a stream newer than the walk is compared
    with the log as it is then, not taken for an invented row."""
    walk = walk_chain(article.store, first_entries=True)
    claim(article, "registered-meanwhile")
    assert check_streams(article.store, walk) is None
