"""The SQLite ledger recorder: the library's recorder plus the ledger's side tables.

Selected with ``PERSISTENCE_MODULE=ledger.persistence.sqlite:SQLiteLedgerFactory`` (the
library's factory, its connections keeping their prepared statements) and
``APPLICATION_RECORDER_TOPIC=ledger.persistence.sqlite:SQLiteLedgerRecorder``.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, StoredEvent
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)
from eventsourcing.utils import Environment

from ledger.persistence.backends import Lock
from ledger.persistence.sql import IndexReads, SqlIndex


class SQLiteLedgerRecorder(IndexReads, SQLiteApplicationRecorder):
    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        self.index = SqlIndex(events_table_name)
        super().__init__(datastore, events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.index.create_statements()

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        self.index.watch_damage(c)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The events' insert comes first: it takes SQLite's write lock, so the tail
        # read below cannot be overtaken by another writer.
        positions = self._insert_rows(c, stored_events)
        self.index.record(c, stored_events, positions, kwargs)
        return positions

    def _insert_rows(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> list[int]:
        """The library's insert of the events (each row's rowid is its position, as there),
        in one ``executemany`` after the first row rather than a statement per row.

        SQLite gives a row without a rowid one more than the table's largest, except once
        the largest is 2**63 - 1; so, holding the write lock, the rows get consecutive
        rowids from the first's, and the table's largest is then the last's. That is
        checked; if it does not hold, each row's rowid is looked up."""
        rows = [
            (
                s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        if not rows:
            return []
        c.execute(self.insert_events_statement, rows[0])
        first = int(c.lastrowid)
        if len(rows) == 1:
            return [first]
        c.executemany(self.insert_events_statement, rows[1:])
        c.execute(
            f"SELECT last_insert_rowid() AS last, MAX(rowid) AS top FROM {self.events_table_name}"
        )
        found = c.fetchone()
        last = first + len(rows) - 1
        if found["last"] == found["top"] == last and last < 2**63 - 1:
            return list(range(first, last + 1))
        positions = [first]
        for row in rows[1:]:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} WHERE originator_id = ? "
                "AND originator_version = ?",
                row[:2],
            )
            positions.append(int(c.fetchone()[0]))
        return positions

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor


@dataclass(frozen=True)
class SQLiteBackend:
    """``ledger.persistence.backends.Backend`` for SQLite: one file, no schemas, no
    notifications; a lock is an ``flock`` on a file beside the database's."""

    name: str = "sqlite"
    sql: bool = True
    placeholder: str = "?"
    notifies: bool = False

    def qualified(self, datastore: Any, table: str) -> str:
        return table

    def uuid(self, value: UUID) -> Any:
        return value.hex

    def try_lock(self, datastore: Any, name: str, file: str) -> Lock | bool:
        handle = Path(str(datastore.pool.db_name) + file).open("a")  # noqa: SIM115 - held open: the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        return handle


BACKEND = SQLiteBackend()


#: Prepared statements each connection keeps (``sqlite3``'s own default).
STATEMENT_CACHE = 128


class StatementCachingPool(SQLiteConnectionPool):
    """The library's pool, each connection keeping its prepared statements.

    The library connects with ``cached_statements=True``, which ``sqlite3`` reads as a
    cache of one statement (``True == 1``): every query but the last one was prepared
    again each time (an append makes some twenty; about a fifth of its time in process,
    docs/performance.md). Connections are otherwise made as the library makes them.
    """

    @classmethod
    def replacing(cls, pool: SQLiteConnectionPool) -> StatementCachingPool:
        """A pool like ``pool`` (which has made no connection yet)."""
        return cls(
            db_name=pool.db_name, lock_timeout=pool.lock_timeout, pool_size=pool.pool_size,
            max_overflow=pool.max_overflow, pool_timeout=pool.pool_timeout,
            max_age=pool.max_age, pre_ping=pool.pre_ping,
        )

    def _create_connection(self) -> SQLiteConnection:
        try:
            c = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: the library's transactions say BEGIN
                cached_statements=STATEMENT_CACHE,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            cursor = c.cursor()
            cursor.execute("PRAGMA journal_mode;")
            if cursor.fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        c.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=c, max_age=self.max_age)


class SQLiteLedgerFactory(SQLiteFactory):
    """The library's SQLite factory, its datastore's pool a ``StatementCachingPool``."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = StatementCachingPool.replacing(pool)
        pool.close()
