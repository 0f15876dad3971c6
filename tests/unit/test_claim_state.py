"""The projection's sweep over valid time answers what a summary at every moment answers.

``ClaimEvaluator.steps`` looks again, at each moment, only at the lists that may change there;
this holds it equal to the plain way (the full summary at every moment a statement or a
rating starts, equal steps merged) on random histories: back-filled and same-day
statements, retractions, corrections of time and type, resolutions, and re-ratings; with
the sources in a plain mapping and in the projection's ``SourceBook`` (which finds the
ratings in a stretch of valid time across sources at once).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.credibility import VERSIONS, ModelVersion, SourceStanding
from ledger.credibility.evaluator import ClaimEvaluator
from ledger.credibility.records import RecordBook, record_entries, resolved_stances
from ledger.credibility.sources import Recorded, SourceBook, SourceData
from ledger.credibility.values import Summary, TrackRecord
from ledger.statements import Statement

V1, V2 = VERSIONS["credibility-v1"], VERSIONS["credibility-v2"]
START = datetime(2024, 1, 1, tzinfo=UTC)
SOURCES = ["a", "b", "c", "d"]
AFFILIATIONS = {"a": "RU", "b": "UA", "c": None, "d": "UA"}


def _day(n: int) -> datetime:
    return START + timedelta(days=n)


def _history(
    seed: int,
    last: list[Statement] | None = None,
    check: Callable[[ClaimEvaluator, dict[str, SourceData]], None] | None = None,
    book: bool = False,
    model: ModelVersion = V1,
) -> tuple[ClaimEvaluator, dict[str, SourceData], list[datetime]]:
    """A random history; with ``last``, its final statement is left out and put there;
    ``check`` is called after each event; with ``book``, the sources are in a
    ``SourceBook``; ``model``: the version the evaluator computes."""
    rng = random.Random(seed)
    state = ClaimEvaluator(model.strategy, "c", ["RU"], ["UA"])
    sources: dict[str, SourceData] = SourceBook() if book else {}
    for sid in SOURCES:
        sources[sid] = SourceData(
            sid, sid.upper(), None, AFFILIATIONS[sid],
            [Recorded({"reliability": rng.choice("ABCDEF"), "occurred_at": None, "version": 1},
                      0, 0)],
        )
    said: list[Statement] = []
    times = []
    for position in range(1, rng.randrange(2, 40)):
        sid = rng.choice(SOURCES)
        when = _day(rng.randrange(0, 20))
        times.append(when)
        roll = rng.random()
        event_id = f"e{position:03d}"
        if roll < 0.1:
            rating = {"reliability": rng.choice("ABCDE"), "occurred_at": when,
                      "version": position + 1}
            if isinstance(sources, SourceBook):
                sources.add_rating(sid, Recorded(rating, position, position))
            else:
                sources[sid].ratings.append(Recorded(rating, position, position))
            if check is not None:
                check(state, sources)
            continue
        mine = [s for s in said if s.source == sid]
        if roll < 0.2 and mine:
            target = rng.choice(mine)
            statement = Statement(event_id, "retracted", sid, max(when, target.at),
                                  supersedes=target.event_id, position=position)
        elif roll < 0.3 and said:
            target = rng.choice(said)
            statement = Statement(event_id, "corrected", None, when, supersedes=target.event_id,
                                  corrected_type=rng.choice(["asserted", "denied"]),
                                  summary="fixed", position=position)
        elif roll < 0.35:
            statement = Statement(event_id, "resolved", sid, when, position=position,
                                  outcome=rng.choice(["confirmed", "refuted"]), basis="record")
        elif roll < 0.65:
            statement = Statement(event_id, "assessed", sid, when, position=position,
                                  likelihood=rng.choice([0.1, 0.3, 0.5, 0.7, 0.92]))
        else:
            statement = Statement(event_id, rng.choice(["asserted", "denied"]), sid, when,
                                  summary="said so", position=position)
        if last is not None:
            last[:] = [statement]
            snapshot = (dict(state.statements), {k: list(v) for k, v in state.positions.items()},
                        {k: list(v) for k, v in state.assertions.items()},
                        list(state.resolutions), {k: list(v) for k, v in state.retractions.items()},
                        list(state.timeline))
        state.apply(statement)
        if statement.type in ("asserted", "denied", "assessed", "resolved"):
            said.append(statement)
        if check is not None:
            check(state, sources)
    if last is not None and last:
        (state.statements, state.positions, state.assertions, state.resolutions,
         state.retractions, state.timeline) = snapshot
    return state, sources, times


def _plainly(
    state: ClaimEvaluator,
    since: datetime,
    until: datetime | None,
    sources: dict[str, SourceData],
    summary: Callable[[datetime], Summary] | None = None,
) -> list[tuple[datetime, Summary]]:
    """The full summary at every moment anything starts in [since, until), merged
    (``summary``: the answer at a moment; default the state's own in v1)."""
    moments = {since}
    for statement in state.statements.values():
        if since <= statement.at and (until is None or statement.at < until):
            moments.add(statement.at)
    for source in sources.values():
        for rated in source.ratings:
            at = rated.record["occurred_at"]
            if at is not None and since <= at and (until is None or at < until):
                moments.add(at)
    steps: list[tuple[datetime, Summary]] = []
    for moment in sorted(moments):
        value = (
            state.summary(moment, sources, 2**62) if summary is None else summary(moment)
        )
        if not steps or steps[-1][1] != value:
            steps.append((moment, value))
    return steps


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**9),
    st.integers(-2, 22),
    st.one_of(st.none(), st.integers(0, 24)),
    st.booleans(),
)
def test_the_sweep_equals_a_summary_at_every_moment(
    seed: int, since: int, span: int | None, book: bool
) -> None:
    state, sources, _ = _history(seed, book=book)
    start = _day(since) + timedelta(hours=12 if seed % 2 else 0)
    until = None if span is None else start + timedelta(days=span)
    if until is not None and until <= start:
        return
    assert state.steps(start, until, sources, 2**62) == _plainly(state, start, until, sources)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.booleans())
