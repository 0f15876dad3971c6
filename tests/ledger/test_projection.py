"""The credibility projection answers what a replay answers, survives rebuilds and kills.

Run on SQLite and PostgreSQL (the in-memory store has no projection: its lists replay).
A seeded random ledger holds every kind of event: back-filled statements, same-day ties,
retractions, corrections (of time, type and likelihood), resolutions and re-ratings.
"""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from ledger import models
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.projection.tables import FORMAT, SORT_KEYS, Filters, Order
from ledger.statements import STATUSES
from ledger.times import format_instant, from_micros, to_micros

from .helpers import ACTOR, say

START = datetime(2024, 1, 1, tzinfo=UTC)
#: The model version the tables hold, which their pages are compared with.
PROJECTED = models.VERSIONS[models.PROJECTED]
AFFILIATIONS = [None, "UA", "RU", "KP", "US", "KR"]
PARTIES = [[], ["RU"], ["RU", "KP"]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite and PostgreSQL: the in-memory store has no projection (its lists replay)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("postgres_store"))


@pytest.fixture
def projected(sql_store: str) -> Iterator[ClaimsLedger]:
    ledger = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        assert ledger.projector is not None
        yield ledger
    finally:
        ledger.close()


def day(n: int) -> str:
    return format_instant(START + timedelta(days=n))


def random_ledger(ledger: ClaimsLedger, seed: int, events: int = 160) -> list[int]:
    """Fill ``ledger`` with a random history; returns the recording times along the way."""
    rng = random.Random(seed)
    sources = [f"s{i}" for i in range(8)]
    for i, sid in enumerate(sources):
        body: dict[str, Any] = {"id": sid, "name": f"Source {i}", "reliability": "ABCDEF"[i % 6]}
        if AFFILIATIONS[i % len(AFFILIATIONS)]:
            body["affiliation"] = AFFILIATIONS[i % len(AFFILIATIONS)]
        ledger.register_source(body, ACTOR)
    claims = [f"c{i}" for i in range(6)]
    for i, cid in enumerate(claims):
        ledger.register_claim(
            {"id": cid, "text": f"Claim {cid} about troops" if i % 2 else f"Claim {cid}",
             "tags": ["even" if i % 2 == 0 else "odd"], "parties": PARTIES[i % 3]},
            ACTOR,
        )
    said: dict[str, list[tuple[str, str, int]]] = {cid: [] for cid in claims}
    times = []
    for _ in range(events):
        cid = rng.choice(claims[:3] * 3 + claims)  # some claims hot
        sid = rng.choice(sources)
        when = rng.randrange(0, 60)
        roll = rng.random()
        mine = [s for s in said[cid] if s[1] == sid]
        if roll < 0.08:
            answer = ledger.rerate_source(
                sid, {"reliability": rng.choice("ABCDE"), "occurred_at": day(when)}, ACTOR
            )
            times.append(to_micros(datetime.fromisoformat(answer["known_at"])))
            continue
        if roll < 0.16 and mine:
            target = rng.choice(mine)
            body: dict[str, Any] = {"type": "retracted", "source": sid, "supersedes": target[0],
                                    "occurred_at": day(max(when, target[2]))}
        elif roll < 0.24 and mine:
            target = rng.choice(mine)
            moved = target[2] if rng.random() < 0.5 else rng.randrange(0, 60)
            body = {"type": "corrected", "supersedes": target[0], "occurred_at": day(moved),
                    "corrected_type": rng.choice(["asserted", "denied"]), "summary": "fixed"}
        elif roll < 0.27:
            body = {"type": "resolved", "source": sid, "occurred_at": day(when),
                    "outcome": rng.choice(["confirmed", "refuted"]), "basis": "record"}
        elif roll < 0.6:
            body = {"type": "assessed", "source": sid, "occurred_at": day(when),
                    "likelihood": rng.choice(["likely", "very unlikely", 0.3, 0.92, "remote"])}
        else:
            body = {"type": rng.choice(["asserted", "denied"]), "source": sid,
                    "occurred_at": day(when), "summary": "said so"}
        try:
            answer = ledger.append(cid, body, ACTOR)
        except Exception:  # a refused correction or retraction (e.g. already retracted)
            continue
        if body["type"] in ("asserted", "denied", "assessed", "resolved"):
            said[cid].append((answer["event_id"], sid, when))
        times.append(to_micros(datetime.fromisoformat(answer["recorded_at"])))
    return times


