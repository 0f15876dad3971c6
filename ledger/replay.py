"""Replay: credibility, history, audit and timeline from a claim's records, as pure functions.

The application loads a claim and its sources (as known at some recording time) into the
plain structures below; everything here is a function of them, with no store behind it.
Valid time (``occurred_at``) and recording time (``recorded_at``, microseconds) are applied
here, by the spec's rules: a correction replaces its event for views known after it was
recorded; a retraction withdraws its event from its own ``occurred_at`` on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from ledger.answers import JSON
from ledger.credibility import Credibility, SourceStanding, assess, unweighable
from ledger.statements import OPTIONAL_FIELDS, Statement, with_corrections
from ledger.times import format_instant, from_micros

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recorded:
    """One stored source rating with where and when the ledger recorded it."""

    record: JSON
    position: int
    recorded_at: int  # microseconds since the epoch


@dataclass(frozen=True)
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


def credibility(
    claim: ClaimData, sources: dict[str, SourceData], as_of: datetime, known_at: int
) -> Credibility:
    items = evidence(claim, as_of, known_at)
    standings = {
        sid: sources[sid].standing(as_of, known_at)
        for sid in {e.speaker for e in items}
        if sid in sources
    }
    return assess(items, standings, claim.parties, claim.beneficiaries)


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


def history(claim: ClaimData, as_of: datetime, known_at: int) -> list[JSON]:
    """The raw records recorded by ``known_at`` that occurred by ``as_of``, in log order."""
    return [
        event_view(claim.claim_id, rec)
        for rec in known(claim, known_at)
        if rec.statement.at <= as_of
    ]


def summary(c: Credibility) -> JSON:
    return {"probability": c.probability, "band": c.band, "status": c.status}


def audit(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    *,
    since: int | None = None,
    until: int | None = None,
    source: str | None = None,
) -> list[JSON]:
    """Every change of credibility (at ``as_of``) in recording order, and what caused it.

    Each of the claim's events is an entry; a re-rating of one of its sources is an entry
    when it moved the result. ``before``/``after`` are the credibility as known just before
    and just after the event was recorded.
    """
    changes: list[tuple[int, int, JSON, str, str | None]] = [
        (
            rec.position,
            rec.recorded_at,
            rec.statement.payload(),
            rec.statement.type,
            rec.statement.source,
        )
        for rec in claim.records
    ]
    cited = {rec.statement.speaker for rec in claim.records}
    for sid in sorted(cited & sources.keys()):
        changes += [
            (rated.position, rated.recorded_at, rated.record, "rerated", sid)
            for rated in sources[sid].ratings
            if rated.record["occurred_at"]
        ]
    entries = []
    for position, recorded_at, r, kind, who in sorted(changes, key=lambda c: c[0]):
        if (since is not None and recorded_at < since) or (
            until is not None and recorded_at > until
        ):
            continue
        if source is not None and who != source:
            continue
        before = summary(credibility(claim, sources, as_of, recorded_at - 1))
        result = credibility(claim, sources, as_of, recorded_at)
        after = summary(result)
        if kind == "rerated" and before == after:
            continue
        entries.append(
            {
                "position": position,
                "event_id": r["event_id"],
                "recorded_at": format_instant(from_micros(recorded_at)),
                "occurred_at": format_instant(r["occurred_at"]),
                "type": kind,
                "source": who,
                "actor": r["actor"],
                "before": before,
                "after": after,
                "reason": _why(r, kind, who, result, as_of),
            }
        )
    return entries


def _why(record: JSON, kind: str, source: str | None, result: Credibility, as_of: datetime) -> str:
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
    for contribution in result.contributions:
        if contribution.event_id == target:
            prefix = f"corrects event {target}: " if kind == "corrected" else ""
            return prefix + contribution.reason
    return f"{kind} event outside the model's evidence"


def timeline(claim: ClaimData, sources: dict[str, SourceData], known_at: int) -> list[JSON]:
    """Credibility as a step function of valid time: a point wherever the result changes."""
    moments: dict[datetime, str] = {}
    # Among statements at one moment, the later recorded names the point (law 3's tie).
    for statement in sorted(
        corrected_statements(claim, known_at), key=lambda s: (s.at, s.position)
    ):
        moments[statement.at] = statement.event_id
    cited = {r.statement.speaker for r in claim.records}
    for sid in sorted(cited & sources.keys()):
        for rated in sources[sid].ratings:
            t = rated.record["occurred_at"]
            if t is not None and rated.recorded_at <= known_at:
                moments.setdefault(t, rated.record["event_id"])
    points: list[JSON] = []
    previous: JSON = {"probability": 0.5, "band": "roughly even chance", "status": "unverified"}
    for moment in sorted(moments):
        now = summary(credibility(claim, sources, moment, known_at))
        if now != previous:
            points.append(
                {"valid_from": format_instant(moment), **now, "event_id": moments[moment]}
            )
            previous = now
    return points
