"""Replay: credibility, history, audit and timeline from a claim's records, as pure functions.

The application loads a claim and its sources (as known at some recording time) into the
plain structures below; everything here is a function of them, with no store behind it.
Valid time (``occurred_at``) and recording time (``recorded_at``, microseconds) are applied
here, by the spec's rules: a correction replaces its event for views known after it was
recorded; a retraction withdraws its event from its own ``occurred_at`` on.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from ledger import credibility_v2
from ledger.answers import JSON
from ledger.credibility import (
    Credibility,
    SourceStanding,
    assess,
    pooled_sides,
    unweighable,
    weigh,
)
from ledger.credibility_v2 import MODEL_VERSION as V2
from ledger.credibility_v2 import (
    RecordEntry,
    ResolvedStance,
    TrackRecord,
    record_entries,
    track_records,
)
from ledger.models import ModelVersion
from ledger.statements import (
    OPTIONAL_FIELDS,
    STANCE_TYPES,
    Statement,
    StatementType,
    with_corrections,
)
from ledger.times import format_instant, from_micros

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """One stored source rating with where and when the ledger recorded it."""

    record: JSON
    position: int
    recorded_at: int  # microseconds since the epoch


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


@dataclass
class SourceData:
    source_id: str
    name: str
    role: str | None
    affiliation: str | None
    ratings: list[Recorded] = field(default_factory=list)

    def standing(self, as_of: datetime, known_at: int) -> SourceStanding:
        """The rating in force at ``as_of`` among those recorded by ``known_at``."""
        grade = self.grade(as_of, known_at)
        return SourceStanding(self.source_id, self.name, self.affiliation, grade)

    def grade(self, as_of: datetime, known_at: int) -> str:
        """The reliability grade in force at ``as_of`` among those recorded by ``known_at``."""
        index = self._index()
        if known_at >= index.recorded_to:  # every rating counts: one bisection
            at = bisect.bisect_right(index.keys, (1, as_of, _NO_VERSION))
            return index.grades[at - 1] if at else "F"
        best: tuple[datetime | None, int] | None = None
        grade = "F"
        for rated in self.ratings:
            r = rated.record
            if rated.recorded_at > known_at or (r["occurred_at"] and r["occurred_at"] > as_of):
                continue
            key = (r["occurred_at"], r["version"])
            if best is None or _later(key, best):
                best, grade = key, r["reliability"]
        return str(grade)


    def rated_between(
        self, since: datetime, until: datetime | None, known_at: int
    ) -> list[datetime]:
        """The valid times in [``since``, ``until``) of the ratings recorded by ``known_at``
        (not the registration's, which has none)."""
        index = self._index()
        if known_at >= index.recorded_to:
            first = bisect.bisect_left(index.keys, (1, since, -1))
            last = len(index.keys) if until is None else bisect.bisect_left(
                index.keys, (1, until, -1)
            )
            return [key[1] for key in index.keys[first:last]]
        return [
            at
            for rated in self.ratings
            if (at := rated.record["occurred_at"]) is not None
            and since <= at
            and (until is None or at < until)
            and rated.recorded_at <= known_at
        ]

    def _index(self) -> _RatingIndex:
        """The ratings sorted by when they come into force; remade when one is added."""
        index = self.__dict__.get("_rating_index")
        if index is None or index.count != len(self.ratings):
            index = _RatingIndex(self.ratings)
            self.__dict__["_rating_index"] = index
        return index


#: Sorts after every version (versions are positive integers).
_NO_VERSION = 2**63


class _RatingIndex:
    """A source's ratings in the order ``_later`` puts them: (0, registration, version)
    before (1, occurred_at, version); with their grades, for bisection."""

    def __init__(self, ratings: list[Recorded]) -> None:
        self.count = len(ratings)
        self.recorded_to = max((r.recorded_at for r in ratings), default=0)
        ordered = sorted(
            (
                (0, _EPOCH, r.record["version"]) if r.record["occurred_at"] is None
                else (1, r.record["occurred_at"], r.record["version"]),
                str(r.record["reliability"]),
            )
            for r in ratings
        )
        self.keys = [key for key, _ in ordered]
        self.grades = [grade for _, grade in ordered]


_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def _later(a: tuple[datetime | None, int], b: tuple[datetime | None, int]) -> bool:
    # A rating with no occurred_at (the one given at registration) precedes all others.
    if a[0] is None or b[0] is None:
        return (a[0] is not None) or (a[0] is None and b[0] is None and a[1] > b[1])
    return a > b


def known(claim: ClaimData, known_at: int) -> list[RecordedStatement]:
    return [r for r in claim.records if r.recorded_at <= known_at]


def corrected_statements(claim: ClaimData, known_at: int) -> list[Statement]:
    """Statements as known at ``known_at``, each with the corrections known by then applied."""
    return with_corrections(r.statement for r in known(claim, known_at))


def evidence(claim: ClaimData, as_of: datetime, known_at: int) -> list[Statement]:
    items = []
    for statement in corrected_statements(claim, known_at):
        if statement.at > as_of:
            continue
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
        items.append(statement)
    return items


#: The sources' track records as they stood at a moment of valid time as known at
#: known_at, for a model version that learns (it asks at each statement's occurred_at).
Records = Callable[[datetime, int], Mapping[str, TrackRecord]]


def credibility(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    known_at: int,
    model: ModelVersion | None = None,
    records: Records | None = None,
) -> Credibility:
    """The claim's credibility at (``as_of``, ``known_at``) by ``model`` (default: v1's
    ``assess``); ``records`` gives a learning model the track records as they stood at each
    statement's time, as known at ``known_at``."""
    items = evidence(claim, as_of, known_at)
    standings = {
        sid: sources[sid].standing(as_of, known_at)
        for sid in {e.speaker for e in items}
        if sid in sources
    }
    if model is None:
        return assess(items, standings, claim.parties, claim.beneficiaries)
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
        _TIMES[key] = found
        if len(_TIMES) > ENTRIES_KEPT:
            _TIMES.popitem(last=False)
    return found


#: ``_times_of`` each version of a claim read, by the same key as ``_ENTRIES``.
_TIMES: OrderedDict[tuple[str, str, int, int, str], tuple[list[int], int | None]] = (
    OrderedDict()
)
#: What each resolved claim adds to the records, by (claim, its first event, how many of
#: its records are known, the last one's position and event): kept across reads in a
#: process, since a claim's records up to a position never change; the least recently
#: made go first.
_ENTRIES: OrderedDict[tuple[str, str, int, int, str], list[RecordEntry]] = OrderedDict()
ENTRIES_KEPT = 20_000


class RecordBook:
    """The sources' track records at any (moment, known_at) up to the known_at the claims
    were read at: only resolutions in scope there count (valid time by the moment, a
    statement's time; recording time by known_at), so a statement made in 2003 is never
    weighed with what was learnt in 2004.

    ``claims`` are every claim as known at that time; only those with a resolution
    recorded matter. What each adds to the records over valid time is worked out once per
    version of it (``_ENTRIES``), so a walk through many times of one claim (an audit, a
    timeline), or many reads, read the other claims' records once per change.
    """

    def __init__(self, claims: Iterable[ClaimData]) -> None:
        self.claims: list[ClaimData] = []
        #: Each claim's recording times and when its first resolution was recorded.
        self._times: list[tuple[list[int], int]] = []
        for claim in claims:
            recorded, resolving = _times_of(claim)
            if resolving is not None:
                self.claims.append(claim)
                self._times.append((recorded, resolving))
        self._records: dict[tuple[datetime, int], dict[str, TrackRecord]] = {}

    def stances(self, as_of: datetime, known_at: int) -> list[ResolvedStance]:
        """Every source's stance on each claim resolved by ``as_of`` as known at ``known_at``."""
        return [
            stance
            for i, claim in enumerate(self.claims)
            for stance in self._stances_of(i, claim, as_of, known_at)
        ]

    def _stances_of(
        self, i: int, claim: ClaimData, as_of: datetime, known_at: int
    ) -> list[ResolvedStance]:
        """One claim's stances: what it adds to the records over valid time
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
            _ENTRIES[key] = entries
            if len(_ENTRIES) > ENTRIES_KEPT:
                _ENTRIES.popitem(last=False)
        # What ``resolved_stances(evidence(claim, as_of, known_at))`` finds (a property test
        # of ``record_entries`` holds them equal).
        return [
            stance
            for since, until, stance in entries
            if since <= as_of and (until is None or as_of < until)
        ]

    def __call__(self, moment: datetime, known_at: int) -> dict[str, TrackRecord]:
        found = self._records.get((moment, known_at))
        if found is None:
            found = track_records(self.stances(moment, known_at), moment)
            self._records[(moment, known_at)] = found
        return found


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


#: Where a statement stands among the evidence: valid time, then recording order (law 3).
Key = tuple[datetime, int, str]
#: A credibility without its grade and explanation, as the audit and the timeline show it.
Summary = JSON


def _key(statement: Statement) -> Key:
    return (statement.at, statement.position, statement.event_id)


def _weighable(statement: Statement) -> bool:
    return unweighable(statement) is None


class Voices:
    """The counted positions, weighed, as the model's ``pool`` groups them.

    ``pool`` counts the voices of one witness group on one side 1, 1/2, 1/4 ... strongest
    first (ties by event id) and adds up those sides' totals. Each side's total is kept
    here as its voices change, so a summary pools one voice a side: the same four values
    (a side's total is its only voice's weight; the sides, their signs and the groups
    with a voice in favour are the same), at the cost of the number of sides, not of
    voices.
    """

    def __init__(self) -> None:
        #: Each speaker's counted position: (event id, witness group, log-odds).
        self.by_speaker: dict[str, tuple[str, str, float]] = {}
        self._sides: dict[tuple[str, bool], list[tuple[float, str]]] = {}
        self._totals: dict[tuple[str, bool], float] = {}

    def set(self, speaker: str, entry: tuple[str, str, float] | None) -> bool:
        """Count ``entry`` as the speaker's position (None: none); whether that changed."""
        old = self.by_speaker.get(speaker)
        if old == entry:
            return False
        if old is not None:
            del self.by_speaker[speaker]
            self._move(old, out=True)
        if entry is not None:
            self.by_speaker[speaker] = entry
            self._move(entry, out=False)
        return True

    def _move(self, entry: tuple[str, str, float], *, out: bool) -> None:
        event_id, group, weight = entry
        side = (group, weight > 0)
        voices = self._sides.setdefault(side, [])
        voice = (-abs(weight), event_id)
        if out:
            del voices[bisect.bisect_left(voices, voice)]
        else:
            bisect.insort(voices, voice)
        if not voices:
            del self._sides[side], self._totals[side]
            return
        # As ``pool`` sums a side: fsum is exactly rounded, so the total is pool's own.
        total = math.fsum(-v * 0.5**rank for rank, (v, _) in enumerate(voices))
        self._totals[side] = total if side[1] else -total

    def copy(self) -> Voices:
        """An independent copy (its sides' lists are its own)."""
        other = Voices()
        other.by_speaker = dict(self.by_speaker)
        other._sides = {side: list(voices) for side, voices in self._sides.items()}
        other._totals = dict(self._totals)
        return other

    def fill(self, entries: Iterable[tuple[str, tuple[str, str, float]]]) -> None:
        """Count each (speaker, entry) at once, in place of ``set`` one by one: each side
        is sorted and summed once. The speakers must have no position yet."""
        grown: set[tuple[str, bool]] = set()
        for speaker, entry in entries:
            self.by_speaker[speaker] = entry
            event_id, group, weight = entry
            side = (group, weight > 0)
            self._sides.setdefault(side, []).append((-abs(weight), event_id))
            grown.add(side)
        for side in grown:
            voices = self._sides[side]
            voices.sort()
            total = math.fsum(-v * 0.5**rank for rank, (v, _) in enumerate(voices))
            self._totals[side] = total if side[1] else -total

    def pooled(self, outcome: str | None) -> tuple[float, str, str, int]:
        """Probability, band, status and grade, as ``pool`` answers for every counted voice:
        ``pool`` of one voice a side, the side's total (``pooled_sides``)."""
        return pooled_sides(self._totals, outcome)

    def summary(self, outcome: str | None) -> Summary:
        """Probability, band and status, as ``pool`` answers for every counted voice."""
        probability, band, status, _ = self.pooled(outcome)
        return {"probability": probability, "band": band, "status": status}


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


class _Evidence:
    """A claim's evidence at one valid time (``as_of``), taken in record by record.

    What the model's summary depends on is kept up to date as records and ratings arrive
    in recording order: each source's latest position at ``as_of`` not withdrawn, the latest
    resolution, each source's grade at ``as_of``. ``summary`` pools the counted positions
    (the model's ``pool``, which a property test holds equal to ``assess``), side by side
    (``Voices``), so it costs the number of witness groups speaking, not of events; it is
    remembered until something counted changes. ``reason`` asks the model itself
    (``assess``) about one event, over the few statements its contribution depends on.
    """

    def __init__(self, claim: ClaimData, sources: dict[str, SourceData], as_of: datetime) -> None:
        self.as_of = as_of
        self.parties, self.beneficiaries = claim.parties, claim.beneficiaries
        self.sources = sources
        #: Every statement but corrections, with the corrections taken in applied.
        self.statements: dict[str, Statement] = {}
        #: Weighable retractions, by the event id they name.
        self.retractions: dict[str, list[Statement]] = {}
        #: The keys of the positions that count at ``as_of`` (weighable, not withdrawn), by
        #: speaker; resolutions under None. Each list is sorted: its last one counts.
        self.live: dict[str | None, list[Key]] = {}
        self.live_keys: dict[str, tuple[str | None, Key]] = {}
        #: Each source's rating in force at ``as_of`` so far: (rating key, grade).
        self.ratings: dict[str, tuple[tuple[datetime | None, int], str]] = {}
        #: The counted position of each speaker, weighed.
        self.voices = Voices()
        self._summary: Summary | None = None

    # -- taking records in ---------------------------------------------------------------

    def record(self, statement: Statement) -> None:
        """Take one recorded statement (as ``with_corrections`` applies them)."""
        if statement.type == StatementType.CORRECTED:
            target = self.statements.get(statement.supersedes or "")
            if target is not None:
                self._remove(target)
                self._add(target.corrected(statement))
            return
        known = self.statements.get(statement.event_id)
        if known is not None:
            self._remove(known)
        self._add(statement)

    def rate(self, source_id: str, rated: Recorded) -> None:
        """Take one recorded rating of a source (as ``SourceData.grade`` picks them)."""
        r = rated.record
        if r["occurred_at"] and r["occurred_at"] > self.as_of:
            return
        key = (r["occurred_at"], r["version"])
        best = self.ratings.get(source_id)
        if best is None or _later(key, best[0]):
            self.ratings[source_id] = (key, str(r["reliability"]))
            if best is None or best[1] != str(r["reliability"]):
                self._recount(source_id)

    def _add(self, statement: Statement) -> None:
        self.statements[statement.event_id] = statement
        if statement.type == StatementType.RETRACTED and _weighable(statement):
            target = statement.supersedes or ""
            self.retractions.setdefault(target, []).append(statement)
            self._refresh(target)
        self._refresh(statement.event_id)

    def _remove(self, statement: Statement) -> None:
        del self.statements[statement.event_id]
        if statement.type == StatementType.RETRACTED and _weighable(statement):
            target = statement.supersedes or ""
            self.retractions[target] = [r for r in self.retractions[target] if r is not statement]
            self._refresh(target)
        self._refresh(statement.event_id)

    def _refresh(self, event_id: str) -> None:
        """Put the event among the live positions, or take it out, as it now stands."""
        owners: set[str | None] = set()
        old = self.live_keys.pop(event_id, None)
        if old is not None:
            owner, key = old
            keys = self.live[owner]
            del keys[bisect.bisect_left(keys, key)]
            owners.add(owner)
        statement = self.statements.get(event_id)
        if statement is not None and self._counts(statement):
            owner = None if statement.type == StatementType.RESOLVED else statement.speaker
            key = _key(statement)
            bisect.insort(self.live.setdefault(owner, []), key)
            self.live_keys[event_id] = (owner, key)
            owners.add(owner)
        for owner in owners:
            self._recount(owner)

    def _counts(self, statement: Statement) -> bool:
        """Whether it may count at ``as_of``: a weighable position or resolution in scope,
        not withdrawn."""
        if statement.type not in STANCE_TYPES and statement.type != StatementType.RESOLVED:
            return False
        return self.in_scope(statement) and self.first_retraction(statement) is None

    def _recount(self, owner: str | None) -> None:
        if owner is None:  # the resolution
            self._summary = None
            return
        keys = self.live.get(owner)
        entry = None
        if keys:
            statement = self.statements[keys[-1][2]]
            standing = self.standing(owner)
            weighed = weigh(statement, standing, self.parties, self.beneficiaries)
            entry = (statement.event_id, *weighed)
        if self.voices.set(owner, entry):
            self._summary = None

    # -- what it answers -------------------------------------------------------------------

    def in_scope(self, statement: Statement) -> bool:
        """Whether the model weighs it at ``as_of`` (``evidence`` keeps it)."""
        return _weighable(statement) and statement.at <= self.as_of

    def first_retraction(self, statement: Statement) -> Statement | None:
        """The retraction in scope that withdraws ``statement`` (its source's first)."""
        found = [
            r
            for r in self.retractions.get(statement.event_id, ())
            if r.source == statement.source and r.at <= self.as_of
        ]
        return min(found, key=_key) if found else None

    def standing(self, source_id: str) -> SourceStanding:
        source = self.sources.get(source_id)
        if source is None:  # heard as the model hears any unregistered source
            return SourceStanding(source_id, f"unregistered source {source_id}", None, "F")
        rating = self.ratings.get(source_id)
        grade = "F" if rating is None else rating[1]
        return SourceStanding(source.source_id, source.name, source.affiliation, grade)

    def summary(self) -> Summary:
        """The credibility at ``as_of`` as known so far: probability, band, status."""
        if self._summary is None:
            resolved = self.live.get(None)
            outcome = str(self.statements[resolved[-1][2]].outcome) if resolved else None
            self._summary = self.voices.summary(outcome)
        return dict(self._summary)

    def reason(self, event_id: str) -> str | None:
        """The reason of the event's contribution at ``as_of`` as known so far; None when
        it is not in the model's evidence."""
        statement = self.statements.get(event_id)
        if statement is None or not self.in_scope(statement):
            return None
        context = self._context(statement)
        standings = {
            sid: self.standing(sid) for sid in {s.speaker for s in context} if sid in self.sources
        }
        result = assess(context, standings, self.parties, self.beneficiaries)
        return next(c.reason for c in result.contributions if c.event_id == event_id)

    def _context(self, statement: Statement) -> list[Statement]:
        """The evidence in scope that the statement's contribution depends on.

        ``assess`` explains a retraction by the event it names (and the retraction before
        it that withdrew that event, if any); a withdrawn event by the retraction that
        withdrew it; a superseded one by what superseded it; a counted position by the
        stronger voices of its witness group on its side (its rank, and who is ahead of
        it); the resolution by every counted position (the pool it overrides).
        """
        found = {statement.event_id: statement}

        def add(*others: Statement) -> None:
            for other in others:
                found.setdefault(other.event_id, other)

        withdrawals = _withdrawal_context(statement, self.statements, self)
        if withdrawals is not None:
            add(*withdrawals)
        else:
            owner = None if statement.type == StatementType.RESOLVED else statement.speaker
            latest = self.statements[self.live[owner][-1][2]]
            if latest.event_id != statement.event_id:
                add(latest)
            elif owner is None:
                counted = self.voices.by_speaker.values()
                add(*(self.statements[event_id] for event_id, _, _ in counted))
            else:
                # Its rank and the voices ahead of it: its group's stronger ones on its side.
                _, group, weight = self.voices.by_speaker[owner]
                rank = (-abs(weight), statement.event_id)
                add(
                    *(
                        self.statements[event_id]
                        for event_id, their_group, their_weight in self.voices.by_speaker.values()
                        if their_group == group
                        and (their_weight > 0) == (weight > 0)
                        and (-abs(their_weight), event_id) < rank
                    )
                )
        return list(found.values())


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
    model: ModelVersion | None = None,
    records: Records | None = None,
) -> list[JSON]:
    """Every change of credibility (at ``as_of``) in recording order, and what caused it.

    Each of the claim's events is an entry; a re-rating of one of its sources is an entry
    when it moved the result. ``before``/``after`` are the credibility as known just before
    and just after the event was recorded. ``after`` and ``limit`` page: the entries at
    positions after ``after``, at most ``limit`` of them.

    With no ``model`` (v1): one pass in recording order: the claim's records and its
    sources' ratings are taken in as they were recorded (``_Evidence``), and each entry is
    answered from what is known just before and just after its recording time. The
    claim's records are in log order, as ``ClaimData`` holds them. With a ``model``, each
    entry asks the model itself at both recording times (``credibility``), its track
    records (``records``) as known at each.
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
    if model is None:
        steps = _audit_steps(claim, sources, as_of, cited, wanted)
    elif model.name == V2:
        steps = _audit_steps_v2(claim, sources, as_of, wanted, records)
    else:
        steps = _audit_steps_by(claim, sources, as_of, wanted, model, records)
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
    cited: list[str],
    wanted: Mapping[int, list[_Change]],
) -> Iterator[_Step]:
    """v1's walk: everything an answer depends on taken in, in recording order."""
    feed: list[tuple[int, RecordedStatement | tuple[str, Recorded]]] = [
        (rec.recorded_at, rec) for rec in claim.records
    ]
    feed += [(rated.recorded_at, (sid, rated)) for sid in cited for rated in sources[sid].ratings]
    feed.sort(key=lambda item: item[0])  # stable: records keep their log order
    state = _Evidence(claim, sources, as_of)
    for recorded_at, group in itertools.groupby(feed, key=lambda item: item[0]):
        selected = recorded_at in wanted
        before = state.summary() if selected else None
        for _, item in group:
            if isinstance(item, RecordedStatement):
                state.record(item.statement)
            else:
                state.rate(*item)
        if selected:
            yield recorded_at, before or {}, state.summary(), state


