"""Replay: a claim's credibility, history, audit and timeline from its records.

The application loads a claim and its sources (as known at some recording time) into the
plain structures below; everything here is a function of them, with no store behind it.
Valid time (``occurred_at``) and recording time (``recorded_at``, microseconds) are applied
here, by the spec's rules: a correction replaces its event for views known after it was
recorded; a retraction withdraws its event from its own ``occurred_at`` on. Every number
comes from the credibility engine (``ledger.credibility``): a point answer from the model
version's ``assess``, an audit and a timeline from one ``ClaimEvaluator`` fed the claim's
records in recording order, whatever the version.
"""

from __future__ import annotations

import bisect
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ledger.answers import JSON
from ledger.caching import Bounded, budget, on_configure
from ledger.credibility.evaluator import ClaimEvaluator
from ledger.credibility.records import StanceWeight, record_entries, track_records
from ledger.credibility.registry import ModelVersion
from ledger.credibility.selection import Canonical
from ledger.credibility.sources import EPOCH, Recorded, SourceData
from ledger.credibility.values import (
    Credibility,
    RecordEntry,
    ResolvedStance,
    TrackRecord,
    key_of,
    unweighable,
)
from ledger.statements import (
    OPTIONAL_FIELDS,
    Statement,
    StatementType,
    with_corrections,
)
from ledger.times import format_instant, from_micros

__all__ = ["ClaimData", "Recorded", "RecordedStatement", "SourceData"]

log = logging.getLogger(__name__)

#: A credibility without its grade and explanation, as the audit and the timeline show it.
Summary = JSON


@dataclass(frozen=True, slots=True)
class RecordedStatement:
    """One statement as stored, with when the ledger recorded it (its position is on it)."""

    statement: Statement
    recorded_at: int  # microseconds since the epoch

    @property
    def position(self) -> int:
        return self.statement.position


@dataclass
class ClaimData:
    claim_id: str
    text: str
    tags: list[str]
    parties: list[str]
    version: int
    beneficiaries: list[str] = field(default_factory=list)
    records: list[RecordedStatement] = field(default_factory=list)
    alleged_at: datetime | None = None  # when the alleged thing happened, if given
    #: What reads work out of the records (``weighable``), by how many records are known
    #: and the last one's event: shared by the copies a store hands out of one claim read
    #: (``dataclasses.replace`` passes it on), whose first records are the same events, as
    #: a stream's first versions never change (a copy with other records, as a preview
    #: makes, gets a ``derived`` of its own).
    derived: dict[tuple[int, str | None], Weighable] = field(
        default_factory=dict, compare=False, repr=False
    )


#: Record counts a claim keeps ``weighable`` for: a read as known now, and a few earlier.
DERIVED_KEPT = 4


@dataclass(frozen=True, slots=True)
class Weighable:
    """A claim's weighable statements as known at some time: in recording order, and (when
    no event id repeats) in the engine's canonical order with their valid times."""

    recorded: list[Statement]
    canonical: Canonical | None
    times: list[datetime]

    def made_by(self, as_of: datetime) -> list[Statement]:
        """Those made by ``as_of``: canonical (a prefix of it) where it is known."""
        if self.canonical is None:
            return [statement for statement in self.recorded if statement.at <= as_of]
        return Canonical(self.canonical[: bisect.bisect_right(self.times, as_of)])


def known(claim: ClaimData, known_at: int) -> list[RecordedStatement]:
    return [r for r in claim.records if r.recorded_at <= known_at]


def corrected_statements(claim: ClaimData, known_at: int) -> list[Statement]:
    """Statements as known at ``known_at``, each with the corrections known by then applied."""
    return with_corrections(r.statement for r in known(claim, known_at))


def weighable(claim: ClaimData, known_at: int) -> list[Statement]:
    """``corrected_statements`` less those the model cannot weigh (logged), in recording
    order, worked out once for the same known records and kept on the claim (``derived``):
    a long claim read again is not corrected again. The list is shared: callers do not
    change it."""
    return _weighable(claim, known_at).recorded


