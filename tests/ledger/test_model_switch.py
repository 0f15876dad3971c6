"""Switching the served model version: ``Projector.rebuild(model=...)`` builds a version's
tables beside the served ones, then serves it and drops the others, and every reader on
the store (a server's projector running since before, its list reads) follows the switch.

Run on SQLite and PostgreSQL, as the projection's own tests.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from ledger import models
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.projection.tables import FORMAT, LEGACY, TRACKED, Filters, table_prefix
from ledger.times import from_micros, now, to_micros

from .helpers import ACTOR
from .test_projection import START, random_ledger, sql_store, tables

__all__ = ["sql_store"]  # the fixture, shared with the projection's tests

V1, V2 = models.VERSIONS["credibility-v1"], models.VERSIONS["credibility-v2"]
FILTERS = [Filters(), Filters(status="leaning true"), Filters(tag="odd"),
           Filters(text="troops"), Filters(status="contested"), Filters(band="likely")]


def settings(store: str) -> Settings:
    return Settings(store=store, _env_file=None)  # type: ignore[call-arg]


@dataclass
class Served:
    """A ledger on a store serving the projected version (v2), with a random history."""

    ledger: ClaimsLedger
    times: list[int]  # recording times along the history
    url: str


@pytest.fixture
def served(sql_store: str) -> Iterator[Served]:
    ledger = open_ledger(settings(sql_store))
    try:
        assert ledger.projector is not None and ledger.projector.model.name == models.PROJECTED
        times = random_ledger(ledger, 11, events=120)
        assert ledger.projector.caught_up()
        yield Served(ledger, times, sql_store)
    finally:
        ledger.close()


def relations(ledger: ClaimsLedger) -> set[str]:
    """The names of the store's tables and indexes."""
    assert ledger.projector is not None
    view = ledger.projector.view
    with view.reading() as cursor:
        schema = view.tables.schema
        if schema is None:
            cursor.execute("SELECT name FROM sqlite_master")
            return {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s", (schema,)
        )
        return {row["relname"] for row in cursor.fetchall()}