@dataclass(frozen=True)
class _Answered:
    """The contributions of one answer, as the audit asks ``_Evidence`` for them."""

    credibility: Credibility

    def reason(self, event_id: str) -> str | None:
        found = (c.reason for c in self.credibility.contributions if c.event_id == event_id)
        return next(found, None)


def _audit_steps_by(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    wanted: Mapping[int, list[_Change]],
    model: ModelVersion,
    records: Records | None,
) -> Iterator[_Step]:
    """Any model's walk: the model asked just before and at each entry's recording time."""
    for recorded_at in sorted(wanted):
        before = credibility(claim, sources, as_of, recorded_at - 1, model, records)
        after_it = credibility(claim, sources, as_of, recorded_at, model, records)
        yield recorded_at, summary(before), summary(after_it), _Answered(after_it)


def _audit_steps_v2(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    wanted: Mapping[int, list[_Change]],
    records: Records | None,
) -> Iterator[_Step]:
    """credibility-v2's walk: one pass in recording order, the claim's records taken into
    the projection's ``ClaimState`` as they were recorded; each entry's before and after
    are its summaries at ``as_of`` as known just before and at the entry's recording time,
    and its reason the model's own (``_ExplainsV2``)."""
    from ledger.projection.state import ClaimState  # the projection builds on this module

    state = ClaimState(claim.claim_id, claim.parties, claim.beneficiaries)
    pending = iter(claim.records)  # in log order: recording times never go back
    ahead = next(pending, None)
    for recorded_at in sorted(wanted):
        while ahead is not None and ahead.recorded_at < recorded_at:
            state.apply(ahead.statement)
            ahead = next(pending, None)
        before = _summary_v2(state, sources, as_of, recorded_at - 1, records)
        while ahead is not None and ahead.recorded_at == recorded_at:
            state.apply(ahead.statement)
            ahead = next(pending, None)
        after_it = _summary_v2(state, sources, as_of, recorded_at, records)
        yield recorded_at, before, after_it, _ExplainsV2(
            claim, state, sources, as_of, recorded_at, records
        )


