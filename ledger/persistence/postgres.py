"""The PostgreSQL ledger recorder: the library's recorder plus the ledger's side tables.

The only module of the ledger that imports psycopg, so the SQLite and in-memory stores work
without it installed. Selected with ``PERSISTENCE_MODULE=eventsourcing.postgres`` and
``APPLICATION_RECORDER_TOPIC=ledger.persistence.postgres:PostgresLedgerRecorder``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL

from ledger.persistence.sql import IndexReads, SqlIndex


class PostgresLedgerRecorder(IndexReads, PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.index = SqlIndex(events_table_name, placeholder="%s", schema=datastore.schema)
        self.sql_create_statements.extend(SQL(s).format() for s in self.index.create_statements())

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called by the library after its insert, inside the transaction that holds the
        # EXCLUSIVE table lock: the tail of the log cannot move under us.
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        self.index.record(curs, stored_events, positions, kwargs)
        return positions

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs
