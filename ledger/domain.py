"""Aggregates: a Claim with everything said about it, and a Source with its ratings.

Both are event-sourced with the ``eventsourcing`` library: state changes only by events,
nothing is updated or deleted. A claim's statements (``ledger.statements.Statement``) are
stored as their payloads in the order they were recorded; corrections and retractions are
new statements that name what they supersede, so every earlier record stays readable.

Public ids are slugs (or server-made UUID strings); the aggregate id is a UUID derived from
the kind and the public id, so the same slug always finds the same stream.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidStatement
from ledger.statements import (
    STANCE_TYPES,
    SUPERSEDABLE_TYPES,
    Statement,
    StatementType,
    a_or_an,
)

_NAMESPACE = UUID("0b7c1d0e-4f0a-5b7e-9a51-6c1f2f2a4d10")


@functools.lru_cache(maxsize=1 << 16)
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
        alleged_at: datetime | None = None,
    ) -> None:
        self.claim_id = claim_id
        self.text = text
        self.tags = tags
        self.parties = parties
        self.beneficiaries = beneficiaries or []
        # When the alleged thing happened (valid time), if the claim says.
        self.alleged_at = alleged_at
        self.registered_by = actor
        self.registered_event_id = event_id
        # The stored payloads, each with the claim version that recorded it.
        self.records: list[dict[str, Any]] = []

    def statements(self) -> list[Statement]:
        """Everything said about the claim, in recording order, as recorded."""
        return [Statement.from_payload(record) for record in self.records]

    def _lookup(self) -> dict[str, list[int]]:
        """Where each event is among the records, and the corrections and retractions that
        name it (``"<id>"``, ``"corrected:<id>"``, ``"retracted:<id>"``): so checking a
        statement costs the same on a claim of ten events or of a hundred thousand.

        Derived from ``records`` and kept beside them; rebuilt when missing or stale (a
        snapshot taken before it existed).
        """
        lookup: dict[str, list[int]] | None = getattr(self, "_records_by_id", None)
        if lookup is None or getattr(self, "_records_indexed", -1) != len(self.records):
            lookup = {}
            for i, record in enumerate(self.records):
                _index_record(lookup, record, i)
            self._records_by_id = lookup
            self._records_indexed = len(self.records)
        return lookup

    def find(self, event_id: str) -> Statement | None:
        found = self._lookup().get(event_id)
        return Statement.from_payload(self.records[found[0]]) if found else None

    def _naming(self, how: str, event_id: str) -> list[Statement]:
        return [
            Statement.from_payload(self.records[i])
            for i in self._lookup().get(f"{how}:{event_id}", [])
        ]

    def current(self, target: Statement) -> Statement:
        """``target`` as the corrections recorded so far replace it."""
        for correction in self._naming(StatementType.CORRECTED, target.event_id):
            target = target.corrected(correction)
        return target

    def check_statement(self, statement: Statement) -> None:
        """Refuse a statement that names an event it may not supersede or relay."""
        if not statement.rule.supersedes:
            self.check_relay(statement)
            return
        kind, target_id = statement.type, statement.supersedes or ""
        target = self.find(target_id)
        if target is None:
            raise InvalidStatement(
                "supersedes", f"event {target_id!r} is not part of claim {self.claim_id!r}"
            )
        if target.type not in SUPERSEDABLE_TYPES:
            raise InvalidStatement(
                "supersedes",
                f"event {target_id!r} is a {target.type} event; only "
                f"{', '.join(SUPERSEDABLE_TYPES)} events can be {kind}",
            )
        if statement.source != target.source:
            raise InvalidStatement(
                "source",
                f"only {target.source!r} can retract its own event {target_id!r}; "
                f"{statement.source!r} may deny the claim instead"
                if kind == StatementType.RETRACTED
                else f"a correction keeps the statement's source ({target.source!r}); "
                "a different source's statement is a new event",
            )
        retractions = self._naming(StatementType.RETRACTED, target_id)
        if kind == StatementType.RETRACTED:
            if statement.at < self.current(target).at:
                raise InvalidStatement(
                    "occurred_at", "a retraction cannot occur before the statement it withdraws"
                )
            if retractions:
                raise InvalidStatement("supersedes", f"event {target_id!r} is already retracted")
            return
        merged = self.current(target).corrected(statement)
        # The corrected record must be a complete event of its (possibly new) type.
        problem = merged.incomplete(f"the corrected {merged.type} event")
        if problem is not None:
            raise InvalidStatement(*problem)
        self.check_relay(merged)
        for retraction in retractions:
            if retraction.at < merged.at:
                raise InvalidStatement(
                    "occurred_at",
                    f"event {target_id!r} is retracted on {retraction.at:%Y-%m-%d}; "
                    "it cannot be moved after its retraction",
                )

    def check_relay(self, statement: Statement) -> None:
        """Refuse a ``relays`` that names no statement of this claim recorded before it."""
        relayed_id = statement.relays
        if relayed_id is None:
            return
        if not statement.rule.stance:
            raise InvalidStatement(
                "relays",
                f"only {', '.join(STANCE_TYPES)} events relay another; "
                f"{a_or_an(statement.type)} {statement.type} event cannot",
            )
        relayed = self.find(relayed_id)
        if relayed is None or relayed_id == statement.event_id:
            raise InvalidStatement(
                "relays", f"event {relayed_id!r} is not part of claim {self.claim_id!r}"
            )
        relayed = self.current(relayed)
        if relayed.type not in STANCE_TYPES:
            raise InvalidStatement(
                "relays",
                f"event {relayed_id!r} is a {relayed.type} event; a statement relays only "
                f"an earlier {', '.join(STANCE_TYPES)} event",
            )

    def record(self, statement: Statement) -> Statement:
        """Append one statement, after checking what it supersedes; returns it as stored.

        A correction that leaves out ``source`` or ``occurred_at`` keeps the values the
        corrected event has so far, so the stored correction is a complete record.
        """
        changes: dict[str, Any] = {}
        if statement.type == StatementType.CORRECTED:
            target = self.find(statement.supersedes or "")
            if target is not None:
                current = self.current(target)
                changes["source"] = statement.source or current.source
                changes["occurred_at"] = statement.occurred_at or current.occurred_at
        if statement.claim_id != self.claim_id:
            changes["claim_id"] = self.claim_id
        if changes:  # a copy only when something changes (a bulk load gives the claim's id)
            statement = replace(statement, **changes)
        if self.find(statement.event_id) is not None:
            raise InvalidStatement("event_id", f"event {statement.event_id!r} is already recorded")
        self.check_statement(statement)
        self.trigger_event(self.StatementRecorded, record=statement.payload())
        return statement

    class StatementRecorded(Aggregate.Event):
        """One statement; its ``record`` is ``Statement.payload()``, stored as it was said."""

        record: dict[str, Any]

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Claim)
            lookup = aggregate._lookup()
            aggregate.records.append(dict(self.record, version=self.originator_version))
            _index_record(lookup, self.record, len(aggregate.records) - 1)
            aggregate._records_indexed = len(aggregate.records)


def _index_record(lookup: dict[str, list[int]], record: dict[str, Any], i: int) -> None:
    lookup.setdefault(record["event_id"], []).append(i)
    if record["type"] in (StatementType.CORRECTED, StatementType.RETRACTED):
        lookup.setdefault(f"{record['type']}:{record.get('supersedes')}", []).append(i)


class Source(Aggregate):
    """Who speaks, and how reliable the ledger has rated them over (valid) time.

    Version 2 holds ``affiliations`` (codes, in the order given) where version 1 held one
    ``affiliation``; events and snapshots stored by version 1 are upcast as they are read.
    """

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A version 1 snapshot: its one affiliation (or none) becomes the list."""
        _affiliations_from_one(state)

    @staticmethod
    def create_id(source_id: str) -> UUID:
        return source_uuid(source_id)

    class Registered(Aggregate.Created):
        """A source registered with its affiliations and first rating."""

        class_version = 2

        source_id: str
        name: str
        role: str | None
        affiliations: list[str]
        reliability: str
        actor: str
        event_id: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """A version 1 event: its one affiliation (or none) becomes the list."""
            _affiliations_from_one(state)

        @property
        def affiliation(self) -> str | None:
            """The first affiliation, or None: what readers of version 1 knew."""
            return self.affiliations[0] if self.affiliations else None

    @event("Registered")
    def __init__(
        self,
        source_id: str,
        name: str,
        role: str | None,
        affiliations: list[str],
        reliability: str,
        actor: str,
        event_id: str,
    ) -> None:
        self.source_id = source_id
        self.name = name
        self.role = role
        self.affiliations = affiliations
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

    @property
    def affiliation(self) -> str | None:
        """The first affiliation, or None (answers keep it for clients of version 1)."""
        return self.affiliations[0] if self.affiliations else None

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


def _affiliations_from_one(state: dict[str, Any]) -> None:
    one = state.pop("affiliation")
    state["affiliations"] = [one] if one else []