def _summary_v2(
    state: Any, sources: dict[str, SourceData], as_of: datetime, known_at: int,
    records: Records | None,
) -> Summary:
    probability, band, status, _ = state.summary(
        as_of, sources, known_at, _RecordsKnown(records, known_at)
    )
    return {"probability": probability, "band": band, "status": status}


class _ExplainsV2:
    """The reason of one event's contribution in credibility-v2 at (``as_of``, as known at
    ``known_at``): the model itself (``credibility_v2.assess``) asked over the few
    statements the contribution depends on, as ``_Evidence`` does for v1, and for v2's
    early caution also when each speaker concerned first asserted the claim and who
    reported it first."""

    def __init__(
        self,
        claim: ClaimData,
        state: Any,
        sources: dict[str, SourceData],
        as_of: datetime,
        known_at: int,
        records: Records | None,
    ) -> None:
        self.claim, self.state, self.sources = claim, state, sources
        self.as_of, self.known_at, self.records = as_of, known_at, records

    def in_scope(self, statement: Statement) -> bool:
        return _weighable(statement) and statement.at <= self.as_of

    def first_retraction(self, statement: Statement) -> Statement | None:
        found = [
            r
            for r in self.state.retractions.get(statement.event_id, ())
            if r.source == statement.source and r.at <= self.as_of
        ]
        return min(found, key=_key) if found else None

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

        result = credibility_v2.assess(
            context,
            standings,
            self.claim.parties,
            self.claim.beneficiaries,
            track_records=records_at,
        )
        return next(c.reason for c in result.contributions if c.event_id == event_id)

    def _context(self, statement: Statement) -> list[Statement]:
        """``_Evidence._context``, and for a counted position or the resolution, each
        speaker concerned as it stands (its counted position and, if it asserts the claim,
        its first assertion), the claim's first report among them, and what a relay
        repeats."""
        state, as_of = self.state, self.as_of
        found = {statement.event_id: statement}

        def add(*others: Statement) -> None:
            for other in others:
                found.setdefault(other.event_id, other)

        def speaker(sid: str) -> None:
            """The speaker as it stands at as_of: its counted position, and its first
            assertion if that position is an assertion."""
            latest = state._latest(state.positions.get(sid, []), as_of)
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
        latest = state._latest(keys, as_of)
        if latest is not None and latest.event_id != statement.event_id:
            add(latest)
            return list(found.values())
        voices = state.voices_v2(
            as_of, self.sources, self.known_at, _RecordsKnown(self.records, self.known_at)
        )
        firsts = {sid: state.first_assertion(sid, as_of) for sid in voices}
        reporters = [f for f in firsts.values() if f is not None]
        if reporters:  # the claim's first report, which dates every other
            speaker(min(reporters, key=_key).speaker)
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
    model: ModelVersion | None = None,
    records: Records | None = None,
) -> list[JSON]:
    """Credibility as a step function of valid time: a point wherever the result changes.

    With no ``model`` (v1), one sweep through valid time: statements are taken in as they
    occur (a retraction withdraws its event from its own ``occurred_at`` on, for good),
    ratings as they come into force, and the counted positions are pooled again only at a
    moment where something counted changed. With a ``model``, the model itself is asked
    at each moment one of the claim's statements or its sources' re-ratings occurred
    (its track records as they stood then).
    """
    statements = sorted(corrected_statements(claim, known_at), key=lambda s: (s.at, s.position))
    moments: dict[datetime, str] = {}
    # Among statements at one moment, the later recorded names the point (law 3's tie).
    for statement in statements:
        moments[statement.at] = statement.event_id
    cited = sorted({r.statement.speaker for r in claim.records} & sources.keys())
    ratings: list[tuple[datetime, str, Recorded]] = []
    for sid in cited:
        for rated in sources[sid].ratings:
            t = rated.record["occurred_at"]
            if t is not None and rated.recorded_at <= known_at:
                moments.setdefault(t, rated.record["event_id"])
                ratings.append((t, sid, rated))
    ratings.sort(key=lambda item: item[0])
    if model is not None and model.name == V2:
        return _timeline_v2(claim, sources, known_at, moments, records)
    if model is not None:
        return _timeline_by(claim, sources, known_at, moments, model, records)

    by_id = {s.event_id: s for s in statements}
    order = sorted(statements, key=_key)
    withdrawn: set[str] = set()
    latest: dict[str | None, list[Statement]] = {}  # by speaker, resolutions under None
    grades: dict[str, tuple[tuple[datetime | None, int], str]] = {}
    voices = Voices()

    def rate(sid: str, rated: Recorded) -> bool:
        key = (rated.record["occurred_at"], rated.record["version"])
        best = grades.get(sid)
        if best is None or _later(key, best[0]):
            grades[sid] = (key, str(rated.record["reliability"]))
            return best is None or best[1] != grades[sid][1]
        return False

    def standing(sid: str) -> SourceStanding:
        source = sources.get(sid)
        if source is None:
            return SourceStanding(sid, sid, None, "F")
        return SourceStanding(
            source.source_id, source.name, source.affiliation, grades.get(sid, (None, "F"))[1]
        )

    for sid in cited:  # the ratings given at registration are in force from the start
        for rated in sources[sid].ratings:
            if rated.record["occurred_at"] is None and rated.recorded_at <= known_at:
                rate(sid, rated)

    points: list[JSON] = []
    previous: JSON = {"probability": 0.5, "band": "roughly even chance", "status": "unverified"}
    taken = rated_up_to = 0
    for moment in sorted(moments):
        touched: set[str | None] = set()
        while taken < len(order) and order[taken].at <= moment:
            statement = order[taken]
            taken += 1
            if not _weighable(statement):
                continue  # left out of the credibility, as ``evidence`` leaves it
            if statement.type == StatementType.RETRACTED:
                target = by_id.get(statement.supersedes or "")
                if target is not None and target.source == statement.source:
                    withdrawn.add(target.event_id)
                    if _weighable(target) and target.at <= moment:
                        touched.add(_owner(target))
            elif statement.event_id not in withdrawn:
                owner = _owner(statement)
                latest.setdefault(owner, []).append(statement)
                touched.add(owner)
        while rated_up_to < len(ratings) and ratings[rated_up_to][0] <= moment:
            _, sid, rated = ratings[rated_up_to]
            rated_up_to += 1
            if rate(sid, rated):
                touched.add(sid)
        changed = False
        for owner in touched:
            stack = latest.get(owner, [])
            while stack and stack[-1].event_id in withdrawn:
                stack.pop()
            if owner is None:
                changed = True
            elif stack:
                counted = stack[-1]
                weighed = weigh(counted, standing(owner), claim.parties, claim.beneficiaries)
                changed |= voices.set(owner, (counted.event_id, *weighed))
            else:
                changed |= voices.set(owner, None)
        if not changed:
            continue
        resolved = latest.get(None)
        now = voices.summary(str(resolved[-1].outcome) if resolved else None)
        if now != previous:
            points.append(
                {"valid_from": format_instant(moment), **now, "event_id": moments[moment]}
            )
            previous = now
    return points


