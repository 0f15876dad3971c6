"""Track records: what resolved claims teach about the sources that spoke on them.

A resolved claim adds to each of its sources' records the source's latest stance a day
before the resolution in force (``RECORD_LEAD``), for as long as that resolution is in
force in valid time (``record_entries``: rows of (since, until, stance)). ``RecordBook``
holds those rows by source, so a source's record at any moment is read from its own rows,
not from every claim; a version that ``learns`` weighs each statement with its source's
record at the statement's time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from ledger.credibility.selection import positions, resolution_of
from ledger.credibility.values import (
    Changes,
    RecordEntry,
    ResolvedStance,
    TrackRecord,
    key_of,
    unweighable,
)
from ledger.statements import Statement, StatementType

#: A stance counts in its source's record if it was taken at least this long before its
#: claim's resolution: the latest position a day before, as ``claims-ledger evaluate`` asks.
RECORD_LEAD = timedelta(days=1)
#: How much a stance resolved at its first argument counts at its second.
StanceWeight = Callable[[datetime, datetime], float]
#: The sources' track records as they stood at a moment of valid time.
RecordsAt = Callable[[datetime], Mapping[str, TrackRecord]]


class TrackRecords(Protocol):
    """The sources' track records as a learning version weighs a statement with them."""

    @property
    def revision(self) -> int:
        """Changes whenever a record may have: what was weighed against them can tell."""

    def record(self, source: str, moment: datetime) -> TrackRecord | None:
        """The source's record at ``moment`` (None: no stance counts)."""

    def changed_since(self, revision: int) -> set[str] | None:
        """The sources whose record changed after ``revision`` (None: not known)."""


class NoRecords:
    """No track records: every source heard by its grade alone."""

    revision = 0

    def record(self, source: str, moment: datetime) -> TrackRecord | None:
        return None

    def changed_since(self, revision: int) -> set[str] | None:
        return set() if revision == 0 else None


def track_records(
    history: Iterable[ResolvedStance], as_of: datetime, weight: StanceWeight
) -> dict[str, TrackRecord]:
    """Each source's record on claims resolved by ``as_of``: nothing resolved later counts.
    (Summed exactly rounded, so a record does not depend on the order of its stances.)"""
    counts: dict[str, tuple[list[float], list[float]]] = {}
    for stance in history:
        if stance.resolved_at <= as_of:
            tally = counts.setdefault(stance.source, ([], []))
            tally[0 if stance.matched else 1].append(weight(stance.resolved_at, as_of))
    return {
        source: TrackRecord(math.fsum(matched), math.fsum(missed))
        for source, (matched, missed) in sorted(counts.items())
    }


def stance_value(item: Statement) -> float:
    """1 for an assertion, 0 for a denial, the likelihood of an assessment."""
    if item.type == StatementType.ASSERTED:
        return 1.0
    if item.type == StatementType.DENIED:
        return 0.0
    return float(item.likelihood if item.likelihood is not None else 0.5)


def stances_on(
    evidence: Iterable[Statement], outcome: str, resolved_at: datetime
) -> list[ResolvedStance]:
    """The sources' latest stances in ``evidence`` on a claim resolved as ``outcome`` at
    ``resolved_at`` (an even 0.5 takes no side)."""
    return [
        ResolvedStance(source, stance_value(item) > 0.5, outcome, resolved_at)
        for source, item in sorted(positions(evidence).items())
        if stance_value(item) != 0.5
    ]


def resolved_stances(statements: Sequence[Statement]) -> list[ResolvedStance]:
    """What one claim's statements in scope add to the sources' records: nothing if it is
    not resolved in them; else each source's latest stance ``RECORD_LEAD`` before the
    resolution in force, with its outcome and date."""
    resolution = resolution_of(statements)
    if resolution is None:
        return []
    try:
        cut = resolution.at - RECORD_LEAD
    except OverflowError:  # resolved within RECORD_LEAD of year 1: nothing is before it
        return stances_on([], str(resolution.outcome), resolution.at)
    before = [item for item in statements if item.at <= cut]
    return stances_on(before, str(resolution.outcome), resolution.at)