def _weighable(claim: ClaimData, known_at: int) -> Weighable:
    records = known(claim, known_at)
    key = (len(records), records[-1].statement.event_id if records else None)
    kept = claim.derived.get(key)
    if kept is not None:
        return kept
    found = []
    for statement in with_corrections(r.statement for r in records):
        problem = unweighable(statement)
        if problem:
            # The write side refuses such records; one that got in anyway (an older bug, a
            # hand-made import) must not make the claim unreadable for ever.
            log.warning(
                "claim %s: event left out of the credibility: event %r: %s",
                claim.claim_id,
                statement.event_id,
                problem,
            )
            continue
        found.append(statement)
    ordered = sorted(found, key=key_of)
    unique = len({statement.event_id for statement in ordered}) == len(ordered)
    kept = Weighable(
        found, Canonical(ordered) if unique else None, [statement.at for statement in ordered]
    )
    if len(claim.derived) >= DERIVED_KEPT:
        claim.derived.clear()
    claim.derived[key] = kept
    return kept


def evidence(claim: ClaimData, as_of: datetime, known_at: int) -> list[Statement]:
    """The statements that count at (``as_of``, ``known_at``): ``weighable`` ones made by
    ``as_of``, in recording order."""
    return [statement for statement in weighable(claim, known_at) if statement.at <= as_of]


#: The sources' track records as they stood at a moment of valid time as known at
#: known_at, for a model version that learns (it asks at each statement's occurred_at).
Records = Callable[[datetime, int], Mapping[str, TrackRecord]]


def credibility(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    known_at: int,
    model: ModelVersion,
    records: Records | None = None,
) -> Credibility:
    """The claim's credibility at (``as_of``, ``known_at``) by ``model``; ``records`` gives
    a learning model the track records as they stood at each statement's time, as known
    at ``known_at``."""
    items = _weighable(claim, known_at).made_by(as_of)  # the model's order, made once
    standings = {
        sid: sources[sid].standing(as_of, known_at)
        for sid in {e.speaker for e in items}
        if sid in sources
    }
    learnt = None
    if model.learns and records is not None:
        def learnt(moment: datetime) -> Mapping[str, TrackRecord]:
            return records(moment, known_at)
    return model.assess(items, standings, claim.parties, claim.beneficiaries, learnt)


def _resolves(statement: Statement) -> bool:
    """A resolution, or a correction that turns a statement into one."""
    return statement.type == StatementType.RESOLVED or (
        statement.type == StatementType.CORRECTED
        and statement.corrected_type == StatementType.RESOLVED
    )


def _times_of(claim: ClaimData) -> tuple[list[int], int | None]:
    """The claim's recording times (log order: sorted) and when its first resolution was
    recorded (None: none is), worked out once per version of it in a process."""
    if not claim.records:
        return [], None
    last = claim.records[-1]
    key = (claim.claim_id, claim.records[0].statement.event_id, len(claim.records),
           last.position, last.statement.event_id)
    found = _TIMES.get(key)
    if found is None:
        resolving = [r.recorded_at for r in claim.records if _resolves(r.statement)]
        found = ([r.recorded_at for r in claim.records], min(resolving, default=None))
        _TIMES.put(key, found)
    return found


#: ``_times_of`` each version of a claim read, by the same key as ``_ENTRIES``.
_TIMES: Bounded[tuple[str, str, int, int, str], tuple[list[int], int | None]] = Bounded(
    budget("records") // 2, lambda found: 120 + 40 * len(found[0])
)
#: What each resolved claim adds to the records, by (claim, its first event, how many of
#: its records are known, the last one's position and event): kept across reads in a
#: process, since a claim's records up to a position never change; the least recently
#: used go first.
_ENTRIES: Bounded[tuple[str, str, int, int, str], list[RecordEntry]] = Bounded(
    budget("records") // 2, lambda entries: 120 + 250 * len(entries)
)