class _RecordsKnown:
    """``Records`` as known at one time, as the projection's sweep asks for them."""

    revision = 0

    def __init__(self, records: Records | None, known_at: int) -> None:
        self.records, self.known_at = records, known_at

    def record(self, source: str, moment: datetime) -> TrackRecord | None:
        return None if self.records is None else self.records(moment, self.known_at).get(source)


def _timeline_v2(
    claim: ClaimData,
    sources: dict[str, SourceData],
    known_at: int,
    moments: Mapping[datetime, str],
    records: Records | None,
) -> list[JSON]:
    """credibility-v2's timeline in one sweep through valid time: the projection's
    (``ClaimState.steps``), over the claim's statements and the sources' records as known
    at ``known_at``. The same points as asking the model at every moment, since a v2
    answer moves only where a statement or a rating starts."""
    from ledger.projection.state import ClaimState  # the projection builds on this module

    state = ClaimState(claim.claim_id, claim.parties, claim.beneficiaries)
    for rec in known(claim, known_at):  # corrections applied, unweighable ones not counted
        state.apply(rec.statement)
    steps = state.steps(_EPOCH, None, sources, known_at, _RecordsKnown(records, known_at))
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


def _timeline_by(
    claim: ClaimData,
    sources: dict[str, SourceData],
    known_at: int,
    moments: Mapping[datetime, str],
    model: ModelVersion,
    records: Records | None,
) -> list[JSON]:
    points: list[JSON] = []
    previous: JSON = {"probability": 0.5, "band": "roughly even chance", "status": "unverified"}
    for moment in sorted(moments):
        now = summary(credibility(claim, sources, moment, known_at, model, records))
        if now != previous:
            points.append(
                {"valid_from": format_instant(moment), **now, "event_id": moments[moment]}
            )
            previous = now
    return points


def _owner(statement: Statement) -> str | None:
    """Whose list of positions a statement goes in: its speaker's; None for resolutions."""
    return None if statement.type == StatementType.RESOLVED else statement.speaker