def tables(ledger: ClaimsLedger) -> dict[str, list[tuple[Any, ...]]]:
    assert ledger.projector is not None
    view = ledger.projector.view
    t = view.tables
    dump = {}
    with view.reading() as cursor:
        for table in (t.claims, t.tags, t.citations, t.intervals, t.format,
                      *(t.points.values() if t.indexed else [])):
            # (the format table's "checked" row is a lock taken on opening, not a fact)
            cursor.execute(f"SELECT * FROM {table}" if table != t.format else
                           f"SELECT * FROM {table} WHERE name <> 'checked'")
            dump[table] = sorted(tuple(row) if not isinstance(row, dict) else
                                 tuple(row.values()) for row in cursor.fetchall())
    return dump


@pytest.mark.parametrize("seed", [1, 2])
def test_the_projected_picture_is_the_replayed_one(projected: ClaimsLedger, seed: int) -> None:
    times = random_ledger(projected, seed)
    assert projected.projector is not None and projected.projector.caught_up()
    view = projected.projector.view
    if view.tables.indexed:  # SQLite: status and band pages search the R-tree
        with view.reading() as cursor:
            assert view.tables.points_ready(cursor)
    rng = random.Random(seed)
    knowns = [*rng.sample(times, 5), times[-1]]
    filters = [Filters(), Filters(status="leaning true"), Filters(tag="odd"),
               Filters(text="troops"), Filters(min_probability=0.3, max_probability=0.7),
               Filters(status="contested"), Filters(band="likely"),
               Filters(status="leaning false", tag="even", text="claim"),
               Filters(band="unlikely", min_probability=0.25)]
    for known_us in knowns:
        known = from_micros(known_us)
        for as_of_day in [-1, rng.randrange(0, 30), rng.randrange(30, 60), 400]:
            as_of = START + timedelta(days=as_of_day, hours=rng.choice([0, 12]))
            for chosen in rng.sample(filters, 3):
                projected_page = projected.reads._projected(
                    to_micros(as_of), known_us, chosen, 0, 1000
                )
                replayed_page = projected.reads._replayed(as_of, known, chosen, 0, 1000, PROJECTED)
                assert projected_page == replayed_page, (known, as_of, chosen)


def test_status_pages_of_one_or_two_claims_follow_the_replayed_list(
    projected: ClaimsLedger,
) -> None:
    """Paged one or two claims at a time, a status list (which searches indexes of the
    rows with that status once the claims in order do not fill the page) gives the
    replayed list's claims, in order, at any time."""
    times = random_ledger(projected, 8, events=200)
    assert projected.projector is not None and projected.projector.caught_up()
    rng = random.Random(8)
    statuses = ["unverified", "contested", "leaning true", "leaning false", "confirmed",
                "refuted"]
    for _ in range(12):
        known_us = rng.choice(times)
        as_of = START + timedelta(days=rng.randrange(-1, 62), hours=rng.choice([0, 12]))
        status = rng.choice(statuses)
        chosen = rng.choice([Filters(status=status), Filters(status=status, tag="odd")])
        expected = projected.reads._replayed(
            as_of, from_micros(known_us), chosen, 0, 1000, PROJECTED
        )
        for limit in (1, 2):
            after, paged = 0, []
            while True:
                page = projected.reads._projected(to_micros(as_of), known_us, chosen, after,
                                                  limit)
                paged += page
                if len(page) < limit:
                    break
                after = page[-1][0]
            assert paged == expected, (status, as_of, known_us, limit)


def _key(item: dict[str, Any], key: str) -> Any:
    """The sort key of a listed claim, read from what the list answers."""
    return {
        "text": lambda: item["text"].lower(),
        "probability": lambda: item["credibility"]["probability"],
        "status": lambda: STATUSES.index(item["credibility"]["status"]),
        "last_change": lambda: item["last_change"] or "",
        "moved": lambda: item["moved"],
    }[key]()


