"""The R-trees of the credibility rows (SQLite, one per status): a status page found by
searching them is the page found by computing every claim's answer.

The rows are written through ``CredibilityTables.replace`` as the projector writes them,
with recording times that span ten years yet differ by single microseconds, and valid
times a microsecond apart at step edges, so the R-tree's 32-bit coordinates cannot tell
many rows apart: the exact times beside them must.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.likelihood import ICD203_TERMS
from ledger.projection.tables import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    CredibilityTables,
    Filters,
    Interval,
    rtree_available,
)
from ledger.statements import STATUSES

pytestmark = pytest.mark.skipif(not rtree_available(), reason="this SQLite has no R*Tree")

YEAR = 365 * 86400 * 10**6
T0 = 1_700_000_000 * 10**6  # the first recording time (microseconds)


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    connection.execute(
        "CREATE TABLE log (position INTEGER PRIMARY KEY, originator_id TEXT, "
        "originator_version INTEGER, recorded_at INTEGER)"
    )
    yield connection
    connection.close()


def project(db: sqlite3.Connection, seed: int) -> tuple[CredibilityTables, list[int]]:
    """Twelve claims, each restated at random valid times many times over ten years of
    recording time; returns the tables and every recording time used."""
    rng = random.Random(seed)
    tables = CredibilityTables("log")
    assert tables.indexed
    cursor = db.cursor()
    for statement in tables.format_statements() + tables.create_statements():
        cursor.execute(statement)
    tables.fill_points(cursor)  # empty, and kept up to date row by row from now on
    rows: dict[str, list[Interval]] = {}
    position, rid, recorded = 0, 0, T0
    times = []

    def value() -> tuple[float, str, str, int]:
        return (rng.random(), rng.choice(ICD203_TERMS), rng.choice(STATUSES), rng.randint(1, 6))

    for step in range(400):
        # Mostly a microsecond after the last, sometimes months later.
        recorded += 1 if rng.random() < 0.7 else rng.randrange(1, YEAR // 4)
        position += 1
        times.append(recorded)
        if step < 12 or rng.random() < 0.05:
            claim_id = f"c{len(rows)}"
            rid += 1
            rows[claim_id] = [Interval(BEGINNING_OF_TIME, END_OF_TIME, *value(), rid=rid)]
            tables.add_claim(
                cursor, (claim_id, claim_id, position, recorded, claim_id, claim_id.lower(),
                         '["t"]', "[]", "[]"), ["t" if len(rows) % 2 else "u"]
            )
            tables.replace(cursor, claim_id, [], rows[claim_id], recorded, position)
            continue
        claim_id = rng.choice(sorted(rows))
        current = rows[claim_id]
        # Split the row holding a random valid time (edges a microsecond apart), or merge
        # two neighbours.
        at = T0 + rng.randrange(-YEAR, YEAR)
        index = next(i for i, row in enumerate(current) if row.valid_from <= at < row.valid_to)
        old = [current[index]]
        if rng.random() < 0.3 and index + 1 < len(current):
            old.append(current[index + 1])
            pieces = [(old[0].valid_from, old[1].valid_to)]
        else:
            pieces = [(old[0].valid_from, at), (at, at + 1), (at + 1, old[0].valid_to)]
        new = []
        for start, end in pieces:
            if start < end:
                rid += 1
                new.append(Interval(start, end, *value(), rid=rid))
        current[index : index + len(old)] = new
        claim_position = int(
            cursor.execute(
                f"SELECT position FROM {tables.claims} WHERE claim_id = ?", (claim_id,)
            ).fetchone()[0]
        )
        tables.replace(cursor, claim_id, old, new, recorded, claim_position)
        cursor.execute("INSERT INTO log VALUES (?, ?, ?, ?)", (position, claim_id, step, recorded))
    return tables, times


def scanned(tables: CredibilityTables) -> CredibilityTables:
    """The same tables read without the R-tree: every claim's answer in turn."""
    plain = CredibilityTables(tables.log)
    plain.indexed = False
    return plain


