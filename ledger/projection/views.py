"""The credibility view on each backend: the library's tracking recorder plus our tables.

A view is an ``eventsourcing`` ``TrackingRecorder`` (SQLite or PostgreSQL) built by the
ledger's own infrastructure factory, so it shares the ledger's database (SQLite file or
PostgreSQL schema) and connection pool. ``write`` runs the projection's changes and the
library's tracking upsert in one transaction: the upsert refuses a position already
recorded, so an event is projected exactly once even if two processes race. The in-memory
store has no view: its reads replay (see ``ledger.reads``).

A view holds the tables of one model version's projection (``tables``): on opening, the
version the store serves (``credibility_format``'s ``served`` row; ``models.PROJECTED``
while none is recorded). ``beside`` gives a view of another version's tables in the same
store, and ``serve`` records its version as served and drops the tables of the one
served before, in one transaction (``claims-ledger rebuild --model``).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, cast

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from ledger.credibility.registry import PROJECTED, VERSIONS
from ledger.projection.tables import FORMAT, TRACKED, CredibilityTables

log = logging.getLogger(__name__)

__all__ = ["TRACKED", "CredibilityView", "SQLiteCredibilityView", "postgres_view_class"]


class CredibilityView(Protocol):
    """What the projector and the reads need of a view, on every backend."""

    tables: CredibilityTables

    def write(self, change: Callable[[Any], None], tracking: Tracking) -> None: ...
    def index_points(self) -> None: ...
    def reading(self) -> Any: ...
    def position(self) -> int: ...
    def drop(self) -> None: ...
    def wait_for(self, position: int, timeout: float) -> bool: ...
    def served(self) -> str: ...
    def beside(self, model: str, fresh: bool) -> CredibilityView: ...
    def serve(self) -> str: ...


class ViewMixin:
    """Reads and waits shared by the SQL views."""

    tables: CredibilityTables
    datastore: Any  # the library recorder's, as are the two below
    max_tracking_id: Callable[[str], int | None]
    _insert_tracking: Callable[[Any, Tracking], None]
    #: Deletes a tracking row (each backend's view says how, in its own SQL).
    _forget_position: Callable[[Any, str], None]

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
        """The library's tables and the shared format table; then the tables of the version
        the store serves. Tables of another layout than this version's (``FORMAT``) are
        emptied and the position forgotten, so they are projected again; format 3's
        unprefixed tables are dropped."""
        super().create_table()  # type: ignore[misc]
        with self.datastore.transaction(commit=True) as cursor:
            self.tables.lock_format(cursor)
            if self.tables.has_legacy(cursor):
                log.warning(
                    "the credibility projection's tables have another layout (3, this "
                    "version's is %s): projecting the log again", FORMAT
                )
                legacy = self.tables.legacy()
                legacy.drop(cursor)
                self._forget_position(cursor, legacy.tracked)
            self.tables = self.tables.beside(self._served(cursor))
            self._prepare(cursor)

    def _served(self, cursor: Any) -> str:
        """The version served: recorded, else ``PROJECTED`` (so too, with a warning, for a
        version this code does not know: its tables are left as they are)."""
        name = self.tables.served(cursor) or PROJECTED
        if name not in VERSIONS:
            log.warning(
                "the store serves the model version %s, which is not registered here: "
                "projecting %s", name, PROJECTED
            )
            return PROJECTED
        return name

    def _prepare(self, cursor: Any) -> None:
        found = self.tables.stored_format(cursor)
        if found != FORMAT:
            if found is not None:
                log.warning(
                    "the credibility projection's tables of %s have another layout (%s, this "
                    "version's is %s): projecting the log again", self.tables.model, found,
                    FORMAT,
                )
            self._drop(cursor)

    def served(self) -> str:
        """The model version the store serves now (lists read it, the projector follows it)."""
        with self.reading() as cursor:
            return self._served(cursor)

    def beside(self, model: str, fresh: bool) -> Any:
        """A view of ``model``'s tables in this store, made if missing (``fresh``: emptied,
        with its position forgotten, as a rebuild from the start)."""
        other = copy.copy(self)
        other.tables = self.tables.beside(model)
        with self.datastore.transaction(commit=True) as cursor:
            other.tables.lock_format(cursor)
            if fresh:
                other._drop(cursor)
            else:
                other._prepare(cursor)
        return other

    def serve(self) -> str:
        """Record this view's version as served and drop the tables (and position) of the
        version served before, in one transaction; answers that version."""
        with self.datastore.transaction(commit=True) as cursor:
            self.tables.lock_format(cursor)
            was = self.tables.served(cursor) or PROJECTED
            self.tables.record_served(cursor)
            if was != self.tables.model:
                old = self.tables.beside(was)
                old.drop(cursor)
                self._forget_position(cursor, old.tracked)
        return was

    def drop(self) -> None:
        """Empty the tables and forget the position, in one transaction."""
        with self.datastore.transaction(commit=True) as cursor:
            self._drop(cursor)

    def _drop(self, cursor: Any) -> None:
        self.tables.drop(cursor)
        self._forget_position(cursor, self.tables.tracked)
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
        return self.max_tracking_id(self.tables.tracked) or 0

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until ``position`` is projected; False if ``timeout`` seconds pass first, or
        as soon as the projection's pace says it will not get there in time.

        The library's ``TrackingRecorder.wait`` sleeps 0.1 s and more between polls; a read
        that waits for its own write should wait milliseconds, so this polls from 2 ms up.
        After ``PACE_AFTER`` seconds (time for a projector to wake and take the first
        events) a wait whose projection has not moved, or moves too slowly to cover what
        is left before the deadline, ends at once: a projector far behind a large ledger
        would otherwise hold every list for the whole ``timeout``.
        """
        return waited_for(self.position, position, timeout)


