"""A STIX 2.1 bundle as statements about the ledger's claims: a plan first, then the write.

``plan_import`` reads a bundle (each object checked by the ``stix2`` library) and answers
what would be appended and what is skipped, and why; nothing is written. ``apply_import``
appends a plan's records in one transaction (``ClaimsLedger.import_batch``), recorded by
the caller's principal.

Objects the ledger exported (they carry its extension, ``stix_terms.EXTENSION_ID``) come
back as they were: sources, re-ratings, claims and statements with their event ids, so an
export loaded into an empty ledger gives the same claims, statements and credibility.
Other platforms' objects become statements about claims the ledger holds (or that the
bundle brings): a ``note`` or a ``report`` is an assertion (a denial if labelled so), an
``opinion`` an assessment whose likelihood is its ``confidence`` read on the DNI scale (or
its agreement, without one). Who said it is the object's ``created_by_ref``, registered as
source ``stix-<uuid>`` (reliability F: the ledger cannot judge it) unless it is known.

Idempotent by STIX id and version: a foreign object version's event id is derived from its
``id`` and ``modified``, a ledger object's is its own, and what the ledger holds is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from ledger import inputs
from ledger.answers import JSON
from ledger.application import ClaimsLedger
from ledger.errors import InvalidInput, NotFound
from ledger.interop import stix_terms as terms
from ledger.interop.stix_export import END_OF_VALID_TIME

#: Object kinds that can become statements, and those that only help to read them.
_STATEMENTS = ("note", "opinion", "report")
_DENIALS = frozenset({"denied", "denial", "disputed", "refuted", "false"})
#: Fields of an export record the import does not carry over: the ledger makes them anew.
_RECORDED = ("position", "recorded_at", "actor")
_NAMESPACE = uuid5(NAMESPACE_URL, "https://claims-ledger/stix-import")


@dataclass(frozen=True)
class Planned:
    stix_id: str
    version: str
    record: JSON  # in the export format (``ledger.export``)


@dataclass(frozen=True)
class Skipped:
    stix_id: str
    version: str | None
    reason: str


@dataclass
class ImportPlan:
    appended: list[Planned] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def records(self) -> list[JSON]:
        return [p.record for p in self.appended]

    def answer(self) -> JSON:
        return {
            "appended": [{"stix_id": p.stix_id, "version": p.version, "record": p.record}
                         for p in self.appended],
            "skipped": [{"stix_id": s.stix_id, "version": s.version, "reason": s.reason}
                        for s in self.skipped],
        }


def _objects(bundle: object) -> list[dict[str, Any]]:
    if not isinstance(bundle, Mapping) or bundle.get("type") != "bundle":
        raise InvalidInput("type", "must be 'bundle': send a STIX 2.1 bundle")
    objects = bundle.get("objects", [])
    if not isinstance(objects, list) or not all(isinstance(o, Mapping) for o in objects):
        raise InvalidInput("objects", "must be a list of STIX objects")
    return [dict(o) for o in objects]


def _version(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("modified") or obj.get("created")
    return str(value) if value is not None else None


class _Planner:
    """Builds one plan: what the ledger holds, what the bundle brings, in a sensible order."""

    def __init__(self, ledger: ClaimsLedger, objects: list[dict[str, Any]]) -> None:
        self.ledger = ledger
        self.plan = ImportPlan()
        self.objects = objects
        self.identities = {o["id"]: o for o in objects if o.get("type") == "identity"}
        self.claims: dict[str, str] = {}  # grouping id -> claim id, known or brought
        self.sources: dict[str, str] = {}  # identity id -> source id, known or brought
        self.event_ids: set[str] = set()
        self.registered_claims: set[str] = set()  # claims this plan registers
        self._claim_index: dict[str, str] | None = None
        # What the ledger holds, read once each: a large bundle asks again and again.
        self._held: dict[str, frozenset[str]] = {}  # claim id -> its event ids
        self._sources: dict[str, bool] = {}  # source id -> registered

    def run(self) -> ImportPlan:
        valid = [o for o in self.objects if self._checked(o)]
        ours = [o for o in valid if _ledger_event(o) is not None or _claim(o) is not None]
        # The ledger's own objects first, registrations before events, events in the order
        # the ledger recorded them (its recording order breaks ties in valid time).
        for obj in sorted(ours, key=_recording_order):
            self._ours(obj)
        theirs = {id(o) for o in valid} - {id(o) for o in ours}
        for obj in valid:
            if id(obj) in theirs and obj.get("type") in _STATEMENTS:
                self._foreign_statement(obj)
        planned = {p.stix_id for p in self.plan.appended} | {s.stix_id for s in self.plan.skipped}
        for obj in valid:
            if obj["id"] not in planned:
                self._skip(obj, _not_imported(obj))
        return self.plan

    def _checked(self, obj: dict[str, Any]) -> bool:
        import stix2  # imported when used: it takes half a second to import
        from stix2.exceptions import STIXError

        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (STIXError, ValueError, TypeError, KeyError) as error:
            self.plan.skipped.append(Skipped(str(obj.get("id", "?")), _version(obj),
                                             f"not a valid STIX 2.1 object: {error}"))
            return False
        return True

    def _skip(self, obj: Mapping[str, Any], reason: str) -> None:
        self.plan.skipped.append(Skipped(obj["id"], _version(obj), reason))

    def _add(self, obj: Mapping[str, Any], record: JSON) -> None:
        self.plan.appended.append(Planned(obj["id"], str(_version(obj)), record))

    # The ledger's own objects.

    def _ours(self, obj: dict[str, Any]) -> None:
        claim = _claim(obj)
        if claim is not None:
            self._our_claim(obj, claim)
            return
        event = dict(_ledger_event(obj) or {})
        for name in _RECORDED:
            event.pop(name, None)
        kind, event_id = event.get("type"), str(event.get("event_id"))
        if event_id in self.event_ids:
            self._skip(obj, f"event {event_id} appears twice in this bundle")
            return
        held = self._holds(event)
        if held:
            self._skip(obj, held)
            return
        missing = self._missing(event) or _invalid(event)
        if missing:
            self._skip(obj, missing)
            return
        if kind == "source_registered":
            self.sources[obj["id"]] = str(event.get("source"))
        self.event_ids.add(event_id)
        self._add(obj, event)

    def _missing(self, event: Mapping[str, Any]) -> str | None:
        """What ``event`` needs that neither the ledger nor the plan holds, or None."""
        source = event.get("source")
        if event.get("type") == "source_registered":
            return None
        if source is not None and source not in self.sources.values() and \
                not self._source_exists(str(source)):
            return f"its source {source!r} is neither in the ledger nor in the bundle"
        claim_id = event.get("claim_id")
        if claim_id is None:
            return None
        if claim_id not in self.claims.values() and not self._claim_exists(str(claim_id)):
            return f"its claim {claim_id!r} is neither in the ledger nor in the bundle"
        target = event.get("supersedes")
        if target is not None and target not in self.event_ids and \
                self._statement_held(str(claim_id), str(target)) is None:
            return f"the event it supersedes, {target}, is neither in the ledger nor in the bundle"
        return None

    def _our_claim(self, obj: dict[str, Any], claim: Mapping[str, Any]) -> None:
        claim_id = str(claim.get("id"))
        self.claims[obj["id"]] = claim_id
        if self._claim_exists(claim_id) or claim_id in self.registered_claims:
            self._skip(obj, f"claim {claim_id!r} is already in the ledger")
            return
        record = {"type": "claim_registered", "claim_id": claim_id,
                  **{k: claim[k] for k in ("text", "tags", "parties", "beneficiaries",
                                           "alleged_at") if k in claim}}
        invalid = _invalid(record)
        if invalid:
            self._skip(obj, invalid)
            return
        self.registered_claims.add(claim_id)
        self._add(obj, record)

    def _holds(self, event: Mapping[str, Any]) -> str | None:
        """Why the ledger already holds ``event``, or None."""
        kind, event_id = event.get("type"), str(event.get("event_id"))
        if kind == "source_registered":
            if self._source_exists(str(event.get("source"))):
                return f"source {event.get('source')!r} is already in the ledger"
            return None
        if kind == "source_rerated":
            try:
                ratings = self.ledger.get_source(str(event.get("source")))["ratings"]
            except NotFound:
                return None
            if any(r["event_id"] == event_id for r in ratings):
                return f"re-rating {event_id} is already in the ledger"
            return None
        return self._statement_held(str(event.get("claim_id")), event_id)

    def _statement_held(self, claim_id: str, event_id: str) -> str | None:
        if claim_id not in self._held:
            self._held[claim_id] = frozenset(_event_ids(self.ledger, claim_id))
        if event_id in self._held[claim_id]:
            return f"event {event_id} is already in the ledger"
        return None

    def _source_exists(self, source_id: str) -> bool:
        if source_id not in self._sources:
            try:
                self.ledger.get_source(source_id)
                self._sources[source_id] = True
            except NotFound:
                self._sources[source_id] = False
        return self._sources[source_id]

    def _claim_exists(self, claim_id: str) -> bool:
        try:
            self.ledger.claim_version(claim_id)
        except NotFound:
            return False
        return True

    # Other platforms' objects.

    def _foreign_statement(self, obj: dict[str, Any]) -> None:
        if obj.get("revoked"):
            self._skip(obj, "revoked: the ledger records statements, not their withdrawal by "
                       "another platform")
            return
        claim_id = self._claim_of(obj)
        if claim_id is None:
            self._skip(obj, "not about a claim the ledger holds: none of its object_refs is "
                       "a claim's grouping")
            return
        speaker = self._source_of(obj)
        if speaker is None:
            self._skip(obj, "no created_by_ref identity in the bundle or the ledger: the "
                       "ledger records who said it")
            return
        source_id, registration = speaker
        event_id = str(uuid5(_NAMESPACE, f"{obj['id']}|{_version(obj)}"))
        if event_id in self.event_ids:
            self._skip(obj, "this version of it appears twice in this bundle")
            return
        held = self._statement_held(claim_id, event_id)
        if held:
            self._skip(obj, held)
            return
        said: JSON = {"source": source_id, **_foreign_fields(obj)}
        try:
            inputs.statement(said, event_id=event_id, actor="import")
        except InvalidInput as error:
            self._skip(obj, f"cannot be a statement: {error.detail}")
            return
        if registration is not None and _invalid(registration[1]):
            self._skip(obj, f"its identity cannot be a source: {_invalid(registration[1])}")
            return
        if registration is not None:
            identity, record = registration
            self.sources[identity["id"]] = source_id
            self._add(identity, record)
        self.event_ids.add(event_id)
        self._add(obj, {"claim_id": claim_id, "event_id": event_id, **said})

    def _claim_of(self, obj: Mapping[str, Any]) -> str | None:
        for ref in obj.get("object_refs") or []:
            if ref in self.claims:
                return self.claims[ref]
            if str(ref).startswith("grouping--"):
                found = self._known_claims().get(ref)
                if found is not None:
                    return found
        return None

    def _known_claims(self) -> dict[str, str]:
        """The ledger's claims by their grouping id: read once, when a foreign object
        names a grouping the bundle does not bring."""
        if self._claim_index is None:
            self._claim_index = {terms.claim_grouping_id(c): c for c in _claim_ids(self.ledger)}
        return self._claim_index

    def _source_of(
        self, obj: Mapping[str, Any]
    ) -> tuple[str, tuple[Mapping[str, Any], JSON] | None] | None:
        """Who made ``obj``: its source id, and the registration it needs if the ledger
        does not hold it yet (None: no identity to make it from)."""
        ref = obj.get("created_by_ref")
        if not isinstance(ref, str) or ref == terms.LEDGER_IDENTITY_ID:
            return None
        if ref in self.sources:
            return self.sources[ref], None
        identity = self.identities.get(ref)
        ours = _ledger_event(identity) if identity else None
        source_id = str(ours["source"]) if ours else f"stix-{ref.partition('--')[2]}"
        if self._source_exists(source_id):
            self.sources[ref] = source_id
            return source_id, None
        if identity is None:
            return None
        record: JSON = {"type": "source_registered", "source": source_id,
                        "name": str(identity.get("name", source_id))[:200],
                        "role": ", ".join(identity.get("roles") or [])[:200] or None,
                        "reliability": "F"}
        return source_id, (identity, record)


def _invalid(record: Mapping[str, Any]) -> str | None:
    """Why the importer would refuse ``record`` (the rules of ``ledger.inputs``), or None:
    a plan holds only records that can be written."""
    body = {k: v for k, v in record.items() if k not in ("type", "event_id", *_RECORDED)}
    kind = record.get("type")
    try:
        if kind == "source_registered":
            inputs.source_fields({"id": body.pop("source", None), **body})
        elif kind == "source_rerated":
            body.pop("source", None)
            inputs.rating_fields(body)
        elif kind == "claim_registered":
            fields = inputs.claim_fields({"id": body.pop("claim_id", None), **body})
            if fields["claim_id"] is None:
                return "cannot be recorded: claim_id: is required"
        else:
            if not isinstance(body.pop("claim_id", None), str):
                return "cannot be recorded: claim_id: is required"
            inputs.statement({"type": kind, **body}, event_id=str(record.get("event_id")),
                             actor="import")
    except InvalidInput as error:
        return f"cannot be recorded: {error.detail}"
    return None


def _not_imported(obj: Mapping[str, Any]) -> str:
    if obj["id"] in (terms.LEDGER_IDENTITY_ID, terms.EXTENSION_ID):
        return "the ledger's own definition: nothing to record"
    if obj.get("type") == "identity":
        return "an identity becomes a source only with a statement it made"
    return (f"a {obj.get('type')} is not a statement: the ledger imports notes, opinions "
            "and reports about its claims")


def _foreign_fields(obj: Mapping[str, Any]) -> JSON:
    """A foreign object's statement: its type, words, time and reference."""
    labels = {str(label).lower() for label in obj.get("labels") or []}
    fields: JSON = {"occurred_at": obj.get("published") or obj.get("created")}
    references = [r.get("url") for r in obj.get("external_references") or [] if r.get("url")]
    if references:
        fields["reference"] = references[0]
    if obj["type"] == "opinion":
        confidence = obj.get("confidence")
        term = (terms.confidence_term(int(confidence)) if confidence is not None
                else terms.OPINION_TERMS[obj["opinion"]])
        fields.update(type="assessed", likelihood=term)
        if obj.get("explanation"):
            fields["summary"] = obj["explanation"]
        return fields
    fields["type"] = "denied" if labels & _DENIALS else "asserted"
    words = [obj.get(k) for k in ("abstract", "name", "content", "description") if obj.get(k)]
    fields["summary"] = " ".join(str(w) for w in words)[:inputs.MAX_TEXT] or None
    return fields


