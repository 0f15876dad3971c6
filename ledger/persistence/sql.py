"""The side tables in portable SQL, and the reads over them that the SQL recorders share.

``SqlIndex`` holds the statements (``?`` placeholders, rewritten for psycopg) and runs them on
a cursor it is given; ``IndexReads`` turns them into the ``LedgerIndex`` reads of a recorder
that says how to get a cursor. Table names and SQL are those of existing stores: changing
them would leave those stores unreadable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.persistence.chain import (
    GENESIS,
    ChainedRow,
    IdempotencyRecord,
    LogEntry,
    Restore,
    chain_link,
    restored_times,
    stamp,
    uuid_hex,
)

#: The longest stretch of the log ``stream_rows_between`` reads whole rather than stream by
#: stream.
SIFTED_AT_MOST = 10_000


class SqlIndex:
    """The side tables in portable SQL; ``?`` placeholders are rewritten for psycopg."""

    def __init__(self, prefix: str, placeholder: str = "?", schema: str | None = None) -> None:
        qualify = f"{schema}." if schema else ""
        self.prefix = prefix
        self.log = f"{qualify}{prefix}_log"
        self.streams = f"{qualify}{prefix}_streams"
        self.idempotency = f"{qualify}{prefix}_idempotency"
        #: Event rows deleted or updated in the events table (never done by the ledger), as
        #: the table's own trigger records them (``watch_damage``).
        self.damage = f"{qualify}{prefix}_damage"
        self.watch = f"{prefix}_damage_watch"
        self.schema = schema
        self.placeholder = placeholder
        #: The library's events table, and how a row of the log names its stream there
        #: (the log keeps UUIDs as hex text; PostgreSQL's events table as ``uuid``).
        self.events = f"{qualify}{prefix}"
        self.events_oid = (
            "l.originator_id" if placeholder == "?" else "CAST(l.originator_id AS uuid)"
        )

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def create_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.log} (position BIGINT PRIMARY KEY, "
            "originator_id TEXT NOT NULL, originator_version BIGINT NOT NULL, "
            "recorded_at BIGINT NOT NULL, hash TEXT NOT NULL)",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {self.prefix}_log_stream "
            f"ON {self.log} (originator_id, originator_version)",
            # A stream's version as known at a time: one step back from that time.
            f"CREATE INDEX IF NOT EXISTS {self.prefix}_log_stream_time "
            f"ON {self.log} (originator_id, recorded_at, originator_version)",
            f"CREATE TABLE IF NOT EXISTS {self.streams} (kind TEXT NOT NULL, "
            "public_id TEXT NOT NULL, originator_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "recorded_at BIGINT NOT NULL, PRIMARY KEY (kind, public_id))",
            f"CREATE INDEX IF NOT EXISTS {self.prefix}_streams_position "
            f"ON {self.streams} (kind, position)",
            f"CREATE TABLE IF NOT EXISTS {self.idempotency} (key TEXT PRIMARY KEY, "
            "fingerprint TEXT NOT NULL, first_position BIGINT NOT NULL, "
            "last_position BIGINT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.damage} (originator_id TEXT NOT NULL, "
            "originator_version BIGINT NOT NULL, PRIMARY KEY (originator_id, originator_version))",
        ]

    def watch_damage(self, cursor: Any) -> None:
        """Have the events table record every row deleted or changed in it (once per store).

        A trigger on the library's events table writes the stream and version of each
        row deleted or updated (moved to another stream or version, or its bytes changed)
        to the damage table, whoever does it: a list can then screen a page's claims for
        missing events with one index lookup per claim instead of counting their events,
        and a process knows when what it kept of a stream may no longer be what is
        stored. A store made before the trigger existed is screened once, in full, when
        the trigger is made.
        (The screen is a convenience of reads; ``verify`` checks every stored event
        against the hash chain, trigger or not.)
        """
        if self.placeholder == "?":
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?", (self.watch,)
            )
        else:
            cursor.execute(
                "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = %s "
                "AND n.nspname = COALESCE(%s, current_schema())",
                (self.watch, self.schema or None),
            )
        if cursor.fetchone() is not None:
            return
        for statement in self._watch_statements():
            cursor.execute(statement)
        cursor.execute(
            f"INSERT INTO {self.damage} (originator_id, originator_version) "
            f"SELECT l.originator_id, l.originator_version FROM {self.log} l WHERE NOT EXISTS "
            f"(SELECT 1 FROM {self.events} e WHERE e.originator_id = {self.events_oid} "
            "AND e.originator_version = l.originator_version)"
        )

    def _watch_statements(self) -> list[str]:
        if self.placeholder == "?":  # SQLite: the events table keeps UUIDs as hex text
            record = (
                f"BEGIN INSERT OR IGNORE INTO {self.damage} (originator_id, originator_version) "
                "VALUES (OLD.originator_id, OLD.originator_version); END"
            )
            return [
                f"CREATE TRIGGER IF NOT EXISTS {self.watch}_updates AFTER UPDATE "
                f"ON {self.events} {record}",
                # Made last: its presence says the watch is complete.
                f"CREATE TRIGGER {self.watch} AFTER DELETE ON {self.events} {record}",
            ]
        qualify = f"{self.schema}." if self.schema else ""
        return [
            f"CREATE OR REPLACE FUNCTION {qualify}{self.watch}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN INSERT INTO {self.damage} "
            "(originator_id, originator_version) VALUES "
            "(replace(CAST(OLD.originator_id AS TEXT), '-', ''), OLD.originator_version) "
            "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
            f"CREATE TRIGGER {self.watch} AFTER DELETE OR UPDATE ON {self.events} "
            "FOR EACH ROW "
            f"EXECUTE FUNCTION {qualify}{self.watch}()",
        ]

    def record(
        self,
        cursor: Any,
        stored_events: Sequence[StoredEvent],
        positions: Sequence[int],
        options: Mapping[str, Any],
    ) -> None:
        """``write`` with the side-table options a save passed the recorder (``streams``,
        ``idempotency``, ``restore``), as every SQL backend's insert hook receives them.
        A list passed as ``written`` gets the log rows written."""
        entries = self.write(
            cursor,
            stored_events,
            positions,
            options.get("streams", ()),
            options.get("idempotency", ()),
            options.get("restore"),
            options.get("stamp"),
        )
        written = options.get("written")
        if written is not None:
            written.extend(entries)

    def write(
        self,
        cursor: Any,
        stored_events: Sequence[StoredEvent],
        positions: Sequence[int],
        streams: Sequence[tuple[str, str, UUID]] = (),
        idempotency: Sequence[tuple[str, str, int, int]] = (),
        restore: Restore | None = None,
        stamped: int | None = None,
    ) -> list[LogEntry]:
        """Write the log rows of ``stored_events`` (and the streams and idempotency keys
        given); returns the log rows. ``stamped``: the first recording time, worked out
        (``stamp``) under the same lock before the events were inserted."""
        cursor.execute(
            f"SELECT position, recorded_at, hash FROM {self.log} ORDER BY position DESC LIMIT 1"
        )
        tail = cursor.fetchone()
        previous, last_time = (tail["hash"], tail["recorded_at"]) if tail else (GENESIS, 0)
        times = restored_times(restore, positions, last_time)
        rows = []
        recorded_at = 0 if times is not None else (
            stamp(last_time) if stamped is None else max(stamped, last_time + 1)
        )
        by_stream: dict[str, tuple[int, int]] = {}
        for i, (event, position) in enumerate(zip(stored_events, positions, strict=True)):
            if times is not None:
                recorded_at = times[i]
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
        if idempotency:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {self.idempotency} (key, fingerprint, first_position, "
                    "last_position) VALUES (?, ?, ?, ?)"
                ),
                [(key, digest, positions[i], positions[j]) for key, digest, i, j in idempotency],
            )
        return [LogEntry(*row) for row in rows]

    # Reads. Each takes an open cursor so a backend decides how to get one.

    def version_at(self, cursor: Any, originator_id: UUID, known_at: int) -> int | None:
        # Versions grow with recording time (which grows along the log), so the version
        # at known_at is the last recorded by then: one step back down the (originator,
        # recorded_at, version) index, where MAX(version) scanned every entry by then.
        cursor.execute(
            self.sql(
                f"SELECT originator_version AS v FROM {self.log} "
                "WHERE originator_id = ? AND recorded_at <= ? ORDER BY recorded_at DESC LIMIT 1"
            ),
            (uuid_hex(originator_id), known_at),
        )
        row = cursor.fetchone()
        return None if row is None or row["v"] is None else int(row["v"])

    def entries_for(
        self, cursor: Any, originator_id: UUID, after_version: int = 0
    ) -> list[LogEntry]:
        cursor.execute(
            self.sql(
                "SELECT position, originator_id, originator_version, recorded_at, hash "
                f"FROM {self.log} WHERE originator_id = ? AND originator_version > ? "
                "ORDER BY originator_version"
            ),
            (uuid_hex(originator_id), after_version),
        )
        return [_entry(row) for row in cursor.fetchall()]

    def entries_for_many(
        self, cursor: Any, originator_ids: Sequence[UUID], after_position: int = 0
    ) -> list[LogEntry]:
        """The streams' log rows at positions after ``after_position``, by stream and
        version."""
        if not originator_ids:
            return []
        marks = ", ".join("?" for _ in originator_ids)
        cursor.execute(
            self.sql(
                "SELECT position, originator_id, originator_version, recorded_at, hash "
                f"FROM {self.log} WHERE originator_id IN ({marks}) AND position > ? "
                "ORDER BY originator_id, originator_version"
            ),
            [*(uuid_hex(oid) for oid in originator_ids), after_position],
        )
        return [_entry(row) for row in cursor.fetchall()]

    def holding(
        self, cursor: Any, after: int, upto: int, topic_suffix: str, needle: bytes
    ) -> list[tuple[int, int, StoredEvent]]:
        """The events at positions after ``after`` up to ``upto`` whose topic ends with
        ``topic_suffix`` and whose stored bytes hold ``needle``, each as (position, its
        recording time, the stored event), in log order: the database scans the bytes,
        so only the events sought come to Python."""
        sqlite = self.placeholder == "?"
        number = "e.rowid" if sqlite else "e.notification_id"
        contains = "instr(e.state, ?) > 0" if sqlite else "position(? in e.state) > 0"
        cursor.execute(
            self.sql(
                "SELECT l.position, l.recorded_at, e.originator_id, e.originator_version, "
                f"e.topic, e.state FROM {self.events} e JOIN {self.log} l "
                f"ON l.position = {number} WHERE {number} > ? AND {number} <= ? "
                f"AND e.topic LIKE ? AND {contains} ORDER BY {number}"
            ),
            (after, upto, f"%{topic_suffix}", needle),
        )
        return [
            (
                int(row["position"]),
                int(row["recorded_at"]),
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=int(row["originator_version"]),
                    topic=row["topic"],
                    state=bytes(row["state"]),
                ),
            )
            for row in cursor.fetchall()
        ]

    def stream_rows_between(
        self, cursor: Any, originator_ids: Sequence[str], after: int, upto: int
    ) -> list[LogEntry]:
        """The log rows of the streams (hex ids) at positions after ``after`` up to
        ``upto``, in log order.

        A short stretch of the log is read whole and sifted here (an index on the streams
        would read every row they ever had); a long one is asked for stream by stream."""
        if upto - after <= SIFTED_AT_MOST:
            wanted = set(originator_ids)
            cursor.execute(
                self.sql(
                    "SELECT position, originator_id, originator_version, recorded_at, hash "
                    f"FROM {self.log} WHERE position > ? AND position <= ? ORDER BY position"
                ),
                (after, upto),
            )
            rows = (_entry(row) for row in cursor.fetchall())
            return [e for e in rows if e.originator_id in wanted]
        found: list[LogEntry] = []
        ids = list(originator_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            cursor.execute(
                self.sql(
                    "SELECT position, originator_id, originator_version, recorded_at, hash "
                    f"FROM {self.log} WHERE originator_id IN ({marks}) AND position > ? "
                    "AND position <= ?"
                ),
                [*chunk, after, upto],
            )
            found += [_entry(row) for row in cursor.fetchall()]
        found.sort(key=lambda e: e.position)
        return found

    def log_entries(self, cursor: Any, after: int, limit: int) -> list[LogEntry]:
        cursor.execute(
            self.sql(
                "SELECT position, originator_id, originator_version, recorded_at, hash "
                f"FROM {self.log} WHERE position > ? ORDER BY position LIMIT ?"
            ),
            (after, limit),
        )
        return [_entry(row) for row in cursor.fetchall()]

    def chained_rows(
        self, cursor: Any, originator_id: UUID, after_version: int = 0
    ) -> list[ChainedRow]:
        # The row before each in the log, not position - 1: PostgreSQL's positions may
        # skip a number (a rolled-back insert), and the chain links rows as written.
        cursor.execute(
            self.sql(
                "SELECT l.position, l.originator_id, l.originator_version, l.recorded_at, "
                f"l.hash, (SELECT p.hash FROM {self.log} p WHERE p.position < l.position "
                f"ORDER BY p.position DESC LIMIT 1) AS previous FROM {self.log} l "
                "WHERE l.originator_id = ? AND l.originator_version > ? "
                "ORDER BY l.originator_version"
            ),
            (uuid_hex(originator_id), after_version),
        )
        return [ChainedRow(_entry(row), row["previous"] or GENESIS) for row in cursor.fetchall()]

    def row_before(self, cursor: Any, position: int) -> tuple[int, str]:
        cursor.execute(
            self.sql(
                f"SELECT position, hash FROM {self.log} WHERE position < ? "
                "ORDER BY position DESC LIMIT 1"
            ),
            (position,),
        )
        row = cursor.fetchone()
        return (0, GENESIS) if row is None else (int(row["position"]), str(row["hash"]))

    def position_of(self, cursor: Any, originator_id: UUID, version: int) -> int | None:
        # The library's events table numbers rows by SQLite's rowid, or PostgreSQL's
        # notification_id column.
        number = "rowid" if self.placeholder == "?" else "notification_id"
        oid = uuid_hex(originator_id) if self.placeholder == "?" else str(originator_id)
        cursor.execute(
            self.sql(
                f"SELECT {number} AS position FROM {self.events} "
                "WHERE originator_id = ? AND originator_version = ?"
            ),
            (oid, version),
        )
        row = cursor.fetchone()
        return None if row is None else int(row["position"])

    def last_recorded_at(self, cursor: Any) -> int:
        cursor.execute(f"SELECT recorded_at FROM {self.log} ORDER BY position DESC LIMIT 1")
        row = cursor.fetchone()
        return 0 if row is None else int(row["recorded_at"])

    def claim_sizes(self, cursor: Any, after: int, upto: int) -> list[tuple[str, int]]:
        """Each claim's events at log positions in (``after``, ``upto``], by claim id."""
        cursor.execute(
            self.sql(
                f"SELECT s.public_id AS claim_id, count(*) AS n FROM {self.log} l "
                f"JOIN {self.streams} s ON s.originator_id = l.originator_id "
                "WHERE s.kind = 'claim' AND l.position > ? AND l.position <= ? "
                "GROUP BY s.public_id ORDER BY s.public_id"
            ),
            (after, upto),
        )
        return [(row["claim_id"], int(row["n"])) for row in cursor.fetchall()]

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

    def gaps(self, cursor: Any, originator_ids: Sequence[UUID]) -> dict[str, int]:
        """Of these streams, those with a log row whose event is not stored (deleted or moved
        behind the service's back): UUID hex -> the first such row's position, which is
        where ``verify`` finds the damage.

        Only the streams the damage table names (``watch_damage``) are looked at row by
        row: one index lookup per stream screens the rest, however long they are.
        """
        if not originator_ids:
            return {}
        hex_ids = [uuid_hex(oid) for oid in originator_ids]
        marks = ", ".join("?" for _ in hex_ids)
        cursor.execute(
            self.sql(
                f"SELECT DISTINCT originator_id FROM {self.damage} "
                f"WHERE originator_id IN ({marks})"
            ),
            hex_ids,
        )
        suspects = [row["originator_id"] for row in cursor.fetchall()]
        return self.missing(cursor, suspects) if suspects else {}

    def touched(self, cursor: Any, originator_id: UUID) -> bool:
        """Whether a row of the stream was ever deleted, moved or changed in the events
        table (``watch_damage``): what a process kept of it may no longer be what is
        stored."""
        cursor.execute(
            self.sql(f"SELECT 1 FROM {self.damage} WHERE originator_id = ? LIMIT 1"),
            (uuid_hex(originator_id),),
        )
        return cursor.fetchone() is not None

    def missing(self, cursor: Any, hex_ids: Sequence[str]) -> dict[str, int]:
        """``gaps`` without the screen: an index lookup per logged event of the streams."""
        marks = ", ".join("?" for _ in hex_ids)
        cursor.execute(
            self.sql(
                f"SELECT l.originator_id AS oid, MIN(l.position) AS position FROM {self.log} l "
                f"WHERE l.originator_id IN ({marks}) AND NOT EXISTS (SELECT 1 FROM "
                f"{self.events} e WHERE e.originator_id = {self.events_oid} "
                "AND e.originator_version = l.originator_version) GROUP BY l.originator_id"
            ),
            list(hex_ids),
        )
        return {row["oid"]: int(row["position"]) for row in cursor.fetchall()}

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


