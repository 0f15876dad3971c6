"""The PostgreSQL store: the library's factory and recorder plus what the ledger needs of them.

The only module of the ledger that imports psycopg, so the SQLite and in-memory stores work
without it installed. Selected with
``PERSISTENCE_MODULE=ledger.persistence.postgres:PostgresLedgerFactory`` and
``APPLICATION_RECORDER_TOPIC=ledger.persistence.postgres:PostgresLedgerRecorder``
(``ledger.config.Settings.eventsourcing_env`` writes both).

``PostgresLedgerFactory`` is the library's ``PostgresFactory`` with three changes:

- every libpq parameter of the store URL (``sslmode``, ``application_name``, ...) and the
  settings' connect and statement timeouts reach the driver (``LEDGER_POSTGRES_PARAMS``,
  JSON): the library itself passes only host, port, user, password and database;
- its pool is a ``HealthPool``: while the last attempt to connect failed and no connection
  is idle, taking a connection raises ``StoreUnavailable`` at once (HTTP 503), naming the
  failure, instead of waiting for the pool's timeout; each such request also asks the pool
  to try again, and the first connection made ends the outage. A connection found broken
  starts an outage at once (requests do not wait for a connect, which against a server
  that drops packets lasts the whole connect timeout) and has the idle ones checked
  (psycopg_pool's ``check``); while an outage lasts, each request also starts a probe
  (one at a time) outside the pool's backoff, so the first connection that succeeds ends
  it, not the pool's next retry;
- the tables are created under a PostgreSQL advisory lock per schema, on a connection of
  its own: two processes starting at once (``serve --workers 2``) would otherwise run the
  library's ``CREATE OR REPLACE FUNCTION`` together and one would fail with "tuple
  concurrently updated". That connection is made first, so a store that cannot be reached
  (a closed port, ``sslmode=require`` against a server without TLS) is refused at once with
  libpq's own reason.
"""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    StoredEvent,
    TrackingRecorder,
)
from eventsourcing.postgres import (
    ConnectionPool,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
)
from eventsourcing.utils import Environment
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL
from psycopg_pool import PoolTimeout

from ledger.errors import StoreUnavailable
from ledger.persistence.backends import Lock
from ledger.persistence.chain import stamp
from ledger.persistence.sql import IndexReads, SqlIndex

#: How long a request waits for an idle connection while PostgreSQL cannot be reached: just
#: long enough to take one that is already there (psycopg_pool refuses a wait of 0).
FAIL_FAST_SECONDS = 0.01


class HealthPool(ConnectionPool[Any]):
    """The library's pool, remembering whether its last attempt to connect failed.

    ``failure`` is libpq's reason for the last failed attempt, or None once one succeeds
    (psycopg_pool keeps reconnecting in the background, with backoff).
    """

    failure: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._checking = threading.Lock()  # held while a check runs
        self._probing = threading.Lock()  # held while a probe connects
        super().__init__(*args, **kwargs)

    @classmethod
    def replacing(cls, datastore: PostgresDatastore, params: Mapping[str, str]) -> HealthPool:
        """A pool like the (unopened) one the library built for ``datastore``, whose
        connections also get ``params``."""
        old = datastore.pool
        assert isinstance(old.kwargs, dict)  # the library gives a dict
        return cls(
            connection_class=old.connection_class,
            kwargs={**old.kwargs, **params},
            min_size=old.min_size,
            max_size=old.max_size,
            open=False,
            configure=datastore.after_connect_func(),
            check=ConnectionPool.check_connection if datastore.pre_ping else None,
            timeout=old.timeout,
            max_waiting=old.max_waiting,
            max_lifetime=old.max_lifetime,
            get_password_func=old.get_password_func,
        )

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout)
        except Exception as error:
            self.failure = " ".join(str(error).split()) or type(error).__name__
            raise
        self.failure = None
        return conn

    def getconn(self, timeout: float | None = None) -> Any:
        failure = self.failure
        if failure is None:
            return super().getconn(timeout)
        self._probe_soon()
        try:
            # Takes an idle connection if there is one; otherwise the pool is asked to grow
            # (a new attempt to connect) and the caller does not wait for it.
            return super().getconn(FAIL_FAST_SECONDS)
        except PoolTimeout:
            raise StoreUnavailable(unreachable(failure)) from None

    def putconn(self, conn: Any) -> None:
        broken = conn.broken
        if broken and self.failure is None:
            # Answer from the pool's health at once: until a connection is made again, a
            # request takes an idle connection or is refused, rather than waiting for a
            # new one (a server that drops packets holds a connect for its whole timeout).
            self.failure = "a connection to PostgreSQL broke; reconnecting"
        super().putconn(conn)  # a broken connection is discarded and replaced
        if broken:  # its siblings idle in the pool are most likely broken too
            self._check_soon()

    def _probe_soon(self) -> None:
        """Try one connection in the background (one at a time), outside the pool's own
        backoff: the first that succeeds ends the outage, so the server serves again as
        soon as PostgreSQL does, not when the pool's next retry comes."""
        if not self._probing.acquire(blocking=False):
            return

        def probe() -> None:
            try:
                conn = self._connect()  # sets or clears ``failure``
                conn.close()
            except (psycopg.Error, OSError):
                pass  # ``_connect`` noted the reason in ``failure``
            finally:
                self._probing.release()

        threading.Thread(target=probe, name=f"{self.name}-probe", daemon=True).start()

    def _check_soon(self) -> None:
        """Test the idle connections in the background (``check``: the broken ones are
        replaced, and a failure to replace them is an outage), one check at a time."""
        if not self._checking.acquire(blocking=False):
            return

        def check() -> None:
            try:
                with contextlib.suppress(Exception):  # a closed pool has nothing to check
                    self.check()
            finally:
                self._checking.release()

        threading.Thread(target=check, name=f"{self.name}-check", daemon=True).start()


