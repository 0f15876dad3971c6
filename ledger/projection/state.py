"""What the credibility projection keeps of one claim, and its credibility over valid time.

Pure: a claim's statements (each correction applied as it arrives) and its sources'
ratings go in; the summary (probability, band, status, grade) at any valid time comes out,
as a step function from a given valid time on.

Only what counts is handed to the model: each source's latest position not withdrawn by
then, and the latest resolution not withdrawn. The model's summary depends on nothing
else (superseded positions and retractions move no number), so a summary costs the number
of the claim's sources, not of its events; a property test holds it equal to the model
over the whole evidence, as a replay computes it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ledger.credibility import SourceStanding, pool, unweighable, weigh
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
    _weights: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)
    #: The counted voices at the end of valid time, with the number of ratings each
    #: speaker's source had when its voice was weighed; a sweep starts from a copy,
    #: changing only the speakers whose position or grade changes after its start.
    _end: Voices | None = None
    _end_rated: dict[str, int] = field(default_factory=dict)
    #: Speakers whose voice at the end of valid time must be weighed again.
    _dirty: set[str] = field(default_factory=set)
    #: The ``SourceBook.revision`` the voices at the end were last checked against.
    _end_revision: int | None = None

    def apply(self, statement: Statement) -> tuple[datetime, datetime | None] | None:
        """Take one recorded statement; answer the valid times whose answer may change.

        ``(since, until)``: from ``since`` up to (not including) ``until``, None for ever
        after. A position counts until its source's next position in valid time (one never
        withdrawn), so a statement back-filled among many others moves only that stretch.
        None: it changes nothing (a correction of an event this claim does not have).
        """
        if statement.type == StatementType.CORRECTED:
            target = self.statements.get(statement.supersedes or "")
            if target is None:
                return None
            self._dirty.add(target.speaker)
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
            until = None if before is None or after is None else max(before, after)
            return min(target.at, corrected.at), until
        self.statements[statement.event_id] = statement
        self._index(statement)
        bisect.insort(self.timeline, key_of(statement))
        self._dirty.add(statement.speaker)  # a retraction's: its target's, its own source
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
    ) -> tuple[str, str, float]:
        """(event id, witness group, log-odds) of a counted position at ``moment``: weighed
        once per (statement, its source's grade) and remembered."""
        source = sources.get(statement.speaker)
        grade = "F" if source is None else source.grade(moment, known_us)
        key = (statement.event_id, grade)
        found = self._weights.get(key)
        if found is None:
            standing = (
                SourceStanding(statement.speaker, statement.speaker, None, "F")
                if source is None
                else SourceStanding(source.source_id, source.name, source.affiliation, grade)
            )
            found = weigh(statement, standing, self.parties, self.beneficiaries)
            self._weights[key] = found
        return (statement.event_id, *found)

    def summary(
        self, moment: datetime, sources: Mapping[str, SourceData], known_us: int
    ) -> Summary:
        """The credibility at valid time ``moment``, as known at ``known_us``: the model's
        ``pool`` over the counted positions, what ``summarize`` computes."""
        weighed: list[tuple[str, str, float]] = []
        outcome = None
        for statement in self.counted(moment):
            if statement.type == StatementType.RESOLVED:
                outcome = statement.outcome
            else:
                weighed.append(self._weighed(statement, moment, sources, known_us))
        return pool(weighed, outcome)

    def steps(
        self,
        since: datetime,
        until: datetime | None,
        sources: Mapping[str, SourceData],
        known_us: int,
    ) -> list[tuple[datetime, Summary]]:
        """The answer as a step function of valid time in [``since``, ``until``) (equal
        steps merged).

        One sweep: the counted statements at ``since``, then at each later moment only the
        lists that may change there are looked at again, and pooled side by side as they
        change (``Voices``), so a long stretch costs its moments and the witness groups
        speaking, not moments times sources. The voices at ``since`` are those kept for
        the end of valid time with the few speakers that change after ``since`` weighed
        again, where that is fewer than weighing every speaker.
        """
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
