"""The credibility projection's tables, in portable SQL (``?`` placeholders, rewritten for psycopg).

- ``<prefix>_claims``: one row per claim: its public id, where and when it was
  registered, its text (and the text folded to lower case, for the text filter), tags,
  parties and beneficiaries;
- ``<prefix>_tags``: one row per (tag, claim), for the tag filter;
- ``<prefix>_citations``: one row per (source, claim) the source spoke on, so a
  re-rating recomputes exactly the claims that cite the source;
- ``<prefix>_intervals``: the bitemporal answer. Each row says: for valid times in
  ``[valid_from, valid_to)``, as recorded from ``recorded_from`` until ``recorded_to``
  (exclusive; ``END_OF_TIME`` while current), the claim's probability, band, status and
  grade were these. A claim at (as_of, known_at) is the one row with
  ``valid_from <= as_of < valid_to`` and ``recorded_from <= known_at < recorded_to``.
  ``rid`` names the row in the index below;
- ``<prefix>_points_<status>`` (SQLite, where its R*Tree module is built in, as in
  the Python builds we know of): one R-tree per status, of the rows with that status as
  boxes in (valid time, recording time, the claim's position), so "the claims contested
  at (as_of, known_at)" is a search of a few windows of claims instead of every claim's
  answer in turn. SQLite keeps an R-tree's coordinates as 32-bit floats rounded outwards,
  so a search finds a superset of the rows, and the exact times kept beside them
  (auxiliary columns) decide. Recording times are counted from the first row's
  (``points_base`` in ``credibility_format``), so they keep their precision (about 2 s
  after a year, 40 us after ten minutes).

Each model version's projection has tables of its own, named with a prefix made from the
version's name (``table_prefix``: ``credibility_v2_claims`` for credibility-v2), index
names too, so two versions' projections can be kept side by side in one store (SQLite
file or PostgreSQL schema) while one is built beside the other. One small table shared by
them, ``credibility_format``, records each version's layout (``tables/<version>``), its
R-tree's state, and which version is *served* (``served``: the one lists read and the
running projector follows; ``models.PROJECTED`` while none is recorded).

Times are microseconds since the epoch (UTC), valid and recorded alike.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ledger.models import PROJECTED
from ledger.statements import STATUSES

#: The version of the tables' layout, and the model version their rows hold
#: (``models.PROJECTED``): a store holding another is projected again.
#: 2: intervals keyed by (claim_id, valid_from, recorded_from), with (claim_id, valid_to,
#: recorded_to) the only other index. 3: each row has an id (``rid``), and on SQLite an
#: R-tree per status of the rows (``credibility_points_<status>``) serves the status filter.
#: (Format 3 without a model named held credibility-v1.) 4: each model version's tables
#: named for it (``table_prefix``), the layout recorded per version, the served version
#: recorded beside them; format 3's unprefixed tables are dropped on opening.
FORMAT = "4"

#: The application name the projection of a version tracks is this, a slash, the version.
TRACKED = "ClaimsLedger"
#: The prefix of format 3's tables (one version's, unprefixed by it).
LEGACY = "credibility"


def table_prefix(model: str) -> str:
    """The prefix of ``model``'s tables and indexes: a safe SQL identifier, distinct per
    name. A short name of lower-case letters, digits and hyphens reads as itself
    (``credibility-v2``: ``credibility_v2``); any other is folded and given a checksum of
    the name, so two names never share a prefix."""
    if re.fullmatch(r"[a-z][a-z0-9-]{0,23}", model) and "--" not in model:
        slug = model.replace("-", "_")
        if slug != LEGACY:
            return slug
    folded = re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")[:16] or "model"
    if not folded[0].isalpha():
        folded = f"m_{folded}"
    return f"{folded}_{zlib.crc32(model.encode()):08x}"

#: The columns of a claim's answer that a LATERAL join of it (PostgreSQL) selects.
ANSWER_COLUMNS = "valid_from, recorded_from, probability, band, status, grade"

#: Bounds of valid and recording time, in microseconds.
BEGINNING_OF_TIME = -(2**62)
END_OF_TIME = 2**62


@dataclass(frozen=True)
class Interval:
    """One row of ``credibility_intervals`` (its claim and recording time aside)."""

    valid_from: int
    valid_to: int
    probability: float
    band: str
    status: str
    grade: int
    #: The row's id (its entry in its status's R-tree): not part of its value.
    rid: int = field(default=0, compare=False)


#: A claim's rows ended and started by one event: (claim id, rows ended, rows started,
#: recording time, the claim's position in the log).
Replaced = tuple[str, Sequence[Interval], Sequence[Interval], int, int]


@functools.cache
def rtree_available() -> bool:
    """Whether this Python's SQLite has the R*Tree module (Debian's and python.org's do)."""
    try:
        with sqlite3.connect(":memory:") as db:
            db.execute("CREATE VIRTUAL TABLE probe USING rtree(id, lo, hi)")
    except sqlite3.OperationalError:
        return False
    return True


