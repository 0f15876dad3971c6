"""The in-memory ledger recorder: the library's POPO recorder plus the side tables as dicts.

Selected with ``PERSISTENCE_MODULE=ledger.persistence.memory:POPOLedgerFactory`` and
``APPLICATION_RECORDER_TOPIC=ledger.persistence.memory:POPOLedgerRecorder``: the library's
own POPO factory ignores ``APPLICATION_RECORDER_TOPIC``, so this one reads it, as the SQLite
and PostgreSQL factories do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.utils import resolve_topic

from ledger.persistence.chain import (
    GENESIS,
    ChainedRow,
    IdempotencyRecord,
    LogEntry,
    chain_link,
    restored_times,
    stamp,
    uuid_hex,
)


class POPOLedgerRecorder(POPOApplicationRecorder):
    """The in-memory store, for fast tests, with the same side tables as dicts.

    It offers the reads of ``LedgerIndex`` over those dicts, under the library's lock.
    """

    def __init__(self) -> None:
        super().__init__()
        self.log: list[LogEntry] = []
        self.by_stream: dict[str, list[LogEntry]] = {}
        self.streams: dict[tuple[str, str], tuple[int, int]] = {}
        #: (kind, public id) -> the stream's originator id (hex).
        self.stream_of: dict[tuple[str, str], str] = {}
        self.idempotency: dict[str, IdempotencyRecord] = {}

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        keys: Sequence[tuple[str, str, int, int]] = kwargs.get("idempotency", ())
        for used in (k[0] for k in keys if k[0] in self.idempotency):
            raise IntegrityError(f"idempotency key {used!r} already used")
        positions = super()._update_table(stored_events, **kwargs)
        assert positions is not None
        previous = self.log[-1].hash if self.log else GENESIS
        last_time = self.log[-1].recorded_at if self.log else 0
        times = restored_times(kwargs.get("restore"), positions, last_time)
        recorded_at = stamp(last_time) if times is None else 0
        for i, (event, position) in enumerate(zip(stored_events, positions, strict=True)):
            if times is not None:
                recorded_at = times[i]
            previous = chain_link(previous, position, event, recorded_at)
            entry = LogEntry(
                position,
                uuid_hex(event.originator_id),
                event.originator_version,
                recorded_at,
                previous,
            )
            self.log.append(entry)
            self.by_stream.setdefault(entry.originator_id, []).append(entry)
            recorded_at += 1
        for kind, public, oid in kwargs.get("streams", ()):
            first = self.by_stream[uuid_hex(oid)][0]
            self.streams[(kind, public)] = (first.position, first.recorded_at)
            self.stream_of[(kind, public)] = uuid_hex(oid)
        for key, digest, i, j in keys:
            self.idempotency[key] = IdempotencyRecord(key, digest, positions[i], positions[j])
        return positions

    def version_at(self, originator_id: UUID, known_at: int) -> int | None:
        with self._database_lock:
            versions = [
                e.originator_version
                for e in self.by_stream.get(uuid_hex(originator_id), [])
                if e.recorded_at <= known_at
            ]
            return max(versions) if versions else None

    def entries_for(self, originator_id: UUID, after_version: int = 0) -> list[LogEntry]:
        with self._database_lock:
            return [
                e for e in self.by_stream.get(uuid_hex(originator_id), [])
                if e.originator_version > after_version
            ]

    def entries_for_many(
        self, originator_ids: Sequence[UUID], after_position: int = 0
    ) -> list[LogEntry]:
        with self._database_lock:
            return [
                e for oid in originator_ids for e in self.by_stream.get(uuid_hex(oid), [])
                if e.position > after_position
            ]

    def log_entries(self, after: int, limit: int) -> list[LogEntry]:
        with self._database_lock:
            return [e for e in self.log if e.position > after][:limit]

    def holding(
        self, after: int, upto: int, topic_suffix: str, needle: bytes
    ) -> list[tuple[int, int, StoredEvent]] | None:
        """None: the events in memory are read as they are (``log_entries``)."""
        return None

    def stream_rows_between(
        self, originator_ids: Sequence[str], after: int, upto: int
    ) -> list[LogEntry]:
        wanted = set(originator_ids)
        with self._database_lock:
            return [
                e for e in self.log if after < e.position <= upto and e.originator_id in wanted
            ]

    def chained_rows(self, originator_id: UUID, after_version: int = 0) -> list[ChainedRow]:
        # Positions here are 1, 2, 3...: the row before position p is ``log[p - 2]``.
        with self._database_lock:
            return [
                ChainedRow(e, self.log[e.position - 2].hash if e.position > 1 else GENESIS)
                for e in self.by_stream.get(uuid_hex(originator_id), [])
                if e.originator_version > after_version
            ]

    def row_before(self, position: int) -> tuple[int, str]:
        with self._database_lock:
            before = [e for e in self.log[: max(position - 1, 0)] if e.position < position]
            return (before[-1].position, before[-1].hash) if before else (0, GENESIS)

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self._database_lock:
            for notification_id, stored in enumerate(self._stored_events, start=1):
                if stored.originator_id == originator_id and stored.originator_version == version:
                    return notification_id
            return None

    def last_recorded_at(self) -> int:
        with self._database_lock:
            return self.log[-1].recorded_at if self.log else 0

    def claim_sizes(self, after: int, upto: int) -> list[tuple[str, int]]:
        with self._database_lock:
            sizes = (
                (public, sum(1 for e in self.by_stream.get(oid, ()) if after < e.position <= upto))
                for (kind, public), oid in self.stream_of.items()
                if kind == "claim"
            )
            return sorted((public, n) for public, n in sizes if n)

    def stream_ids(self, kind: str, known_at: int, after: int, limit: int) -> list[tuple[str, int]]:
        with self._database_lock:
            rows = sorted(
                (position, public)
                for (k, public), (position, recorded_at) in self.streams.items()
                if k == kind and recorded_at <= known_at and position > after
            )
            return [(public, position) for position, public in rows[:limit]]

    def touched(self, originator_id: UUID) -> bool:
        return False  # only this process holds the events, and it never changes them

    def gaps(self, originator_ids: Sequence[UUID], screened: bool = True) -> dict[str, int]:
        found = {}
        for oid in originator_ids:
            stored = {e.originator_version for e in self.select_events(oid)}
            entries = self.entries_for(oid)
            missing = [e.position for e in entries if e.originator_version not in stored]
            if missing:
                found[uuid_hex(oid)] = min(missing)
        return found

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self._database_lock:
            return self.idempotency.get(key)


class POPOLedgerFactory(POPOFactory):
    """The library's in-memory factory, with the recorder ``APPLICATION_RECORDER_TOPIC`` names.

    Without that topic it gives the library's own recorder, as the SQLite and PostgreSQL
    factories do (the benchmark's baseline).
    """

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        if not topic:
            return POPOApplicationRecorder()
        recorder_class: type[POPOApplicationRecorder] = resolve_topic(topic)
        assert issubclass(recorder_class, POPOApplicationRecorder)
        return recorder_class()