def _resize(budget_of: Callable[[str], int]) -> None:
    """Bound the process-wide caches above anew (a new memory budget)."""
    global _TIMES, _ENTRIES
    _TIMES = Bounded(budget_of("records") // 2, lambda found: 120 + 40 * len(found[0]))
    _ENTRIES = Bounded(budget_of("records") // 2, lambda entries: 120 + 250 * len(entries))


on_configure(_resize)


#: Records a ``LedgerRecords`` keeps once worked out (by source, moment and revision).
RECORDS_KEPT = 50_000
#: Indexes by source (one per records revision) a ``LedgerRecords`` keeps.
INDEXES_KEPT = 8
_UNKNOWN = object()


class LedgerRecords:
    """The sources' track records at any (moment, known_at) up to the known_at the claims
    were read at: only resolutions in scope there count (valid time by the moment, a
    statement's time; recording time by known_at), so a statement made in 2003 is never
    weighed with what was learnt in 2004.

    ``claims`` are every claim as known at that time; only those with a resolution
    recorded matter. What each adds to the records over valid time is worked out once per
    version of it (``_ENTRIES``), so a walk through many times of one claim (an audit, a
    timeline), or many reads, read the other claims' records once per change. A record is
    worked out for the source asked about, from that source's entries alone (indexed by
    source once per known_at), so reading a claim costs its speakers' records, not every
    resolved claim's stances at each of its moments.
    """

    def __init__(
        self,
        claims: Iterable[ClaimData],
        weight: StanceWeight,
        revision: Callable[[int], int] | None = None,
    ) -> None:
        #: How much a stance counts in a record (the learning version's own rule).
        self.weight = weight
        #: Which known_at see the same records (``LedgerApplication.records_revision``):
        #: what is worked out for one is kept for the others (default: each its own).
        self.revision = revision or (lambda known_at: known_at)
        self.claims: list[ClaimData] = []
        #: Each claim's recording times and when its first resolution was recorded.
        self._times: list[tuple[list[int], int]] = []
        for claim in claims:
            recorded, resolving = _times_of(claim)
            if resolving is not None:
                self.claims.append(claim)
                self._times.append((recorded, resolving))
        #: Every claim's entries by source, as known at a known_at.
        self._by_source: dict[int, dict[str, list[RecordEntry]]] = {}
        self._records: dict[tuple[str, datetime, int], object] = {}
        self._revisions: dict[int, int] = {}  # by known_at

    def stances(self, as_of: datetime, known_at: int) -> list[ResolvedStance]:
        """Every source's stance on each claim resolved by ``as_of`` as known at ``known_at``."""
        return [
            entry.stance
            for i, claim in enumerate(self.claims)
            for entry in self._entries_of(i, claim, known_at)
            if entry.in_force(as_of)
        ]

    def _entries_of(self, i: int, claim: ClaimData, known_at: int) -> list[RecordEntry]:
        """What one claim adds to the records over valid time as known at ``known_at``
        (``record_entries``), worked out once per version of it known."""
        recorded, resolving = self._times[i]
        if known_at < resolving:  # no resolution of it known yet
            return []
        count = bisect.bisect_right(recorded, known_at)
        last = claim.records[count - 1]
        # The log never changes below a position: these records are this claim's up to
        # there, in any store whose log holds these events there.
        key = (claim.claim_id, claim.records[0].statement.event_id, count, last.position,
               last.statement.event_id)
        entries = _ENTRIES.get(key)
        if entries is None:
            entries = record_entries(corrected_statements(claim, known_at))
            _ENTRIES.put(key, entries)
        # Those in force at a moment are what ``resolved_stances(evidence(claim, moment,
        # known_at))`` finds (a property test of ``record_entries`` holds them equal).
        return entries

    def record(self, source: str, moment: datetime, known_at: int) -> TrackRecord | None:
        """The source's record at ``moment`` as known at ``known_at`` (None: no stance
        counts): what ``track_records`` of every stance then gives this source."""
        revision = self._revisions.get(known_at)
        if revision is None:
            if len(self._revisions) >= RECORDS_KEPT:
                self._revisions.clear()
            revision = self._revisions[known_at] = self.revision(known_at)
        key = (source, moment, revision)
        known = self._records.get(key, _UNKNOWN)  # one look: another thread may clear them
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        by_source = self._by_source.get(revision)
        if by_source is None:
            if len(self._by_source) >= INDEXES_KEPT:  # a kept book walked through many
                self._by_source.clear()  # known_at (audits) must not grow without bound
            by_source = {}
            for i, claim in enumerate(self.claims):
                for entry in self._entries_of(i, claim, known_at):
                    by_source.setdefault(entry.stance.source, []).append(entry)
            self._by_source[revision] = by_source
        stances = [
            entry.stance for entry in by_source.get(source, ()) if entry.in_force(moment)
        ]
        found = track_records(stances, moment, self.weight).get(source)
        if len(self._records) >= RECORDS_KEPT:
            self._records.clear()
        self._records[key] = found
        return found

    def __call__(self, moment: datetime, known_at: int) -> Mapping[str, TrackRecord]:
        return _RecordsAt(self, moment, known_at)


class _RecordsAt(Mapping[str, TrackRecord]):
    """The sources' records at (``moment``, ``known_at``), each worked out when asked for
    (``LedgerRecords.record``); iterating them works out every source's."""

    def __init__(self, book: LedgerRecords, moment: datetime, known_at: int) -> None:
        self.book, self.moment, self.known_at = book, moment, known_at

    def __getitem__(self, source: str) -> TrackRecord:
        found = self.book.record(source, self.moment, self.known_at)
        if found is None:
            raise KeyError(source)
        return found

    def _all(self) -> dict[str, TrackRecord]:
        book = self.book
        return track_records(book.stances(self.moment, self.known_at), self.moment, book.weight)

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def event_view(claim_id: str, rec: RecordedStatement) -> JSON:
    """An event as returned: the contract's field names, times as RFC 3339 strings."""
    s = rec.statement
    view: JSON = {
        "event_id": s.event_id,
        "claim_id": claim_id,
        "type": s.type,
        "source": s.source,
        "occurred_at": format_instant(s.at),
        "recorded_at": format_instant(from_micros(rec.recorded_at)),
        "position": rec.position,
        "actor": s.actor,
    }
    for name in OPTIONAL_FIELDS:
        value = getattr(s, name)
        if value is not None:
            view[name] = value
    return view


def history(
    claim: ClaimData, as_of: datetime, known_at: int, after: int = 0
) -> Iterator[JSON]:
    """The raw records recorded by ``known_at`` that occurred by ``as_of``, in log order,
    from the first after position ``after`` on (each made as it is asked for)."""
    return (
        event_view(claim.claim_id, rec)
        for rec in known(claim, known_at)
        if rec.position > after and rec.statement.at <= as_of
    )


def summary(c: Credibility) -> JSON:
    return {"probability": c.probability, "band": c.band, "status": c.status}


class _Withdraws(Protocol):
    def in_scope(self, statement: Statement) -> bool: ...

    def first_retraction(self, statement: Statement) -> Statement | None: ...


def _withdrawal_context(
    statement: Statement, statements: Mapping[str, Statement], scope: _Withdraws
) -> list[Statement] | None:
    """What the reason of a retraction, or of a statement its source withdrew, depends on:
    the event a retraction names (and the retraction before it that withdrew that event,
    if any), or the retraction that withdrew the statement. None: it is neither."""
    if statement.type == StatementType.RETRACTED:
        found = []
        target = statements.get(statement.supersedes or "")
        if target is not None and scope.in_scope(target):
            found.append(target)
            if target.type != StatementType.RETRACTED and target.source == statement.source:
                first = scope.first_retraction(target)
                if first is not None:
                    found.append(first)
        return found
    withdrawn = scope.first_retraction(statement)
    return None if withdrawn is None else [withdrawn]


_Change = tuple[int, int, JSON, str, str | None]  # position, recorded_at, record, type, source


def audit(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    *,
    since: int | None = None,
    until: int | None = None,
    source: str | None = None,
    after: int = 0,
    limit: int | None = None,
    model: ModelVersion,
    records: Records | None = None,
) -> list[JSON]:
    """Every change of credibility (at ``as_of``) in recording order, and what caused it.

    Each of the claim's events is an entry; a re-rating of one of its sources is an entry
    when it moved the result. ``before``/``after`` are the credibility as known just before
    and just after the event was recorded. ``after`` and ``limit`` page: the entries at
    positions after ``after``, at most ``limit`` of them.

    One pass in recording order: the claim's records are fed to the engine's evaluator as
    they were recorded, and each entry is answered from what is known just before and
    just after its recording time (ratings and track records as known then); its reason
    is the model's own, asked over the few statements the contribution depends on.
    """
    cited = sorted({rec.statement.speaker for rec in claim.records} & sources.keys())
    changes: list[_Change] = [
        (
            rec.position,
            rec.recorded_at,
            rec.statement.payload(),
            rec.statement.type,
            rec.statement.source,
        )
        for rec in claim.records
    ]
    for sid in cited:
        changes += [
            (rated.position, rated.recorded_at, rated.record, "rerated", sid)
            for rated in sources[sid].ratings
            if rated.record["occurred_at"]
        ]
    changes.sort(key=lambda c: c[0])
    wanted: dict[int, list[_Change]] = {}
    for change in changes:
        position, recorded_at, _, _, who = change
        if (
            position <= after
            or (since is not None and recorded_at < since)
            or (until is not None and recorded_at > until)
            or (source is not None and who != source)
        ):
            continue
        wanted.setdefault(recorded_at, []).append(change)
    # Positions and recording times agree in every store: entries then come out in
    # position order, and the walk stops at the page's end.
    in_order = all(a[1] <= b[1] for a, b in itertools.pairwise(changes))
    steps = _audit_steps(claim, sources, as_of, wanted, model, records)
    entries: list[tuple[int, JSON]] = []
    for recorded_at, before, after_it, state in steps:
        for position, _, r, kind, who in wanted[recorded_at]:
            if kind == "rerated" and before == after_it:
                continue
            entries.append(
                (
                    position,
                    {
                        "position": position,
                        "event_id": r["event_id"],
                        "recorded_at": format_instant(from_micros(recorded_at)),
                        "occurred_at": format_instant(r["occurred_at"]),
                        "type": kind,
                        "source": who,
                        "actor": r["actor"],
                        "before": dict(before),
                        "after": dict(after_it),
                        "reason": _why(r, kind, who, state, as_of),
                    },
                )
            )
        if in_order and limit is not None and len(entries) >= limit:
            break
    entries.sort(key=lambda entry: entry[0])
    return [entry for _, entry in entries[:limit]]


class _Explains(Protocol):
    def reason(self, event_id: str) -> str | None: ...


_Step = tuple[int, Summary, Summary, _Explains]  # recorded_at, before, after, explanations


def _audit_steps(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    wanted: Mapping[int, list[_Change]],
    model: ModelVersion,
    records: Records | None,
) -> Iterator[_Step]:
    """The walk: one pass in recording order, the claim's records fed to the evaluator as
    they were recorded; each entry's before and after are its summaries at ``as_of`` as
    known just before and at the entry's recording time, and its reason the model's own
    (``_Explanations``)."""
    state = ClaimEvaluator(model.strategy, claim.claim_id, claim.parties, claim.beneficiaries)
    pending = iter(claim.records)  # in log order: recording times never go back
    ahead = next(pending, None)
    for recorded_at in sorted(wanted):
        while ahead is not None and ahead.recorded_at < recorded_at:
            state.apply(ahead.statement)
            ahead = next(pending, None)
        before = _summary(state, sources, as_of, recorded_at - 1, records)
        while ahead is not None and ahead.recorded_at == recorded_at:
            state.apply(ahead.statement)
            ahead = next(pending, None)
        after_it = _summary(state, sources, as_of, recorded_at, records)
        yield recorded_at, before, after_it, _Explanations(
            model, claim, state, sources, as_of, recorded_at, records
        )


def _summary(
    state: ClaimEvaluator, sources: dict[str, SourceData], as_of: datetime, known_at: int,
    records: Records | None,
) -> Summary:
    probability, band, status, _ = state.summary(
        as_of, sources, known_at, _RecordsKnown(records, known_at)
    )
    return {"probability": probability, "band": band, "status": status}


class _Explanations:
    """The reason of one event's contribution at (``as_of``, as known at ``known_at``):
    the model itself (``assess``) asked over the few statements the contribution depends
    on: a retraction's target, what superseded a statement, the stronger voices of its
    witness group on its side, each speaker concerned as it stands (and, for a version
    that dates the first report, its first assertion and the claim's first report), and
    what a relay repeats."""

    def __init__(
        self,
        model: ModelVersion,
        claim: ClaimData,
        state: ClaimEvaluator,
        sources: dict[str, SourceData],
        as_of: datetime,
        known_at: int,
        records: Records | None,
    ) -> None:
        self.model, self.claim, self.state, self.sources = model, claim, state, sources
        self.as_of, self.known_at, self.records = as_of, known_at, records

    def in_scope(self, statement: Statement) -> bool:
        return unweighable(statement) is None and statement.at <= self.as_of

    def first_retraction(self, statement: Statement) -> Statement | None:
        found = [
            r
            for r in self.state.retractions.get(statement.event_id, ())
            if r.source == statement.source and r.at <= self.as_of
        ]
        return min(found, key=key_of) if found else None

    def reason(self, event_id: str) -> str | None:
        statement = self.state.statements.get(event_id)
        if statement is None or not self.in_scope(statement):
            return None
        context = self._context(statement)
        standings = {
            sid: self.sources[sid].standing(self.as_of, self.known_at)
            for sid in {s.speaker for s in context}
            if sid in self.sources
        }
        known = _RecordsKnown(self.records, self.known_at)

        def records_at(moment: datetime) -> dict[str, TrackRecord]:
            return {
                sid: found
                for sid in {s.speaker for s in context}
                if (found := known.record(sid, moment)) is not None
            }

        result = self.model.assess(
            context, standings, self.claim.parties, self.claim.beneficiaries, records_at
        )
        return next(c.reason for c in result.contributions if c.event_id == event_id)

    def _context(self, statement: Statement) -> list[Statement]:
        """The evidence in scope that the statement's contribution depends on (see the
        class's notes)."""
        state, as_of = self.state, self.as_of
        found = {statement.event_id: statement}

        def add(*others: Statement) -> None:
            for other in others:
                found.setdefault(other.event_id, other)

        def speaker(sid: str) -> None:
            """The speaker as it stands at as_of: its counted position, and its first
            assertion if that position is an assertion."""
            latest = state.latest(state.positions.get(sid, []), as_of)
            if latest is not None:
                add(latest)
                first = state.first_assertion(sid, as_of)
                if first is not None:
                    add(first)

        withdrawals = _withdrawal_context(statement, state.statements, self)
        if withdrawals is not None:
            add(*withdrawals)
            return list(found.values())
        owner = None if statement.type == StatementType.RESOLVED else statement.speaker
        keys = state.resolutions if owner is None else state.positions.get(owner, [])
        latest = state.latest(keys, as_of)
        if latest is not None and latest.event_id != statement.event_id:
            add(latest)
            return list(found.values())
        voices = state.voices(
            as_of, self.sources, self.known_at, _RecordsKnown(self.records, self.known_at)
        )
        firsts = {sid: state.first_assertion(sid, as_of) for sid in voices}
        reporters = [f for f in firsts.values() if f is not None]
        if reporters:  # the claim's first report, which dates every other
            speaker(min(reporters, key=key_of).speaker)
        if owner is None:
            for sid in voices:
                speaker(sid)
            return list(found.values())
        speaker(owner)
        _, group, weight = voices[owner]
        rank = (-abs(weight), statement.event_id)
        for sid, (event_id, their_group, their_weight) in voices.items():
            if (
                their_group == group
                and (their_weight > 0) == (weight > 0)
                and (-abs(their_weight), event_id) < rank
            ):
                speaker(sid)
        relayed = state.statements.get(statement.relays or "")
        if relayed is not None and self.in_scope(relayed):
            add(relayed)
            retraction = self.first_retraction(relayed)
            if retraction is not None:
                add(retraction)
            speaker(relayed.speaker)
        return list(found.values())


def _why(record: JSON, kind: str, source: str | None, state: _Explains, as_of: datetime) -> str:
    """Why the entry moved the result: its contribution's reason, or why it could not."""
    if kind == "rerated":
        note = f" ({record['note']})" if record.get("note") else ""
        return (
            f"{source} re-rated {record['reliability']} from "
            f"{format_instant(record['occurred_at'])[:10]}{note}"
        )
    if record["occurred_at"] > as_of:
        return (
            f"occurred on {format_instant(record['occurred_at'])[:10]}, after as_of: "
            "it does not count at this as_of"
        )
    target = record["supersedes"] if kind == "corrected" else record["event_id"]
    reason = state.reason(target)
    if reason is not None:
        prefix = f"corrects event {target}: " if kind == "corrected" else ""
        return prefix + reason
    return f"{kind} event outside the model's evidence"


def timeline(
    claim: ClaimData,
    sources: dict[str, SourceData],
    known_at: int,
    model: ModelVersion,
    records: Records | None = None,
) -> list[JSON]:
    """Credibility as a step function of valid time: a point wherever the result changes.

    One sweep through valid time (``ClaimEvaluator.steps``): the counted positions are
    pooled again only at a moment where something counted changed; each point names the
    event at its moment (among statements at one moment, the later recorded).
    """
    statements = sorted(corrected_statements(claim, known_at), key=lambda s: (s.at, s.position))
    moments: dict[datetime, str] = {}
    # Among statements at one moment, the later recorded names the point (law 3's tie).
    for statement in statements:
        moments[statement.at] = statement.event_id
    for sid in sorted({r.statement.speaker for r in claim.records} & sources.keys()):
        for rated in sources[sid].ratings:
            t = rated.record["occurred_at"]
            if t is not None and rated.recorded_at <= known_at:
                moments.setdefault(t, rated.record["event_id"])
    return _steps(claim, sources, known_at, moments, model, records)


def last_change(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    known_at: int,
    model: ModelVersion,
    records: Records | None = None,
) -> datetime | None:
    """When the claim's answer at ``as_of`` (probability, band, status and grade) last
    changed, as known at ``known_at``: the start of the step holding ``as_of`` (equal steps
    merged, as the projection's rows are); None while it is the first step (nothing said
    has moved it yet)."""
    state = ClaimEvaluator(model.strategy, claim.claim_id, claim.parties, claim.beneficiaries)
    for rec in known(claim, known_at):
        state.apply(rec.statement)
    steps = state.steps(EPOCH, None, sources, known_at, _RecordsKnown(records, known_at))
    starts = [moment for moment, _ in steps if moment <= as_of]
    return starts[-1] if len(starts) > 1 else None


class _RecordsKnown:
    """``Records`` as known at one time, as the projection's sweep asks for them."""

    revision = 0

    def __init__(self, records: Records | None, known_at: int) -> None:
        self.records, self.known_at = records, known_at

    def record(self, source: str, moment: datetime) -> TrackRecord | None:
        return None if self.records is None else self.records(moment, self.known_at).get(source)

    def changed_since(self, revision: int) -> set[str] | None:
        return set()  # as known at one time: never changes


def _steps(
    claim: ClaimData,
    sources: dict[str, SourceData],
    known_at: int,
    moments: Mapping[datetime, str],
    model: ModelVersion,
    records: Records | None,
) -> list[JSON]:
    """The timeline in one sweep through valid time (``ClaimEvaluator.steps``), over the
    claim's statements and the sources' records as known at ``known_at``."""
    state = ClaimEvaluator(model.strategy, claim.claim_id, claim.parties, claim.beneficiaries)
    for rec in known(claim, known_at):  # corrections applied, unweighable ones not counted
        state.apply(rec.statement)
    steps = state.steps(EPOCH, None, sources, known_at, _RecordsKnown(records, known_at))
    points: list[JSON] = []
    previous: JSON = {"probability": 0.5, "band": "roughly even chance", "status": "unverified"}
    for moment, (probability, band, status, _) in steps:
        now = {"probability": probability, "band": band, "status": status}
        if now != previous:
            points.append(
                {"valid_from": format_instant(moment), **now, "event_id": moments[moment]}
            )
            previous = now
    return points