#: Seconds a read waits for the projection before judging from its pace whether it can
#: reach the position asked for in time.
PACE_AFTER = 0.5


def waited_for(
    now_at: Callable[[], int], position: int, timeout: float, pace_after: float = PACE_AFTER
) -> bool:
    """Poll ``now_at()`` until it reaches ``position``: True if it does; False if
    ``timeout`` seconds pass first, or if after ``pace_after`` seconds its pace since the
    wait began (none, or too slow for what is left) cannot reach ``position`` in time."""
    start = time.monotonic()
    deadline, pause = start + timeout, 0.002
    first = reached = now_at()
    while reached < position:
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            return False
        elapsed = now - start
        if elapsed >= pace_after:
            pace = (reached - first) / elapsed  # positions a second
            if pace <= 0 or (position - reached) / pace > remaining:
                return False
        time.sleep(min(pause, remaining))
        pause = min(pause * 2, 0.05)
        reached = now_at()
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
        return super().construct_create_table_statements() + self.tables.format_statements()

    def _forget_position(self, cursor: Any, tracked: str) -> None:
        cursor.execute("DELETE FROM tracking WHERE application_name = ?", (tracked,))


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
                SQL(s).format() for s in self.tables.format_statements()
            )

        def write(self, change: Callable[[Any], None], tracking: Tracking) -> None:
            """``ViewMixin.write``, committed without waiting for the WAL to be flushed
            (see ``SQLiteCredibilityView.write``: the projection is derived, its position
            commits with it). The events' commits still wait for theirs."""

            def unflushed(cursor: Any) -> None:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
                change(cursor)

            super().write(unflushed, tracking)

        def _forget_position(self, cursor: Any, tracked: str) -> None:
            cursor.execute(
                SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                    Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
                ),
                (tracked,),
            )

    return PostgresCredibilityView


def open_view(store: Any) -> CredibilityView | None:
    """The credibility view of ``store`` (a ``LedgerApplication``), made with its library
    factory: None for the in-memory store, whose reads replay."""
    from eventsourcing.sqlite import SQLiteFactory

    factory: Any = store.factory
    if isinstance(factory, SQLiteFactory):
        return cast(CredibilityView, factory.tracking_recorder(SQLiteCredibilityView))
    if any(c.__module__ == "eventsourcing.postgres" for c in type(factory).__mro__):
        return cast(CredibilityView, factory.tracking_recorder(postgres_view_class()))
    return None
