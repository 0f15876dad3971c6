"""What the credibility projection keeps of one claim, and its credibility over valid time.

Pure: a claim's statements (each correction applied as it arrives) and its sources'
ratings go in; the summary (probability, band, status, grade) at any valid time comes out,
as a step function from a given valid time on.

Only what counts is handed to the model: each source's latest position not withdrawn by
then, and the latest resolution not withdrawn. The model's summary depends on nothing
else (superseded positions and retractions move no number), so a summary costs the number
of the claim's sources, not of its events; a property test holds it equal to the model
over the whole evidence, as a replay computes it.

In ``credibility-v2`` (given the sources' track records, ``TrackRecords``) it depends also
on when each asserting source first asserted the claim (the early-report caution) and on
each statement's source's record when it was made (``RecordBook``, what every resolved
claim adds to the records over valid time); property tests hold those equal to v2 too.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from ledger import credibility_v2
from ledger.credibility import SourceStanding, pool, unweighable, weigh
from ledger.credibility_v2 import (
    RecordEntry,
    TrackRecord,
    record_entries,
    stance_weight,
)
from ledger.projection.tables import Interval
from ledger.replay import Recorded, SourceData, Voices
from ledger.statements import STANCE_TYPES, Statement, StatementType

#: probability, band, status, grade
Summary = tuple[float, str, str, int]
#: Where a statement stands in valid time; ties break by recording order (position).
Key = tuple[datetime, int, str]
_LAST = (2**63, "")
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
_NONE = object()
#: What may move when a source first asserted a claim (``ClaimState.apply``).
_EARLY_MOVERS = frozenset(
    {StatementType.ASSERTED, StatementType.RETRACTED, StatementType.CORRECTED}
)


def key_of(statement: Statement) -> Key:
    return (statement.at, statement.position, statement.event_id)


class SourceBook(dict[str, SourceData]):
    """The sources the projection has met, by id, with the valid time of every rating of
    every source in one sorted list, so the ratings that fall in a stretch of valid time
    are found with one bisection, not one per source a claim cites.

    Sources go in with ``book[source_id] = data`` and ratings with ``add_rating``;
    ``revision`` counts both, so what was weighed against the book can tell it is stale.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rated: list[tuple[datetime, str]] = []
        #: The latest recording time of any rating in the book (microseconds).
        self.recorded_to = 0
        self.revision = 0

    def __setitem__(self, source_id: str, source: SourceData) -> None:
        if source_id in self:
            self._rated = [entry for entry in self._rated if entry[1] != source_id]
        super().__setitem__(source_id, source)
        for recorded in source.ratings:
            self._index(source_id, recorded)
        self.revision += 1

    def add_rating(self, source_id: str, recorded: Recorded) -> None:
        """Append a rating to a source in the book."""
        self[source_id].ratings.append(recorded)
        self._index(source_id, recorded)
        self.revision += 1

    def _index(self, source_id: str, recorded: Recorded) -> None:
        self.recorded_to = max(self.recorded_to, recorded.recorded_at)
        at = recorded.record["occurred_at"]
        if at is not None:  # a registration's rating has no valid time: in force from before
            bisect.insort(self._rated, (at, source_id))

    def clear(self) -> None:
        super().clear()
        self._rated.clear()
        self.recorded_to = 0
        self.revision += 1

    def span(self, since: datetime, until: datetime | None) -> tuple[int, int]:
        """Where the ratings in [``since``, ``until``) lie in the book (``rated``)."""
        first = bisect.bisect_left(self._rated, (since,))
        last = len(self._rated) if until is None else bisect.bisect_left(self._rated, (until,))
        return first, last

    def rated(self, first: int, last: int) -> list[tuple[datetime, str]]:
        """(valid time, source id) of the ratings ``span`` found, in valid-time order."""
        return self._rated[first:last]


class TrackRecords(Protocol):
    """The sources' track records as ``credibility-v2`` weighs a statement with them."""

    #: Changes whenever a record may have: what was weighed against them can tell.
    revision: int

    def record(self, source: str, moment: datetime) -> TrackRecord | None:
        """The source's record at ``moment`` (None: no stance counts)."""