@pytest.mark.parametrize("seed", [3])
def test_sorted_pages_are_the_replayed_order_and_page_through_it(
    projected: ClaimsLedger, seed: int
) -> None:
    """Sorted by any key, either way, with or without since: the projection's SQL gives
    the replayed list's order (ties in registration order), and paged three at a time by
    its cursors, the same list."""
    times = random_ledger(projected, seed)
    assert projected.projector is not None and projected.projector.caught_up()
    rng = random.Random(seed)
    for _ in range(10):
        known = from_micros(rng.choice(times))
        as_of = START + timedelta(days=rng.randrange(-1, 62), hours=rng.choice([0, 12]))
        since = as_of - timedelta(days=rng.randrange(1, 40))
        key = rng.choice(SORT_KEYS)
        order = Order(key, rng.random() < 0.5, to_micros(since))
        chosen = rng.choice([Filters(), Filters(tag="odd"), Filters(min_probability=0.3)])
        full = projected.reads._projected(to_micros(as_of), to_micros(known), chosen, 0, 1000,
                                          order)
        assert full == projected.reads._replayed(as_of, known, chosen, 0, 1000, PROJECTED,
                                                 order), (key, order, as_of, known)
        if key != "registered":
            keys = [_key(item, key) for _, item in full]
            assert keys == sorted(keys, reverse=order.descending)
        after, paged = 0, []
        while True:
            page = projected.reads._projected(to_micros(as_of), to_micros(known), chosen,
                                              after, 3, order)
            paged += page
            if len(page) < 3:
                break
            after = page[-1][0]
        assert paged == full, (key, order)


@pytest.mark.parametrize("seed", [4])
def test_each_known_picture_is_maximal_steps_covering_valid_time(
    projected: ClaimsLedger, seed: int
) -> None:
    """As known at any moment, a claim's rows cover valid time end to end, one row per
    step: neighbours always differ (a re-rating or a back-filled statement that leaves a
    neighbouring step's value merges with it, not two rows of one value)."""
    times = random_ledger(projected, seed, events=400)
    assert projected.projector is not None
    rows = tables(projected)[projected.projector.view.tables.intervals]
    for known_us in [*random.Random(seed).sample(times, 20), times[-1]]:
        known: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            claim_id, valid_from, valid_to, recorded_from, recorded_to, *value, _rid = row
            if recorded_from <= known_us < recorded_to:
                known.setdefault(claim_id, []).append((valid_from, valid_to, *value))
        for claim_id, steps in known.items():
            steps.sort()
            for before, after in itertools.pairwise(steps):
                assert before[1] == after[0], (claim_id, known_us, before, after)
                assert before[2:] != after[2:], (claim_id, known_us, before, after)


def test_a_back_dated_rating_merges_with_the_later_step_it_now_equals(
    projected: ClaimsLedger,
) -> None:
    """A re-rating dated before a later one moves only the stretch up to it; where the
    stretch now equals the step after it, the two are one row."""
    projected.register_source({"id": "s", "name": "S", "reliability": "C"}, ACTOR)
    projected.register_claim({"id": "c", "text": "A claim"}, ACTOR)
    projected.append("c", {"type": "asserted", "source": "s", "occurred_at": day(0),
                           "summary": "said so"}, ACTOR)
    projected.rerate_source("s", {"reliability": "B", "occurred_at": day(10)}, ACTOR)
    projected.rerate_source("s", {"reliability": "C", "occurred_at": day(2)}, ACTOR)  # as was
    projected.rerate_source("s", {"reliability": "B", "occurred_at": day(5)}, ACTOR)
    assert projected.projector is not None and projected.projector.caught_up()
    rows = tables(projected)[projected.projector.view.tables.intervals]
    still = max(row[4] for row in rows)  # recorded_to of the rows in force
    current = sorted((row[1], row[2], row[5]) for row in rows if row[4] == still)

    def probability(days: int) -> float:
        answer = projected.reads.claim(
            "c", as_of=START + timedelta(days=days), model=models.PROJECTED
        )
        return float(answer["credibility"]["probability"])

    c_value, b_value = probability(3), probability(6)
    assert c_value < b_value
    assert [(f, t, p) for f, t, p in current] == [
        (current[0][0], to_micros(START), 0.5),
        (to_micros(START), to_micros(START + timedelta(days=5)), c_value),
        (to_micros(START + timedelta(days=5)), current[-1][1], b_value),
    ]


