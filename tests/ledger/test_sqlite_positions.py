"""SQLite's positions are the rowids its events table gives a save's rows, inserted in one
``executemany`` after the first (``SQLiteLedgerRecorder._insert_rows``): consecutive while
SQLite numbers rows as usual, and each one looked up when it does not."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.persistence.sqlite import SQLiteLedgerRecorder

TOP = 2**63 - 1


def _events(count: int) -> list[StoredEvent]:
    stream = uuid4()
    return [StoredEvent(stream, version, "t", b"{}") for version in range(1, count + 1)]


def _rowids(cursor: object, events: list[StoredEvent]) -> list[int]:
    found = []
    for event in events:
        cursor.execute(  # type: ignore[attr-defined]
            "SELECT rowid FROM stored_events WHERE originator_id = ? AND originator_version = ?",
            (event.originator_id.hex, event.originator_version),  # type: ignore[union-attr]
        )
        found.append(int(cursor.fetchone()[0]))  # type: ignore[attr-defined]
    return found


def test_positions_are_each_rows_rowid_however_sqlite_numbers_them(tmp_path: Path) -> None:
    ledger = open_ledger(Settings(store=f"sqlite:///{tmp_path / 's.db'}", _env_file=None))  # type: ignore[call-arg]
    try:
        recorder = ledger.store.recorder
        assert isinstance(recorder, SQLiteLedgerRecorder)
        with recorder.datastore.transaction(commit=False) as cursor:
            usual = _events(5)
            assert recorder._insert_rows(cursor, usual) == _rowids(cursor, usual)
            assert recorder._insert_rows(cursor, _events(1)) == [_rowids(cursor, usual)[-1] + 1]
            # Once the largest rowid is 2**63 - 1, SQLite picks unused rowids at random.
            cursor.execute(
                "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
                "state) VALUES (?, ?, 1, 't', x'')",
                (TOP, uuid4().hex),
            )
            random = _events(4)
            positions = recorder._insert_rows(cursor, random)
            assert positions == _rowids(cursor, random)
            assert TOP not in positions and len(set(positions)) == 4
    finally:
        ledger.close()