def unreachable(reason: str) -> str:
    return f"PostgreSQL cannot be reached: {reason}"


class PostgresLedgerFactory(PostgresFactory):
    """The library's PostgreSQL factory: all libpq parameters, a ``HealthPool``, and the
    tables created under an advisory lock (see the module's docstring)."""

    PARAMS = "LEDGER_POSTGRES_PARAMS"

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        params = json.loads(self.env.get(self.PARAMS) or "{}")
        self.datastore.pool = HealthPool.replacing(self.datastore, params)

    def application_recorder(self) -> ApplicationRecorder:
        with self._creating_tables():
            return super().application_recorder()

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        with self._creating_tables():
            return super().aggregate_recorder(purpose)

    def tracking_recorder(self, tracking_recorder_class: Any = None) -> Any:
        with self._creating_tables():
            recorder: TrackingRecorder = super().tracking_recorder(tracking_recorder_class)
            return recorder

    @contextmanager
    def _creating_tables(self) -> Iterator[None]:
        """Hold the schema's advisory lock (on a connection of its own) while the library
        creates a recorder's tables; released when that connection closes."""
        if not self.env_create_table():
            yield
            return
        pool = self.datastore.pool
        assert isinstance(pool.kwargs, Mapping)
        try:
            conn = pool.connection_class.connect(**pool.kwargs, autocommit=True)
        except psycopg.Error as error:
            raise StoreUnavailable(unreachable(" ".join(str(error).split()))) from None
        with conn:
            conn.execute(
                "SELECT pg_advisory_lock(hashtext(%s))",
                (f"claims-ledger tables {self.datastore.schema}",),
            )
            yield


class PostgresLedgerRecorder(IndexReads, PostgresApplicationRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.index = SqlIndex(events_table_name, placeholder="%s", schema=datastore.schema)
        self._stamped = threading.local()  # each writing thread's stamp (``_insert_events``)
        self.sql_create_statements.extend(SQL(s).format() for s in self.index.create_statements())

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            self.index.watch_damage(curs)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # The recording time is worked out here, before the library's insert, under the
        # table lock it takes again: a write that cannot be stamped (``ClockBehind``) is
        # refused while nothing is written. After its insert, the library commits what it
        # inserted when a hook raises anything but a database error.
        super()._insert_events(curs, stored_events, **kwargs)
        self._stamped.value = None
        if stored_events and kwargs.get("restore") is None:
            self._lock_table(curs)
            self._stamped.value = stamp(self.index.last_recorded_at(curs))

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called by the library after its insert, inside the transaction that holds the
        # EXCLUSIVE table lock: the tail of the log cannot move under us.
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        self.index.record(curs, stored_events, positions, {**kwargs, "stamp": self._stamped.value})
        return positions

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs


@dataclass(frozen=True)
class PostgresBackend:
    """``ledger.persistence.backends.Backend`` for PostgreSQL: tables in the store's
    schema, the log's LISTEN/NOTIFY, and a lock that is an advisory lock held by a session
    of its own (so it is let go when the process, or its connection, dies)."""

    name: str = "postgres"
    sql: bool = True
    placeholder: str = "%s"
    notifies: bool = True

    def qualified(self, datastore: Any, table: str) -> str:
        return f"{datastore.schema}.{table}"

    def uuid(self, value: UUID) -> Any:
        return value

    def try_lock(self, datastore: Any, name: str, file: str) -> Lock | bool:
        params = {k: v for k, v in datastore.pool.kwargs.items() if k != "row_factory"}
        conn = psycopg.connect(autocommit=True, **params)
        key = zlib.crc32(f"{datastore.schema}.{name}".encode()) - 2**31
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        except Exception:
            conn.close()
            raise
        if not row or not row[0]:
            conn.close()
            return False
        return conn


BACKEND = PostgresBackend()