def test_rebuilt_tables_equal_the_incremental_ones(projected: ClaimsLedger) -> None:
    random_ledger(projected, 3)
    assert projected.projector is not None and projected.projector.caught_up()
    incremental = tables(projected)
    assert projected.projector.rebuild() > 0
    assert tables(projected) == incremental


def test_tables_kept_event_by_event_equal_the_rebuilt_ones(
    projected: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Projected after every write, as a server does, the rows and (on SQLite) the R-trees
    are kept up to date row by row; a rebuild indexes them all at once at its end. Both
    give the same tables."""
    from ledger.projection.tables import CredibilityTables

    projector = projected.projector
    assert projector is not None
    fills = []
    fill = CredibilityTables.fill_points

    def counted(self: CredibilityTables, cursor: Any) -> None:
        fills.append(1)
        fill(self, cursor)

    monkeypatch.setattr(CredibilityTables, "fill_points", counted)
    for name in ("register_source", "register_claim", "append", "rerate_source"):
        write = getattr(projected, name)

        def projecting(*args: Any, _write: Any = write, **kwargs: Any) -> Any:
            answer = _write(*args, **kwargs)
            assert projector.caught_up()
            return answer

        monkeypatch.setattr(projected, name, projecting)
    random_ledger(projected, 7, events=120)
    kept = tables(projected)
    if projector.view.tables.indexed:
        assert fills == [1]  # once, after the first write; row by row since
        assert sum(len(kept[t]) for t in projector.view.tables.points.values()) == len(
            kept[projector.view.tables.intervals]
        )
    assert projector.rebuild() > 0
    assert tables(projected) == kept


def test_a_rebuild_stopped_half_way_resumes_to_the_same_tables(
    projected: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild killed between pages leaves a consistent prefix (each page's rows commit
    with its position); ``rebuild(resume=True)`` goes on from there to the tables a whole
    rebuild makes, projecting only the rest."""
    from ledger.projection import projector as module

    random_ledger(projected, 8, events=120)
    projector = projected.projector
    assert projector is not None and projector.caught_up()
    whole = tables(projected)
    monkeypatch.setattr(module, "PAGE", 10)
    with projector.lock.holding() as mine:
        assert mine
        projector.view.drop()
        projector.projection.forget()
        projector.catch_up(until=projector.head() // 2)
    stopped = projector.view.position()
    assert 0 < stopped < projector.head()
    assert projector.rebuild(resume=True) == projector.head() - stopped
    assert tables(projected) == whole


@pytest.mark.parametrize("room", [("CLAIMS_IN_MEMORY", 2), ("STATEMENTS_IN_MEMORY", 30)])
def test_claims_dropped_from_memory_and_reloaded_project_the_same(
    projected: ClaimsLedger, monkeypatch: pytest.MonkeyPatch, room: tuple[str, int]
) -> None:
    """With room for two claims (or 30 statements), states and their current rows are
    reloaded from the store mid-page, re-ratings included: the tables equal those projected
    with room for all."""
    from ledger.projection import projection as module

    random_ledger(projected, 5)
    assert projected.projector is not None and projected.projector.caught_up()
    roomy = tables(projected)
    monkeypatch.setattr(module, *room)
    projected.projector.rebuild()
    assert tables(projected) == roomy


def test_a_rebuild_holding_few_statements_gives_the_same_tables(
    projected: ClaimsLedger,
) -> None:
    random_ledger(projected, 6)
    assert projected.projector is not None and projected.projector.caught_up()
    incremental = tables(projected)
    assert projected.projector.rebuild(hold=30) > 0
    assert tables(projected) == incremental
    assert projected.projector.projection.room is None  # a server's budget again


@pytest.mark.parametrize("layout", [None, "1"])
def test_tables_of_another_layout_are_projected_again_on_opening(
    projected: ClaimsLedger, sql_store: str, layout: str | None
) -> None:
    """A store whose tables another version made (its layout recorded as another, or not
    recorded, as before layouts were) is projected again from the log when opened: same
    tables as before, and the layout recorded."""
    random_ledger(projected, 7, events=60)
    assert projected.projector is not None and projected.projector.caught_up()
    before = tables(projected)
    view = projected.projector.view
    key = view.tables.key("tables")
    assert key == f"tables/{models.PROJECTED}"
    with view.reading() as cursor:
        cursor.execute(view.tables.sql(f"SELECT * FROM {view.tables.format} WHERE name = ?"),
                       (key,))
        assert [tuple(row.values()) if isinstance(row, dict) else tuple(row)
                for row in cursor.fetchall()] == [(key, FORMAT)]

    def change(cursor: Any) -> None:
        cursor.execute(view.tables.sql(f"DELETE FROM {view.tables.format} WHERE name = ?"),
                       (key,))
        cursor.execute(f"DELETE FROM {view.tables.intervals} WHERE valid_from > 0")
        if layout is not None:
            view.tables.record_format(cursor)
            cursor.execute(
                view.tables.sql(f"UPDATE {view.tables.format} SET value = ? WHERE name = ?"),
                (layout, key),
            )

    view.write(change, Tracking(view.tables.tracked, view.position() + 10**6))
    reopened = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        assert reopened.projector is not None
        assert reopened.projector.view.position() == 0  # forgotten: projected again
        assert reopened.projector.caught_up()
        assert tables(reopened) == before
    finally:
        reopened.close()


def test_a_read_after_a_write_sees_it(projected: ClaimsLedger) -> None:
    assert projected.projector is not None
    projected.projector.start()  # as a server does: the projection follows in the background
    projected.register_source({"id": "s", "name": "S", "reliability": "A"}, ACTOR)
    projected.register_claim({"id": "c", "text": "C"}, ACTOR)
    for n in range(5):
        kind = "asserted" if n % 2 == 0 else "denied"
        appended = projected.append(
            "c", {"type": kind, "source": "s", "occurred_at": day(n), "summary": "x"}, ACTOR
        )
        listed = projected.list_claims()["data"][0]["credibility"]
        assert listed["probability"] == appended["credibility"]["probability"]


def test_another_ledger_on_the_store_waits_for_the_projector(
    projected: ClaimsLedger, sql_store: str
) -> None:
    assert projected.projector is not None
    projected.projector.start()
    other = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        other.register_source({"id": "s", "name": "S", "reliability": "A"}, ACTOR)
        other.register_claim({"id": "c", "text": "C"}, ACTOR)
        appended = other.append(
            "c", {"type": "asserted", "source": "s", "occurred_at": day(1), "summary": "x"}, ACTOR
        )
        # The other ledger cannot take the lock: it waits for the running projector.
        assert other.projector is not None and not other.projector.lock.acquire()
        listed = other.list_claims()["data"][0]["credibility"]
        assert listed["probability"] == appended["credibility"]["probability"]
    finally:
        other.close()


KILLED_WORKER = textwrap.dedent(
    """
    import sys, time
    from ledger.bootstrap import open_ledger
    from ledger.config import Settings
    from ledger.projection import projector as module
    module.PAGE = 50
    ledger = open_ledger(Settings(store=sys.argv[1], _env_file=None))
    assert ledger.projector.lock.acquire()
    def slowly(n):
        print("projected", n, flush=True)
        time.sleep(0.2)
    ledger.projector.catch_up(progress=slowly)
    print("done", flush=True)
    """
)


def test_a_projector_killed_half_way_resumes_to_the_same_tables(sql_store: str) -> None:
    settings = Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]
    writer = open_ledger(settings)
    try:
        random_ledger(writer, 4, events=200)
    finally:
        writer.close()
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, sql_store], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    seen = [worker.stdout.readline() for _ in range(2)]
    assert all(line.startswith("projected") for line in seen)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    worker.stdout.close()
    resumed = open_ledger(settings)
    try:
        assert resumed.projector is not None
        half_way = resumed.projector.view.position()
        assert 0 < half_way < resumed.projector.head()
        assert resumed.projector.caught_up()
        after_resume = tables(resumed)
        resumed.projector.rebuild()
        assert tables(resumed) == after_resume
    finally:
        resumed.close()


