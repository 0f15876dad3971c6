"""The side tables' records, the hash chain that links the log, and the reads of every backend.

``LedgerIndex`` is what the ledger reads from its side tables; each recorder of this package
(SQLite, PostgreSQL, in memory) offers it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger import times
from ledger.errors import ClockBehind

GENESIS = "0" * 64

#: How far ahead of this server's clock a write may be stamped (microseconds). Recording
#: times strictly increase along the log, so after a clock steps back (NTP) a write is
#: stamped just after the log's last time; beyond this, it is refused instead
#: (``ClockBehind``), or acknowledged writes would stay out of reads as known "now".
MAX_AHEAD_US = 5_000_000


@dataclass(frozen=True)
class LogEntry:
    """Where and when one stored event was recorded, and its link in the hash chain."""

    position: int
    originator_id: str  # UUID hex
    originator_version: int
    recorded_at: int  # microseconds since the epoch, UTC
    hash: str


@dataclass(frozen=True)
class IdempotencyRecord:
    key: str
    fingerprint: str
    first_position: int
    last_position: int


@dataclass(frozen=True)
class Restore:
    """Events restored from a backup keep their place and time: the positions the store
    must give them (else the write is refused) and their original recording times."""

    positions: Sequence[int]
    recorded_at: Sequence[int]  # microseconds, strictly increasing


def restored_times(
    restore: Restore | None, positions: Sequence[int], last_time: int
) -> Sequence[int] | None:
    """The recording times of restored events, checked; None for a plain write."""
    if restore is None:
        return None
    if list(positions) != list(restore.positions):
        raise IntegrityError(
            f"the log does not end where the backup continues: positions {positions[0]}.. "
            f"were given, the backup holds {restore.positions[0]}.."
        )
    times = list(restore.recorded_at)
    if any(b <= a for a, b in zip([last_time, *times], times, strict=False)):
        raise IntegrityError("restored recording times must increase along the log")
    return times


def chain_link(previous: str, position: int, event: StoredEvent, recorded_at: int) -> str:
    """The hash of one log row: its predecessor's hash, its place, its time and its bytes."""
    oid = (
        event.originator_id.hex
        if isinstance(event.originator_id, UUID)
        else str(event.originator_id)
    )
    digest = hashlib.sha256()
    header = f"{previous}|{position}|{oid}|{event.originator_version}|{recorded_at}|{event.topic}|"
    digest.update(header.encode())
    state = event.state
    # A tampered row may come back as text rather than bytes: hash what is there.
    digest.update(state if isinstance(state, bytes) else str(state).encode())
    return digest.hexdigest()


#: What ``stream_problem`` and ``verify`` call each kind of damage (the same words).
MISSING = "the stored event is missing"
UNCHAINED = "an event is not in the hash chain"
MISMATCH = "stored bytes do not match the hash chain"


@dataclass(frozen=True)
class ChainedRow:
    """A log row with the hash of the row before it in the log (``GENESIS`` for the first):
    all it takes to check its event's stored bytes against the chain, alone."""

    entry: LogEntry
    previous: str


@dataclass(frozen=True)
class StreamDamage:
    """Where a stream's stored events first fail the chain. ``position`` is None for an
    event with no log row (the store's own numbering names it: ``LedgerIndex.position_of``)."""

    position: int | None
    version: int
    reason: str


def stream_problem(
    stored: Sequence[StoredEvent], rows: Sequence[ChainedRow]
) -> StreamDamage | None:
    """The first damage (by version) of a stream's stored events against its log rows: a
    row without its event, an event without its row, or bytes, time or place that do not
    give the row's hash. One hash per event, so a read can afford it."""
    events = {e.originator_version: e for e in stored}
    chained = {r.entry.originator_version: r for r in rows}
    found: list[StreamDamage] = []
    for version, row in chained.items():
        event = events.get(version)
        if event is None:
            found.append(StreamDamage(row.entry.position, version, MISSING))
        elif chain_link(row.previous, row.entry.position, event, row.entry.recorded_at) != (
            row.entry.hash
        ):
            found.append(StreamDamage(row.entry.position, version, MISMATCH))
    found += [StreamDamage(None, v, UNCHAINED) for v in events if v not in chained]
    return min(found, key=lambda d: d.version) if found else None


def uuid_hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


def now_micros() -> int:
    return times.clock_micros()


def stamp(last_time: int) -> int:
    """The recording time of a write after a log whose last is ``last_time``: the clock,
    or just after ``last_time`` if the clock is behind it, by at most ``MAX_AHEAD_US``."""
    clock = now_micros()
    if last_time + 1 > clock + MAX_AHEAD_US:
        raise ClockBehind(
            f"the log's last recording time ({times.format_instant(times.from_micros(last_time))})"
            f" is {(last_time - clock) / 1e6:.3f} s ahead of this server's clock, more than the "
            f"{MAX_AHEAD_US / 1e6:g} s a write may be stamped ahead: nothing was written. Set "
            "the clock right; if it is right, the log's time was moved (claims-ledger verify)"
        )
    return max(clock, last_time + 1)


class LedgerIndex(Protocol):
    """What the ledger reads from its side tables, on every backend."""

    def version_at(self, originator_id: UUID, known_at: int) -> int | None: ...
    def entries_for(self, originator_id: UUID, after_version: int = 0) -> list[LogEntry]:
        """The stream's log rows in version order, those after ``after_version``."""
        ...
    def entries_for_many(
        self, originator_ids: Sequence[UUID], after_position: int = 0
    ) -> list[LogEntry]:
        """The streams' log rows at positions after ``after_position``, by stream and
        version."""
        ...
    def log_entries(self, after: int, limit: int) -> list[LogEntry]: ...
    def claim_sizes(self, after: int, upto: int) -> list[tuple[str, int]]: ...
    def holding(
        self, after: int, upto: int, topic_suffix: str, needle: bytes
    ) -> list[tuple[int, int, StoredEvent]] | None:
        """(position, recording time, stored event) of the events after ``after`` up to
        ``upto`` whose topic ends with ``topic_suffix`` and whose stored bytes hold
        ``needle``, in log order; None where the backend cannot search stored bytes."""
        ...
    def stream_rows_between(
        self, originator_ids: Sequence[str], after: int, upto: int
    ) -> list[LogEntry]:
        """The log rows of the streams (hex ids) after ``after`` up to ``upto``, in log
        order."""
        ...
    def chained_rows(self, originator_id: UUID, after_version: int = 0) -> list[ChainedRow]:
        """The stream's log rows after ``after_version``, each with its predecessor's hash."""
        ...
    def row_before(self, position: int) -> tuple[int, str]:
        """The position and hash of the last log row before ``position`` (0 and
        ``GENESIS`` if none)."""
        ...
    def position_of(self, originator_id: UUID, version: int) -> int | None:
        """The position the store gave a stored event (whether or not the log has it)."""
        ...
    def last_recorded_at(self) -> int:
        """The recording time of the log's last row (0 for an empty log)."""
        ...
    def stream_ids(
        self, kind: str, known_at: int, after: int, limit: int
    ) -> list[tuple[str, int]]: ...
    def find_idempotency(self, key: str) -> IdempotencyRecord | None: ...
    def touched(self, originator_id: UUID) -> bool:
        """Whether a stored event of the stream was ever deleted or changed."""
        ...

    def gaps(self, originator_ids: Sequence[UUID], screened: bool = True) -> dict[str, int]:
        """Streams with a log row whose event is not stored: UUID hex -> first position.

        ``screened``: only streams the store saw lose a row are checked (cheap, for lists);
        False checks every row of every stream."""
        ...
