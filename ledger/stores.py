"""The event store's side tables: recording time, hash chain, stream index, idempotency.

The ``eventsourcing`` library stores the events; these recorders extend its SQLite,
PostgreSQL and in-memory application recorders (the pattern of the library's
``examples/searchabletimestamps``) to write, in the same transaction as the events:

- ``<events>_log``: one row per stored event, keyed by its notification id (the global
  ``position``), with the server-assigned ``recorded_at`` (strictly increasing along the
  log) and a SHA-256 link to the previous row, so any byte changed behind the service's
  back breaks the chain at a position ``verify`` can name;
- ``<events>_streams``: the public id of each claim and source and where it starts, so
  lists and "as known at" lookups never scan other streams' events;
- ``<events>_idempotency``: the Idempotency-Key of a write, with a fingerprint of the
  request, unique, so a retry (from any process sharing the store) finds the original
  and two concurrent writers with one key cannot both succeed.

``recorded_at`` is assigned inside the insert transaction, after the library has taken its
write lock (PostgreSQL: ``LOCK TABLE ... EXCLUSIVE``; SQLite: the database write lock), so
it follows commit order even with several writer processes.
"""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

GENESIS = "0" * 64


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


def uuid_hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


def now_micros() -> int:
    return time.time_ns() // 1000


