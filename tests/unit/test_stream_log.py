"""``StreamLog``: a stream's log rows as a process keeps them (arrays, no object per row)."""

from __future__ import annotations

import pytest

from ledger.persistence.chain import LogEntry
from ledger.store import StreamLog, _version_at

OID = "a" * 32


def rows(first: int, last: int) -> list[LogEntry]:
    """Versions ``first``..``last``, recorded 10 microseconds apart, at positions 100 on."""
    return [LogEntry(100 + v, OID, v, 1_000 + 10 * v, f"h{v}") for v in range(first, last + 1)]


def test_it_answers_as_the_rows_it_holds() -> None:
    log = StreamLog(OID).extended(rows(1, 5))
    assert log is not None
    assert len(log) == 5 and list(log) == [1, 2, 3, 4, 5]
    assert dict(log) == {e.originator_version: e for e in rows(1, 5)}
    for missing in (0, 6, -1):
        with pytest.raises(KeyError):
            log[missing]
    assert 6 not in log and 5 in log


def test_the_version_known_at_a_time_is_the_same_as_a_scan_of_the_rows() -> None:
    log = StreamLog(OID).extended(rows(1, 5))
    assert log is not None
    as_dict = {e.originator_version: e for e in rows(1, 5)}
    for known_at in range(990, 1_070):
        assert _version_at(log, known_at) == _version_at(as_dict, known_at)
    assert log.version_at(1_009) is None and log.version_at(1_010) == 1


def test_extending_makes_a_copy_and_refuses_rows_that_do_not_continue() -> None:
    first = StreamLog(OID).extended(rows(1, 3))
    assert first is not None
    longer = first.extended(rows(4, 6))
    assert longer is not None and len(longer) == 6 and len(first) == 3
    assert longer[6] == rows(6, 6)[0]
    assert first.extended(rows(5, 6)) is None  # version 4 missing
    assert first.extended(rows(3, 4)) is None  # version 3 again
    assert StreamLog(OID).extended(rows(2, 3)) is None  # not from version 1