class IndexReads(ABC):
    """The read methods every ledger recorder offers, over ``self.index`` and a cursor."""

    index: SqlIndex

    @abstractmethod
    def reading(self) -> AbstractContextManager[Any]:
        """A cursor for reads, in the backend's own way."""

    def version_at(self, originator_id: UUID, known_at: int) -> int | None:
        with self.reading() as cursor:
            return self.index.version_at(cursor, originator_id, known_at)

    def entries_for(self, originator_id: UUID, after_version: int = 0) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.entries_for(cursor, originator_id, after_version)

    def entries_for_many(
        self, originator_ids: Sequence[UUID], after_position: int = 0
    ) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.entries_for_many(cursor, originator_ids, after_position)

    def log_entries(self, after: int, limit: int) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.log_entries(cursor, after, limit)

    def claim_sizes(self, after: int, upto: int) -> list[tuple[str, int]]:
        with self.reading() as cursor:
            return self.index.claim_sizes(cursor, after, upto)

    def holding(
        self, after: int, upto: int, topic_suffix: str, needle: bytes
    ) -> list[tuple[int, int, StoredEvent]] | None:
        with self.reading() as cursor:
            return self.index.holding(cursor, after, upto, topic_suffix, needle)

    def stream_rows_between(
        self, originator_ids: Sequence[str], after: int, upto: int
    ) -> list[LogEntry]:
        with self.reading() as cursor:
            return self.index.stream_rows_between(cursor, originator_ids, after, upto)

    def chained_rows(self, originator_id: UUID, after_version: int = 0) -> list[ChainedRow]:
        with self.reading() as cursor:
            return self.index.chained_rows(cursor, originator_id, after_version)

    def row_before(self, position: int) -> tuple[int, str]:
        with self.reading() as cursor:
            return self.index.row_before(cursor, position)

    def position_of(self, originator_id: UUID, version: int) -> int | None:
        with self.reading() as cursor:
            return self.index.position_of(cursor, originator_id, version)

    def last_recorded_at(self) -> int:
        with self.reading() as cursor:
            return self.index.last_recorded_at(cursor)

    def stream_ids(self, kind: str, known_at: int, after: int, limit: int) -> list[tuple[str, int]]:
        with self.reading() as cursor:
            return self.index.stream_ids(cursor, kind, known_at, after, limit)

    def gaps(self, originator_ids: Sequence[UUID], screened: bool = True) -> dict[str, int]:
        with self.reading() as cursor:
            if screened:
                return self.index.gaps(cursor, originator_ids)
            return self.index.missing(cursor, [uuid_hex(oid) for oid in originator_ids])

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self.reading() as cursor:
            return self.index.find_idempotency(cursor, key)

    def touched(self, originator_id: UUID) -> bool:
        with self.reading() as cursor:
            return self.index.touched(cursor, originator_id)
