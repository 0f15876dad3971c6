"""The credibility view on each backend: the library's tracking recorder plus our tables.

A view is an ``eventsourcing`` ``TrackingRecorder`` (SQLite or PostgreSQL) built by the
ledger's own infrastructure factory, so it shares the ledger's database (SQLite file or
PostgreSQL schema) and connection pool. ``write`` runs the projection's changes and the
library's tracking upsert in one transaction: the upsert refuses a position already
recorded, so an event is projected exactly once even if two processes race. The in-memory
store has no view: its reads replay (see ``ledger.reads``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from ledger.projection.tables import FORMAT, CredibilityTables

log = logging.getLogger(__name__)

#: The application name the projection tracks (the ledger's ``Application.name``).
TRACKED = "ClaimsLedger"


class CredibilityView(Protocol):
    """What the projector and the reads need of a view, on every backend."""

    tables: CredibilityTables

    def write(self, change: Callable[[Any], None], tracking: Tracking) -> None: ...
    def index_points(self) -> None: ...
    def reading(self) -> Any: ...
    def position(self) -> int: ...
    def drop(self) -> None: ...
    def wait_for(self, position: int, timeout: float) -> bool: ...


class ViewMixin:
    """Reads and waits shared by the SQL views."""

    tables: CredibilityTables
    datastore: Any  # the library recorder's, as are the two below
    max_tracking_id: Callable[[str], int | None]
    _insert_tracking: Callable[[Any, Tracking], None]
    #: Deletes this view's tracking row (each backend's view says how, in its own SQL).
    _forget_position: Callable[[Any], None]

    def write(self, change: Callable[[Any], None], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            # The tracking upsert first: it is a write, so it takes SQLite's write lock
            # before anything is read (a deferred transaction that reads, then writes, can
            # fail with "database is locked" instead of waiting). It also refuses a position
            # already projected, which rolls the change back.
            self._insert_tracking(cursor, tracking)
            change(cursor)

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor

    def create_table(self) -> None:
        """The library's tables and ours; tables of another layout than this version's
        (``FORMAT``) are emptied and the position forgotten, so they are projected again."""
        super().create_table()  # type: ignore[misc]
        with self.datastore.transaction(commit=True) as cursor:
            found = self.tables.stored_format(cursor)
            if found != FORMAT:
                if self.tables.projected_any(cursor):
                    log.warning(
                        "the credibility projection's tables have another layout (%s, this "
                        "version's is %s): projecting the log again", found or "1", FORMAT
                    )
                self._drop(cursor)

    def drop(self) -> None:
        """Empty the tables and forget the position, in one transaction."""
        with self.datastore.transaction(commit=True) as cursor:
            self._drop(cursor)

    def _drop(self, cursor: Any) -> None:
        for statement in self.tables.drop_statements():
            cursor.execute(statement)
        self._forget_position(cursor)
        for statement in self.tables.create_statements():
            cursor.execute(statement)
        self.tables.record_format(cursor)

    def index_points(self) -> None:
        """Index every row in the R-tree if it is not complete (after a rebuild, or a
        projection of the whole log), so status and band pages can search it."""
        if not self.tables.indexed:
            return
        with self.reading() as cursor:
            if self.tables.points_ready(cursor):
                return
        with self.datastore.transaction(commit=True) as cursor:
            if not self.tables.points_ready(cursor):
                self.tables.fill_points(cursor)

    def position(self) -> int:
        """The last log position projected (0: none)."""
        return self.max_tracking_id(TRACKED) or 0

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until ``position`` is projected; False if ``timeout`` seconds pass first.

        The library's ``TrackingRecorder.wait`` sleeps 0.1 s and more between polls; a read
        that waits for its own write should wait milliseconds, so this polls from 2 ms up.
        """
        deadline, pause = time.monotonic() + timeout, 0.002
        while self.position() < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.05)
        return True


class SQLiteCredibilityView(ViewMixin, SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        self.tables = CredibilityTables("stored_events_log")  # the library's __init__ reads it
        super().__init__(datastore, **kwargs)

    def write(self, change: Callable[[Any], None], tracking: Tracking) -> None:
        """``ViewMixin.write``, committed without waiting for the disk: the projection is
        derived, and its position is in the same transaction, so a commit lost to a power
        cut is projected again from the position that survived, never half or twice. The
        events themselves are still synced on every commit (``synchronous=FULL``)."""
        with self.datastore.get_connection(commit=True) as connection:
            connection.cursor().execute("PRAGMA synchronous = NORMAL")
            try:
                with connection.transaction(commit=True) as cursor:
                    self._insert_tracking(cursor, tracking)
                    change(cursor)
            finally:
                connection.cursor().execute("PRAGMA synchronous = FULL")

    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.tables.create_statements()

    def _forget_position(self, cursor: Any) -> None:
        cursor.execute("DELETE FROM tracking WHERE application_name = ?", (TRACKED,))


def postgres_view_class() -> type:
    """The PostgreSQL view (imported on demand: psycopg is needed only for PostgreSQL)."""
    from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
    from psycopg.sql import SQL, Identifier

    class PostgresCredibilityView(ViewMixin, PostgresTrackingRecorder):
        def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
            super().__init__(datastore, **kwargs)
            schema = datastore.schema
            self.tables = CredibilityTables(
                f"{schema}.claimsledger_events_log", placeholder="%s", schema=schema
            )
            self.sql_create_statements.extend(
                SQL(s).format() for s in self.tables.create_statements()
            )

        def write(self, change: Callable[[Any], None], tracking: Tracking) -> None:
            """``ViewMixin.write``, committed without waiting for the WAL to be flushed
            (see ``SQLiteCredibilityView.write``: the projection is derived, its position
            commits with it). The events' commits still wait for theirs."""

            def unflushed(cursor: Any) -> None:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                change(cursor)

            super().write(unflushed, tracking)

        def _forget_position(self, cursor: Any) -> None:
            cursor.execute(
                SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                    Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
                ),
                (TRACKED,),
            )

    return PostgresCredibilityView