class SqlIndex:
    """The side tables in portable SQL; ``?`` placeholders are rewritten for psycopg."""

    def __init__(self, prefix: str, placeholder: str = "?", schema: str | None = None) -> None:
        qualify = f"{schema}." if schema else ""
        self.prefix = prefix
        self.log = f"{qualify}{prefix}_log"
        self.streams = f"{qualify}{prefix}_streams"
        self.idempotency = f"{qualify}{prefix}_idempotency"
        self.placeholder = placeholder

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.log} (position BIGINT PRIMARY KEY, "
            "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, "
            "recorded_at BIGINT NOT NULL, hash TEXT NOT NULL)",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {self.prefix}_log_stream "
            f"ON {self.log} (originator_id, originator_version)",
            f"CREATE TABLE IF NOT EXISTS {self.streams} (kind TEXT NOT NULL, "
            "public_id TEXT NOT NULL, originator_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "recorded_at BIGINT NOT NULL, PRIMARY KEY (kind, public_id))",
            f"CREATE INDEX IF NOT EXISTS {self.prefix}_streams_position "
            f"ON {self.streams} (kind, position)",
            f"CREATE TABLE IF NOT EXISTS {self.idempotency} (key TEXT PRIMARY KEY, "
            "fingerprint TEXT NOT NULL, first_position BIGINT NOT NULL, "
            "last_position BIGINT NOT NULL)",
        ]

    def write(
        self,
        cursor: Any,
        stored_events: Sequence[StoredEvent],
        positions: Sequence[int],
        streams: Sequence[tuple[str, str, UUID]] = (),
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        cursor.execute(
            f"SELECT position, recorded_at, hash FROM {self.log} ORDER BY position DESC LIMIT 1"
        )
        tail = cursor.fetchone()
        previous, last_time = (tail["hash"], tail["recorded_at"]) if tail else (GENESIS, 0)
        rows = []
        recorded_at = max(now_micros(), last_time + 1)
        by_stream: dict[str, tuple[int, int]] = {}
        for event, position in zip(stored_events, positions, strict=True):
            previous = chain_link(previous, position, event, recorded_at)
            oid = uuid_hex(event.originator_id)
            rows.append((position, oid, event.originator_version, recorded_at, previous))
            by_stream.setdefault(oid, (position, recorded_at))
            recorded_at += 1
        cursor.executemany(
            self.sql(
                f"INSERT INTO {self.log} (position, originator_id, originator_version, "
                "recorded_at, hash) VALUES (?, ?, ?, ?, ?)"
            ),
            rows,
        )
        if streams:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {self.streams} (kind, public_id, originator_id, position, "
                    "recorded_at) VALUES (?, ?, ?, ?, ?)"
                ),
                [
                    (kind, public, uuid_hex(oid), *by_stream[uuid_hex(oid)])
                    for kind, public, oid in streams
                ],
            )
        if idempotency is not None:
            cursor.execute(
                self.sql(
                    f"INSERT INTO {self.idempotency} (key, fingerprint, first_position, "
                    "last_position) VALUES (?, ?, ?, ?)"
                ),
                (idempotency[0], idempotency[1], positions[0], positions[-1]),
            )

    # Reads. Each takes an open cursor so a backend decides how to get one.

    def version_at(self, cursor: Any, originator_id: UUID, known_at: int) -> int | None:
        cursor.execute(
            self.sql(
                f"SELECT MAX(originator_version) AS v FROM {self.log} "
                "WHERE originator_id = ? AND recorded_at <= ?"
            ),
            (uuid_hex(originator_id), known_at),
        )
        row = cursor.fetchone()
        return None if row is None or row["v"] is None else int(row["v"])

    def entries_for(self, cursor: Any, originator_id: UUID) -> list[LogEntry]:
        cursor.execute(
            self.sql(
                "SELECT position, originator_id, originator_version, recorded_at, hash "
                f"FROM {self.log} WHERE originator_id = ? ORDER BY originator_version"
            ),
            (uuid_hex(originator_id),),
        )
        return [_entry(row) for row in cursor.fetchall()]

    def entries_for_many(self, cursor: Any, originator_ids: Sequence[UUID]) -> list[LogEntry]:
        if not originator_ids:
            return []
        marks = ", ".join("?" for _ in originator_ids)
        cursor.execute(
            self.sql(
                "SELECT position, originator_id, originator_version, recorded_at, hash "
                f"FROM {self.log} WHERE originator_id IN ({marks}) "
                "ORDER BY originator_id, originator_version"
            ),
            [uuid_hex(oid) for oid in originator_ids],
        )
        return [_entry(row) for row in cursor.fetchall()]

    def log_entries(self, cursor: Any, after: int, limit: int) -> list[LogEntry]:
        cursor.execute(
            self.sql(
                "SELECT position, originator_id, originator_version, recorded_at, hash "
                f"FROM {self.log} WHERE position > ? ORDER BY position LIMIT ?"
            ),
            (after, limit),
        )
        return [_entry(row) for row in cursor.fetchall()]

    def stream_ids(
        self, cursor: Any, kind: str, known_at: int, after: int, limit: int
    ) -> list[tuple[str, int]]:
        cursor.execute(
            self.sql(
                f"SELECT public_id, position FROM {self.streams} WHERE kind = ? "
                "AND recorded_at <= ? AND position > ? ORDER BY position LIMIT ?"
            ),
            (kind, known_at, after, limit),
        )
        return [(row["public_id"], int(row["position"])) for row in cursor.fetchall()]

    def find_idempotency(self, cursor: Any, key: str) -> IdempotencyRecord | None:
        cursor.execute(
            self.sql(
                f"SELECT key, fingerprint, first_position, last_position FROM {self.idempotency} "
                "WHERE key = ?"
            ),
            (key,),
        )
        row = cursor.fetchone()
        if row is None:
            return None
        return IdempotencyRecord(
            row["key"], row["fingerprint"], int(row["first_position"]), int(row["last_position"])
        )


def _entry(row: Any) -> LogEntry:
    return LogEntry(
        position=int(row["position"]),
        originator_id=row["originator_id"],
        originator_version=int(row["originator_version"]),
        recorded_at=int(row["recorded_at"]),
        hash=row["hash"],
    )


class LedgerIndex(Protocol):
    """What the ledger reads from its side tables, on every backend."""

    def version_at(self, originator_id: UUID, known_at: int) -> int | None: ...
    def entries_for(self, originator_id: UUID) -> list[LogEntry]: ...
    def entries_for_many(self, originator_ids: Sequence[UUID]) -> list[LogEntry]: ...
    def log_entries(self, after: int, limit: int) -> list[LogEntry]: ...
    def stream_ids(
        self, kind: str, known_at: int, after: int, limit: int
    ) -> list[tuple[str, int]]: ...
    def find_idempotency(self, key: str) -> IdempotencyRecord | None: ...