def refuse_replays(ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Make a list of ``name`` that replays fail the test; answers the versions replayed."""
    replayed: list[str] = []
    replay = ledger.reads._replayed

    def watched(*args: Any) -> Any:
        model = args[5]
        replayed.append(model.name)
        assert model.name != name, f"a list of {name} replayed instead of reading its tables"
        return replay(*args)

    monkeypatch.setattr(ledger.reads, "_replayed", watched)
    return replayed


def assert_projected_is_replayed(
    ledger: ClaimsLedger, times: list[int], version: models.ModelVersion
) -> None:
    """Pages of the tables equal the replayed ones, at several times and filters."""
    assert ledger.projector is not None and ledger.projector.model == version
    rng = random.Random(3)
    for known_us in [times[-1], *rng.sample(times, 2)]:
        for as_of_day in (-1, rng.randrange(0, 60), 400):
            as_of = START + timedelta(days=as_of_day)
            for chosen in FILTERS:
                projected = ledger.reads._projected(to_micros(as_of), known_us, chosen, 0, 1000)
                replayed = ledger.reads._replayed(
                    as_of, from_micros(known_us), chosen, 0, 1000, version
                )
                assert projected == replayed, (known_us, as_of, chosen)


def test_table_prefixes_are_identifiers_distinct_per_name() -> None:
    assert table_prefix("credibility-v2") == "credibility_v2"
    assert table_prefix("toy-equal-weights") == "toy_equal_weights"
    names = ["credibility-v2", "credibility_v2", "Credibility-V2", "v2; DROP TABLE x",
             "9lives", "credibility", "a" * 80, "a" * 81, "é"]
    prefixes = [table_prefix(name) for name in names]
    assert len(set(prefixes)) == len(names) and LEGACY not in prefixes
    for prefix in prefixes:
        assert prefix[0].isalpha() and prefix.replace("_", "").isalnum() and prefix.isascii()
        assert len(f"{prefix}_intervals_leaning_false_box") <= 63  # PostgreSQL's limit


def test_rebuild_with_another_model_serves_it_from_its_tables(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After rebuild --model credibility-v1 on a store served by v2: lists in v1 are read
    from v1's tables (never replayed) and equal the replayed answer; lists in v2 replay
    (the same answer as their tables gave); v2's tables and indexes are gone; the models
    listing says v1."""
    ledger = served.ledger
    projector = ledger.projector
    assert projector is not None
    moment = now()
    v2_page = ledger.list_claims(as_of=moment, known_at=moment, model=V2.name)
    assert projector.rebuild(model=V1.name) == projector.head()
    assert projector.model == V1 and projector.view.served() == V1.name
    assert ledger.models()["projected"] == V1.name
    assert [m["name"] for m in ledger.models()["data"] if m["projected"]] == [V1.name]
    names = relations(ledger)
    assert not {n for n in names if n.startswith("credibility_v2_")}
    assert {"credibility_v1_claims", "credibility_v1_intervals",
            "credibility_v1_claims_position", "credibility_v1_intervals_last"} <= names
    assert_projected_is_replayed(ledger, served.times, V1)
    replayed = refuse_replays(ledger, monkeypatch, V1.name)
    page = ledger.list_claims(model=V1.name)
    assert [c["credibility"]["model"] for c in page["data"]] == [V1.name] * 6
    assert replayed == []
    again = ledger.list_claims(as_of=moment, known_at=moment, model=V2.name)
    assert replayed == [V2.name]  # no longer projected: replayed
    assert again == v2_page
    # Another ledger opening the store serves v1 too, and a rebuild of it stays v1.
    other = open_ledger(settings(served.url))
    try:
        assert other.projector is not None and other.projector.model == V1
        before = tables(other)
        assert other.projector.rebuild() > 0
        assert tables(other) == before
    finally:
        other.close()


def test_a_server_started_before_the_switch_serves_the_new_version_after_it(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger whose projector follows the log (as ``serve``'s projector process does)
    keeps serving v2 from its tables while another builds v1's; after the switch its lists
    of v1 come from v1's tables, which its projector follows: no restart."""
    server = served.ledger
    assert server.projector is not None
    server.projector.start()
    replayed = refuse_replays(server, monkeypatch, V2.name)
    assert server.list_claims(model=V2.name)["data"]
    cli = open_ledger(settings(served.url))
    try:
        assert cli.projector is not None
        assert cli.projector.rebuild(model=V1.name) > 0
        refuse_replays(server, monkeypatch, V1.name)
        listed = server.list_claims(model=V1.name)["data"]
        assert [c["credibility"]["model"] for c in listed] == [V1.name] * 6
        assert server.projector.model == V1
        # Its running projector follows v1's tables: a write elsewhere reaches them with
        # no read projecting it.
        cli.register_claim({"id": "late", "text": "A late claim"}, ACTOR)
        head = cli.projector.head()
        deadline = time.monotonic() + 30
        while server.projector.view.position() < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.projector.view.position() >= head
        assert "late" in [c["id"] for c in server.list_claims(model=V1.name)["data"]]
        # v2's lock is free again: the runner released it when it followed the switch.
        v2_lock = type(server.projector.lock)(server.store, table_prefix(V2.name))
        assert v2_lock.acquire()
        v2_lock.release()
    finally:
        cli.close()
    assert replayed == []


def test_an_interrupted_rebuild_with_another_model_leaves_the_served_one_and_resumes(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger.projection import projector as module

    ledger = served.ledger
    projector = ledger.projector
    assert projector is not None
    served_tables = tables(ledger)
    monkeypatch.setattr(module, "PAGE", 10)
    pages: list[int] = []

    def killed(count: int) -> None:
        pages.append(count)
        if len(pages) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        projector.rebuild(progress=killed, model=V1.name)
    assert projector.model == V2 and projector.view.served() == V2.name
    half_built = tables(ledger)  # v1's layout recorded beside v2's: the rest is v2's
    format_rows = half_built[projector.view.tables.format]
    assert ("tables/credibility-v1", FORMAT) in format_rows
    format_rows.remove(("tables/credibility-v1", FORMAT))
    assert half_built == served_tables
    replayed = refuse_replays(ledger, monkeypatch, V2.name)
    assert ledger.list_claims()["data"] and replayed == []
    stopped = projector.view.beside(V1.name, fresh=False).position()
    assert stopped == 30
    assert projector.rebuild(model=V1.name, resume=True) == projector.head() - stopped
    assert projector.model == V1
    resumed = tables(ledger)
    assert projector.rebuild() == projector.head()  # from the start: the same tables
    assert tables(ledger) == resumed
    assert_projected_is_replayed(ledger, served.times, V1)


def test_format_3_tables_are_dropped_and_the_log_projected_again(served: Served) -> None:
    """A store projected by format 3 (unprefixed tables, one tracking row) is projected
    again in its served version's tables on opening, and the old tables are dropped."""
    ledger = served.ledger
    assert ledger.projector is not None
    view = ledger.projector.view
    current = tables(ledger)
    legacy = view.tables.legacy()
    with view.datastore.transaction(commit=True) as cursor:  # as format 3 left a store
        view.tables.drop(cursor)
        view._forget_position(cursor, view.tables.tracked)  # type: ignore[attr-defined]
        view._insert_tracking(cursor, Tracking(TRACKED, 7))  # type: ignore[attr-defined]
        for statement in legacy.create_statements():
            cursor.execute(statement)
        cursor.execute(
            view.tables.sql(f"INSERT INTO {legacy.format} (name, value) VALUES (?, ?)"),
            ("tables", "3/credibility-v2"),
        )
    assert "credibility_claims" in relations(ledger)
    reopened = open_ledger(settings(served.url))
    try:
        assert reopened.projector is not None
        assert reopened.projector.view.position() == 0
        assert reopened.projector.view.max_tracking_id(TRACKED) is None  # type: ignore[attr-defined]
        assert {n for n in relations(reopened) if n.startswith(f"{LEGACY}_")} == {
            n for n in relations(reopened) if n.startswith("credibility_v2_")
        } | {"credibility_format"} | ({"credibility_format_pkey"} if view.tables.schema else set())
        assert reopened.projector.caught_up()
        assert tables(reopened) == current
        with reopened.projector.view.reading() as cursor:
            assert reopened.projector.view.tables.stored_format(cursor) == FORMAT
    finally:
        reopened.close()


def test_an_unknown_version_is_refused(served: Served) -> None:
    projector = served.ledger.projector
    assert projector is not None
    with pytest.raises(KeyError):
        projector.rebuild(model="credibility-v0")
    assert projector.model == V2


def test_a_served_version_this_code_does_not_know_falls_back_to_the_projected_one(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A store serving a version not registered here (a toy's, or a later release's) is
    opened projecting ``PROJECTED``, with a warning; lists in it still read its tables."""
    ledger = served.ledger
    assert ledger.projector is not None
    view = ledger.projector.view
    with view.datastore.transaction(commit=True) as cursor:
        view.tables.beside("credibility-v9").record_served(cursor)
    reopened = open_ledger(settings(served.url))
    try:
        assert reopened.projector is not None
        assert reopened.projector.model.name == models.PROJECTED
        assert reopened.projector.view.position() == ledger.projector.view.position()
        assert "serves the model version credibility-v9, which is not registered" in caplog.text
        assert reopened.models()["projected"] == models.PROJECTED
    finally:
        reopened.close()
