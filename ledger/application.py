"""The ledger's write use cases: register, append, batch and import.

``ClaimsLedger`` is an ``eventsourcing`` ``Application`` (through ``LedgerStore``):
aggregates go in and out through its repository, events are stored by its recorder
(``ledger.stores``), snapshots are taken every ``snapshot_interval`` events. Each method
is one use case and returns plain, JSON-ready values in the contract's field names;
library errors come back as ``ledger.errors`` exceptions. The answer to a write is
rebuilt from the positions it wrote, so an idempotent retry gets the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from ledger import inputs
from ledger.domain import Claim, Source, claim_uuid, source_uuid
from ledger.errors import (
    AlreadyExists,
    ClaimNotFound,
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    SourceNotFound,
    VersionMismatch,
)
from ledger.loading import store_errors
from ledger.persistence.chain import IdempotencyRecord, LogEntry
from ledger.queries import LedgerQueries
from ledger.times import format_instant, from_micros

JSON = dict[str, Any]
T = TypeVar("T")
#: How often an append is retried when another writer got to the claim first.
RETRIES = 20


def fingerprint(*parts: object) -> str:
    """A stable digest of a request, to tell a retry from a different request."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class ClaimsLedger(LedgerQueries):
    """The claims ledger: the write use cases here, the reads in ``LedgerQueries``."""

    # -- writing ---------------------------------------------------------------------

    def _save(
        self,
        *objs: Any,
        streams: Sequence[tuple[str, str, UUID]] = (),
        idempotency: tuple[str, str] | None = None,
    ) -> list[int]:
        # Connection failures become StoreUnavailable in @store_errors on every use case.
        recordings = self.save(*objs, streams=list(streams), idempotency=idempotency)
        return [r.notification.id for r in recordings]

    def _idempotent(
        self,
        key: str | None,
        digest: str,
        write: Callable[[tuple[str, str] | None], list[int]],
        result: Callable[[int, int], T],
    ) -> T:
        """Run ``write`` once per key; a retry gets ``result`` of the original positions."""
        if key is not None:
            found = self.index.find_idempotency(key)
            if found is not None:
                return self._replayed(found, digest, result)
        attempt = 0
        while True:
            try:
                positions = write(None if key is None else (key, digest))
                return result(positions[0], positions[-1])
            except IntegrityError:
                if key is not None:
                    found = self.index.find_idempotency(key)
                    if found is not None:
                        return self._replayed(found, digest, result)
                attempt += 1
                if attempt >= RETRIES:
                    raise Conflict(
                        f"gave up after {RETRIES} attempts: other writers kept changing the "
                        "same claim or source; retry the request"
                    ) from None

    @staticmethod
    def _replayed(found: IdempotencyRecord, digest: str, result: Callable[[int, int], T]) -> T:
        if found.fingerprint != digest:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {found.key!r} was used for a different request; "
                "use a new key for a new request"
            )
        return result(found.first_position, found.last_position)

    @store_errors
    def register_source(self, data: Mapping[str, Any], actor: str, key: str | None = None) -> JSON:
        fields = inputs.source_fields(data)
        sid = fields["source_id"]

        def write(idem: tuple[str, str] | None) -> list[int]:
            if self._exists(source_uuid(sid)):
                raise AlreadyExists(f"source {sid!r} is already registered")
            source = Source(actor=actor, event_id=str(uuid4()), **fields)
            return self._save(source, streams=[("source", sid, source.id)], idempotency=idem)

        return self._idempotent(
            key,
            fingerprint("register_source", actor, dict(data)),
            write,
            lambda first, last: self._source_result(sid, first),
        )

    @store_errors
    def rerate_source(
        self, source_id: str, data: Mapping[str, Any], actor: str, key: str | None = None
    ) -> JSON:
        fields = inputs.rating_fields(data)

        def write(idem: tuple[str, str] | None) -> list[int]:
            source = self._source(source_id)
            source.rerate(actor=actor, event_id=str(uuid4()), **fields)
            return self._save(source, idempotency=idem)

        return self._idempotent(
            key,
            fingerprint("rerate_source", source_id, actor, dict(data)),
            write,
            lambda first, last: self._source_result(source_id, first),
        )

    @store_errors
    def register_claim(self, data: Mapping[str, Any], actor: str, key: str | None = None) -> JSON:
        fields = inputs.claim_fields(data)
        cid = fields["claim_id"] or str(uuid4())
        fields["claim_id"] = cid

        def write(idem: tuple[str, str] | None) -> list[int]:
            if self._exists(claim_uuid(cid)):
                raise AlreadyExists(f"claim {cid!r} is already registered")
            claim = Claim(actor=actor, event_id=str(uuid4()), **fields)
            return self._save(claim, streams=[("claim", cid, claim.id)], idempotency=idem)

        def result(first: int, last: int) -> JSON:
            entry = self._entry(first)
            claim = self._get(UUID(entry.originator_id), version=entry.originator_version)
            at = from_micros(entry.recorded_at)
            return self.claim(claim.claim_id, as_of=at, known_at=at)

        return self._idempotent(
            key, fingerprint("register_claim", actor, dict(data)), write, result
        )

    @store_errors
    def append(
        self,
        claim_id: str,
        data: Mapping[str, Any],
        actor: str,
        *,
        expected_version: int | None = None,
        key: str | None = None,
        event_id: str | None = None,
    ) -> JSON:
        """Append one event to a claim; answers with its position and the credibility after it."""

        def write(idem: tuple[str, str] | None) -> list[int]:
            claim = self._claim(claim_id)
            if expected_version is not None and claim.version != expected_version:
                raise VersionMismatch(claim_id, expected_version, claim.version)
            self._add_statement(claim, data, actor, event_id, field_prefix="")
            return self._save(claim, idempotency=idem)

        return self._idempotent(
            key,
            fingerprint("append", claim_id, actor, expected_version, dict(data)),
            write,
            lambda first, last: self.append_result(first),
        )

    @store_errors
    def append_batch(
        self,
        items: Sequence[Mapping[str, Any]],
        actor: str,
        key: str | None = None,
        *,
        keep_event_ids: bool = False,
    ) -> JSON:
        """Append many events atomically: all are stored in one transaction, or none."""
        if not items:
            raise InvalidInput("events", "a batch needs at least one event")

        def write(idem: tuple[str, str] | None) -> list[int]:
            claims: dict[str, Claim] = {}
            events: list[Any] = []  # in item order, so positions follow the request
            for i, item in enumerate(items):
                if not isinstance(item, Mapping):
                    raise InvalidInput(f"[{i}]", "each batch item must be a JSON object")
                body = dict(item)
                cid = body.pop("claim_id", None)
                if not isinstance(cid, str):
                    raise InvalidInput(
                        f"[{i}].claim_id", "is required: the claim the event is about"
                    )
                given_id = body.pop("event_id", None) if keep_event_ids else None
                if cid not in claims:
                    claims[cid] = self._claim(cid, field=f"[{i}].claim_id")
                self._add_statement(claims[cid], body, actor, given_id, field_prefix=f"[{i}].")
                events += claims[cid].collect_events()
            positions = self._save(*events, idempotency=idem)
            self._snapshot_crossed(claims.values(), len(events))
            return positions

        return self._idempotent(
            key,
            fingerprint("batch", actor, [dict(i) if isinstance(i, Mapping) else i for i in items]),
            write,
            self.batch_result,
        )

    def _add_statement(
        self,
        claim: Claim,
        data: Mapping[str, Any],
        actor: str,
        event_id: str | None,
        field_prefix: str,
    ) -> None:
        try:
            statement = inputs.statement(data, event_id=event_id or str(uuid4()), actor=actor)
            if statement.source is not None:
                self._require_source(statement.source)
            claim.record(statement)
        except InvalidInput as error:
            raise type(error)(field_prefix + error.field, error.reason) from None
        except SourceNotFound as error:
            raise SourceNotFound(f"{field_prefix}source: {error.detail}") from None

    @store_errors
    def import_batch(
        self,
        records: Sequence[Mapping[str, Any]],
        actor: str,
        *,
        lines: Sequence[int] | None = None,
    ) -> JSON:
        """Import records in the export format (``global_log`` events) in one transaction.

        Registrations, re-ratings and statements may be mixed; event ids and the recorded
        actors are kept, so an export loaded into an empty store gives the same answers.
        A bad record raises ``InvalidInput`` naming its line (``lines[i]`` for record ``i``
        when given, else its 1-based place in ``records``) and nothing of the batch is
        written.
        """
        claims: dict[str, Claim] = {}
        sources: dict[str, Source] = {}
        streams: list[tuple[str, str, UUID]] = []
        seen: set[str] = set()  # event ids, which must be unique
        events: list[Any] = []  # in record order, so the log keeps the file's order
        for i, item in enumerate(records):
            where = f"line {lines[i] if lines is not None else i + 1}"
            try:
                aggregate = self._import_one(item, actor, claims, sources, streams, seen)
                events += aggregate.collect_events()
            except InvalidInput as error:
                raise type(error)(f"{where}: {error.field}", error.reason) from None
            except (ClaimNotFound, SourceNotFound, AlreadyExists) as error:
                raise type(error)(f"{where}: {error.detail}") from None
        if not records:
            return {"count": 0}
        positions = self._save(*events, streams=streams)
        self._snapshot_crossed([*claims.values(), *sources.values()], len(events))
        return {
            "count": len(positions),
            "first_position": positions[0],
            "last_position": positions[-1],
        }

    def _import_one(
        self,
        item: Mapping[str, Any],
        actor: str,
        claims: dict[str, Claim],
        sources: dict[str, Source],
        streams: list[tuple[str, str, UUID]],
        seen: set[str],
    ) -> Any:
        """Apply one record to the aggregate it concerns, and return that aggregate."""
        if not isinstance(item, Mapping):
            raise InvalidInput("record", "must be a JSON object")
        body = {
            k: v
            for k, v in item.items()
            if k not in ("position", "recorded_at", "actor", "event_id")
        }
        who = inputs.imported_text(item, "actor") or actor
        event_id = inputs.imported_text(item, "event_id") or str(uuid4())
        if event_id in seen:
            raise InvalidInput("event_id", f"{event_id!r} appears twice in this import")
        seen.add(event_id)
        kind = body.pop("type", None)
        if kind == "source_registered":
            body["id"] = body.pop("source", None)
            fields = inputs.source_fields(body)
            sid = fields["source_id"]
            if sid in sources or self._exists(source_uuid(sid)):
                raise AlreadyExists(f"source {sid!r} is already registered")
            sources[sid] = Source(actor=who, event_id=event_id, **fields)
            streams.append(("source", sid, sources[sid].id))
            return sources[sid]
        elif kind == "source_rerated":
            sid = inputs.slug("source", body.pop("source", None))
            if sid not in sources:
                sources[sid] = self._source(sid)
            sources[sid].rerate(actor=who, event_id=event_id, **inputs.rating_fields(body))
            return sources[sid]
        elif kind == "claim_registered":
            body["id"] = body.pop("claim_id", None)
            fields = inputs.claim_fields(body)
            cid = fields["claim_id"]
            if cid is None:
                raise InvalidInput("claim_id", "is required")
            if cid in claims or self._exists(claim_uuid(cid)):
                raise AlreadyExists(f"claim {cid!r} is already registered")
            claims[cid] = Claim(actor=who, event_id=event_id, **fields)
            streams.append(("claim", cid, claims[cid].id))
            return claims[cid]
        else:
            cid = body.pop("claim_id", None)
            if not isinstance(cid, str):
                raise InvalidInput("claim_id", "is required: the claim the event is about")
            if cid not in claims:
                claims[cid] = self._claim(cid)
            statement = inputs.statement({"type": kind, **body}, event_id=event_id, actor=who)
            if statement.source is not None and statement.source not in sources:
                self._require_source(statement.source)
            claims[cid].record(statement)
            return claims[cid]

    def _snapshot_crossed(self, aggregates: Iterable[Any], written: int) -> None:
        """Snapshot aggregates whose version crossed an interval in a multi-event save.

        ``save()`` snapshots aggregates by itself, but a batch saves events in request
        order rather than aggregates, so the interval is checked here instead.
        """
        if self.snapshots is None:
            return
        for aggregate in aggregates:
            interval = self.snapshotting_intervals.get(type(aggregate))
            if (
                interval
                and aggregate.version // interval > max(aggregate.version - written, 0) // interval
            ):
                self.take_snapshot(aggregate.id, version=aggregate.version)

    # -- results of writes (also what an idempotent retry gets back) ------------------

    def _require_source(self, source_id: str) -> None:
        if not self._exists(source_uuid(source_id)):
            raise SourceNotFound(f"no source {source_id!r}; register the source first")

    def _source_result(self, source_id: str, position: int) -> JSON:
        """The source as known right after the write at ``position``."""
        at = from_micros(self._entry(position).recorded_at)
        return self.get_source(source_id, known_at=at, as_of=at)

    def _entry(self, position: int) -> LogEntry:
        return self.index.log_entries(position - 1, 1)[0]

    def append_result(self, position: int) -> JSON:
        """The answer to an append: where it landed and the credibility right after it."""
        entry = self._entry(position)
        data = self.claim_data(UUID(entry.originator_id), entry.originator_version)
        statement = data.records[-1].statement
        known_at = from_micros(entry.recorded_at)
        # An occurred_at within the clock-skew allowance may be later than recorded_at.
        view = self._claim_view(data, max(known_at, statement.at), known_at)
        return {
            "event_id": statement.event_id,
            "claim_id": data.claim_id,
            "position": entry.position,
            "recorded_at": format_instant(known_at),
            "version": entry.originator_version,
            "as_of": view["as_of"],
            "known_at": view["known_at"],
            "credibility": view["credibility"],
        }

    def batch_result(self, first: int, last: int) -> JSON:
        """The answer to a batch: every event's place, and each claim's credibility after it."""
        entries = self.index.log_entries(first - 1, last - first + 1)
        last_version: dict[str, int] = {}
        for entry in entries:
            last_version[entry.originator_id] = entry.originator_version
        known_at = from_micros(entries[-1].recorded_at)
        claims, by_position = [], {}
        for oid, version in last_version.items():
            data = self.claim_data(UUID(oid), version)
            by_position.update({r.position: (data.claim_id, r.statement) for r in data.records})
            view = self._claim_view(data, known_at, known_at)
            claims.append(
                {"claim_id": data.claim_id, "version": version, "credibility": view["credibility"]}
            )
        events = [
            {
                "event_id": by_position[e.position][1].event_id,
                "claim_id": by_position[e.position][0],
                "position": e.position,
                "recorded_at": format_instant(from_micros(e.recorded_at)),
                "version": e.originator_version,
            }
            for e in entries
        ]
        return {
            "count": len(events),
            "known_at": format_instant(known_at),
            "events": events,
            "claims": claims,
        }