@dataclass(frozen=True)
class Filters:
    """What a page of claims may be narrowed by; None means any."""

    status: str | None = None
    band: str | None = None
    tag: str | None = None
    text: str | None = None  # folded to lower case
    min_probability: float | None = None
    max_probability: float | None = None


#: What a page of claims may be ordered by (``Order.key``); ties go in registration order.
SORT_KEYS = ("registered", "text", "probability", "status", "last_change", "moved")


@dataclass(frozen=True)
class Order:
    """How a page of claims is ordered, and the date "moved" counts from.

    ``key``: one of ``SORT_KEYS`` (``moved`` needs ``since``); ``descending``: largest
    first (ties still in registration order); ``since``: a valid time (microseconds): each
    row then has ``moved``, its probability at as_of minus its probability at ``since``.
    """

    key: str = "registered"
    descending: bool = False
    since: int | None = None


def _box(row: str) -> str:
    """A row as a box in (valid time, recording time), as PostgreSQL's GiST indexes it."""
    return (
        f"box(point({row}valid_from::float8, {row}recorded_from::float8), "
        f"point({row}valid_to::float8, {row}recorded_to::float8))"
    )


class CredibilityTables:
    """The projection's SQL, for SQLite and PostgreSQL."""

    def __init__(
        self,
        log_table: str,
        placeholder: str = "?",
        schema: str | None = None,
        model: str = PROJECTED,
        prefix: str | None = None,
    ) -> None:
        self.schema = schema
        qualify = f"{schema}." if schema else ""
        #: The model version whose projection these tables hold, and their names' prefix.
        self.model = model
        self.prefix = prefix = prefix or table_prefix(model)
        #: The application name its tracking row is kept under.
        self.tracked = f"{TRACKED}/{model}"
        self.format = f"{qualify}credibility_format"
        self.claims = f"{qualify}{prefix}_claims"
        self.tags = f"{qualify}{prefix}_tags"
        self.citations = f"{qualify}{prefix}_citations"
        self.intervals = f"{qualify}{prefix}_intervals"
        self.points = {
            status: f"{qualify}{prefix}_points_{status.replace(' ', '_')}"
            for status in STATUSES
        }
        self.log = log_table
        self.placeholder = placeholder
        #: Whether the rows are indexed as boxes too (SQLite with R*Tree).
        self.indexed = placeholder == "?" and rtree_available()
        self._base: int | None = None  # ``points_base``, once read or written
        #: Whether the writer keeps ``points`` up to date (None: not known yet).
        self._maintained: bool | None = None

    def sql(self, statement: str) -> str:
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def format_statements(self) -> list[str]:
        """The table shared by every version's projection (made with the library's)."""
        return [
            f"CREATE TABLE IF NOT EXISTS {self.format} (name TEXT PRIMARY KEY, "
            "value TEXT NOT NULL)"
        ]

    def create_statements(self) -> list[str]:
        """This version's tables and indexes."""
        return [
            f"CREATE TABLE IF NOT EXISTS {self.claims} (claim_id TEXT PRIMARY KEY, "
            "originator_id TEXT NOT NULL, position BIGINT NOT NULL, recorded_at BIGINT NOT NULL, "
            "text TEXT NOT NULL, text_folded TEXT NOT NULL, tags TEXT NOT NULL, "
            "parties TEXT NOT NULL, beneficiaries TEXT NOT NULL)",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {self.prefix}_claims_position "
            f"ON {self.claims} (position)",
            f"CREATE TABLE IF NOT EXISTS {self.tags} (tag TEXT NOT NULL, "
            "claim_id TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (tag, position))",
            f"CREATE TABLE IF NOT EXISTS {self.citations} (source_id TEXT NOT NULL, "
            "claim_id TEXT NOT NULL, PRIMARY KEY (source_id, claim_id))",
            # Keyed by (claim_id, valid_from, recorded_from): a walk back from as_of in
            # valid time. On SQLite the rows are stored in that order (WITHOUT ROWID), so
            # a row written pays for two B-trees: the rows and the index below.
            f"CREATE TABLE IF NOT EXISTS {self.intervals} (claim_id TEXT NOT NULL, "
            "valid_from BIGINT NOT NULL, valid_to BIGINT NOT NULL, "
            "recorded_from BIGINT NOT NULL, recorded_to BIGINT NOT NULL, "
            "probability DOUBLE PRECISION NOT NULL, band TEXT NOT NULL, status TEXT NOT NULL, "
            "grade INTEGER NOT NULL, rid BIGINT NOT NULL, "
            "PRIMARY KEY (claim_id, valid_from, recorded_from))"
            + (" WITHOUT ROWID" if self.placeholder == "?" else ""),
            # (claim_id, valid_to, recorded_to): a claim's last step as known at any time
            # (the rows valid to the end of time tile recording time), and a current row
            # closed by its valid_to.
            f"CREATE INDEX IF NOT EXISTS {self.prefix}_intervals_last "
            f"ON {self.intervals} (claim_id, valid_to, recorded_to)",
            *(
                # PostgreSQL: the same search from a GiST index per status of each row as a
                # box in (valid time, recording time).
                [
                    f"CREATE INDEX IF NOT EXISTS {self.prefix}_intervals_"
                    f"{status.replace(' ', '_')}_box ON {self.intervals} USING gist "
                    f"({_box('')}) WHERE status = '{status}'"
                    for status in STATUSES
                ]
                if self.placeholder != "?"
                else []
            ),
            *(
                # Each dimension a pair of bounds: valid time (seconds), recording time
                # (microseconds after ``points_base``), the claim's position; then the
                # row's exact times and its claim's position.
                [
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING rtree(id, "
                    "valid_lo, valid_hi, recorded_lo, recorded_hi, claim_lo, claim_hi, "
                    "+position, +valid_from, +valid_to, +recorded_from, +recorded_to)"
                    for table in self.points.values()
                ]
                if self.indexed
                else []
            ),
        ]

    def drop(self, cursor: Any) -> None:
        """Drop this version's tables (their indexes go with them) and its format rows."""
        self._base = self._maintained = None
        tables = [self.claims, self.tags, self.citations, self.intervals]
        if self.indexed:
            tables += self.points.values()
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            self.sql(f"DELETE FROM {self.format} WHERE name IN (?, ?, ?)"),
            tuple(self.key(name) for name in ("tables", "points_base", "points")),
        )

    def key(self, name: str) -> str:
        """The name of one of this version's rows in ``credibility_format``."""
        return name if self.prefix == LEGACY else f"{name}/{self.model}"

    def legacy(self) -> CredibilityTables:
        """Format 3's tables (one version's, unprefixed), to drop them."""
        legacy = CredibilityTables(self.log, self.placeholder, self.schema, self.model, LEGACY)
        legacy.tracked = TRACKED
        return legacy

    def beside(self, model: str) -> CredibilityTables:
        """The tables of ``model``'s projection in the same store."""
        return CredibilityTables(self.log, self.placeholder, self.schema, model)

    # The tables' format: a store whose tables were made by another version of this
    # module is projected again from the start (``CredibilityView.create_table``).

    def stored_format(self, cursor: Any) -> str | None:
        """The layout the tables were made with (None: made before layouts were recorded,
        or not made yet). A write first: a process checking at the same time waits for
        this transaction to end, then finds what it recorded."""
        self.lock_format(cursor)
        cursor.execute(
            self.sql(f"SELECT value FROM {self.format} WHERE name = ?"), (self.key("tables"),)
        )
        row = cursor.fetchone()
        return None if row is None else str(row["value"])

    def lock_format(self, cursor: Any) -> None:
        """Take the write lock of ``credibility_format`` (a write), so a transaction that
        reads it then writes sees what the one before it recorded."""
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.format} (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            ),
            ("checked", ""),
        )

    def has_legacy(self, cursor: Any) -> bool:
        """Whether format 3's unprefixed tables are there (their layout row is)."""
        cursor.execute(self.sql(f"SELECT value FROM {self.format} WHERE name = ?"), ("tables",))
        return cursor.fetchone() is not None

    def projected_any(self, cursor: Any) -> bool:
        cursor.execute(f"SELECT claim_id FROM {self.claims} LIMIT 1")
        return cursor.fetchone() is not None

    def record_format(self, cursor: Any) -> None:
        cursor.execute(
            self.sql(f"INSERT INTO {self.format} (name, value) VALUES (?, ?)"),
            (self.key("tables"), FORMAT),
        )

    # Which version is served (lists read it, the running projector follows it).

    def served(self, cursor: Any) -> str | None:
        """The version recorded as served (None: none recorded, ``models.PROJECTED``)."""
        cursor.execute(self.sql(f"SELECT value FROM {self.format} WHERE name = ?"), ("served",))
        row = cursor.fetchone()
        return None if row is None else str(row["value"])

    def record_served(self, cursor: Any) -> None:
        """Record this version as the one served."""
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.format} (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            ),
            ("served", self.model),
        )

    # Writes, inside the projection's transaction.

    def add_claim(self, cursor: Any, row: Sequence[Any], tags: Sequence[str]) -> None:
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.claims} (claim_id, originator_id, position, recorded_at, "
                "text, text_folded, tags, parties, beneficiaries) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            tuple(row),
        )
        for tag in tags:
            cursor.execute(
                self.sql(f"INSERT INTO {self.tags} (tag, claim_id, position) VALUES (?, ?, ?)"),
                (tag, row[0], row[2]),
            )

    def cite(self, cursor: Any, source_id: str, claim_id: str) -> None:
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.citations} (source_id, claim_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING"
            ),
            (source_id, claim_id),
        )

    def citing(self, cursor: Any, source_id: str) -> list[str]:
        cursor.execute(
            self.sql(
                f"SELECT claim_id FROM {self.citations} WHERE source_id = ? ORDER BY claim_id"
            ),
            (source_id,),
        )
        return [row["claim_id"] for row in cursor.fetchall()]

    def claim_position(self, cursor: Any, claim_id: str) -> int:
        """Where the claim was registered in the log (its place in every list)."""
        cursor.execute(
            self.sql(f"SELECT position FROM {self.claims} WHERE claim_id = ?"), (claim_id,)
        )
        row = cursor.fetchone()
        return 0 if row is None else int(row["position"])

    def current(self, cursor: Any, claim_id: str, since: int, until: int) -> list[Interval]:
        """The current rows of ``claim_id`` that overlap valid times [``since``, ``until``).

        Read when a claim is loaded into the projector's memory: a walk over the claim's
        rows that end after ``since``, of every recording time (no index serves the
        current rows alone: one more index on every row written would cost more)."""
        cursor.execute(
            self.sql(
                "SELECT valid_from, valid_to, probability, band, status, grade, rid "
                f"FROM {self.intervals} WHERE claim_id = ? AND recorded_to = ? AND valid_to > ? "
                "AND valid_from < ? ORDER BY valid_from"
            ),
            (claim_id, END_OF_TIME, since, until),
        )
        return [
            Interval(
                int(r["valid_from"]),
                int(r["valid_to"]),
                float(r["probability"]),
                r["band"],
                r["status"],
                int(r["grade"]),
                int(r["rid"]),
            )
            for r in cursor.fetchall()
        ]

    def points_base(self, cursor: Any, first: int | None = None) -> int | None:
        """The recording time the R-tree counts from: read, or set to ``first`` (the first
        row's recording time, so a rebuild sets the same) if there is none yet."""
        if self._base is None:
            cursor.execute(
                self.sql(f"SELECT value FROM {self.format} WHERE name = ?"),
                (self.key("points_base"),),
            )
            row = cursor.fetchone()
            if row is not None:
                self._base = int(row["value"])
            elif first is not None:
                cursor.execute(
                    self.sql(f"INSERT INTO {self.format} (name, value) VALUES (?, ?)"),
                    (self.key("points_base"), str(first)),
                )
                self._base = first
        return self._base

    def replace(
        self,
        cursor: Any,
        claim_id: str,
        old: Sequence[Interval],
        new: Sequence[Interval],
        recorded_at: int,
        position: int,
    ) -> None:
        """End ``old`` rows at ``recorded_at`` and start ``new`` ones there (rows of the
        claim registered at log ``position``)."""
        if old:
            cursor.executemany(
                self.sql(
                    # The current rows of a claim do not overlap, so each ends at its own
                    # valid_to: one step down the (claim_id, valid_to, recorded_to) index.
                    f"UPDATE {self.intervals} SET recorded_to = ? WHERE claim_id = ? "
                    "AND recorded_to = ? AND valid_to = ?"
                ),
                [(recorded_at, claim_id, END_OF_TIME, row.valid_to) for row in old],
            )
        if new:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {self.intervals} (claim_id, valid_from, valid_to, "
                    "recorded_from, recorded_to, probability, band, status, grade, rid) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                [
                    (
                        claim_id,
                        row.valid_from,
                        row.valid_to,
                        recorded_at,
                        END_OF_TIME,
                        row.probability,
                        row.band,
                        row.status,
                        row.grade,
                        row.rid,
                    )
                    for row in new
                ],
            )
        if self.indexed:
            self._replace_points(cursor, old, new, recorded_at, position)

    def replace_all(self, cursor: Any, changes: Sequence[Replaced]) -> None:
        """``replace`` of each (claim id, rows ended, rows started, recording time, claim's
        position) in turn. While ``points`` is not kept up to date (a rebuild, until
        ``fill_points``) they are written as two statements: a row both started and ended
        among these changes is inserted once, ended; the rows ended that were there before
        are ended first, then every new row inserted: the same rows as one by one."""
        if self._maintained is None:
            self._maintained = self.points_ready(cursor)
        if self._maintained:
            for claim_id, old, new, recorded_at, position in changes:
                self.replace(cursor, claim_id, old, new, recorded_at, position)
            return
        made: list[list[Any]] = []
        current: dict[tuple[str, int], list[Any]] = {}  # made here, still current
        ended: list[tuple[int, str, int, int]] = []
        for claim_id, old, new, recorded_at, _ in changes:
            for gone in old:
                row = current.pop((claim_id, gone.valid_to), None)
                if row is None:
                    ended.append((recorded_at, claim_id, END_OF_TIME, gone.valid_to))
                else:
                    row[4] = recorded_at
            for interval in new:
                row = [
                    claim_id, interval.valid_from, interval.valid_to, recorded_at, END_OF_TIME,
                    interval.probability, interval.band, interval.status, interval.grade,
                    interval.rid,
                ]
                made.append(row)
                current[(claim_id, interval.valid_to)] = row
        if ended:
            cursor.executemany(
                self.sql(
                    f"UPDATE {self.intervals} SET recorded_to = ? WHERE claim_id = ? "
                    "AND recorded_to = ? AND valid_to = ?"
                ),
                ended,
            )
        if made:
            cursor.executemany(
                self.sql(
                    f"INSERT INTO {self.intervals} (claim_id, valid_from, valid_to, "
                    "recorded_from, recorded_to, probability, band, status, grade, rid) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                [tuple(row) for row in made],
            )

    def _replace_points(
        self,
        cursor: Any,
        old: Sequence[Interval],
        new: Sequence[Interval],
        recorded_at: int,
        position: int,
    ) -> None:
        if self._maintained is None:
            self._maintained = self.points_ready(cursor)
        if not self._maintained:
            return  # ``fill_points`` will index every row at once
        base = self.points_base(cursor, recorded_at)
        assert base is not None
        for row in old:
            cursor.execute(
                f"UPDATE {self.points[row.status]} SET recorded_hi = ?, recorded_to = ? "
                "WHERE id = ?",
                (recorded_at - base, recorded_at, row.rid),
            )
        for row in new:
            cursor.execute(
                f"INSERT INTO {self.points[row.status]} VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.rid,
                    row.valid_from / 1e6,
                    row.valid_to / 1e6,
                    recorded_at - base,
                    END_OF_TIME - base,
                    position,
                    position,
                    position,
                    row.valid_from,
                    row.valid_to,
                    recorded_at,
                    END_OF_TIME,
                ),
            )

    # The R-tree is kept up to date row by row once it is complete ("ready"). A rebuild
    # (and a projection of a whole log after a change of layout) leaves it empty and
    # indexes every row at the end in one statement: three times cheaper than row by row.

    def forget_points(self) -> None:
        """Ask the store again, at the next write, whether ``points`` is kept up to date
        (another process may have rebuilt the tables since this one last projected)."""
        self._maintained = None

    def points_ready(self, cursor: Any) -> bool:
        """Whether ``points`` holds every row (reads may search it)."""
        if not self.indexed:
            return False
        cursor.execute(
            self.sql(f"SELECT value FROM {self.format} WHERE name = ?"), (self.key("points"),)
        )
        row = cursor.fetchone()
        return row is not None and row["value"] == "ready"

    def fill_points(self, cursor: Any) -> None:
        """Index every row, and keep ``points`` up to date from now on."""
        cursor.execute(f"SELECT min(recorded_from) AS first FROM {self.intervals}")
        row = cursor.fetchone()
        first = None if row is None or row["first"] is None else int(row["first"])
        base = self.points_base(cursor, first)
        for status, table in self.points.items():
            cursor.execute(f"DELETE FROM {table}")
            if base is None:
                continue
            cursor.execute(
                f"INSERT INTO {table} SELECT i.rid, i.valid_from / 1e6, i.valid_to / 1e6, "
                "i.recorded_from - ?, i.recorded_to - ?, c.position, c.position, c.position, "
                "i.valid_from, i.valid_to, i.recorded_from, i.recorded_to "
                f"FROM {self.intervals} i JOIN {self.claims} c ON c.claim_id = i.claim_id "
                # In the order the rows were made, as row by row: an R-tree filled in
                # the order of claims and valid times searches ten times slower.
                "WHERE i.status = ? ORDER BY i.rid",
                (base, base, status),
            )
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.format} (name, value) VALUES (?, 'ready') "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
            ),
            (self.key("points"),),
        )
        self._maintained = True

    # Reads.

    def _answer(self, columns: str) -> str:
        """A claim's (``c``) row at (as_of, known_at), its ``columns`` (with valid_from and
        recorded_from); parameters: END_OF_TIME, known_at, as_of, known_at, as_of, known_at,
        known_at."""
        return (
            f"SELECT * FROM (SELECT {columns} FROM {self.intervals} "
            "WHERE claim_id = c.claim_id AND valid_to = ? AND recorded_to > ? "
            "ORDER BY recorded_to LIMIT 1) f WHERE f.valid_from <= ? AND f.recorded_from <= ? "
            "UNION ALL "
            f"SELECT * FROM (SELECT {columns} FROM {self.intervals} "
            "WHERE claim_id = c.claim_id AND valid_from <= ? AND recorded_from <= ? "
            "AND recorded_to > ? ORDER BY valid_from DESC LIMIT 1) w LIMIT 1"
        )

    def page(
        self, cursor: Any, as_of: int, known_at: int, filters: Filters, after: int, limit: int
    ) -> list[Any]:
        """Claims registered by ``known_at`` with their answer at (``as_of``, ``known_at``)
        and their version as recorded by then."""
        if filters.status is not None:
            if self.placeholder != "?":
                return self._boxed_page(cursor, as_of, known_at, filters, after, limit)
            if self.points_ready(cursor):
                return self._searched_page(cursor, as_of, known_at, filters, after, limit)
        return self._walked_page(cursor, as_of, known_at, filters, after, limit)

    def _walked_page(
        self,
        cursor: Any,
        as_of: int,
        known_at: int,
        filters: Filters,
        after: int,
        limit: int,
        until: int | None = None,
    ) -> list[Any]:
        """``page`` by each claim's answer in turn (up to the claim at ``until``)."""
        where, params = self._filtered(filters, "i")
        where[:0] = ["c.recorded_at <= ?", "c.position > ?"]
        params[:0] = [known_at, after]
        if until is not None:
            where.append("c.position <= ?")
            params.append(until)
        # The claim's row at (as_of, known_at). The rows current at known_at split valid
        # time. The last of them (valid to the end of time) is one step down the
        # (claim_id, valid_to, recorded_to) index: the rows that end valid time tile
        # recording time, so it is the first to end after known_at. It is the answer when
        # it starts by as_of (as_of at or after the last change known then). Else the one
        # holding as_of is the latest-starting of them to start by as_of: a walk back from
        # as_of over the rows of other recording times.
        if self.placeholder == "?":
            # SQLite has no LATERAL: the answer's key, joined by the primary key.
            key = self._answer("claim_id, valid_from, recorded_from")
            joined = (
                f"JOIN {self.intervals} i "
                f"ON (i.claim_id, i.valid_from, i.recorded_from) = ({key})"
            )
        else:
            # PostgreSQL plans a join on a correlated subquery as a filter over every row
            # of the table: LATERAL runs the answer once per claim, down the indexes.
            answer = self._answer(ANSWER_COLUMNS)
            joined = f"JOIN LATERAL ({answer}) i ON true"
        answer_params = [END_OF_TIME, known_at, as_of, known_at, as_of, known_at, known_at]
        cursor.execute(
            self.sql(
                "SELECT c.claim_id, c.originator_id, c.position, c.text, c.tags, c.parties, "
                "c.beneficiaries, i.probability, i.band, i.status, i.grade, i.valid_from, "
                # The claim's version as recorded by known_at (versions grow with time).
                f"(SELECT l.originator_version FROM {self.log} l "
                "WHERE l.originator_id = c.originator_id AND l.recorded_at <= ? "
                "ORDER BY l.recorded_at DESC LIMIT 1) AS version "
                f"FROM {self.claims} c {joined} "
                f"WHERE {' AND '.join(where)} ORDER BY c.position LIMIT ?"
            ),
            [known_at, *answer_params, *params, limit],
        )
        return list(cursor.fetchall())

    def sorted_page(
        self,
        cursor: Any,
        as_of: int,
        known_at: int,
        filters: Filters,
        order: Order,
        after: int,
        limit: int,
    ) -> list[Any] | None:
        """``page`` in ``order``: the claims' answers at (as_of, known_at) (and at
        ``order.since``, for ``moved``) ordered by the key, ties in registration order;
        the claims after the one registered at log position ``after`` in that order (0:
        from the first). A keyset: the key of the claim at ``after`` is read at the same
        times, so a page starts where the one before ended whatever the key. None if no
        claim listed at these times is at ``after`` (a cursor of another listing)."""
        direction = "DESC" if order.descending else "ASC"
        if order.key == "registered":
            # The key is the position itself: the keyset is a range of the claims' index,
            # and the page is read down it (with since, the newest first, or not).
            inner, params = self._ordered(as_of, known_at, filters, order, after)
            cursor.execute(
                self.sql(f"SELECT * FROM ({inner}) x ORDER BY x.position {direction} LIMIT ?"),
                [*params, limit],
            )
            return list(cursor.fetchall())
        inner, params = self._ordered(as_of, known_at, filters, order)
        key = "x.sort_key" + (' COLLATE "C"' if order.key == "text" and self.placeholder != "?"
                              else "")
        keyset, keyset_params = "", []
        if after:
            cursor.execute(
                self.sql(f"SELECT x.sort_key FROM ({inner}) x WHERE x.position = ?"),
                [*params, after],
            )
            row = cursor.fetchone()
            if row is None:
                return None
            cmp = "<" if order.descending else ">"
            keyset = f"WHERE ({key} {cmp} ? OR ({key} = ? AND x.position > ?)) "
            keyset_params = [row["sort_key"], row["sort_key"], after]
        cursor.execute(
            self.sql(
                f"SELECT * FROM ({inner}) x {keyset}"
                f"ORDER BY {key} {direction}, x.position LIMIT ?"
            ),
            [*params, *keyset_params, limit],
        )
        return list(cursor.fetchall())

    def _ordered(
        self, as_of: int, known_at: int, filters: Filters, order: Order, after: int = 0
    ) -> tuple[str, list[Any]]:
        """Every claim registered by known_at passing ``filters`` (and, given ``after``,
        registered after it, or before it in descending order), with its answer at
        (as_of, known_at) (``i``), its answer at ``order.since`` (``s``) if given and
        ``moved``, and ``sort_key``: a query and its parameters."""
        where, params = self._filtered(filters, "i")
        where.insert(0, "c.recorded_at <= ?")
        params.insert(0, known_at)
        if after:
            where.insert(1, f"c.position {'<' if order.descending else '>'} ?")
            params.insert(1, after)
        joins = [self._answer_join("i")]
        join_params = [END_OF_TIME, known_at, as_of, known_at, as_of, known_at, known_at]
        moved = ""
        if order.since is not None:
            joins.append(self._answer_join("s"))
            join_params += [END_OF_TIME, known_at, order.since, known_at, order.since,
                            known_at, known_at]
            moved = "i.probability - s.probability AS moved, "
        ranks = " ".join(f"WHEN '{status}' THEN {n}" for n, status in enumerate(STATUSES))
        keys = {
            "registered": "c.position",
            "text": "c.text_folded",
            "probability": "i.probability",
            "status": f"CASE i.status {ranks} END",
            "last_change": "i.valid_from",
            "moved": "i.probability - s.probability",
        }
        query = (
            "SELECT c.claim_id, c.originator_id, c.position, c.text, c.tags, c.parties, "
            "c.beneficiaries, i.probability, i.band, i.status, i.grade, i.valid_from, "
            f"(SELECT l.originator_version FROM {self.log} l "
            "WHERE l.originator_id = c.originator_id AND l.recorded_at <= ? "
            "ORDER BY l.recorded_at DESC LIMIT 1) AS version, "
            f"{moved}{keys[order.key]} AS sort_key "
            f"FROM {self.claims} c {' '.join(joins)} WHERE {' AND '.join(where)}"
        )
        return query, [known_at, *join_params, *params]

    def _answer_join(self, alias: str) -> str:
        """A join of each claim (``c``) to its row at (as_of, known_at) as ``alias``
        (parameters: those of ``_answer``)."""
        if self.placeholder == "?":
            key = self._answer("claim_id, valid_from, recorded_from")
            return (f"JOIN {self.intervals} {alias} ON ({alias}.claim_id, {alias}.valid_from, "
                    f"{alias}.recorded_from) = ({key})")
        return f"JOIN LATERAL ({self._answer(ANSWER_COLUMNS)}) {alias} ON true"

    def _boxed_page(
        self, cursor: Any, as_of: int, known_at: int, filters: Filters, after: int, limit: int
    ) -> list[Any]:
        """``page`` with a status filter on PostgreSQL: the next 2 x ``limit`` claims in
        turn (a common status fills the page there), else the status's GiST index: its
        rows holding the point (as_of, known_at), of every claim after ``after``."""
        assert filters.status in STATUSES
        cursor.execute(
            self.sql(
                f"SELECT position FROM {self.claims} WHERE position > ? "
                "ORDER BY position LIMIT 1 OFFSET ?"
            ),
            (after, 2 * limit - 1),
        )
        row = cursor.fetchone()
        until = None if row is None else int(row["position"])
        walked = self._walked_page(cursor, as_of, known_at, filters, after, limit, until)
        if until is None or len(walked) >= limit:
            return walked
        more, more_params = self._filtered(filters, "i")
        cursor.execute(
            self.sql(
                "SELECT c.claim_id, c.originator_id, c.position, c.text, c.tags, c.parties, "
                "c.beneficiaries, i.probability, i.band, i.status, i.grade, i.valid_from, "
                f"(SELECT l.originator_version FROM {self.log} l "
                "WHERE l.originator_id = c.originator_id AND l.recorded_at <= ? "
                "ORDER BY l.recorded_at DESC LIMIT 1) AS version "
                f"FROM {self.intervals} i JOIN {self.claims} c ON c.claim_id = i.claim_id "
                # The status as a literal (one of STATUSES): a parameter would keep the
                # planner from the status's partial index.
                # (box @> box: GiST's box operator class does not serve box @> point)
                f"WHERE i.status = '{filters.status}' AND {_box('i.')} @> "
                "box(point(?, ?), point(?, ?)) "
                "AND i.valid_from <= ? AND i.valid_to > ? AND i.recorded_from <= ? "
                "AND i.recorded_to > ? AND c.position > ? AND c.recorded_at <= ? "
                + "".join(f"AND {condition} " for condition in more)
                + "ORDER BY c.position LIMIT ?"
            ),
            [known_at, float(as_of), float(known_at), float(as_of), float(known_at),
             as_of, as_of, known_at, known_at, after, known_at, *more_params, limit],
        )
        return list(cursor.fetchall())

    def _filtered(self, filters: Filters, row: str) -> tuple[list[str], list[Any]]:
        """The conditions ``filters`` put on a claim (``c``) and its answer (``row``)."""
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("status", filters.status), ("band", filters.band)):
            if value is not None:
                where.append(f"{row}.{column} = ?")
                params.append(value)
        if filters.min_probability is not None:
            where.append(f"{row}.probability >= ?")
            params.append(filters.min_probability)
        if filters.max_probability is not None:
            where.append(f"{row}.probability <= ?")
            params.append(filters.max_probability)
        if filters.tag is not None:
            where.append(f"c.claim_id IN (SELECT claim_id FROM {self.tags} WHERE tag = ?)")
            params.append(filters.tag)
        if filters.text is not None:
            escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("c.text_folded LIKE ? ESCAPE '\\'")
            params.append(f"%{escaped}%")
        return where, params

    def _searched_page(
        self, cursor: Any, as_of: int, known_at: int, filters: Filters, after: int, limit: int
    ) -> list[Any]:
        """``page`` with a status filter, from the status's R-tree: its rows holding the
        point (as_of, known_at), among the claims of a window of registration order that
        widens (x4) until the page is full or the claims end. A window of n claims holds
        at most n rows at a point, so a common status costs one narrow search and a rare
        one a few wider ones; neither computes every claim's answer."""
        base = self.points_base(cursor)
        if base is None:  # nothing projected yet
            return []
        found: list[Any] = []
        low, window = after, 2 * limit
        while len(found) < limit:
            cursor.execute(
                f"SELECT position FROM {self.claims} WHERE position > ? "
                "ORDER BY position LIMIT 1 OFFSET ?",
                (low, window - 1),
            )
            row = cursor.fetchone()
            high = None if row is None else int(row["position"])
            found += self._search(
                cursor, as_of, known_at - base, known_at, filters, low, high, limit - len(found)
            )
            if high is None:
                break
            low, window = high, window * 4
        return found

    def _search(
        self,
        cursor: Any,
        as_of: int,
        known_from_base: int,
        known_at: int,
        filters: Filters,
        low: int,
        high: int | None,
        limit: int,
    ) -> list[Any]:
        # The R-tree's constraints find a superset (its coordinates are rounded outwards);
        # the exact times beside them decide, and the page is joined to its rows after.
        assert filters.status is not None
        seconds = as_of / 1e6
        where = [
            "valid_lo <= ?", "valid_hi >= ?", "recorded_lo <= ?", "recorded_hi >= ?",
            "claim_hi > ?", "position > ?", "valid_from <= ?", "valid_to > ?",
            "recorded_from <= ?", "recorded_to > ?",
        ]
        params: list[Any] = [
            seconds, seconds, known_from_base, known_from_base,
            low, low, as_of, as_of, known_at, known_at,
        ]
        if high is not None:
            where += ["claim_lo <= ?", "position <= ?"]
            params += [high, high]
        more, more_params = self._filtered(filters, "i")
        cursor.execute(
            "SELECT c.claim_id, c.originator_id, c.position, c.text, c.tags, c.parties, "
            "c.beneficiaries, i.probability, i.band, i.status, i.grade, i.valid_from, "
            f"(SELECT l.originator_version FROM {self.log} l "
            "WHERE l.originator_id = c.originator_id AND l.recorded_at <= ? "
            "ORDER BY l.recorded_at DESC LIMIT 1) AS version "
            "FROM (SELECT position, valid_from, recorded_from "
            f"FROM {self.points[filters.status]} WHERE {' AND '.join(where)}) p "
            f"JOIN {self.claims} c ON c.position = p.position "
            f"JOIN {self.intervals} i ON i.claim_id = c.claim_id "
            "AND i.valid_from = p.valid_from AND i.recorded_from = p.recorded_from "
            f"WHERE {' AND '.join(['c.recorded_at <= ?', *more])} "
            "ORDER BY p.position LIMIT ?",
            [known_at, *params, known_at, *more_params, limit],
        )
        return list(cursor.fetchall())