def test_the_projection_commits_without_waiting_for_the_disk_and_events_still_do(
    projected: ClaimsLedger, sql_store: str
) -> None:
    """A projection's transaction commits unsynced (it is derived, and its position commits
    with it); every other transaction on the store's connections still syncs."""
    assert projected.projector is not None
    view = projected.projector.view
    sqlite = sql_store.startswith("sqlite")
    setting = "PRAGMA synchronous" if sqlite else "SHOW synchronous_commit"

    def current(cursor: Any) -> Any:
        cursor.execute(setting)
        row = cursor.fetchone()
        return row[0] if sqlite else row["synchronous_commit"]

    seen: list[Any] = []
    view.write(lambda cursor: seen.append(current(cursor)), Tracking(view.tables.tracked, 1))
    assert seen == [1 if sqlite else "off"]
    projected.register_source({"id": "s", "name": "S", "reliability": "A"}, ACTOR)
    for _ in range(3):  # whichever pooled connection comes next
        with view.datastore.transaction(commit=True) as cursor:
            assert current(cursor) == (2 if sqlite else "on")
    with pytest.raises(RuntimeError):  # a failed projection write restores it too
        view.write(lambda cursor: (_ for _ in ()).throw(RuntimeError("x")),
                   Tracking(view.tables.tracked, 2))
    with view.datastore.transaction(commit=True) as cursor:
        assert current(cursor) == (2 if sqlite else "on")


