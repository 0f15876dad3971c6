"""Aggregates: a Claim with everything said about it, and a Source with its ratings.

Both are event-sourced with the ``eventsourcing`` library: state changes only by events,
nothing is updated or deleted. A claim's statements are kept as plain records (dicts of
JSON-ready values) in the order they were recorded; corrections and retractions are new
records that name what they supersede, so every earlier record stays readable.

Public ids are slugs (or server-made UUID strings); the aggregate id is a UUID derived from
the kind and the public id, so the same slug always finds the same stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidStatement

_NAMESPACE = UUID("0b7c1d0e-4f0a-5b7e-9a51-6c1f2f2a4d10")

STATEMENT_TYPES = ("asserted", "denied", "assessed", "retracted", "corrected", "resolved")
#: Types a source can withdraw with a retraction, and a correction can replace.
POSITION_TYPES = ("asserted", "denied", "assessed", "resolved")


def _stream_uuid(kind: str, public_id: str) -> UUID:
    name = f"{kind}:{public_id}"
    if not name.isascii():
        # Public ids are ASCII slugs, so this names no stream; but a lookup of any text
        # (even a lone surrogate, which UTF-8 cannot encode) must answer "not found".
        name = name.encode("utf-8", "surrogatepass").hex()
    return uuid5(_NAMESPACE, name)


def claim_uuid(claim_id: str) -> UUID:
    return _stream_uuid("claim", claim_id)


def source_uuid(source_id: str) -> UUID:
    return _stream_uuid("source", source_id)


class Claim(Aggregate):
    """A claim about the world and the immutable record of everything said about it."""

    @staticmethod
    def create_id(claim_id: str) -> UUID:
        return claim_uuid(claim_id)

    @event("Registered")
    def __init__(
        self,
        claim_id: str,
        text: str,
        tags: list[str],
        parties: list[str],
        actor: str,
        event_id: str,
        beneficiaries: list[str] | None = None,
    ) -> None:
        self.claim_id = claim_id
        self.text = text
        self.tags = tags
        self.parties = parties
        self.beneficiaries = beneficiaries or []
        self.registered_by = actor
        self.registered_event_id = event_id
        self.records: list[dict[str, Any]] = []

    def find(self, event_id: str) -> dict[str, Any] | None:
        for record in self.records:
            if record["event_id"] == event_id:
                return record
        return None

    def check_statement(self, record: dict[str, Any]) -> None:
        """Refuse a statement that names an event it may not supersede."""
        kind = record["type"]
        if kind not in ("retracted", "corrected"):
            return
        target_id = record["supersedes"]
        target = self.find(target_id)
        if target is None:
            raise InvalidStatement(
                "supersedes", f"event {target_id!r} is not part of claim {self.claim_id!r}"
            )
        if target["type"] not in POSITION_TYPES:
            raise InvalidStatement(
                "supersedes",
                f"event {target_id!r} is a {target['type']} event; only "
                f"{', '.join(POSITION_TYPES)} events can be {kind}",
            )
        if kind == "retracted":
            if record["source"] != target["source"]:
                raise InvalidStatement(
                    "source",
                    f"only {target['source']!r} can retract its own event {target_id!r}; "
                    f"{record['source']!r} may deny the claim instead",
                )
            if record["occurred_at"] < self.corrected(target)["occurred_at"]:
                raise InvalidStatement(
                    "occurred_at", "a retraction cannot occur before the statement it withdraws"
                )
            if any(r["type"] == "retracted" and r["supersedes"] == target_id for r in self.records):
                raise InvalidStatement("supersedes", f"event {target_id!r} is already retracted")
        if kind == "corrected":
            if record["source"] != target["source"]:
                raise InvalidStatement(
                    "source",
                    f"a correction keeps the statement's source ({target['source']!r}); "
                    "a different source's statement is a new event",
                )
            merged = self.corrected(target)
            merged.update(correction_fields(record))
            # The corrected record must be a complete event of its (possibly new) type.
            check_complete(merged, f"the corrected {merged['type']} event")
            for other in self.records:
                if (
                    other["type"] == "retracted"
                    and other["supersedes"] == target_id
                    and other["occurred_at"] < merged["occurred_at"]
                ):
                    raise InvalidStatement(
                        "occurred_at",
                        f"event {target_id!r} is retracted on {other['occurred_at']:%Y-%m-%d}; "
                        "it cannot be moved after its retraction",
                    )

    def corrected(self, target: dict[str, Any]) -> dict[str, Any]:
        """The record as the latest correction recorded so far replaced it."""
        merged = dict(target)
        for record in self.records:
            if record["type"] == "corrected" and record["supersedes"] == target["event_id"]:
                merged.update(correction_fields(record))
        return merged

    def record(self, record: dict[str, Any]) -> None:
        """Append one statement record, after checking what it supersedes.

        A correction that leaves out ``source`` or ``occurred_at`` keeps the values the
        corrected event has so far, so the stored correction is a complete record.
        """
        if record["type"] == "corrected":
            target = self.find(record["supersedes"])
            if target is not None:
                current = self.corrected(target)
                for field in ("source", "occurred_at"):
                    if record.get(field) is None:
                        record[field] = current[field]
        record["claim_id"] = self.claim_id
        if self.find(record["event_id"]) is not None:
            raise InvalidStatement("event_id", f"event {record['event_id']!r} is already recorded")
        self.check_statement(record)
        self.trigger_event(self.StatementRecorded, record=record)

    class StatementRecorded(Aggregate.Event):
        record: dict[str, Any]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Claim)
            aggregate.records.append(dict(self.record, version=self.originator_version))


def check_complete(record: dict[str, Any], what: str) -> None:
    """Refuse a position that lacks what its type needs (the model could not weigh it)."""
    kind = record["type"]
    if kind in ("asserted", "denied") and not (record.get("quote") or record.get("summary")):
        raise InvalidStatement("quote", f"{what} needs a quote or a summary")
    if kind == "assessed":
        likelihood = record.get("likelihood")
        if not isinstance(likelihood, float) or not 0.0 < likelihood < 1.0:
            raise InvalidStatement(
                "likelihood",
                f"{what} needs a likelihood: a probability in (0,1) or an ICD 203 term",
            )
    if kind == "resolved":
        if record.get("outcome") not in ("confirmed", "refuted"):
            raise InvalidStatement("outcome", f"{what} needs an outcome: confirmed or refuted")
        if not record.get("basis"):
            raise InvalidStatement("basis", f"{what} needs the basis of the ground truth")


#: Fields of a correction that replace the original record's (everything but identity).
_IDENTITY = frozenset({"event_id", "type", "supersedes", "actor", "version", "corrected_type"})


def correction_fields(correction: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in correction.items() if k not in _IDENTITY and v is not None}
    if correction.get("corrected_type"):
        fields["type"] = correction["corrected_type"]
    return fields


class Source(Aggregate):
    """Who speaks, and how reliable the ledger has rated them over (valid) time."""

    @staticmethod
    def create_id(source_id: str) -> UUID:
        return source_uuid(source_id)

    @event("Registered")
    def __init__(
        self,
        source_id: str,
        name: str,
        role: str | None,
        affiliation: str | None,
        reliability: str,
        actor: str,
        event_id: str,
    ) -> None:
        self.source_id = source_id
        self.name = name
        self.role = role
        self.affiliation = affiliation
        self.registered_by = actor
        self.registered_event_id = event_id
        # The first rating has no occurred_at: it holds from the beginning of valid time
        # until a re-rating's occurred_at.
        self.ratings: list[dict[str, Any]] = [
            {
                "reliability": reliability,
                "occurred_at": None,
                "event_id": event_id,
                "actor": actor,
                "note": None,
                "version": 1,
            }
        ]

    def rerate(
        self, reliability: str, occurred_at: datetime, actor: str, note: str | None, event_id: str
    ) -> None:
        """Record a new rating that holds in valid time from ``occurred_at`` on."""
        self._rerate(self.source_id, reliability, occurred_at, actor, note, event_id)

    @event("Rerated")
    def _rerate(
        self,
        source_id: str,
        reliability: str,
        occurred_at: datetime,
        actor: str,
        note: str | None,
        event_id: str,
    ) -> None:
        self.ratings.append(
            {
                "reliability": reliability,
                "occurred_at": occurred_at,
                "event_id": event_id,
                "actor": actor,
                "note": note,
                "version": len(self.ratings) + 1,
            }
        )