def record_entries(statements: Iterable[Statement]) -> list[RecordEntry]:
    """What one claim adds to its sources' records, over valid time: from each moment a
    resolution comes into force (or a retraction changes which one is), the stances
    ``resolved_stances`` finds in the statements up to then."""
    items = sorted(
        (statement for statement in statements if not unweighable(statement)), key=key_of
    )
    resolved = [item.at for item in items if item.type == StatementType.RESOLVED]
    if not resolved:
        return []
    # Before its first resolution a claim adds nothing; after it, each resolution, and each
    # retraction (of a resolution, or of what one rested on), may change what it adds.
    turns = sorted(
        {
            statement.at
            for statement in items
            if statement.type == StatementType.RESOLVED
            or (statement.type == StatementType.RETRACTED and statement.at >= resolved[0])
        }
    )
    spans: list[tuple[datetime, list[ResolvedStance]]] = []
    for turn in turns:
        stances = resolved_stances([item for item in items if item.at <= turn])
        if (spans[-1][1] if spans else []) != stances:
            spans.append((turn, stances))
    entries: list[RecordEntry] = []
    for i, (since, stances) in enumerate(spans):
        until = spans[i + 1][0] if i + 1 < len(spans) else None
        entries.extend(RecordEntry(since, until, stance) for stance in stances)
    return entries


class RecordBook:
    """The sources' track records, kept as claims are resolved: each claim's
    ``record_entries`` as now known, indexed by source.

    ``record(source, moment)`` is ``track_records`` over the stances in force at
    ``moment``, the same numbers (each record summed exactly rounded).
    """

    def __init__(self, weight: StanceWeight) -> None:
        self.weight = weight
        self._by_claim: dict[str, list[RecordEntry]] = {}
        self._by_source: dict[str, list[tuple[RecordEntry, str]]] = {}
        self._cache: dict[tuple[str, datetime], TrackRecord | None] = {}
        #: Whether the claims resolved before the projection's position were read in.
        self.loaded = False
        #: Counts the changes of any record, so what was weighed against it can tell.
        self.changes = Changes()

    @property
    def revision(self) -> int:
        return self.changes.revision

    def changed_since(self, revision: int) -> set[str] | None:
        return self.changes.since(revision)

    def clear(self) -> None:
        self._by_claim.clear()
        self._by_source.clear()
        self._cache.clear()
        self.loaded = False
        self.changes.note(None)

    def update(self, claim_id: str, statements: Iterable[Statement]) -> dict[str, datetime]:
        """Take a claim's statements as now known; answer each source whose record changed,
        with the earliest valid time it changed at."""
        new = record_entries(statements)
        old = self._by_claim.get(claim_id, [])
        if new == old:
            return {}
        changed: dict[str, datetime] = {}
        for entry in set(old) ^ set(new):
            source = entry.stance.source
            changed[source] = min(entry.since, changed.get(source, entry.since))
        for source in changed:
            kept = [item for item in self._by_source.get(source, []) if item[1] != claim_id]
            kept += [(entry, claim_id) for entry in new if entry.stance.source == source]
            self._by_source[source] = kept
        if new:
            self._by_claim[claim_id] = new
        else:
            self._by_claim.pop(claim_id, None)
        self._cache.clear()
        for source in changed:
            self.changes.note(source)
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
        for entry, _ in self._by_source.get(source, ()):
            if entry.in_force(moment) and entry.stance.resolved_at <= moment:
                weight = self.weight(entry.stance.resolved_at, moment)
                (matched if entry.stance.matched else missed).append(weight)
        found = (
            TrackRecord(math.fsum(matched), math.fsum(missed)) if matched or missed else None
        )
        self._cache[key] = found
        return found