def test_a_source_is_interested_by_any_of_its_affiliations_or_its_id_in_lists_too(
    projected: ClaimsLedger,
) -> None:
    """A minister (GB, GB-GOV) denying a claim against GB-GOV, and a company named as the
    party by its own id denying it, are self-serving in the projection as in a replay."""
    projected.register_source(
        {"id": "minister", "name": "Minister", "affiliations": ["GB", "GB-GOV"],
         "reliability": "B"},
        ACTOR,
    )
    projected.register_source({"id": "acme", "name": "Acme", "reliability": "B"}, ACTOR)
    projected.register_source({"id": "paper", "name": "Paper", "reliability": "B"}, ACTOR)
    for cid, party, denier in (("affair", "GB-GOV", "minister"), ("fraud", "acme", "acme")):
        projected.register_claim({"id": cid, "text": f"Claim {cid}", "parties": [party]}, ACTOR)
        say(projected, cid, "asserted", "paper", "2024-01-01")
        say(projected, cid, "denied", denier, "2024-01-02")
        replayed = projected.claim(cid)["credibility"]
        denial = next(c for c in replayed["contributions"] if c["source"] == denier)
        assert "is a party to the claim, so a self-serving denial counts x0.25" in denial["reason"]
        assert replayed["probability"] > 0.5  # the accused's own denial weighs little
    assert projected.projector is not None and projected.projector.caught_up()
    listed = {c["id"]: c["credibility"] for c in projected.list_claims()["data"]}
    for cid in ("affair", "fraud"):
        assert listed[cid]["probability"] == projected.claim(cid)["credibility"]["probability"]


