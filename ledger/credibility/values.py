"""The evidence vocabulary of the credibility engine: typed values, shared by every version.

A ``SourceStanding`` is a source as it stood at one (as_of, known_at); a ``Position`` is a
counted statement weighed by a model version; a ``Contribution`` and a ``Credibility`` are
what an answer says; ``ResolvedStance``, ``TrackRecord`` and ``RecordEntry`` are what
resolved claims teach about their sources. Nothing here computes a credibility.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from ledger.statements import (
    CONFIDENCE_LEVELS,
    EVIDENCE_TYPES,
    OUTCOMES,
    RELIABILITY_GRADES,
    Statement,
)

#: probability, band, status, grade
Summary = tuple[float, str, str, int]
#: Where a statement stands among the evidence: valid time, then recording order (law 3).
Key = tuple[datetime, int, str]
#: A counted voice as the pool takes it: (event id, witness group, log-odds).
Voice = tuple[str, str, float]


class InvalidEvidence(ValueError):
    """A statement the model cannot weigh: a caller's bug, as the ledger validates on append."""


def key_of(statement: Statement) -> Key:
    return (statement.at, statement.position, statement.event_id)


@dataclass(frozen=True)
class SourceStanding:
    """A source as it stood at (as_of, known_at).

    ``affiliation`` is its first (main) affiliation code, which names its witness group;
    ``affiliations`` all of them (a minister: ``("GB", "GB-GOV")``; empty: the main one
    alone, or none).
    """

    source_id: str
    name: str
    affiliation: str | None  # e.g. "UA", "RU", "KR"; None = unaffiliated
    reliability: str  # Admiralty "A".."F"
    affiliations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.reliability not in RELIABILITY_GRADES:
            raise InvalidEvidence(f"source {self.source_id!r}: reliability must be one of A-F")

    def interested(self, sides: Collection[str]) -> str | None:
        """Which of ``sides`` (a claim's parties, or its beneficiaries: affiliation codes or
        source ids) this source is, or is affiliated with; None if none."""
        if not sides:
            return None
        if self.source_id in sides:
            return self.source_id
        if self.affiliation is not None and self.affiliation in sides:
            return self.affiliation
        return next((code for code in self.affiliations if code in sides), None)


def unregistered(source_id: str, name: str | None = None) -> SourceStanding:
    """How any model hears a source the ledger does not know: unaffiliated, at F."""
    return SourceStanding(source_id, name or f"unregistered source {source_id}", None, "F")


def unweighable(item: Statement) -> str | None:
    """Why the model cannot weigh ``item`` (a caller's bug: the ledger checks on append)."""
    likelihood = item.likelihood
    if item.type not in EVIDENCE_TYPES:
        return f"type {item.type!r} is not one of {', '.join(EVIDENCE_TYPES)}"
    if item.source is None:
        return "it has no source"
    if item.occurred_at is None or item.occurred_at.utcoffset() is None:
        return "occurred_at has no time zone"
    if item.type == "assessed" and (
        isinstance(likelihood, bool)
        or not isinstance(likelihood, int | float)
        or not 0.0 < likelihood < 1.0
    ):
        return f"likelihood {likelihood!r} is not a number strictly between 0 and 1"
    if item.type == "assessed" and item.confidence not in (None, *CONFIDENCE_LEVELS):
        return f"confidence {item.confidence!r} is not one of {', '.join(CONFIDENCE_LEVELS)}"
    if item.type == "resolved" and item.outcome not in OUTCOMES:
        return f"outcome {item.outcome!r} is not one of {', '.join(OUTCOMES)}"
    if item.type == "retracted" and not item.supersedes:
        return "a retraction must name the event it withdraws in supersedes"
    return None


@dataclass(frozen=True)
class Position:
    """A counted position, weighed by a model version but not yet discounted for
    non-independence: its witness group (positions sharing one are one witness, not
    several), its log-odds and the reason so far."""

    item: Statement
    group: str
    affiliation: str | None
    weight: float
    account: str

    @property
    def voice(self) -> Voice:
        return (self.item.event_id, self.group, self.weight)


@dataclass(frozen=True)
class Contribution:
    """One event's part in the answer, in two numbers that cannot be confused, and why.

    ``delta``: the move the event made on arrival, in probability: the counted positions
    taken one by one in date order (valid time, then recording order), it is the pooled
    probability just after it minus just before it (for the resolution: the resolved
    probability minus the pool it overrides), so the deltas add up to the final
    probability minus 0.5. ``log_odds``: the event's weight in the current pool, after
    every multiplier and discount (0 for an event that does not count now: superseded,
    withdrawn, a retraction, a resolution, which overrides the pool rather than adding to
    it). ``reason`` explains ``log_odds``: its last number is that weight.
    """

    event_id: str
    source: str
    type: str
    delta: float
    log_odds: float
    reason: str


@dataclass(frozen=True)
class Credibility:
    """The model's answer for one claim at one (as_of, known_at)."""

    probability: float
    band: str  # the ICD 203 term the probability falls in
    status: str  # unverified / contested / leaning true / leaning false / confirmed / refuted
    grade: int  # Admiralty information credibility, 1 (confirmed) .. 6 (cannot be judged)
    model: str
    contributions: tuple[Contribution, ...]

    def to_dict(self) -> dict[str, object]:
        # Built by hand: dataclasses.asdict deep-copies every field and dominated the
        # cost of answering an append on a long claim.
        return {
            "probability": self.probability,
            "band": self.band,
            "status": self.status,
            "grade": self.grade,
            "model": self.model,
            "contributions": [
                {
                    "event_id": c.event_id,
                    "source": c.source,
                    "type": c.type,
                    "delta": c.delta,
                    "log_odds": c.log_odds,
                    "reason": c.reason,
                }
                for c in self.contributions
            ],
        }


@dataclass(frozen=True)
class ResolvedStance:
    """A source's latest stance on a claim, and how and when the claim was resolved."""

    source: str
    supported: bool  # asserted, or assessed above 0.5
    outcome: str  # confirmed / refuted
    resolved_at: datetime

    @property
    def matched(self) -> bool:
        return self.supported == (self.outcome == OUTCOMES[0])


@dataclass(frozen=True)
class TrackRecord:
    """How often a source's stances matched the resolutions known by some moment."""

    matched: float = 0
    missed: float = 0


@dataclass(frozen=True)
class RecordEntry:
    """One claim's stance in its source's record while one resolution of it is in force:
    valid from ``since`` until ``until`` (None: for ever after)."""

    since: datetime
    until: datetime | None
    stance: ResolvedStance

    def in_force(self, moment: datetime) -> bool:
        return self.since <= moment and (self.until is None or moment < self.until)


class Changes:
    """A revision counter that remembers which sources its latest changes touched, so what
    was weighed against a book of sources or records can look again at those alone.

    ``note(source)`` counts one change of that source (None: of every source);
    ``since(revision)`` answers the sources changed after ``revision``, or None when that
    is not known (a change of every source, or older than the changes kept).
    """

    KEPT = 4096

    def __init__(self) -> None:
        self.revision = 0
        self._log: deque[tuple[int, str | None]] = deque(maxlen=self.KEPT)

    def note(self, source: str | None) -> None:
        self.revision += 1
        self._log.append((self.revision, source))

    def since(self, revision: int) -> set[str] | None:
        if revision == self.revision:
            return set()
        if revision > self.revision or not self._log or self._log[0][0] > revision + 1:
            return None
        found: set[str] = set()
        for at, source in reversed(self._log):
            if at <= revision:
                break
            if source is None:
                return None
            found.add(source)
        return found
