"""The credibility projection: turns the global log's events into changes of the
bitemporal credibility tables.

``CredibilityProjection`` is an ``eventsourcing`` ``Projection``: ``process_event`` is
dispatched on the event's class (a claim registered, a statement recorded, a source
registered or re-rated) and turns each into changes of the view's rows, computed from the
claim's state in memory (``ledger.projection.state``) in the projected model version
(the registry's ``PROJECTED`` unless told): for a version that learns, with the sources'
track records, so a statement that changes what a resolved claim adds to them restates the
claims where those sources spoke after the change. ``flush`` writes the changes of a page
of events and the page's tracking position in one transaction, so the rows and the
position can never disagree, and the library's tracking upsert refuses a position twice.
Where changes go and what is read back are a few methods (``_queue_*``, ``_rows_of``,
``_citing``) that ``ledger.projection.parallel`` overrides to project a part of the claims
in a process of its own.

``ledger.projection.projector`` runs it.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from ledger import replay
from ledger.caching import budget
from ledger.credibility.records import RecordBook
from ledger.credibility.registry import PROJECTED, VERSIONS, ModelVersion
from ledger.credibility.sources import Recorded, SourceBook, SourceData
from ledger.credibility.values import Summary
from ledger.domain import Claim, Source
from ledger.errors import DamagedHistory
from ledger.projection.state import ProjectedClaim
from ledger.projection.tables import BEGINNING_OF_TIME, END_OF_TIME, Interval, Replaced
from ledger.projection.views import CredibilityView
from ledger.statements import Statement
from ledger.store import LedgerApplication
from ledger.times import to_micros

log = logging.getLogger(__name__)
Change = Callable[[Any], None]
#: Claims whose state is kept in memory between events (the rest are loaded on demand):
#: the least recently used go first. The statements they hold together are bounded by the
#: projector's share of the process's cache budget (``ledger.caching``: about
#: ``STATEMENT_BYTES`` each, its evaluator's indexes and its rows included, measured with
#: ``tracemalloc``), or by ``STATEMENTS_IN_MEMORY`` when set (tests), or by a rebuild's
#: ``hold``.
CLAIMS_IN_MEMORY = 5000
STATEMENTS_IN_MEMORY: int | None = None
STATEMENT_BYTES = 1700
#: However small the budget, room for this many statements (a claim too large for the
#: rest is still kept alone: the most recent one always stays).
MIN_STATEMENTS = 2000
#: A row's id is its event's position shifted by this many bits, plus its place among the
#: rows the event made (so a rebuild gives every row the id it had).
RID_BITS = 24


@dataclass(frozen=True)
class Event:
    """A domain event with where and when the log recorded it."""

    domain_event: Any
    position: int
    recorded_at: int  # microseconds


def read_events(store: LedgerApplication, after: int, limit: int) -> list[Event]:
    """The next ``limit`` events of the log after position ``after``, as projected: a
    damaged one (``stored_at``) as None, so the position moves on past it."""
    entries = store.index.log_entries(after, limit)
    events = []
    for entry, stored, found in store.stored_at(entries):
        if stored is None:  # damaged: nothing to project there; the position moves on
            log.warning("credibility projection skips position %d: %s", entry.position, found)
            found = None
        events.append(Event(found, entry.position, entry.recorded_at))
    return events


class CredibilityProjection(Projection[Any]):
    """Turns events into changes of the credibility tables (written by ``flush``)."""

    name = "credibility"

    def __init__(
        self, view: CredibilityView, store: LedgerApplication, model: ModelVersion | None = None
    ) -> None:
        super().__init__(view)
        self.store = store
        #: The model version it computes (the registry's ``PROJECTED`` unless told).
        self.model = model or VERSIONS[PROJECTED]
        self.claims: OrderedDict[str, ProjectedClaim] = OrderedDict()
        self.held = 0  # statements held by ``claims``
        #: At most this many statements held (None: as the cache budget allows).
        self.room: int | None = None
        self.sources = SourceBook()
        #: The sources' track records, for a version that learns from them (None: it
        #: does not).
        strategy = self.model.strategy
        self.records = RecordBook(strategy.record_weight) if strategy.learns else None
        self.pending: list[Change] = []
        #: The rows each queued change ends and starts (``CredibilityTables.replace_all``).
        self.replaced: list[Replaced] = []
        self.tracking: Tracking | None = None
        self.recorded_at = 0  # of the event being processed
        self._rids = 0  # the next row id of the event being processed
        self._rids_end = 0

    def forget(self) -> None:
        """Drop what is in memory (after a failed write, or a rebuild)."""
        self.claims.clear()
        self.held = 0
        self.sources.clear()
        if self.records is not None:
            self.records.clear()
        self.pending.clear()
        self.replaced.clear()
        self.tracking = None

    def flush(self) -> None:
        if self.tracking is None:
            return
        changes, replaced, tracking = list(self.pending), list(self.replaced), self.tracking

        def apply(cursor: Any) -> None:
            for change in changes:
                change(cursor)
            self.view.tables.replace_all(cursor, replaced)

        try:
            self.view.write(apply, tracking)
        except BaseException:
            self.forget()
            raise
        self.pending.clear()
        self.replaced.clear()
        self.tracking = None

    def process(self, event: Event) -> None:
        self.recorded_at = event.recorded_at
        self._rids = event.position << RID_BITS
        self._rids_end = (event.position + 1) << RID_BITS
        tracking = Tracking(self.view.tables.tracked, event.position)
        if self.records is not None and not self.records.loaded:
            self._load_records()
        try:
            self.process_event(event.domain_event, tracking)
        except DamagedHistory as damaged:
            # A claim (or a source it cites) whose stored events no longer match the log:
            # its rows stay as they were, lists flag it (``LedgerReads.list_claims``), and
            # the projection goes on with the other claims.
            log.warning("credibility projection skips an event at position %d: %s",
                        event.position, damaged.detail)
            self.tracking = tracking

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """An event the projection does not weigh: only the position moves on."""
        self.tracking = tracking

    @process_event.register
    def claim_registered(self, domain_event: Claim.Registered, tracking: Tracking) -> None:  # type: ignore[name-defined]
        e = domain_event
        state = ProjectedClaim(
            self.model.strategy,
            e.claim_id,
            list(e.parties),
            list(getattr(e, "beneficiaries", []) or []),
        )
        self._remember(state)
        row = (
            e.claim_id,
            e.originator_id.hex,
            tracking.notification_id,
            self.recorded_at,
            e.text,
            e.text.lower(),
            json.dumps(e.tags),
            json.dumps(e.parties),
            json.dumps(state.beneficiaries),
        )
        first = Interval(BEGINNING_OF_TIME, END_OF_TIME, *self._summary(state), rid=self._rid())
        state.rows = [first]
        state.position = position = tracking.notification_id
        self._queue_claim(row, list(e.tags), first, self.recorded_at, position)
        self.tracking = tracking

    @process_event.register
    def statement_recorded(self, domain_event: Claim.StatementRecorded, tracking: Tracking) -> None:
        statement = Statement.from_payload(domain_event.record, position=tracking.notification_id)
        self._statement(statement)
        self.tracking = tracking

    def _statement(self, statement: Statement) -> None:
        """Apply a statement to its claim and restate what it moved."""
        state = self._claim(statement.claim_id or "")
        if statement.source is not None:
            self._source(statement.source)
            self._queue_cite(statement.source, state.claim_id)
        held = len(state.statements)
        moved = state.apply(statement)
        self.held += len(state.statements) - held
        self._make_room()
        rerecorded = self._rerecord(state)
        if rerecorded:
            self._restate_citing(rerecorded, state, moved)
        elif moved is not None:
            self._restate(state, *moved)

    @process_event.register
    def source_registered(self, domain_event: Source.Registered, tracking: Tracking) -> None:
        e = domain_event
        rating = {
            "reliability": e.reliability,
            "occurred_at": None,
            "event_id": e.event_id,
            "actor": e.actor,
            "note": None,
            "version": e.originator_version,
        }
        self.sources[e.source_id] = SourceData(
            e.source_id,
            e.name,
            e.role,
            e.affiliation,
            [Recorded(rating, tracking.notification_id, self.recorded_at)],
            tuple(e.affiliations),
        )
        self.tracking = tracking

    @process_event.register
    def source_rerated(self, domain_event: Source.Rerated, tracking: Tracking) -> None:  # type: ignore[name-defined]
        e = domain_event
        source = self._source(e.source_id)
        rating = {
            "reliability": e.reliability,
            "occurred_at": e.occurred_at,
            "event_id": e.event_id,
            "actor": e.actor,
            "note": e.note,
            "version": e.originator_version,
        }
        was = source.grade(e.occurred_at, self.recorded_at)
        self.sources.add_rating(
            e.source_id, Recorded(rating, tracking.notification_id, self.recorded_at)
        )
        if source.grade(e.occurred_at, self.recorded_at) == was:
            self.tracking = tracking
            return  # the grade in force from then on is the one it replaces: nothing moves
        # Every claim that cites the source moves from the rating's valid time up to its
        # next rating's, if any.
        later = [
            at for at in source.rated_between(e.occurred_at, None, self.recorded_at)
            if at > e.occurred_at
        ]
        until = min(later, default=None)
        # The claims are loaded one at a time, so those in memory stay within their bound
        # however many the source cites.
        for claim_id in self._citing([e.source_id]):
            self._restate(self._claim(claim_id), e.occurred_at, until)
        self.tracking = tracking

    # -- the sources' track records (a projected version that learns from them) ----------

    def _load_records(self) -> None:
        """Read the claims resolved before the event being processed into the records."""
        assert self.records is not None
        known = self.recorded_at - 1
        for claim_id in self.store.resolved_claims(known):
            try:
                data = self.store.claim_as_known(claim_id, known)
            except DamagedHistory as damaged:  # as a read's record book leaves it out
                log.warning("claim %s adds nothing to the sources' track records: %s",
                            claim_id, damaged.detail)
                continue
            self.records.update(claim_id, replay.corrected_statements(data, known))
            self._resolved_before(data)
        self.records.loaded = True

    def _resolved_before(self, data: replay.ClaimData) -> None:
        """A claim resolved before the first event projected here, as read for the records."""

    def _rerecord(self, state: ProjectedClaim) -> dict[str, datetime]:
        """Take what the claim now adds to its sources' records; answer the sources whose
        record changed, with the valid time from which it did."""
        if self.records is None or not (state.resolutions or self.records.holds(state.claim_id)):
            return {}
        return self.records.update(state.claim_id, state.statements.values())

    def _restate_citing(
        self,
        rerecorded: dict[str, datetime],
        state: ProjectedClaim,
        moved: tuple[datetime, datetime | None] | None,
    ) -> None:
        """Restate ``state`` where the event ``moved`` it, and every claim where a source
        whose record changed spoke after the change (a statement is weighed with its
        source's record when it was made): each claim once, over the union of its stretches
        of valid time (two restatements in one event would make two rows of one valid
        and one recording time)."""
        citing = self._citing(list(rerecorded))

        def stretch(
            claim: ProjectedClaim, known: tuple[datetime, datetime | None] | None
        ) -> tuple[datetime, datetime | None] | None:
            for source_id, since in rerecorded.items():
                spoke = claim.spoke_since(source_id, since)
                if spoke is not None:
                    known = (spoke if known is None else min(known[0], spoke), None)
            return known

        # This event's own claim first if the event moved it, else in its place among the
        # others; never loaded again (a copy loaded from the store would not have the
        # statement yet: if loading the others drops it from memory, the next event on it
        # loads it again, with the statement). The others are loaded one at a time, so
        # the claims in memory stay within their bound however many a source cites.
        own = state.claim_id
        if moved is not None:
            merged = stretch(state, moved) if own in citing else moved
            assert merged is not None  # it starts from ``moved``
            self._restate(state, *merged, leading=True)
        for claim_id in citing:
            if claim_id == own:
                if moved is None and (found := stretch(state, None)) is not None:
                    self._restate(state, *found)
                continue
            claim = self._claim(claim_id)
            found = stretch(claim, None)
            if found is not None:
                self._restate(claim, *found)

    # -- state in memory ----------------------------------------------------------------

    def _remember(self, state: ProjectedClaim) -> None:
        self.claims[state.claim_id] = state
        self.claims.move_to_end(state.claim_id)
        self.held += len(state.statements)
        self._make_room()

    def _make_room(self) -> None:
        room = self.room if self.room is not None else _statements_room()
        while len(self.claims) > 1 and (len(self.claims) > CLAIMS_IN_MEMORY or self.held > room):
            _, dropped = self.claims.popitem(last=False)
            self.held -= len(dropped.statements)
            self._dropped(dropped)

    def _claim(self, claim_id: str) -> ProjectedClaim:
        state = self.claims.get(claim_id)
        if state is not None:
            self.claims.move_to_end(claim_id)
            return state
        state = self._loaded(claim_id)
        for source_id in state.cited():
            self._source(source_id)
        state.rows, state.position = self._rows_of(claim_id)
        self._remember(state)
        return state

    def _loaded(self, claim_id: str, data: replay.ClaimData | None = None) -> ProjectedClaim:
        """The claim's state from the store (or ``data`` read from it), as the log stood just
        before the event being processed (recording times strictly increase)."""
        if data is None:
            data = self.store.claim_as_known(claim_id, self.recorded_at - 1)
        state = ProjectedClaim(self.model.strategy, data.claim_id, data.parties, data.beneficiaries)
        for recorded in data.records:
            state.apply(recorded.statement)
        return state

    # -- where the projection's changes go, and what it reads back (``parallel`` projects
    # a part of the claims in each of several processes, and overrides these) ---------------

    def _rows_of(self, claim_id: str) -> tuple[list[Interval], int]:
        """The claim's current rows, as the tables hold them once what is queued is
        written, and where it was registered."""
        self.flush()
        with self.view.reading() as cursor:
            rows = self.view.tables.current(cursor, claim_id, BEGINNING_OF_TIME, END_OF_TIME)
            return rows, self.view.tables.claim_position(cursor, claim_id)

    def _citing(self, source_ids: list[str]) -> list[str]:
        """The claims any of the sources spoke on, sorted by id (the order they are
        restated in: each new row's id follows it)."""
        # What is queued is written first, so nothing this event queues is written before
        # the event's position is (loading a claim afterwards writes what is queued, and
        # finds nothing).
        self.flush()
        with self.view.reading() as cursor:
            return sorted(
                {c for source_id in source_ids for c in self.view.tables.citing(cursor, source_id)}
            )

    def _dropped(self, state: ProjectedClaim) -> None:
        """A claim left memory (it is loaded again, rows and all, when next spoken of)."""

    def _queue_claim(
        self, row: tuple[Any, ...], tags: list[str], first: Interval, recorded_at: int,
        position: int,
    ) -> None:
        self.pending.append(lambda cursor: self.view.tables.add_claim(cursor, row, tags))
        self.replaced.append((row[0], [], [first], recorded_at, position))

    def _queue_cite(self, source_id: str, claim_id: str) -> None:
        self.pending.append(lambda cursor: self.view.tables.cite(cursor, source_id, claim_id))

    def _queue_replace(
        self,
        claim_id: str,
        ended: list[Interval],
        new: list[Interval],
        recorded_at: int,
        position: int,
        leading: bool,
    ) -> None:
        """End ``ended`` rows of the claim and start ``new`` ones at ``recorded_at``.
        ``leading``: the event's own claim, restated before the others it moves."""
        self.replaced.append((claim_id, ended, new, recorded_at, position))

    def _source(self, source_id: str) -> SourceData:
        source = self.sources.get(source_id)
        if source is None:
            found = self.store.source_as_known(source_id, self.recorded_at - 1)
            if found is None:  # never registered: the model hears it at F
                found = SourceData(source_id, f"unregistered source {source_id}", None, None)
            source = self.sources[source_id] = found
        return source

    def _rid(self) -> int:
        """The id of the next row the event being processed makes."""
        rid = self._rids
        if rid >= self._rids_end:
            raise RuntimeError(f"an event made more than {1 << RID_BITS} rows")
        self._rids = rid + 1
        return rid

    def _summary(self, state: ProjectedClaim) -> Summary:
        """The answer of a claim nothing has been said about (at any valid time)."""
        return state.summary(datetime.now(UTC), self.sources, self.recorded_at, self.records)

    def _restate(
        self,
        state: ProjectedClaim,
        since: datetime,
        until: datetime | None = None,
        leading: bool = False,
    ) -> None:
        """Queue the rows of ``state`` for valid times in [``since``, ``until``), as known now
        (``leading``: the event's own claim, restated before the others it moves)."""
        if until is not None and until <= since:
            return
        steps = state.steps(since, until, self.sources, self.recorded_at, self.records)
        since_us = to_micros(since)
        until_us = END_OF_TIME if until is None else to_micros(until)
        starts = [since_us] + [to_micros(moment) for moment, _ in steps[1:]]
        ends = [*starts[1:], until_us]
        rows = state.rows
        # The current rows overlapping [since, until) (they cover valid time end to end),
        # and a row ending or starting right at its edges, so equal steps merge there too.
        first = bisect.bisect_right(rows, since_us, key=_valid_from) - 1
        if first > 0 and rows[first].valid_from == since_us:
            first -= 1
        last = bisect.bisect_left(rows, until_us, key=_valid_from)
        if last < len(rows) and rows[last].valid_from == until_us:
            last += 1
        head, tail = rows[first], rows[last - 1]
        pieces = [Interval(head.valid_from, since_us, *_value(head))]
        pieces += [Interval(starts[i], ends[i], *value) for i, (_, value) in enumerate(steps)]
        pieces.append(Interval(until_us, tail.valid_to, *_value(tail)))
        merged: list[Interval] = []
        for piece in pieces:
            if piece.valid_from >= piece.valid_to:
                continue
            if merged and _value(merged[-1]) == _value(piece):  # one step, not two
                merged[-1] = Interval(merged[-1].valid_from, piece.valid_to, *_value(piece))
            else:
                merged.append(piece)
        old = rows[first:last]
        # Rows that stay as they are keep their recording time (and id).
        before, after = 0, 0  # how many rows at each end stay
        while before < min(len(old), len(merged)) and old[before] == merged[before]:
            before += 1
        while (
            after < min(len(old), len(merged)) - before
            and old[-1 - after] == merged[-1 - after]
        ):
            after += 1
        if before == len(old) == len(merged):
            return
        new = [
            Interval(row.valid_from, row.valid_to, *_value(row), rid=self._rid())
            for row in merged[before : len(merged) - after]
        ]
        ended = old[before : len(old) - after]
        rows[first:last] = [*old[:before], *new, *old[len(old) - after :]]
        self._queue_replace(state.claim_id, ended, new, self.recorded_at, state.position, leading)


def _statements_room() -> int:
    """How many statements a projector that is not rebuilding keeps in memory."""
    if STATEMENTS_IN_MEMORY is not None:
        return STATEMENTS_IN_MEMORY
    return max(MIN_STATEMENTS, budget("projector") // STATEMENT_BYTES)


def _valid_from(row: Interval) -> int:
    return row.valid_from


def _value(row: Interval) -> Summary:
    return (row.probability, row.band, row.status, row.grade)


