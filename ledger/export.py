"""The export format: one JSON record per stored event, written and read here.

``export_record`` turns a stored event into its record (the global log serves these, and
``claims-ledger export`` writes them as NDJSON); ``Importer`` reads such records back into a
store in one transaction (``claims-ledger load``, the shipped example data). Registrations,
re-ratings and statements may be mixed; event ids and recorded actors are kept.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger import inputs
from ledger.answers import JSON
from ledger.domain import Claim, Source, claim_uuid, source_uuid
from ledger.errors import AlreadyExists, ClaimNotFound, Conflict, InvalidInput, SourceNotFound
from ledger.persistence.chain import Restore, uuid_hex
from ledger.replay import RecordedStatement, event_view
from ledger.statements import Statement
from ledger.store import END_OF_TIME, LedgerApplication, store_errors
from ledger.times import format_instant, from_micros, parse_instant, to_micros


def export_record(
    event: Any, position: int, recorded_at: int, stored: StoredEvent | None = None
) -> JSON:
    """One stored event as a record of the export format (what ``global_log`` serves).

    With ``stored``, the record also carries the event's stored bytes (``stored``: topic,
    base64 state, stream and version): a backup, which a load into a store whose log ends
    just before it restores exactly, with its position, recording time and hash chain.
    """
    record = _record(event, position, recorded_at)
    if stored is not None:
        record["stored"] = {
            "topic": stored.topic,
            "state": base64.b64encode(bytes(stored.state)).decode("ascii"),
            "originator_id": uuid_hex(stored.originator_id),
            "originator_version": stored.originator_version,
        }
    return record


def _record(event: Any, position: int, recorded_at: int) -> JSON:
    base = {"position": position, "recorded_at": format_instant(from_micros(recorded_at))}
    if isinstance(event, Claim.StatementRecorded):
        statement = Statement.from_payload(event.record, position=position)
        return event_view(event.record["claim_id"], RecordedStatement(statement, recorded_at))
    if isinstance(event, Claim.Registered):  # type: ignore[attr-defined]
        return {
            "type": "claim_registered",
            "event_id": event.event_id,
            "claim_id": event.claim_id,
            "text": event.text,
            "tags": event.tags,
            "parties": event.parties,
            "beneficiaries": getattr(event, "beneficiaries", None) or [],
            **_alleged_at(getattr(event, "alleged_at", None)),
            "actor": event.actor,
            **base,
        }
    if isinstance(event, Source.Registered):
        return {
            "type": "source_registered",
            "event_id": event.event_id,
            "source": event.source_id,
            "name": event.name,
            "role": event.role,
            "affiliation": event.affiliation,
            "affiliations": event.affiliations,
            "reliability": event.reliability,
            "actor": event.actor,
            **base,
        }
    if isinstance(event, Source.Rerated):  # type: ignore[attr-defined]
        return {
            "type": "source_rerated",
            "event_id": event.event_id,
            "source": event.source_id,
            "reliability": event.reliability,
            "occurred_at": format_instant(event.occurred_at),
            "note": event.note,
            "actor": event.actor,
            **base,
        }
    raise TypeError(f"unexpected event {type(event).__name__}")  # pragma: no cover


def _alleged_at(moment: datetime | None) -> JSON:
    """A claim's ``alleged_at`` as its record carries it: only when it was given."""
    return {} if moment is None else {"alleged_at": format_instant(moment)}


def _stored_event(record: Mapping[str, Any]) -> tuple[StoredEvent, int]:
    raw = record["stored"]
    recorded_at = to_micros(parse_instant("recorded_at", record["recorded_at"], bare_date="start"))
    event = StoredEvent(
        originator_id=UUID(str(raw["originator_id"])),
        originator_version=int(raw["originator_version"]),
        topic=str(raw["topic"]),
        state=base64.b64decode(str(raw["state"]), validate=True),
    )
    return event, recorded_at