def test_the_sweep_stays_equal_as_statements_and_ratings_arrive(seed: int, book: bool) -> None:
    """Swept again after every event, from a different valid time each time (what the
    sweep keeps between calls, the voices at the end of valid time, must follow each new
    statement, retraction, correction and rating)."""
    rng = random.Random(seed)

    def check(state: ClaimEvaluator, sources: dict[str, SourceData]) -> None:
        start = _day(rng.randrange(-1, 21)) + timedelta(hours=rng.choice([0, 12]))
        until = None if rng.random() < 0.5 else start + timedelta(days=rng.randrange(1, 10))
        assert state.steps(start, until, sources, 2**62) == _plainly(state, start, until, sources)

    _history(seed, check=check, book=book)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9))
def test_a_statement_moves_the_answer_only_where_apply_says(seed: int) -> None:
    """Outside the valid times ``apply`` answers, the answer is as it was before."""
    last: list[Statement] = []
    state, sources, times = _history(seed, last)
    if not last:
        return
    moments = sorted({START - timedelta(days=1), *times, *(t + timedelta(hours=1) for t in times)})
    before = {m: state.summary(m, sources, 2**62) for m in moments}
    moved = state.apply(last[0])
    for moment in moments:
        inside = moved is not None and moved[0] <= moment
        inside = inside and (moved[1] is None or moment < moved[1])  # type: ignore[index]
        if not inside:
            assert state.summary(moment, sources, 2**62) == before[moment], (moment, moved)


# --- credibility-v2 ----------------------------------------------------------------------


def _records(seed: int) -> RecordBook:
    """A record book holding two other claims' random histories (resolved or not), so the
    sources have records that change over valid time."""
    book = RecordBook(V2.strategy.record_weight)
    for n in range(2):
        other, _, _ = _history(seed * 7 + n)
        book.update(f"other-{n}", other.statements.values())
    return book


def _v2(
    state: ClaimEvaluator, moment: datetime, sources: dict[str, SourceData], book: RecordBook
) -> Summary:
    """credibility-v2's own answer at ``moment``, from the evidence in scope then."""
    evidence = [s for s in state.statements.values() if s.at <= moment]
    standings = {
        sid: SourceStanding(sid, source.name, source.affiliation, source.grade(moment, 2**62))
        for sid, source in sources.items()
    }

    def records(at: datetime) -> dict[str, TrackRecord]:
        return {sid: r for sid in sources if (r := book.record(sid, at)) is not None}

    answer = V2.assess(evidence, standings, state.parties, state.beneficiaries, records)
    return (answer.probability, answer.band, answer.status, answer.grade)


