"""The ledger's vocabulary: what can be said about a claim, and the words every layer shares.

This module owns the words. Statement types (with, per type, the fields it allows, the ones
it needs and whether a retraction or correction may name it), Admiralty reliability grades,
outcomes, confidence levels, evidence kinds and statuses are defined here once; the domain,
the credibility model, the HTTP schemas and the CLI import them from here. A new statement
type is one entry in ``RULES`` plus its weighing in the model.

``Statement`` is the typed, frozen value of one statement from input to replay. The stored
event keeps it as a plain payload (``Statement.payload()``), exactly as the log has always
held it, so the hash-chained history stays readable; ``Statement.from_payload`` reads it
back. Nothing here touches a store or a framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class StatementType(StrEnum):
    ASSERTED = "asserted"  # the source states the claim is true
    DENIED = "denied"  # the source states the claim is false
    ASSESSED = "assessed"  # an analytic judgement of likelihood
    RETRACTED = "retracted"  # the source withdraws its own earlier statement
    CORRECTED = "corrected"  # the ledger's record of an earlier event was wrong
    RESOLVED = "resolved"  # ground truth established


@dataclass(frozen=True)
class TypeRule:
    """What a statement of one type may carry and must carry."""

    fields: frozenset[str]  # the fields a caller may send, beyond the common ones
    stance: bool = False  # a source's position on the claim (weighed by the model)
    supersedable: bool = False  # a retraction or a correction may name it
    supersedes: bool = False  # it names an earlier event in ``supersedes``


#: Fields every statement may carry.
COMMON_FIELDS = frozenset({"type", "source", "occurred_at", "reference", "note"})
_WORDS = frozenset({"quote", "summary"})
_LIKELIHOOD = frozenset({"likelihood", "likelihood_phrase", "confidence"})
_RESOLUTION = frozenset({"outcome", "basis"})
#: A statement may name the earlier statement on the same claim that it repeats.
_RELAY = frozenset({"relays"})
#: A statement may say what backs it (one of ``EVIDENCE_KINDS``).
_EVIDENCE = frozenset({"evidence"})

RULES: dict[StatementType, TypeRule] = {
    StatementType.ASSERTED: TypeRule(_WORDS | _RELAY | _EVIDENCE, stance=True, supersedable=True),
    StatementType.DENIED: TypeRule(_WORDS | _RELAY | _EVIDENCE, stance=True, supersedable=True),
    StatementType.ASSESSED: TypeRule(
        _WORDS | _LIKELIHOOD | _RELAY | _EVIDENCE, stance=True, supersedable=True
    ),
    StatementType.RETRACTED: TypeRule(_WORDS | {"supersedes"}, supersedes=True),
    StatementType.CORRECTED: TypeRule(
        _WORDS | _LIKELIHOOD | _RESOLUTION | _RELAY | _EVIDENCE | {"supersedes", "corrected_type"},
        supersedes=True,
    ),
    StatementType.RESOLVED: TypeRule(_RESOLUTION, supersedable=True),
}

STATEMENT_TYPES: tuple[str, ...] = tuple(StatementType)
#: A source's positions on the claim: only its latest counts.
STANCE_TYPES: tuple[str, ...] = tuple(t for t, rule in RULES.items() if rule.stance)
#: What a retraction may withdraw and a correction may replace (and become).
SUPERSEDABLE_TYPES: tuple[str, ...] = tuple(t for t, rule in RULES.items() if rule.supersedable)
#: What the credibility model weighs (corrections are applied before it sees anything).
EVIDENCE_TYPES: tuple[str, ...] = tuple(t for t in StatementType if t != StatementType.CORRECTED)

#: NATO Admiralty source reliability: A completely reliable .. E unreliable, F cannot be judged.
RELIABILITY_GRADES = ("A", "B", "C", "D", "E", "F")
DEFAULT_RELIABILITY = "F"
OUTCOMES = ("confirmed", "refuted")
CONFIDENCE_LEVELS = ("low", "moderate", "high")

#: What backs a statement (its optional ``evidence``): the closed vocabulary, each kind with
#: the short label the web view shows. Weighing them is the credibility model's business.
EVIDENCE_LABELS: dict[str, str] = {
    "official-inquiry": "official inquiry or court finding",
    "forensic-documentary": "forensic or documentary evidence",
    "intercepted-communication": "intercepted communication",
    "eyewitness": "eyewitness",
    "named-official": "named official",
    "unnamed-sources": "unnamed sources",
    "hearsay": "hearsay or repeated report",
}
EVIDENCE_KINDS: tuple[str, ...] = tuple(EVIDENCE_LABELS)


class Status(StrEnum):
    """Where the credibility model places a claim."""

    UNVERIFIED = "unverified"
    CONTESTED = "contested"
    LEANING_TRUE = "leaning true"
    LEANING_FALSE = "leaning false"
    CONFIRMED = "confirmed"
    REFUTED = "refuted"


STATUSES: tuple[str, ...] = tuple(Status)

#: Optional fields of a statement, in the order an event view lists them.
OPTIONAL_FIELDS = (
    "quote",
    "summary",
    "reference",
    "note",
    "likelihood",
    "likelihood_phrase",
    "confidence",
    "supersedes",
    "corrected_type",
    "outcome",
    "basis",
    "relays",
    "evidence",
)
#: Fields of a correction that never replace the corrected event's (its identity).
_IDENTITY = frozenset({"event_id", "type", "supersedes", "actor", "corrected_type", "claim_id"})


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement about a claim, as recorded (corrections not applied unless noted).

    ``position`` and ``corrected_by`` are not part of what was said: they are where the
    ledger's log holds the statement (recording order breaks ties in valid time) and which
    correction, if any, has been applied to this value. ``source`` and ``occurred_at`` are
    None only in a correction as sent, before the claim fills them from the corrected event.
    """

    event_id: str
    type: str
    source: str | None
    occurred_at: datetime | None
    actor: str = ""
    claim_id: str | None = None
    quote: str | None = None
    summary: str | None = None
    reference: str | None = None
    note: str | None = None
    likelihood: float | None = None
    likelihood_phrase: str | None = None
    confidence: str | None = None
    supersedes: str | None = None
    corrected_type: str | None = None
    outcome: str | None = None
    basis: str | None = None
    relays: str | None = None  # the event id of the earlier statement this one repeats
    evidence: str | None = None  # what backs it: one of EVIDENCE_KINDS
    position: int = field(default=0, compare=False)
    corrected_by: str | None = None

    @property
    def rule(self) -> TypeRule:
        return RULES[StatementType(self.type)]

    @property
    def at(self) -> datetime:
        """``occurred_at``, for statements that have one (all but a correction as sent)."""
        assert self.occurred_at is not None, f"event {self.event_id} has no occurred_at"
        return self.occurred_at

    @property
    def speaker(self) -> str:
        assert self.source is not None, f"event {self.event_id} has no source"
        return self.source

    def payload(self) -> dict[str, Any]:
        """The stored form: the fields that were said, None left out (bar source and time)."""
        stored: dict[str, Any] = {
            "event_id": self.event_id,
            "type": self.type,
            "actor": self.actor,
            "source": self.source,
            "occurred_at": self.occurred_at,
        }
        for name in OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                stored[name] = value
        if self.claim_id is not None:
            stored["claim_id"] = self.claim_id
        return stored

    @classmethod
    def from_payload(cls, stored: Mapping[str, Any], position: int = 0) -> Statement:
        return cls(position=position, **{k: v for k, v in stored.items() if k in _SAID})

    def corrected(self, correction: Statement) -> Statement:
        """This statement as ``correction`` replaces it (its identity kept)."""
        changes = {
            name: getattr(correction, name)
            for name in ("source", "occurred_at", *OPTIONAL_FIELDS)
            if name not in _IDENTITY and getattr(correction, name) is not None
        }
        if correction.corrected_type:
            changes["type"] = correction.corrected_type
        return replace(self, **changes, corrected_by=correction.event_id)

    def incomplete(self, what: str | None = None) -> tuple[str, str] | None:
        """The field a statement of its type lacks, and why; None when it is complete.

        ``what`` names the statement in the reason (default: "a <type> event").
        """
        kind = self.type
        if kind in (StatementType.ASSERTED, StatementType.DENIED):
            if not (self.quote or self.summary):
                return "quote", f"{self._named(what)} needs a quote or a summary"
        elif kind == StatementType.ASSESSED:
            likelihood = self.likelihood
            if not isinstance(likelihood, float) or not 0.0 < likelihood < 1.0:
                return (
                    "likelihood",
                    f"{self._named(what)} needs a likelihood: a probability in (0,1) or an "
                    "ICD 203 term",
                )
        elif kind == StatementType.RESOLVED:
            if self.outcome not in OUTCOMES:
                return "outcome", f"{self._named(what)} needs an outcome: {' or '.join(OUTCOMES)}"
            if not self.basis:
                return "basis", f"{self._named(what)} needs the basis of the ground truth"
        return None

    def _named(self, what: str | None) -> str:
        return what or f"{a_or_an(self.type)} {self.type} event"


def a_or_an(word: str) -> str:
    """The article before ``word`` ("an asserted event", "a denied event")."""
    return "an" if word[:1].lower() in "aeiou" else "a"


#: The fields of a stored payload (everything but where the log holds it).
_SAID = frozenset(f.name for f in fields(Statement)) - {"position", "corrected_by"}


def with_corrections(statements: Iterable[Statement]) -> list[Statement]:
    """Statements in recording order with each correction applied to what it corrects.

    Corrections themselves are left out; a correction of an event not among
    ``statements`` is ignored.
    """
    merged: dict[str, Statement] = {}
    for statement in statements:
        if statement.type == StatementType.CORRECTED:
            target = merged.get(statement.supersedes or "")
            if target is not None:
                merged[target.event_id] = target.corrected(statement)
        else:
            merged[statement.event_id] = statement
    return list(merged.values())