def _ledger_event(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    found = terms.ledger_properties(dict(obj)) if obj else None
    event = found.get("ledger_event") if found else None
    return event if isinstance(event, Mapping) else None


def _claim(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = terms.ledger_properties(dict(obj)) if obj.get("type") == "grouping" else None
    claim = found.get("claim") if found else None
    return claim if isinstance(claim, Mapping) else None


def _recording_order(obj: Mapping[str, Any]) -> tuple[int, int]:
    """Sources, then claims, then events in the ledger's recording order."""
    event = _ledger_event(obj)
    if event is None:  # a claim's grouping
        return (1, 0)
    if event.get("type") == "source_registered":
        return (0, int(event.get("position") or 0))
    return (2, int(event.get("position") or 0))


def _event_ids(ledger: ClaimsLedger, claim_id: str) -> Iterator[str]:
    """Every event id the claim holds now (none if there is no such claim)."""
    cursor: str | None = None
    while True:
        try:
            page = ledger.claim_events(claim_id, as_of=END_OF_VALID_TIME, limit=1000,
                                       cursor=cursor)
        except NotFound:
            return
        yield from (event["event_id"] for event in page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            return


def _claim_ids(ledger: ClaimsLedger) -> Iterator[str]:
    cursor: str | None = None
    while True:
        page = ledger.list_claims(limit=1000, cursor=cursor)
        yield from (claim["id"] for claim in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return


def plan_import(ledger: ClaimsLedger, bundle: object) -> ImportPlan:
    """What importing ``bundle`` would append, and what it skips and why; writes nothing."""
    return _Planner(ledger, _objects(bundle)).run()


def apply_import(ledger: ClaimsLedger, plan: ImportPlan, actor: str) -> JSON:
    """Append a plan's records in one transaction, recorded by ``actor``."""
    if not plan.appended:
        return {"count": 0}
    try:
        written = ledger.import_batch(plan.records(), actor)
    finally:
        ledger.importer.finish()
    return dict(written)


__all__ = ["ImportPlan", "Planned", "Skipped", "apply_import", "plan_import"]