class Importer:
    """Reads export records into a store, all of them in one transaction or none."""

    #: Claims kept between batches, so a long load does not reload a claim each time, and
    #: the most records they may hold together (the least recently used go first): a
    #: server's defaults; ``claims-ledger load --hold`` keeps more.
    HELD = 5000
    RECORDS_HELD = 300_000
    #: At the end of a load, the records of the claims whose snapshots are written together.
    SNAPSHOT_GROUP = 20_000

    def __init__(self, store: LedgerApplication) -> None:
        self.store = store
        self.records_held, self.claims_held = self.RECORDS_HELD, self.HELD
        self.known_sources: set[str] = set()  # registered sources seen in this batch
        self.held: OrderedDict[str, Claim] = OrderedDict()
        #: Held claims whose snapshot is owed (``LedgerApplication.snapshot_crossed``).
        self.owed: dict[UUID, Claim] = {}
        #: The last log position this importer wrote, and whether it is still the log's
        #: last at the batch being imported (then every claim held is as stored).
        self._wrote_to: int | None = None
        self._alone = False

    def keep(self, records: int) -> None:
        """Keep up to ``records`` records between batches (a long load: more is faster, as a
        claim dropped is reloaded from the store), in as many claims as they fill."""
        self.records_held, self.claims_held = records, max(self.HELD, records // 20)

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
        restorable = self._restorable(records)
        if restorable is not None:
            return self._restore(records, restorable, lines)
        self.known_sources.clear()
        # Nobody wrote since this importer's last batch (one query): the claims held are
        # current, and need not be checked one by one.
        self._alone = self._wrote_to is not None and not self.store.index.log_entries(
            self._wrote_to, 1
        )
        claims: dict[str, Claim] = {}
        sources: dict[str, Source] = {}
        streams: list[tuple[str, str, UUID]] = []
        seen: set[str] = set()  # event ids, which must be unique
        events: list[Any] = []  # in record order, so the log keeps the file's order
        for i, item in enumerate(records):
            where = f"line {lines[i] if lines is not None else i + 1}"
            try:
                aggregate = self._one(item, actor, claims, sources, streams, seen)
                events += aggregate.collect_events()
            except InvalidInput as error:
                self.forget()
                raise type(error)(f"{where}: {error.field}", error.reason) from None
            except (ClaimNotFound, SourceNotFound, AlreadyExists) as error:
                self.forget()
                raise type(error)(f"{where}: {error.detail}") from None
        if not records:
            return {"count": 0}
        try:
            positions = self.store.save_all(*events, streams=streams)
        except BaseException:
            self.forget()  # they hold what was not saved
            raise
        self._wrote_to = positions[-1]
        self.store.snapshot_crossed(claims.values(), events, owed=self.owed)
        self.store.snapshot_crossed(sources.values(), events)
        for cid, claim in claims.items():
            self.held[cid] = claim
            self.held.move_to_end(cid)
        records_held = sum(len(claim.records) for claim in self.held.values())
        while len(self.held) > self.claims_held or (
            len(self.held) > 1 and records_held > self.records_held
        ):
            _, dropped = self.held.popitem(last=False)
            records_held -= len(dropped.records)
            if self.owed.pop(dropped.id, None) is not None:
                self.store.snapshot(dropped)
        return {
            "count": len(positions),
            "first_position": positions[0],
            "last_position": positions[-1],
        }

    def forget(self) -> None:
        """Drop the claims held (after a failed batch: they hold what was not saved), and
        the snapshots owed of them (snapshots are derived: a later save takes them)."""
        self.held.clear()
        self.owed.clear()

    @store_errors
    def finish(self) -> None:
        """Take the snapshots owed, at each claim's latest version: the end of a load."""
        while self.owed:
            # Written together, a group of claims at a time (a transaction each, not two
            # a claim); groups bound what is encoded at once.
            group: list[Claim] = []
            records = 0
            while self.owed and records < self.SNAPSHOT_GROUP:
                _, claim = self.owed.popitem()
                group.append(claim)
                records += len(claim.records)
            self.store.snapshot(*group)

    def _restorable(self, records: Sequence[Mapping[str, Any]]) -> int | None:
        """The store's head, if ``records`` are a backup that continues the log from it."""
        if not records or not all(
            isinstance(r, Mapping) and isinstance(r.get("stored"), Mapping) for r in records
        ):
            return None
        head = int(self.store.recorder.max_notification_id() or 0)
        wanted = list(range(head + 1, head + 1 + len(records)))
        return head if [r.get("position") for r in records] == wanted else None

    def _restore(
        self, records: Sequence[Mapping[str, Any]], head: int, lines: Sequence[int] | None
    ) -> JSON:
        """Write a backup's stored events as they were: same bytes, places and times."""
        stored: list[StoredEvent] = []
        times: list[int] = []
        streams: list[tuple[str, str, UUID]] = []
        for i, record in enumerate(records):
            where = f"line {lines[i] if lines is not None else i + 1}"
            try:
                event, recorded_at = _stored_event(record)
                self.store.mapper.to_domain_event(event)  # a topic and state this ledger reads
            except (ValueError, TypeError, KeyError) as error:
                raise InvalidInput(f"{where}: stored", f"is not a stored event: {error}") from None
            stored.append(event)
            times.append(recorded_at)
            oid = UUID(str(event.originator_id))
            if record.get("type") == "claim_registered":
                streams.append(("claim", str(record.get("claim_id")), oid))
            elif record.get("type") == "source_registered":
                streams.append(("source", str(record.get("source")), oid))
        positions = list(range(head + 1, head + 1 + len(records)))
        try:
            self.store.recorder.insert_events(
                stored, streams=streams, restore=Restore(positions, times)
            )
        except IntegrityError as error:
            raise Conflict(f"the backup cannot continue this log: {error}") from None
        self.finish()  # of the claims held, at the versions they had (saved)
        self.held.clear()
        for callback in self.store.on_saved:
            callback()
        return {
            "count": len(positions),
            "first_position": positions[0],
            "last_position": positions[-1],
            "restored": True,
        }

    def _claim(self, claim_id: str) -> Claim:
        """The claim to add to: the one held since the last batch if nobody wrote since."""
        held = self.held.get(claim_id)
        if held is not None and (
            self._alone or self.store.index.version_at(held.id, END_OF_TIME) == held.version
        ):
            return held
        return self.store.claim_for_update(claim_id)

    def _one(
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
            if k not in ("position", "recorded_at", "actor", "event_id", "stored")
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
            if sid in sources or self.store.exists(source_uuid(sid)):
                raise AlreadyExists(f"source {sid!r} is already registered")
            sources[sid] = Source(actor=who, event_id=event_id, **fields)
            streams.append(("source", sid, sources[sid].id))
            return sources[sid]
        elif kind == "source_rerated":
            sid = inputs.slug("source", body.pop("source", None))
            if sid not in sources:
                sources[sid] = self.store.source_for_update(sid)
            sources[sid].rerate(actor=who, event_id=event_id, **inputs.rating_fields(body))
            return sources[sid]
        elif kind == "claim_registered":
            body["id"] = body.pop("claim_id", None)
            fields = inputs.claim_fields(body)
            cid = fields["claim_id"]
            if cid is None:
                raise InvalidInput("claim_id", "is required")
            if cid in claims or self.store.exists(claim_uuid(cid)):
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
            statement = inputs.statement(
                {"type": kind, **body}, event_id=event_id, actor=who, claim_id=cid
            )
            speaker = statement.source
            if speaker is not None and speaker not in sources and speaker not in self.known_sources:
                self.store.require_source(speaker)  # once per batch
                self.known_sources.add(speaker)
            claims[cid].record(statement)
            return claims[cid]