def _plainly_v2(
    state: ClaimEvaluator,
    since: datetime,
    until: datetime | None,
    sources: dict[str, SourceData],
    book: RecordBook,
) -> list[tuple[datetime, Summary]]:
    return _plainly(state, since, until, sources, lambda m: _v2(state, m, sources, book))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9))
def test_record_entries_are_the_stances_resolved_at_every_moment(seed: int) -> None:
    """What a claim adds to the records at any moment is what v2's replay reads there:
    ``resolved_stances`` of its statements up to that moment."""
    state, _, times = _history(seed)
    entries = record_entries(state.statements.values())
    for moment in sorted({*times, *(t + timedelta(hours=12) for t in times)}):
        in_force = [
            entry.stance for entry in entries if entry.in_force(moment)
        ]
        scope = [s for s in state.statements.values() if s.at <= moment]
        assert in_force == resolved_stances(scope), moment


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.booleans())
def test_a_v2_summary_is_v2s_answer_and_the_v2_sweep_equals_it(seed: int, book: bool) -> None:
    state, sources, times = _history(seed, book=book, model=V2)
    records = _records(seed)
    for moment in sorted({START - timedelta(days=1), *times}):
        assert state.summary(moment, sources, 2**62, records) == _v2(
            state, moment, sources, records
        ), moment
    rng = random.Random(seed)
    start = _day(rng.randrange(-1, 21)) + timedelta(hours=rng.choice([0, 12]))
    until = None if rng.random() < 0.5 else start + timedelta(days=rng.randrange(1, 10))
    assert state.steps(start, until, sources, 2**62, records) == _plainly_v2(
        state, start, until, sources, records
    )


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9))
def test_the_v2_sweep_stays_equal_as_statements_and_ratings_arrive(seed: int) -> None:
    rng = random.Random(seed)
    records = _records(seed)

    def check(state: ClaimEvaluator, sources: dict[str, SourceData]) -> None:
        start = _day(rng.randrange(-1, 21)) + timedelta(hours=rng.choice([0, 12]))
        until = None if rng.random() < 0.5 else start + timedelta(days=rng.randrange(1, 10))
        assert state.steps(start, until, sources, 2**62, records) == _plainly_v2(
            state, start, until, sources, records
        )

    _history(seed, check=check, book=True, model=V2)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**9))
def test_the_v2_sweep_stays_equal_as_records_change_between_sweeps(seed: int) -> None:
    """What a sweep keeps between calls (the voices at the end of valid time and at the
    valid times earlier sweeps started from) follows the sources' records as other
    claims are resolved, unresolved and resolved again."""
    rng = random.Random(seed)
    records = _records(seed)
    others = [_history(seed * 13 + n)[0] for n in range(3)]

    def check(state: ClaimEvaluator, sources: dict[str, SourceData]) -> None:
        if rng.random() < 0.3:
            other = rng.choice(others)
            kept = rng.sample(list(other.statements.values()), k=len(other.statements) // 2)
            records.update(f"other-{rng.randrange(3)}", kept)
        start = _day(rng.randrange(-1, 21)) + timedelta(hours=rng.choice([0, 12]))
        until = None if rng.random() < 0.5 else start + timedelta(days=rng.randrange(1, 10))
        assert state.steps(start, until, sources, 2**62, records) == _plainly_v2(
            state, start, until, sources, records
        )

    _history(seed, check=check, book=True, model=V2)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9))
def test_a_statement_moves_the_v2_answer_only_where_apply_says(seed: int) -> None:
    last: list[Statement] = []
    state, sources, times = _history(seed, last, model=V2)
    if not last:
        return
    records = _records(seed)
    moments = sorted({START - timedelta(days=1), *times, *(t + timedelta(hours=1) for t in times)})
    before = {m: state.summary(m, sources, 2**62, records) for m in moments}
    moved = state.apply(last[0])
    for moment in moments:
        inside = moved is not None and moved[0] <= moment
        inside = inside and (moved[1] is None or moment < moved[1])  # type: ignore[index]
        if not inside:
            assert state.summary(moment, sources, 2**62, records) == before[moment], moment