def test_a_list_the_projection_is_behind_on_answers_as_known_where_it_reached(
    sql_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large ledger's list is not replayed claim by claim while its projector lags: it is
    the projection's page as the ledger knew it at the projection's position, saying so."""
    from api.schemas import ClaimsPublic
    from ledger import reads

    writer = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    holder = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        assert writer.projector is not None and holder.projector is not None
        writer.register_source({"id": "s", "name": "S", "reliability": "A"}, ACTOR)
        writer.register_claim({"id": "c", "text": "C"}, ACTOR)
        first = say(writer, "c", "asserted", "s", day(1))
        assert writer.list_claims()["data"][0]["credibility"]["probability"] == (
            first["credibility"]["probability"])  # no projector running: it caught up itself
        # Another process holds the projector's lock and does not project.
        assert holder.projector.lock.acquire()
        second = say(writer, "c", "denied", "s", day(2))
        assert second["credibility"]["probability"] != first["credibility"]["probability"]

        # A small ledger is still replayed: read your writes.
        listed = writer.list_claims()
        assert "behind" not in listed
        assert listed["data"][0]["credibility"]["probability"] == (
            second["credibility"]["probability"])

        monkeypatch.setattr(reads, "REPLAYED_AT_MOST", 0)  # as if it were a large one
        listed = writer.list_claims()
        assert listed["known_at"] == first["recorded_at"]
        assert listed["behind"] == {"position": first["position"], "head": second["position"]}
        item = listed["data"][0]
        assert item["known_at"] == first["recorded_at"]
        assert item["credibility"]["probability"] == first["credibility"]["probability"]
        assert ClaimsPublic.model_validate(listed).behind is not None

        # A known_at the projection has reached is its answer, not "behind".
        asked = writer.list_claims(known_at=from_micros(to_micros_of(first["recorded_at"])))
        assert "behind" not in asked
        assert asked["known_at"] == first["recorded_at"]
    finally:
        holder.close()
        writer.close()


def test_a_large_ledger_whose_projection_has_reached_nothing_refuses_a_list(
    sql_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledger import reads
    from ledger.errors import ProjectionBehind

    holder = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    writer = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        assert holder.projector is not None and holder.projector.lock.acquire()
        writer.register_source({"id": "s", "name": "S", "reliability": "A"}, ACTOR)
        writer.register_claim({"id": "c", "text": "C"}, ACTOR)
        say(writer, "c", "asserted", "s", day(1))
        monkeypatch.setattr(reads, "REPLAYED_AT_MOST", 0)
        with pytest.raises(ProjectionBehind, match="none of the log's 3 events"):
            writer.list_claims()
        assert writer.claim("c")["credibility"]["probability"] > 0.5  # one claim answers
    finally:
        writer.close()
        holder.close()


def to_micros_of(instant: str) -> int:
    return to_micros(datetime.fromisoformat(instant))


def test_a_source_citing_many_claims_restates_them_within_the_claims_kept(
    projected: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-rating, or a resolution that changes a source's track record, restates every
    claim the source spoke on: they are loaded one at a time, so no more claims are alive
    at once than the projector keeps (here two, and the one being restated), and the tables
    are those a rebuild with room for all of them gives."""
    import gc
    import weakref

    from ledger.projection import projection as module

    projector = projected.projector
    assert projector is not None
    projected.register_source({"id": "s", "name": "S", "reliability": "C"}, ACTOR)
    projected.register_source({"id": "judge", "name": "J", "reliability": "A"}, ACTOR)
    projected.register_claim({"id": "early", "text": "Early"}, ACTOR)
    say(projected, "early", "asserted", "s", "2020-01-01")
    for n in range(8):
        projected.register_claim({"id": f"c{n}", "text": f"C {n}"}, ACTOR)
        say(projected, f"c{n}", "asserted", "s", f"2021-0{1 + n % 8}-0{1 + n % 7}")
    assert projector.caught_up()

    monkeypatch.setattr(module, "CLAIMS_IN_MEMORY", 2)
    projector.projection.forget()
    alive: list[weakref.ref[Any]] = []
    peak = [0]
    load = module.CredibilityProjection._claim

    def counted(self: Any, claim_id: str) -> Any:
        found = load(self, claim_id)
        alive.append(weakref.ref(found))
        gc.collect()
        peak[0] = max(peak[0], len({id(o) for r in alive if (o := r()) is not None}))
        return found

    monkeypatch.setattr(module.CredibilityProjection, "_claim", counted)
    # The resolution changes s's record from 2020-06 on: the claims s spoke on after it move.
    say(projected, "early", "resolved", "judge", "2020-06-01", outcome="confirmed", basis="x")
    assert projector.caught_up()
    assert 0 < peak[0] <= 3
    peak[0] = 0
    projected.rerate_source("s", {"reliability": "A", "occurred_at": "2020-01-01"}, ACTOR)
    assert projector.caught_up()
    assert 0 < peak[0] <= 3

    kept = tables(projected)
    monkeypatch.setattr(module, "CLAIMS_IN_MEMORY", 5000)
    projector.rebuild()
    assert tables(projected) == kept