class RecordBook:
    """The sources' track records as ``credibility-v2`` reads them, kept by the projection
    as claims are resolved: each claim's ``record_entries`` as now known, by source.

    ``record(source, moment)`` is ``credibility_v2.track_records`` over the stances in
    force at ``moment``, the same numbers (each record summed exactly rounded).
    """

    def __init__(self) -> None:
        self._by_claim: dict[str, list[RecordEntry]] = {}
        self._by_source: dict[str, list[tuple[RecordEntry, str]]] = {}
        self._cache: dict[tuple[str, datetime], TrackRecord | None] = {}
        #: Whether the claims resolved before the projection's position were read in.
        self.loaded = False
        #: Counts the changes of any record, so what was weighed against it can tell.
        self.revision = 0

    def clear(self) -> None:
        self._by_claim.clear()
        self._by_source.clear()
        self._cache.clear()
        self.loaded = False
        self.revision += 1

    def update(self, claim_id: str, statements: Iterable[Statement]) -> dict[str, datetime]:
        """Take a claim's statements as now known; answer each source whose record changed,
        with the earliest valid time it changed at."""
        new = record_entries(statements)
        old = self._by_claim.get(claim_id, [])
        if new == old:
            return {}
        changed: dict[str, datetime] = {}
        for entry in set(old) ^ set(new):
            source = entry[2].source
            changed[source] = min(entry[0], changed.get(source, entry[0]))
        for source in changed:
            kept = [item for item in self._by_source.get(source, []) if item[1] != claim_id]
            kept += [(entry, claim_id) for entry in new if entry[2].source == source]
            self._by_source[source] = kept
        if new:
            self._by_claim[claim_id] = new
        else:
            self._by_claim.pop(claim_id, None)
        self._cache.clear()
        self.revision += 1
        return changed

    def holds(self, claim_id: str) -> bool:
        """Whether the claim adds anything to the records now."""
        return claim_id in self._by_claim

    def record(self, source: str, moment: datetime) -> TrackRecord | None:
        """The source's record at ``moment`` (None: no stance counts yet)."""
        key = (source, moment)
        if key in self._cache:
            return self._cache[key]
        matched: list[float] = []
        missed: list[float] = []
        for (since, until, stance), _ in self._by_source.get(source, ()):
            if (
                since <= moment
                and (until is None or moment < until)
                and stance.resolved_at <= moment
            ):
                weight = stance_weight(stance, moment)
                (matched if stance.matched else missed).append(weight)
        found = (
            TrackRecord(math.fsum(matched), math.fsum(missed)) if matched or missed else None
        )
        self._cache[key] = found
        return found


