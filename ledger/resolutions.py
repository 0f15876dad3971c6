"""Which claims are resolved, and when the sources' track records changed, read from the log.

A model version that learns from the sources' track records (credibility-v2) weighs a
statement with what the claims resolved by then add to its source's record. ``Resolutions``
keeps, for one process, the claims with a resolution recorded (when the first was) and the
recording times at which what they add may have changed (a resolution, or any later event
of a resolved claim): ``claims(known_at)`` and ``revision(known_at)`` (two known_at with the
same revision see the same records, so what was worked out of them for one holds for the
other). The log is read once, then only what was written since; a process's own writes are
noted as it commits them (``note_written``) when they follow what it has read.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, cast

from eventsourcing.persistence import Mapper, StoredEvent

from ledger.domain import Claim, claim_uuid
from ledger.persistence.chain import LedgerIndex, LogEntry


class Log(Protocol):
    """What is read of the store (``LedgerApplication``): its mapper, its recorder (the
    library's ``max_notification_id`` and ``select_notifications``) and its side tables."""

    mapper: Mapper[Any]
    recorder: Any

    @property
    def index(self) -> LedgerIndex: ...


class Resolutions:
    """The resolved claims and the track records' changes, as one process has read them."""

    def __init__(self, store: Log) -> None:
        self.store = store
        #: The claims with a resolution recorded, with when the first was (microseconds),
        #: as the log stood at position ``head``.
        self.resolved: dict[str, int] = {}
        self.head = 0
        #: Every event recorded by then (microseconds) is read: a log position after
        #: ``head`` was recorded later (recording times increase along the log), so a
        #: ``known_at`` up to it needs nothing more read.
        self.time = 0
        #: The recording times at which what resolved claims add to the sources' records
        #: may have changed, in log order, and the resolved claims' streams.
        self.changes: list[int] = []
        self.streams: dict[str, int] = {}
        self._lock = threading.Lock()

    def _plain(self) -> bool:
        """Whether events are stored as plain JSON (no compression, no cipher)."""
        return self.store.mapper.compressor is None and self.store.mapper.cipher is None

    def claims(self, known_at_us: int) -> list[str]:
        """The claims with a resolution recorded by ``known_at_us``: a ``resolved``
        statement, or a correction that makes one (in log order of the first).

        What a model that learns from the sources' records reads, instead of every claim.
        The log is read once per process, then only what was written since; only events
        whose stored bytes hold ``"resolved"`` are decoded (when they are stored as plain
        JSON). An event that cannot be read is left to the reads of its own claim, which
        name the damage.
        """
        with self._lock:
            self._read()
            return [cid for cid, at in self.resolved.items() if at <= known_at_us]

    def revision(self, known_at_us: int) -> int:
        """When, by ``known_at_us``, what the resolved claims add to the sources' track
        records last changed: the recording time of the latest resolution or event of a
        claim already resolved (0: none). Two known_at with the same revision see the
        same records, so what was worked out of them for one holds for the other."""
        with self._lock:
            if known_at_us > self.time:
                self._read()
            changes = self.changes
            at = bisect.bisect_right(changes, known_at_us)
            return changes[at - 1] if at else 0

    def _read(self) -> None:
        """Read the log written since last time for resolutions and record changes.

        Where events are stored as plain JSON in SQL, the database finds the events whose
        bytes hold ``"resolved"`` and the rows of the resolved claims' streams, so only
        those come to Python (a million-event log: seconds, not a pass over every row);
        otherwise the log is read page by page."""
        if self._plain():
            head = int(self.store.recorder.max_notification_id() or 0)  # positions are its ids
            after = self.head
            if head <= after:
                return
            found = self.store.index.holding(after, head, "StatementRecorded", b'"resolved"')
            if found is not None:
                for _position, recorded_at, stored in found:
                    self._note_resolution(stored, recorded_at)
                self._note_changes(
                    self.store.index.stream_rows_between(list(self.streams), after, head)
                )
                self.head = head
                return
        while entries := self.store.index.log_entries(self.head, 1000):
            self._note_resolutions(entries)
            self._note_record_changes(entries)

    def note_written(self, stored: Sequence[StoredEvent], written: Sequence[LogEntry]) -> None:
        """Read this process's write for resolutions, as ``_read`` would, if it
        follows the position read up to (else another writer's events lie between: the next
        read asks the database). Then a read as known at the write's time (an append's
        answer) asks the database nothing."""
        if not written or len(written) != len(stored):
            return
        plain = self._plain()
        with self._lock:
            if written[0].position != self.head + 1:
                return
            for event, entry in zip(stored, written, strict=True):
                if event.topic.endswith("StatementRecorded") and (
                    not plain or b'"resolved"' in event.state
                ):
                    self._note_resolution(event, entry.recorded_at)
            self._note_record_changes(written)

    def _note_record_changes(self, entries: Sequence[LogEntry]) -> None:
        """After the resolutions among ``entries`` (the log's next rows) are noted: the
        times their resolved claims' events change the records; the rows are then read."""
        self._note_changes(entries)
        self.head = entries[-1].position
        self.time = entries[-1].recorded_at

    def _note_changes(self, entries: Iterable[LogEntry]) -> None:
        """The times at which ``entries`` (log rows, in log order) of resolved claims
        change the records: each at or after its claim's first resolution."""
        streams = self.streams
        for entry in entries:
            resolved_at = streams.get(entry.originator_id)
            if resolved_at is not None and entry.recorded_at >= resolved_at:
                self.changes.append(entry.recorded_at)

    def _note_resolutions(self, entries: Sequence[LogEntry]) -> None:
        recorded_at = {entry.position: entry.recorded_at for entry in entries}
        plain = self._plain()
        for stored in self.store.recorder.select_notifications(
            start=entries[0].position, limit=len(entries), stop=entries[-1].position
        ):
            if not stored.topic.endswith("StatementRecorded") or (
                plain and b'"resolved"' not in stored.state
            ):
                continue
            when = recorded_at.get(stored.id)
            if when is not None:
                self._note_resolution(stored, when)

    def _note_resolution(self, stored: StoredEvent, recorded_at: int) -> None:
        """Note the claim resolved if ``stored`` (a statement recorded at ``recorded_at``)
        resolves it, itself or as corrected."""
        try:
            event = self.store.mapper.to_domain_event(stored)
        except Exception:  # damaged: its claim's reads say so
            return
        record = cast(Claim.StatementRecorded, event).record
        kind = record.get("corrected_type") if record.get("type") == "corrected" else (
            record.get("type")
        )
        if kind == "resolved" and record.get("claim_id"):
            claim_id = str(record["claim_id"])
            self.resolved.setdefault(claim_id, recorded_at)
            self.streams.setdefault(claim_uuid(claim_id).hex, recorded_at)