class IndexReads(ABC):
    """The read methods every ledger recorder offers, over ``self.index`` and a cursor."""

    index: SqlIndex

    @abstractmethod
    def reading(self) -> AbstractContextManager[Any]:
        """A cursor for reads, in the backend's own way."""

    def version_at(self, originator_id: UUID, known_at: int) -> int | None:
        with self.reading() as cursor:
            return self.index.version_at(cursor, originator_id, known_at)

    def entries_for(self, originator_id: UUID) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.entries_for(cursor, originator_id)

    def entries_for_many(self, originator_ids: Sequence[UUID]) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.entries_for_many(cursor, originator_ids)

    def log_entries(self, after: int, limit: int) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.log_entries(cursor, after, limit)

    def stream_ids(self, kind: str, known_at: int, after: int, limit: int) -> list[tuple[str, int]]:
        with self.reading() as cursor:
            return self.index.stream_ids(cursor, kind, known_at, after, limit)

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self.reading() as cursor:
            return self.index.find_idempotency(cursor, key)


class SQLiteLedgerRecorder(IndexReads, SQLiteApplicationRecorder):
    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        self.index = SqlIndex(events_table_name)
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.index.create_statements()

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The library's insert comes first: it takes SQLite's write lock, so the tail
        # read below cannot be overtaken by another writer.
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None
        self.index.write(
            c, stored_events, positions, kwargs.get("streams", ()), kwargs.get("idempotency")
        )
        return positions

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor


class POPOLedgerRecorder(POPOApplicationRecorder):
    """The in-memory store, for fast tests, with the same side tables as dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[LogEntry] = []
        self.by_stream: dict[str, list[LogEntry]] = {}
        self.streams: dict[tuple[str, str], tuple[int, int]] = {}
        self.idempotency: dict[str, IdempotencyRecord] = {}

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        key = kwargs.get("idempotency")
        if key is not None and key[0] in self.idempotency:
            raise IntegrityError(f"idempotency key {key[0]!r} already used")
        positions = super()._update_table(stored_events, **kwargs)
        assert positions is not None
        previous = self.log[-1].hash if self.log else GENESIS
        recorded_at = max(now_micros(), self.log[-1].recorded_at + 1 if self.log else 0)
        for event, position in zip(stored_events, positions, strict=True):
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
        if key is not None:
            self.idempotency[key[0]] = IdempotencyRecord(
                key[0], key[1], positions[0], positions[-1]
            )
        return positions

    def version_at(self, originator_id: UUID, known_at: int) -> int | None:
        with self._database_lock:
            versions = [
                e.originator_version
                for e in self.by_stream.get(uuid_hex(originator_id), [])
                if e.recorded_at <= known_at
            ]
            return max(versions) if versions else None

    def entries_for(self, originator_id: UUID) -> list[LogEntry]:
        with self._database_lock:
            return list(self.by_stream.get(uuid_hex(originator_id), []))

    def entries_for_many(self, originator_ids: Sequence[UUID]) -> list[LogEntry]:
        with self._database_lock:
            return [e for oid in originator_ids for e in self.by_stream.get(uuid_hex(oid), [])]

    def log_entries(self, after: int, limit: int) -> list[LogEntry]:
        with self._database_lock:
            return [e for e in self.log if e.position > after][:limit]

    def stream_ids(self, kind: str, known_at: int, after: int, limit: int) -> list[tuple[str, int]]:
        with self._database_lock:
            rows = sorted(
                (position, public)
                for (k, public), (position, recorded_at) in self.streams.items()
                if k == kind and recorded_at <= known_at and position > after
            )
            return [(public, position) for position, public in rows[:limit]]

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self._database_lock:
            return self.idempotency.get(key)


class POPOLedgerFactory(POPOFactory):
    """``PERSISTENCE_MODULE=ledger.stores:POPOLedgerFactory`` gives the in-memory ledger."""

    def application_recorder(self) -> POPOLedgerRecorder:
        return POPOLedgerRecorder()