def rows_of(page: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in page]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_searched_page_is_the_page_of_every_answer(db: sqlite3.Connection, seed: int) -> None:
    tables, times = project(db, seed)
    plain = scanned(tables)
    rng = random.Random(seed)
    cursor = db.cursor()
    searched = 0
    for _ in range(150):
        known = rng.choice([rng.choice(times), rng.choice(times) - 1, times[-1] + 5])
        as_of = T0 + rng.randrange(-YEAR, YEAR)
        status, band = rng.choice(STATUSES), rng.choice(ICD203_TERMS)
        filters = rng.choice([
            Filters(status=status),
            Filters(band=band),
            Filters(status=status, band=band),
            Filters(status=status, tag="t", min_probability=0.2),
            Filters(band=band, text="c1"),
        ])
        expected = rows_of(plain.page(cursor, as_of, known, filters, 0, 1000))
        assert rows_of(tables.page(cursor, as_of, known, filters, 0, 1000)) == expected
        searched += bool(expected)
        # Page by page, the windows widening from one claim on.
        limit = rng.choice([1, 2, 3])
        after, paged = 0, []
        while True:
            page = rows_of(tables.page(cursor, as_of, known, filters, after, limit))
            paged += page
            if len(page) < limit:
                break
            after = int(page[-1][2])  # the position
        assert paged == expected
    assert searched > 20  # the filters found claims often enough to mean something


def test_rows_ended_before_known_at_are_not_found(db: sqlite3.Connection) -> None:
    """A row ended a microsecond before ``known_at``, ten years after the first, is gone."""
    tables = CredibilityTables("log")
    cursor = db.cursor()
    for statement in tables.format_statements() + tables.create_statements():
        cursor.execute(statement)
    tables.fill_points(cursor)
    tables.add_claim(cursor, ("c", "c", 1, T0, "c", "c", "[]", "[]", "[]"), [])
    first = Interval(BEGINNING_OF_TIME, END_OF_TIME, 0.5, "roughly even chance", "contested", 6,
                     rid=1)
    tables.replace(cursor, "c", [], [first], T0, 1)
    later = T0 + 10 * YEAR
    second = Interval(BEGINNING_OF_TIME, END_OF_TIME, 0.7, "likely", "leaning true", 3, rid=2)
    tables.replace(cursor, "c", [first], [second], later, 1)
    contested, leaning = Filters(status="contested"), Filters(status="leaning true")
    assert [r["claim_id"] for r in tables.page(cursor, T0, later - 1, contested, 0, 10)] == ["c"]
    assert tables.page(cursor, T0, later, contested, 0, 10) == []
    assert [r["claim_id"] for r in tables.page(cursor, T0, later, leaning, 0, 10)] == ["c"]
    assert tables.page(cursor, T0, T0 - 1, contested, 0, 10) == []  # before the claim


def test_indexing_every_row_at_once_gives_the_rows_kept_one_by_one(
    db: sqlite3.Connection,
) -> None:
    tables, _ = project(db, 4)
    cursor = db.cursor()

    def points() -> list[tuple[Any, ...]]:
        return sorted(
            (status, *row)
            for status, table in tables.points.items()
            for row in cursor.execute(f"SELECT * FROM {table}")
        )

    kept = points()
    assert len(kept) > 400
    tables.fill_points(cursor)
    assert points() == kept


def test_pages_do_not_search_an_index_that_is_not_complete(db: sqlite3.Connection) -> None:
    """Until ``fill_points`` has run (a rebuild under way), rows are not indexed one by
    one and a status page computes every claim's answer instead."""
    tables = CredibilityTables("log")
    cursor = db.cursor()
    for statement in tables.format_statements() + tables.create_statements():
        cursor.execute(statement)
    tables.add_claim(cursor, ("c", "c", 1, T0, "c", "c", "[]", "[]", "[]"), [])
    row = Interval(BEGINNING_OF_TIME, END_OF_TIME, 0.5, "roughly even chance", "contested", 6,
                   rid=1)
    tables.replace(cursor, "c", [], [row], T0, 1)
    assert not tables.points_ready(cursor)
    count = f"SELECT count(*) FROM {tables.points['contested']}"
    assert cursor.execute(count).fetchone()[0] == 0
    contested = Filters(status="contested")
    assert [r["claim_id"] for r in tables.page(cursor, T0, T0, contested, 0, 10)] == ["c"]
    tables.fill_points(cursor)
    assert tables.points_ready(cursor)
    assert cursor.execute(count).fetchone()[0] == 1
    assert [r["claim_id"] for r in tables.page(cursor, T0, T0, contested, 0, 10)] == ["c"]