@dataclass
class ClaimState:
    """One claim's statements as known so far, indexed for summaries at any valid time."""

    claim_id: str
    parties: list[str]
    beneficiaries: list[str]
    #: Where the claim was registered in the log (its rows are indexed by it).
    position: int = 0
    #: Every statement but corrections, by event id, with the corrections known applied.
    statements: dict[str, Statement] = field(default_factory=dict)
    #: Weighable positions by source, and resolutions, each sorted by ``key_of``.
    positions: dict[str, list[Key]] = field(default_factory=dict)
    resolutions: list[Key] = field(default_factory=list)
    #: The retractions of each statement, by the statement's event id.
    retractions: dict[str, list[Statement]] = field(default_factory=dict)
    #: ``_list_key`` of every statement in ``statements``, by event id (a sweep over a
    #: stretch of valid time looks it up for every statement there).
    _keys: dict[str, object] = field(default_factory=dict)
    #: Every statement in ``statements``, sorted by ``key_of``: what a stretch of valid
    #: time holds, found by bisection.
    timeline: list[Key] = field(default_factory=list)
    #: The projection's current rows of this claim (recorded_to open), sorted by valid
    #: time and covering all of it: what the tables hold, kept so a change need not read them.
    rows: list[Interval] = field(default_factory=list)
    #: (witness group, log-odds) by (event id, its source's grade); a correction forgets
    #: its event's.
    _weights: dict[tuple[object, ...], tuple[str, float]] = field(default_factory=dict)
    #: The counted voices at the end of valid time, with the number of ratings each
    #: speaker's source had when its voice was weighed; a sweep starts from a copy,
    #: changing only the speakers whose position or grade changes after its start.
    _end: Voices | None = None
    _end_rated: dict[str, int] = field(default_factory=dict)
    #: Speakers whose voice at the end of valid time must be weighed again.
    _dirty: set[str] = field(default_factory=set)
    #: The ``SourceBook.revision`` the voices at the end were last checked against.
    _end_revision: int | None = None
    #: The same for ``credibility-v2``: each speaker's counted position at the end of valid
    #: time weighed (before the early caution) and when it first asserted the claim, the
    #: speakers to look at again, and the (``SourceBook``, ``RecordBook``) revisions.
    _end_v2: dict[str, tuple[str, str, float]] | None = None
    _end_first: dict[str, datetime] = field(default_factory=dict)
    _dirty_v2: set[str] = field(default_factory=set)
    _end_v2_revisions: tuple[int, int] | None = None

    def apply(
        self, statement: Statement, early: bool = False
    ) -> tuple[datetime, datetime | None] | None:
        """Take one recorded statement; answer the valid times whose answer may change.

        ``(since, until)``: from ``since`` up to (not including) ``until``, None for ever
        after. A position counts until its source's next position in valid time (one never
        withdrawn), so a statement back-filled among many others moves only that stretch.
        None: it changes nothing (a correction of an event this claim does not have).

        ``early``: for ``credibility-v2``, whose early-report caution dates an assertion
        from its source's first one: an assertion, a retraction or a correction that may
        move when that was moves the answer for ever after.
        """
        original = self.statements.get(statement.supersedes or "")  # as it was
        moved = self._apply(statement)
        if early and moved is not None and self._moves_first_report(statement, original):
            return moved[0], None
        return moved

    def _moves_first_report(self, statement: Statement, original: Statement | None) -> bool:
        """Whether ``statement`` (applied; ``original``: the statement it names, as it was)
        may change when its source first asserted the claim at some valid time after the
        stretches ``_apply`` answers. Not if no assertion is involved, nor if the source
        made an earlier assertion that nothing withdraws (the first report stays that one,
        or earlier), nor if it never asserts after (its first report counts only while an
        assertion is its position, and after those stretches that is a later one)."""
        asserted = StatementType.ASSERTED
        if statement.type == StatementType.ASSERTED:
            subjects = [statement]
        elif statement.type == StatementType.RETRACTED:
            if original is None or original.type != asserted:
                return False
            subjects = [original]
        elif statement.type == StatementType.CORRECTED:
            corrected = self.statements.get(statement.supersedes or "")
            if original is None or corrected is None:
                return False
            if original.speaker != corrected.speaker:
                return True
            if asserted not in (original.type, corrected.type):
                return False
            if original.type == corrected.type and original.at == corrected.at:
                return False  # the same assertion at the same time: only its words changed
            subjects = [original, corrected]
        else:
            return False
        first, last = min(map(key_of, subjects)), max(map(key_of, subjects))
        keys = self.positions.get(subjects[0].speaker, [])
        for earlier in keys:
            if earlier >= first:
                break
            found = self.statements[earlier[2]]
            if found.type == asserted and not self.retractions.get(found.event_id):
                return False
        return any(
            self.statements[later[2]].type == asserted
            for later in keys[bisect.bisect_right(keys, last) :]
        )

    def _apply(self, statement: Statement) -> tuple[datetime, datetime | None] | None:
        if statement.type == StatementType.CORRECTED:
            target = self.statements.get(statement.supersedes or "")
            if target is None:
                return None
            self._dirty.add(target.speaker)
            self._dirty_v2.add(target.speaker)
            # It moves the answer only where the original or the corrected one counts.
            before = self._counts_until(target)
            self._unindex(target)
            self.timeline.remove(key_of(target))
            corrected = target.corrected(statement)
            self.statements[target.event_id] = corrected
            for forgotten in [key for key in self._weights if key[0] == target.event_id]:
                del self._weights[forgotten]
            self._index(corrected)
            bisect.insort(self.timeline, key_of(corrected))
            after = self._counts_until(corrected)
            self._dirty.add(corrected.speaker)
            self._dirty_v2.add(corrected.speaker)
            until = None if before is None or after is None else max(before, after)
            return min(target.at, corrected.at), until
        self.statements[statement.event_id] = statement
        self._index(statement)
        bisect.insort(self.timeline, key_of(statement))
        self._dirty.add(statement.speaker)  # a retraction's: its target's, its own source
        self._dirty_v2.add(statement.speaker)
        if statement.type == StatementType.RETRACTED:
            target = self.statements.get(statement.supersedes or "")
            return statement.at, None if target is None else self._counts_until(target)
        return statement.at, self._counts_until(statement)

    def _counts_until(self, statement: Statement) -> datetime | None:
        """When the next position of the same list, never withdrawn, takes over."""
        keys = self._lists(statement)
        if keys is None:
            return None
        for key in keys[bisect.bisect_right(keys, key_of(statement)) :]:
            if not self.retractions.get(key[2]):
                return key[0]
        return None

    def _lists(self, statement: Statement) -> list[Key] | None:
        if unweighable(statement):  # left out of the credibility, as a replay does
            return None
        if statement.type == StatementType.RESOLVED:
            return self.resolutions
        if statement.type in STANCE_TYPES:
            return self.positions.setdefault(statement.speaker, [])
        return None

    def _index(self, statement: Statement) -> None:
        self._keys[statement.event_id] = self._list_key(statement)
        if statement.type == StatementType.RETRACTED and not unweighable(statement):
            self.retractions.setdefault(statement.supersedes or "", []).append(statement)
        keys = self._lists(statement)
        if keys is not None:
            bisect.insort(keys, key_of(statement))

    def _unindex(self, statement: Statement) -> None:
        keys = self._lists(statement)
        if keys is not None:
            keys.remove(key_of(statement))

    def withdrawn(self, statement: Statement, moment: datetime) -> bool:
        """Whether its own source has withdrawn ``statement`` by ``moment`` (valid time)."""
        retractions = self.retractions.get(statement.event_id)
        return retractions is not None and any(
            r.at <= moment and r.source == statement.source for r in retractions
        )

    def _latest(self, keys: list[Key], moment: datetime) -> Statement | None:
        at = bisect.bisect_right(keys, (moment, *_LAST))
        while at > 0:
            at -= 1
            statement = self.statements[keys[at][2]]
            if not self.withdrawn(statement, moment):
                return statement
        return None

    def counted(self, moment: datetime) -> list[Statement]:
        """What counts at valid time ``moment``: latest positions and the latest resolution."""
        found = [self._latest(keys, moment) for keys in self.positions.values()]
        found.append(self._latest(self.resolutions, moment))
        return [statement for statement in found if statement is not None]

    def spoke_since(self, source_id: str, since: datetime) -> datetime | None:
        """When the source's first position on the claim at or after ``since`` was."""
        keys = self.positions.get(source_id, [])
        at = bisect.bisect_left(keys, (since,))
        return keys[at][0] if at < len(keys) else None

    def cited(self) -> set[str]:
        return {s.speaker for s in self.statements.values()}

    def moments(
        self,
        since: datetime,
        until: datetime | None,
        sources: Mapping[str, SourceData],
        known_us: int,
    ) -> dict[datetime, set[str | None]]:
        """Every valid time in [``since``, ``until``) at which the answer may step, with the
        lists whose counted statement may change there (a source id, None for resolutions).

        A list's latest statement changes only where one of its statements starts or one
        is withdrawn; a source's weight only where its rating changes.
        """

        found: dict[datetime, set[str | None]] = {}
        first = bisect.bisect_left(self.timeline, (since,))
        last = len(self.timeline) if until is None else bisect.bisect_left(self.timeline, (until,))
        keys = self._keys
        for at, _, event_id in self.timeline[first:last]:
            touched = keys[event_id]
            if touched is _NONE:
                statement = self.statements[event_id]
                if statement.type != StatementType.RETRACTED:
                    continue
                target = self.statements.get(statement.supersedes or "")
                if target is None or unweighable(statement):
                    continue
                touched = keys[target.event_id]
                if touched is _NONE:
                    continue
            found.setdefault(at, set()).add(touched)  # type: ignore[arg-type]
        if isinstance(sources, SourceBook) and known_us >= sources.recorded_to:
            # Every rating in the book counts: those in the stretch, across sources, unless
            # there are more of them than the claim has speakers.
            first, last = sources.span(since, until)
            positions = self.positions
            if last - first <= len(positions):
                for at, sid in sources.rated(first, last):
                    if sid in positions:
                        found.setdefault(at, set()).add(sid)
                return found
        for sid in self.positions.keys() & sources.keys():
            for at in sources[sid].rated_between(since, until, known_us):
                found.setdefault(at, set()).add(sid)
        return found

    def _voices_at(
        self,
        since: datetime,
        changes: Mapping[datetime, set[str | None]],
        sources: Mapping[str, SourceData],
        known_us: int,
    ) -> Voices:
        """The counted voices at valid time ``since``: those at the end of valid time, but
        for the speakers ``changes`` (from ``since`` on) names, weighed at ``since``."""
        voices = self._end_voices(sources, known_us).copy()
        for touched in {speaker for moved in changes.values() for speaker in moved}:
            if touched is not None:
                voices.set(touched, self._voice(touched, since, sources, known_us))
        return voices

    def _end_voices(self, sources: Mapping[str, SourceData], known_us: int) -> Voices:
        """The voices at the end of valid time, weighed again where a speaker said more or
        its source's ratings changed since they were weighed."""
        revision = sources.revision if isinstance(sources, SourceBook) else None
        if self._end is None:
            self._end, self._end_rated = Voices(), {}
            self._dirty = set(self.positions)
        elif revision is None or revision != self._end_revision:
            # Ratings may have been added since: see whose.
            for speaker, rated in self._end_rated.items():
                source = sources.get(speaker)
                if (-1 if source is None else len(source.ratings)) != rated:
                    self._dirty.add(speaker)
        for speaker in self._dirty:
            source = sources.get(speaker)
            self._end_rated[speaker] = -1 if source is None else len(source.ratings)
            self._end.set(speaker, self._voice(speaker, _END_OF_TIME, sources, known_us))
        self._dirty = set()
        self._end_revision = revision
        return self._end

    def _voice(
        self, speaker: str, moment: datetime, sources: Mapping[str, SourceData], known_us: int
    ) -> tuple[str, str, float] | None:
        statement = self._latest(self.positions.get(speaker, []), moment)
        return None if statement is None else self._weighed(statement, moment, sources, known_us)

    def _list_key(self, statement: Statement) -> object:
        """Which list ``statement`` is counted in: its source's, None (resolutions), or
        ``_NONE`` (it is not weighed)."""
        if unweighable(statement):
            return _NONE
        if statement.type == StatementType.RESOLVED:
            return None
        if statement.type in STANCE_TYPES:
            return statement.speaker
        return _NONE

    def _weighed(
        self,
        statement: Statement,
        moment: datetime,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords | None = None,
    ) -> tuple[str, str, float]:
        """(event id, witness group, log-odds) of a counted position at ``moment``: weighed
        once per (statement, its source's grade) and remembered. With ``records``, as
        ``credibility-v2`` weighs it (its source's record when it was made, and relays),
        before the early-report caution."""
        source = sources.get(statement.speaker)
        grade = "F" if source is None else source.grade(moment, known_us)
        record = None if records is None else records.record(statement.speaker, statement.at)
        key = (statement.event_id, grade) if records is None else (
            statement.event_id, grade, record
        )
        found = self._weights.get(key)
        if found is None:
            standing = (
                SourceStanding(statement.speaker, statement.speaker, None, "F")
                if source is None
                else SourceStanding(source.source_id, source.name, source.affiliation, grade)
            )
            if records is None:
                found = weigh(statement, standing, self.parties, self.beneficiaries)
            else:
                found = credibility_v2.weigh(
                    statement, standing, self.parties, self.beneficiaries, record
                )
            self._weights[key] = found
        return (statement.event_id, *found)

    def summary(
        self,
        moment: datetime,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords | None = None,
    ) -> Summary:
        """The credibility at valid time ``moment``, as known at ``known_us``: the model's
        ``pool`` over the counted positions, what ``summarize`` computes; with ``records``,
        what ``credibility-v2`` computes."""
        voices: dict[str, tuple[str, str, float]] = {}
        outcome = None
        for statement in self.counted(moment):
            if statement.type == StatementType.RESOLVED:
                outcome = statement.outcome
            else:
                voices[statement.speaker] = self._weighed(
                    statement, moment, sources, known_us, records
                )
        if records is not None:
            voices = _early(voices, self._first_reports(voices, moment))
        return pool(list(voices.values()), outcome)

    def _first_reports(self, speakers: Iterable[str], moment: datetime) -> dict[str, datetime]:
        """When each of ``speakers`` whose position at ``moment`` is an assertion first
        asserted the claim (its statements withdrawn by then left out): v2's early caution."""
        found = {}
        for speaker in speakers:
            since = self._first_report(speaker, moment)
            if since is not None:
                found[speaker] = since
        return found

    def _first_report(self, speaker: str, moment: datetime) -> datetime | None:
        """When ``speaker`` first asserted the claim (``first_assertion``)."""
        first = self.first_assertion(speaker, moment)
        return None if first is None else first.at

    def first_assertion(self, speaker: str, moment: datetime) -> Statement | None:
        """The speaker's first assertion of the claim, among its statements not withdrawn by
        ``moment``, if its position at ``moment`` is an assertion (v2's early caution)."""
        keys = self.positions.get(speaker, [])
        latest = self._latest(keys, moment)
        if latest is None or latest.type != StatementType.ASSERTED:
            return None
        return self._first_of(keys, moment)

    def _first_of(self, keys: list[Key], moment: datetime) -> Statement | None:
        """The first assertion among a speaker's positions not withdrawn by ``moment``."""
        for at, _, event_id in keys:
            if at > moment:
                break
            statement = self.statements[event_id]
            if statement.type == StatementType.ASSERTED and not self.withdrawn(statement, moment):
                return statement
        return None

    def voices_v2(
        self,
        moment: datetime,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords,
    ) -> dict[str, tuple[str, str, float]]:
        """Each speaker's counted position at ``moment`` as ``credibility-v2`` pools it:
        (event id, witness group, log-odds), the early caution included."""
        raw: dict[str, tuple[str, str, float]] = {}
        first: dict[str, datetime] = {}
        for speaker in self.positions:
            self._look_again(speaker, moment, raw, first, sources, known_us, records)
        return _early(raw, first)

    def steps(
        self,
        since: datetime,
        until: datetime | None,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords | None = None,
    ) -> list[tuple[datetime, Summary]]:
        """The answer as a step function of valid time in [``since``, ``until``) (equal
        steps merged).

        One sweep: the counted statements at ``since``, then at each later moment only the
        lists that may change there are looked at again, and pooled side by side as they
        change (``Voices``), so a long stretch costs its moments and the witness groups
        speaking, not moments times sources. The voices at ``since`` are those kept for
        the end of valid time with the few speakers that change after ``since`` weighed
        again, where that is fewer than weighing every speaker.

        With ``records``, the answer is ``credibility-v2``'s (``_steps_v2``).
        """
        if records is not None:
            return self._steps_v2(since, until, sources, known_us, records)
        after = len(self.timeline) - bisect.bisect_left(self.timeline, (since,))
        if after < len(self.positions):
            # Few statements from here on: start from the voices at the end of valid time,
            # changing those of the speakers anything moves after ``since``.
            changes = self.moments(since, None, sources, known_us)
            voices = self._voices_at(since, changes, sources, known_us)
        else:  # weigh every speaker's position at ``since``
            changes = self.moments(since, until, sources, known_us)
            voices = Voices()
            voices.fill(
                (speaker, voice)
                for speaker in self.positions
                if (voice := self._voice(speaker, since, sources, known_us)) is not None
            )
        resolution = self._latest(self.resolutions, since)
        outcome = None if resolution is None else resolution.outcome
        steps = [(since, voices.pooled(outcome))]
        for moment in sorted(changes):
            if moment <= since:
                continue
            if until is not None and moment >= until:
                break
            changed = False
            for touched in changes[moment]:
                if touched is None:
                    resolution = self._latest(self.resolutions, moment)
                    now = None if resolution is None else resolution.outcome
                    changed, outcome = changed or now != outcome, now
                    continue
                statement = self._latest(self.positions.get(touched, []), moment)
                entry = None if statement is None else self._weighed(
                    statement, moment, sources, known_us
                )
                changed = voices.set(touched, entry) or changed
            if not changed:
                continue
            value = voices.pooled(outcome)
            if steps[-1][1] != value:
                steps.append((moment, value))
        return steps

    def _look_again(
        self,
        speaker: str,
        moment: datetime,
        raw: dict[str, tuple[str, str, float]],
        first: dict[str, datetime],
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords,
    ) -> None:
        """Put the speaker's counted position at ``moment`` in ``raw`` (weighed, before the
        early caution) and when it first asserted the claim in ``first``, or neither."""
        statement = self._latest(self.positions.get(speaker, []), moment)
        first.pop(speaker, None)
        if statement is None:
            raw.pop(speaker, None)
            return
        raw[speaker] = self._weighed(statement, moment, sources, known_us, records)
        if statement.type == StatementType.ASSERTED:
            report = self._first_of(self.positions[speaker], moment)
            if report is not None:
                first[speaker] = report.at

    def _end_v2_voices(
        self, sources: Mapping[str, SourceData], known_us: int, records: TrackRecords
    ) -> tuple[dict[str, tuple[str, str, float]], dict[str, datetime]]:
        """``_look_again`` of every speaker at the end of valid time, kept: only the speakers
        that said more since are looked at again, or all when a rating or a record changed
        (or the sources are not a ``SourceBook``, which says when ratings change)."""
        revisions = (
            sources.revision if isinstance(sources, SourceBook) else -1, records.revision
        )
        if self._end_v2 is None or revisions[0] < 0 or revisions != self._end_v2_revisions:
            self._end_v2, self._end_first = {}, {}
            dirty: Iterable[str] = list(self.positions)
        else:
            dirty = self._dirty_v2
        for speaker in dirty:
            self._look_again(
                speaker, _END_OF_TIME, self._end_v2, self._end_first, sources, known_us, records
            )
        self._dirty_v2 = set()
        self._end_v2_revisions = revisions
        return self._end_v2, self._end_first

    def _steps_v2(
        self,
        since: datetime,
        until: datetime | None,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords,
    ) -> list[tuple[datetime, Summary]]:
        """``steps`` in ``credibility-v2``: the same sweep, each position weighed with its
        source's record when it was made; the early-report caution depends on when the
        claim's first report was, across speakers, so where that moves every asserting
        speaker's voice is looked at again."""
        after = len(self.timeline) - bisect.bisect_left(self.timeline, (since,))
        if after < len(self.positions):
            # Few statements from here on: start from the end of valid time, looking again
            # only at the speakers anything moves after ``since``.
            changes = self.moments(since, None, sources, known_us)
            end, end_first = self._end_v2_voices(sources, known_us, records)
            raw, first = dict(end), dict(end_first)
            for speaker in {s for moved in changes.values() for s in moved if s is not None}:
                self._look_again(speaker, since, raw, first, sources, known_us, records)
        else:
            changes = self.moments(since, until, sources, known_us)
            raw, first = {}, {}
            for speaker in self.positions:
                self._look_again(speaker, since, raw, first, sources, known_us, records)
        start = min(first.values(), default=None)
        voices = Voices()
        voices.fill(_early(raw, first).items())
        resolution = self._latest(self.resolutions, since)
        outcome = None if resolution is None else resolution.outcome
        steps = [(since, voices.pooled(outcome))]
        for moment in sorted(changes):
            if moment <= since:
                continue
            if until is not None and moment >= until:
                break
            changed = False
            touched: set[str] = set()
            reported = False  # whether a speaker's first report may have moved
            for moved in changes[moment]:
                if moved is None:
                    resolution = self._latest(self.resolutions, moment)
                    now = None if resolution is None else resolution.outcome
                    changed, outcome = changed or now != outcome, now
                    continue
                speaker = moved
                touched.add(speaker)
                was = first.get(speaker)
                self._look_again(speaker, moment, raw, first, sources, known_us, records)
                reported = reported or first.get(speaker) != was
            now_start = min(first.values(), default=None) if reported else start
            if now_start != start:
                # The claim's first report moved: the asserting speakers whose report
                # turns early or not with it are looked at again.
                touched.update(
                    speaker
                    for speaker, since in first.items()
                    if credibility_v2.is_early(since, start)
                    != credibility_v2.is_early(since, now_start)
                )
                start = now_start
            for speaker in touched:
                entry = raw.get(speaker)
                if entry is not None:
                    entry = (entry[0], entry[1], credibility_v2.early(
                        entry[2], first.get(speaker), start
                    ))
                changed = voices.set(speaker, entry) or changed
            if not changed:
                continue
            value = voices.pooled(outcome)
            if steps[-1][1] != value:
                steps.append((moment, value))
        return steps


def _early(
    voices: Mapping[str, tuple[str, str, float]], first: Mapping[str, datetime]
) -> dict[str, tuple[str, str, float]]:
    """The voices with ``credibility-v2``'s early-report caution applied (``first``: when
    each asserting speaker first asserted the claim)."""
    start = min(first.values(), default=None)
    return {
        speaker: (event_id, group, credibility_v2.early(weight, first.get(speaker), start))
        for speaker, (event_id, group, weight) in voices.items()
    }
