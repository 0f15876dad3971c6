"""The write use cases: register sources and claims, re-rate, append one event or a batch.

Each use case checks its input (``ledger.inputs``), acts on the aggregate, saves, and
answers in the contract's field names. Every write runs through the idempotency protocol
(``ledger.idempotency``): its answer is rebuilt from the positions it wrote, so a retry
gets the same bytes, and ``Written.replayed`` says when it was such a retry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID, uuid4

from ledger import inputs
from ledger.answers import JSON
from ledger.domain import Claim, Source, claim_uuid, source_uuid
from ledger.errors import AlreadyExists, InvalidInput, SourceNotFound, VersionMismatch
from ledger.idempotency import Written, fingerprint, fingerprint_items, run_once
from ledger.persistence.chain import LogEntry
from ledger.reads import LedgerReads
from ledger.replay import ClaimData
from ledger.statements import Statement
from ledger.store import LedgerApplication, store_errors
from ledger.times import format_instant, from_micros


class LedgerWrites:
    """Register, re-rate and append, over one ``LedgerApplication``."""

    def __init__(self, store: LedgerApplication, reads: LedgerReads) -> None:
        self.store = store
        self.reads = reads

    @store_errors
    def register_source(
        self, data: Mapping[str, Any], actor: str, key: str | None = None
    ) -> Written[JSON]:
        fields = inputs.source_fields(data)
        sid = fields["source_id"]

        def write(idem: tuple[str, str] | None) -> list[int]:
            if self.store.exists(source_uuid(sid)):
                raise AlreadyExists(f"source {sid!r} is already registered")
            source = Source(actor=actor, event_id=str(uuid4()), **fields)
            return self.store.save_all(
                source, streams=[("source", sid, source.id)], idempotency=idem
            )

        return run_once(
            self.store.index,
            key,
            lambda: fingerprint("register_source", actor, dict(data)),
            write,
            lambda first, last: self._source_result(sid, first),
        )

    @store_errors
    def rerate_source(
        self, source_id: str, data: Mapping[str, Any], actor: str, key: str | None = None
    ) -> Written[JSON]:
        fields = inputs.rating_fields(data)

        def write(idem: tuple[str, str] | None) -> list[int]:
            with self.store.writing(source_uuid(source_id)):
                source = self.store.source_for_update(source_id)
                source.rerate(actor=actor, event_id=str(uuid4()), **fields)
                return self.store.save_all(source, idempotency=idem)

        return run_once(
            self.store.index,
            key,
            lambda: fingerprint("rerate_source", source_id, actor, dict(data)),
            write,
            lambda first, last: self._source_result(source_id, first),
        )

    @store_errors
    def register_claim(
        self, data: Mapping[str, Any], actor: str, key: str | None = None
    ) -> Written[JSON]:
        fields = inputs.claim_fields(data)
        cid = fields["claim_id"] or str(uuid4())
        fields["claim_id"] = cid

        def write(idem: tuple[str, str] | None) -> list[int]:
            if self.store.exists(claim_uuid(cid)):
                raise AlreadyExists(f"claim {cid!r} is already registered")
            claim = Claim(actor=actor, event_id=str(uuid4()), **fields)
            return self.store.save_all(claim, streams=[("claim", cid, claim.id)], idempotency=idem)

        def result(first: int, last: int) -> JSON:
            entry = self.store.entry(first)
            claim = self.store.aggregate(
                UUID(entry.originator_id), version=entry.originator_version
            )
            at = from_micros(entry.recorded_at)
            return self.reads.claim(claim.claim_id, as_of=at, known_at=at)

        return run_once(
            self.store.index,
            key,
            lambda: fingerprint("register_claim", actor, dict(data)),
            write,
            result,
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
        minimal: bool = False,
    ) -> Written[JSON]:
        """Append one event to a claim; answers with its position and the credibility after it.

        ``minimal``: answer where it landed only (``appended``), not the credibility, which
        costs more than the write itself.
        """
        written: list[Claim | None] = [None]  # the claim as saved, to answer from
        new_event_id = event_id or str(uuid4())

        def write(idem: tuple[str, str] | None) -> list[int]:
            uid = claim_uuid(claim_id)
            with self.store.writing(uid):
                claim = written[0] = self.store.claim_for_update(claim_id, held=True)
                try:
                    if expected_version is not None and claim.version != expected_version:
                        raise VersionMismatch(claim_id, expected_version, claim.version)
                    self._add_statement(claim, data, actor, new_event_id, field_prefix="")
                    return self.store.save_all(claim, idempotency=idem)
                except BaseException:
                    written[0] = None
                    self.store.discard(uid)
                    raise

        def answer(first: int, last: int) -> JSON:
            saved = written[0]
            if not minimal:
                return self.append_result(first, saved)
            if saved is None:  # an idempotent replay: the event is read back
                return self.appended(first)
            # Just written: all of the answer is at hand, nothing is read.
            return self._landed(self.store.entry(first), saved.claim_id, new_event_id)

        return run_once(
            self.store.index,
            key,
            lambda: fingerprint("append", claim_id, actor, expected_version, dict(data)),
            write,
            answer,
        )

    @store_errors
    def append_batch(
        self,
        items: Sequence[Mapping[str, Any]],
        actor: str,
        key: str | None = None,
    ) -> Written[JSON]:
        """Append many events atomically: all are stored in one transaction, or none."""
        if not items:
            raise InvalidInput("events", "a batch needs at least one event")
        if len(items) > inputs.MAX_BATCH:
            raise InvalidInput(
                "events", f"a batch holds at most {inputs.MAX_BATCH} events; split it"
            )

        named = {
            item["claim_id"]
            for item in items
            if isinstance(item, Mapping) and isinstance(item.get("claim_id"), str)
        }

        def write(idem: tuple[str, str] | None) -> list[int]:
            with self.store.writing(*(claim_uuid(cid) for cid in named)):
                return write_batch(idem)

        def write_batch(idem: tuple[str, str] | None) -> list[int]:
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
                if cid not in claims:
                    claims[cid] = self.store.claim_for_update(cid, field=f"[{i}].claim_id")
                self._add_statement(claims[cid], body, actor, None, field_prefix=f"[{i}].")
                events += claims[cid].collect_events()
            positions = self.store.save_all(*events, idempotency=idem)
            self.store.snapshot_crossed(claims.values(), events)
            return positions

        return run_once(
            self.store.index,
            key,
            lambda: fingerprint_items(
                "batch", actor, [dict(i) if isinstance(i, Mapping) else i for i in items]
            ),
            write,
            self.batch_result,
        )

    @store_errors
    def proposed(
        self, claim_id: str, data: Mapping[str, Any], actor: str, event_id: str
    ) -> Statement:
        """The statement an append of ``data`` would record on the claim, checked exactly as
        ``append`` checks it (the same refusals), on a copy of the claim: nothing is saved
        (``ledger.preview``)."""
        claim = self.store.claim_for_update(claim_id)  # a copy: the cached claim is untouched
        return self._add_statement(claim, data, actor, event_id, field_prefix="")

    def _add_statement(
        self,
        claim: Claim,
        data: Mapping[str, Any],
        actor: str,
        event_id: str | None,
        field_prefix: str,
    ) -> Statement:
        try:
            statement = inputs.statement(
                data, event_id=event_id or str(uuid4()), actor=actor, claim_id=claim.claim_id
            )
            if statement.source is not None:
                self.store.require_source(statement.source)
            return claim.record(statement)
        except InvalidInput as error:
            raise type(error)(field_prefix + error.field, error.reason) from None
        except SourceNotFound as error:
            raise SourceNotFound(f"{field_prefix}source: {error.detail}") from None

    # -- answers to writes (also what an idempotent retry gets back) ------------------

    def _source_result(self, source_id: str, position: int) -> JSON:
        """The source as known right after the write at ``position``."""
        at = from_micros(self.store.entry(position).recorded_at)
        return self.reads.get_source(source_id, known_at=at, as_of=at)

    def appended(self, position: int, loaded: Claim | None = None) -> JSON:
        """Where an append landed: its event, position, recording time and claim version."""
        return self._appended(position, loaded)[0]

    def append_result(self, position: int, loaded: Claim | None = None) -> JSON:
        """The answer to an append: where it landed and the credibility right after it."""
        answer, data, statement = self._appended(position, loaded)
        known_at = from_micros(self.store.entry(position).recorded_at)
        # An occurred_at within the clock-skew allowance may be later than recorded_at.
        view = self.reads.claim_view(data, max(known_at, statement.at), known_at)
        return {
            **answer,
            "as_of": view["as_of"],
            "known_at": view["known_at"],
            "credibility": view["credibility"],
        }

    @staticmethod
    def _landed(entry: LogEntry, claim_id: str, event_id: str) -> JSON:
        return {
            "event_id": event_id,
            "claim_id": claim_id,
            "position": entry.position,
            "recorded_at": format_instant(from_micros(entry.recorded_at)),
            "version": entry.originator_version,
        }

    def _appended(self, position: int, loaded: Claim | None) -> tuple[JSON, ClaimData, Statement]:
        entry = self.store.entry(position)
        if loaded is not None and loaded.id.hex != entry.originator_id:
            loaded = None  # an idempotent replay of another claim's append
        data = self.store.claim_at_version(
            UUID(entry.originator_id), entry.originator_version, loaded=loaded
        )
        statement = data.records[-1].statement
        answer = self._landed(entry, data.claim_id, statement.event_id)
        return answer, data, statement

    def batch_result(self, first: int, last: int) -> JSON:
        """The answer to a batch: every event's place, and each claim's credibility after it."""
        entries = self.store.index.log_entries(first - 1, last - first + 1)
        last_version: dict[str, int] = {}
        for entry in entries:
            last_version[entry.originator_id] = entry.originator_version
        known_at = from_micros(entries[-1].recorded_at)
        claims, by_position = [], {}
        for oid, version in last_version.items():
            data = self.store.claim_at_version(UUID(oid), version)
            by_position.update({r.position: (data.claim_id, r.statement) for r in data.records})
            view = self.reads.claim_view(data, known_at, known_at)
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
