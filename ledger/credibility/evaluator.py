"""The incremental evaluator: one claim's statements in, its credibility over valid time out.

Feed it statements in recording order (``apply``: each correction applied as it arrives);
ask for the summary (probability, band, status, grade) at any valid time (``summary``), the
step function over a stretch of valid time (``steps``), the counted voices at a moment
(``voices``) or the latest position of a list (``latest``). The model version is a strategy
(``Strategy``); the rule of what counts is the one ``selection`` states, applied here to
indexed lists so that an answer costs the claim's sources, not its events.

Only what counts is handed to the strategy: each source's latest position not withdrawn by
then, and the latest resolution not withdrawn. A version that ``dates_first_report`` also
depends on when each asserting source first asserted the claim; one that ``learns`` on each
statement's source's record when it was made (``TrackRecords``). Property tests hold every
answer equal to ``assess`` over the whole evidence.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ledger.credibility.pooling import Voices, pool
from ledger.credibility.records import NoRecords, TrackRecords
from ledger.credibility.sources import SourceBook, SourceData
from ledger.credibility.strategy import Strategy
from ledger.credibility.values import Key, Summary, Voice, key_of, unregistered, unweighable
from ledger.statements import STANCE_TYPES, Statement, StatementType

_LAST = (2**63, "")
#: Statements remembered for the checkpoints (``_said``), and checkpoints kept per claim.
SAID_KEPT = 1024
CHECKPOINTS = 16
_TICK = timedelta(microseconds=1)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)
_NONE = object()
_NO_RECORDS = NoRecords()


@dataclass
class _Checkpoint:
    """Each speaker's counted position at ``moment``, weighed (before ``caution``), and
    when it first asserted the claim: as of ``said`` statements applied and the books'
    ``revisions``."""

    moment: datetime
    raw: dict[str, Voice]
    first: dict[str, datetime]
    said: int
    revisions: tuple[int, int]
    made: int


@dataclass
class ClaimEvaluator:
    """One claim's statements as known so far, indexed for answers at any valid time, by
    one model version (``strategy``)."""

    strategy: Strategy
    claim_id: str
    parties: list[str]
    beneficiaries: list[str]
    #: Every statement but corrections, by event id, with the corrections known applied.
    statements: dict[str, Statement] = field(default_factory=dict)
    #: Weighable positions by source, and resolutions, each sorted by ``key_of``.
    positions: dict[str, list[Key]] = field(default_factory=dict)
    #: The assertions among each source's positions, sorted by ``key_of`` (its first
    #: report, for a version that ``dates_first_report``).
    assertions: dict[str, list[Key]] = field(default_factory=dict)
    resolutions: list[Key] = field(default_factory=list)
    #: The retractions of each statement, by the statement's event id.
    retractions: dict[str, list[Statement]] = field(default_factory=dict)
    #: ``_list_key`` of every statement in ``statements``, by event id (a sweep over a
    #: stretch of valid time looks it up for every statement there).
    _keys: dict[str, object] = field(default_factory=dict)
    #: Every statement in ``statements``, sorted by ``key_of``: what a stretch of valid
    #: time holds, found by bisection.
    timeline: list[Key] = field(default_factory=list)
    #: (witness group, log-odds) by (event id, its source's grade); a correction forgets
    #: its event's.
    _weights: dict[tuple[object, ...], tuple[str, float]] = field(default_factory=dict)
    #: Each speaker's counted position at the end of valid time weighed (before
    #: ``caution``) and when it first asserted the claim, the speakers to look at again,
    #: and the (``SourceBook``, ``TrackRecords``) revisions they were weighed against.
    _end: dict[str, Voice] | None = None
    _end_first: dict[str, datetime] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)
    _end_revisions: tuple[int, int] | None = None
    #: What each statement applied moved: (count, from which valid time, whose lists),
    #: the latest ``SAID_KEPT`` of them, so a checkpoint can tell which of its speakers to
    #: look at again.
    _said: deque[tuple[int, datetime, tuple[str, ...]]] = field(
        default_factory=lambda: deque(maxlen=SAID_KEPT)
    )
    _said_count: int = 0
    #: The voices at a few valid times a sweep started from (sorted by moment), so the
    #: next sweep from near one starts from it rather than weighing every speaker again.
    _checkpoints: list[_Checkpoint] = field(default_factory=list)
    _checkpoints_made: int = 0

    def apply(self, statement: Statement) -> tuple[datetime, datetime | None] | None:
        """Take one recorded statement; answer the valid times whose answer may change.

        ``(since, until)``: from ``since`` up to (not including) ``until``, None for ever
        after. A position counts until its source's next position in valid time (one never
        withdrawn), so a statement back-filled among many others moves only that stretch.
        None: it changes nothing (a correction of an event this claim does not have).

        For a version that ``dates_first_report`` (an assertion counts from its source's
        first one): an assertion, a retraction or a correction that may move when that was
        moves the answer for ever after.
        """
        original = self.statements.get(statement.supersedes or "")  # as it was
        moved = self._apply(statement)
        if (
            self.strategy.dates_first_report
            and moved is not None
            and self._moves_first_report(statement, original)
        ):
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
            self._note_said(min(target.at, corrected.at), target.speaker, corrected.speaker)
            until = None if before is None or after is None else max(before, after)
            return min(target.at, corrected.at), until
        self.statements[statement.event_id] = statement
        self._index(statement)
        bisect.insort(self.timeline, key_of(statement))
        self._dirty.add(statement.speaker)  # a retraction's: its target's, its own
        self._note_said(statement.at, statement.speaker)
        if statement.type == StatementType.RETRACTED:
            target = self.statements.get(statement.supersedes or "")
            if target is not None:
                self._note_said(statement.at, target.speaker)
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
            if statement.type == StatementType.ASSERTED:
                bisect.insort(self.assertions.setdefault(statement.speaker, []), key_of(statement))

    def _unindex(self, statement: Statement) -> None:
        if statement.type == StatementType.RETRACTED and not unweighable(statement):
            # A retraction corrected into something else no longer withdraws anything.
            kept = [
                r for r in self.retractions.get(statement.supersedes or "", [])
                if r.event_id != statement.event_id
            ]
            if kept:
                self.retractions[statement.supersedes or ""] = kept
            else:
                self.retractions.pop(statement.supersedes or "", None)
        keys = self._lists(statement)
        if keys is not None:
            keys.remove(key_of(statement))
            if statement.type == StatementType.ASSERTED:
                self.assertions[statement.speaker].remove(key_of(statement))

    def withdrawn(self, statement: Statement, moment: datetime) -> bool:
        """Whether its own source has withdrawn ``statement`` by ``moment`` (valid time)."""
        retractions = self.retractions.get(statement.event_id)
        return retractions is not None and any(
            r.at <= moment and r.source == statement.source for r in retractions
        )

    def latest(self, keys: list[Key], moment: datetime) -> Statement | None:
        """The last statement of a list (``positions[source]``, ``resolutions``) at
        ``moment`` that its own source has not withdrawn by then."""
        at = bisect.bisect_right(keys, (moment, *_LAST))
        while at > 0:
            at -= 1
            statement = self.statements[keys[at][2]]
            if not self.withdrawn(statement, moment):
                return statement
        return None

    def counted(self, moment: datetime) -> list[Statement]:
        """What counts at valid time ``moment``: latest positions and the latest resolution."""
        found = [self.latest(keys, moment) for keys in self.positions.values()]
        found.append(self.latest(self.resolutions, moment))
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
        records: TrackRecords,
    ) -> Voice:
        """(event id, witness group, log-odds) of a counted position at ``moment``, before
        ``caution``: weighed once per (statement, its source's grade, its record) and
        remembered."""
        source = sources.get(statement.speaker)
        grade = "F" if source is None else source.grade(moment, known_us)
        record = records.record(statement.speaker, statement.at) if self.strategy.learns else None
        key = (statement.event_id, grade, record)
        found = self._weights.get(key)
        if found is None:
            standing = (
                unregistered(statement.speaker, statement.speaker)
                if source is None
                else source.standing_at(grade)
            )
            found = self.strategy.voice(
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
        """The credibility at valid time ``moment``, as known at ``known_us``: the pool
        over the counted positions, as ``assess`` computes it."""
        voices: dict[str, Voice] = {}
        outcome = None
        for statement in self.counted(moment):
            if statement.type == StatementType.RESOLVED:
                outcome = statement.outcome
            else:
                voices[statement.speaker] = self._weighed(
                    statement, moment, sources, known_us, records or _NO_RECORDS
                )
        if self.strategy.dates_first_report:
            voices = self._caution(voices, self._first_reports(voices, moment))
        return pool(list(voices.values()), outcome, self.strategy.extremizing)

    def _caution(
        self, voices: Mapping[str, Voice], first: Mapping[str, datetime]
    ) -> dict[str, Voice]:
        """The voices with the version's ``cautioned`` applied (``first``: when each
        asserting speaker first asserted the claim)."""
        start = min(first.values(), default=None)
        cautioned = self.strategy.cautioned
        return {
            speaker: (event_id, group, cautioned(weight, first.get(speaker), start))
            for speaker, (event_id, group, weight) in voices.items()
        }

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
        latest = self.latest(keys, moment)
        if latest is None or latest.type != StatementType.ASSERTED:
            return None
        return self._first_of(speaker, moment)

    def _first_of(self, speaker: str, moment: datetime) -> Statement | None:
        """The speaker's first assertion not withdrawn by ``moment``."""
        for at, _, event_id in self.assertions.get(speaker, ()):
            if at > moment:
                break
            statement = self.statements[event_id]
            if not self.withdrawn(statement, moment):
                return statement
        return None

    def voices(
        self,
        moment: datetime,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords | None = None,
    ) -> dict[str, Voice]:
        """Each speaker's counted position at ``moment`` as the version pools it: (event
        id, witness group, log-odds), ``caution`` included."""
        raw: dict[str, Voice] = {}
        first: dict[str, datetime] = {}
        for speaker in self.positions:
            self._look_again(
                speaker, moment, raw, first, sources, known_us, records or _NO_RECORDS
            )
        return self._caution(raw, first)

    def _look_again(
        self,
        speaker: str,
        moment: datetime,
        raw: dict[str, Voice],
        first: dict[str, datetime],
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords,
    ) -> None:
        """Put the speaker's counted position at ``moment`` in ``raw`` (weighed, before the
        early caution) and when it first asserted the claim in ``first``, or neither."""
        statement = self.latest(self.positions.get(speaker, []), moment)
        first.pop(speaker, None)
        if statement is None:
            raw.pop(speaker, None)
            return
        raw[speaker] = self._weighed(statement, moment, sources, known_us, records)
        if self.strategy.dates_first_report and statement.type == StatementType.ASSERTED:
            report = self._first_of(speaker, moment)
            if report is not None:
                first[speaker] = report.at

    def _end_voices(
        self, sources: Mapping[str, SourceData], known_us: int, records: TrackRecords
    ) -> tuple[dict[str, Voice], dict[str, datetime]]:
        """``_look_again`` of every speaker at the end of valid time, kept: only the speakers
        that said more since, or whose rating or record changed since, are looked at again
        (all of them when the books cannot say which changed, or the sources are not a
        ``SourceBook``, which says when ratings change)."""
        revisions = (
            sources.revision if isinstance(sources, SourceBook) else -1, records.revision
        )
        changed: set[str] | None = None
        if self._end is not None and revisions[0] >= 0 and self._end_revisions is not None:
            changed = self._changed_since(self._end_revisions, sources, records)  # type: ignore[arg-type]
        if self._end is None or changed is None:
            self._end, self._end_first = {}, {}
            dirty: Iterable[str] = list(self.positions)
        else:
            dirty = self._dirty | changed
        for speaker in dirty:
            self._look_again(
                speaker, END_OF_TIME, self._end, self._end_first, sources, known_us, records
            )
        self._dirty = set()
        self._end_revisions = revisions
        return self._end, self._end_first

    def _changed_since(
        self, revisions: tuple[int, int], sources: SourceBook, records: TrackRecords
    ) -> set[str] | None:
        """The claim's speakers whose rating or track record changed since the books'
        ``revisions`` (None: the books no longer know)."""
        rated = sources.changed_since(revisions[0])
        recorded = records.changed_since(revisions[1])
        if rated is None or recorded is None:
            return None
        return (rated | recorded) & self.positions.keys()

    # -- checkpoints: the voices at a few valid times, for sweeps that start near one --

    def _note_said(self, at: datetime, *speakers: str) -> None:
        self._said_count += 1
        self._said.append((self._said_count, at, speakers))

    def _said_since(self, count: int, moment: datetime) -> set[str] | None:
        """The speakers whose position at ``moment`` the statements applied after the
        ``count``-th may have changed (None: not known, they are no longer kept)."""
        if count == self._said_count:
            return set()
        if not self._said or self._said[0][0] > count + 1:
            return None
        found: set[str] = set()
        for at_count, at, speakers in reversed(self._said):
            if at_count <= count:
                break
            if at <= moment:
                found.update(speakers)
        return found

    def _from_checkpoint(
        self,
        since: datetime,
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords,
    ) -> tuple[dict[str, Voice], dict[str, datetime]] | None:
        """The voices at ``since`` (as ``_look_again`` of every speaker finds them) from
        the latest checkpoint at or before it, brought up to date: its speakers that a
        statement, a rating or a record changed since it was made looked at again, then
        the speakers anything moves for between it and ``since``. None when there is no
        such checkpoint or that would cost more than weighing every speaker."""
        if not isinstance(sources, SourceBook) or known_us < sources.recorded_to:
            return None
        at = bisect.bisect_right(self._checkpoints, since, key=_moment) - 1
        if at < 0:
            return None
        point = self._checkpoints[at]
        speakers = len(self.positions)
        gap = bisect.bisect_right(self.timeline, (since, *_LAST)) - bisect.bisect_left(
            self.timeline, (point.moment,)
        )
        if gap >= speakers:
            return None
        said = self._said_since(point.said, point.moment)
        changed = self._changed_since(point.revisions, sources, records)
        if said is None or changed is None:
            del self._checkpoints[at]
            return None
        stale = changed | (said & self.positions.keys())
        if len(stale) + gap >= speakers:
            return None
        for speaker in stale:
            self._look_again(
                speaker, point.moment, point.raw, point.first, sources, known_us, records
            )
        point.said, point.revisions = self._said_count, (sources.revision, records.revision)
        raw, first = dict(point.raw), dict(point.first)
        if since > point.moment:
            moved = self.moments(point.moment, since + _TICK, sources, known_us)
            for speaker in {s for lists in moved.values() for s in lists if s is not None}:
                self._look_again(speaker, since, raw, first, sources, known_us, records)
        return raw, first

    def _keep_checkpoint(
        self,
        since: datetime,
        raw: dict[str, Voice],
        first: dict[str, datetime],
        sources: Mapping[str, SourceData],
        known_us: int,
        records: TrackRecords,
    ) -> None:
        """Keep the voices at ``since`` as a checkpoint (the oldest made goes beyond
        ``CHECKPOINTS``)."""
        if not isinstance(sources, SourceBook) or known_us < sources.recorded_to:
            return
        self._checkpoints_made += 1
        point = _Checkpoint(
            since, dict(raw), dict(first), self._said_count,
            (sources.revision, records.revision), self._checkpoints_made,
        )
        at = bisect.bisect_left(self._checkpoints, since, key=_moment)
        if at < len(self._checkpoints) and self._checkpoints[at].moment == since:
            self._checkpoints[at] = point
            return
        self._checkpoints.insert(at, point)
        if len(self._checkpoints) > CHECKPOINTS:
            oldest = min(range(len(self._checkpoints)), key=lambda i: self._checkpoints[i].made)
            del self._checkpoints[oldest]

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
        again, where that is fewer than weighing every speaker. Each position is weighed
        with its source's record when it was made; ``caution`` depends on when the claim
        was first reported, across speakers, so where that moves every asserting
        speaker's voice is looked at again.
        """
        records = records or _NO_RECORDS
        strategy = self.strategy
        after = len(self.timeline) - bisect.bisect_left(self.timeline, (since,))
        if after < len(self.positions):
            # Few statements from here on: start from the end of valid time, looking again
            # only at the speakers anything moves after ``since``.
            changes = self.moments(since, None, sources, known_us)
            end, end_first = self._end_voices(sources, known_us, records)
            raw, first = dict(end), dict(end_first)
            for speaker in {s for moved in changes.values() for s in moved if s is not None}:
                self._look_again(speaker, since, raw, first, sources, known_us, records)
        else:
            changes = self.moments(since, until, sources, known_us)
            kept = self._from_checkpoint(since, sources, known_us, records)
            if kept is None:
                raw, first = {}, {}
                for speaker in self.positions:
                    self._look_again(speaker, since, raw, first, sources, known_us, records)
            else:
                raw, first = kept
            self._keep_checkpoint(since, raw, first, sources, known_us, records)
        start = min(first.values(), default=None)
        voices = Voices(strategy.extremizing)
        voices.fill(self._caution(raw, first).items())
        resolution = self.latest(self.resolutions, since)
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
                    resolution = self.latest(self.resolutions, moment)
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
                    if strategy.cautioned(1.0, since, start)
                    != strategy.cautioned(1.0, since, now_start)
                )
                start = now_start
            for speaker in touched:
                entry = raw.get(speaker)
                if entry is not None:
                    entry = (entry[0], entry[1], strategy.cautioned(
                        entry[2], first.get(speaker), start
                    ))
                changed = voices.set(speaker, entry) or changed
            if not changed:
                continue
            value = voices.pooled(outcome)
            if steps[-1][1] != value:
                steps.append((moment, value))
        return steps


def _moment(point: _Checkpoint) -> datetime:
    return point.moment
