"""The global log as STIX 2.1 objects, a page of events at a time.

Each event becomes one object version, made with the ``stix2`` library (which checks it):

- a source's registration: an ``identity``; its re-rating: a new version of it;
- an assertion or denial: a ``note``; an assessment or a resolution: an ``opinion``
  (``confidence`` from the likelihood's ICD 203 term, ``stix_terms.DNI_SCALE``);
- a correction: a new version of the object it corrects (content as corrected); a
  retraction: a revoked version of the object it withdraws;
- a claim: a ``grouping`` whose ``object_refs`` hold its statements, made at the claim's
  latest statement (its ``modified`` is that statement's recording time) and carrying the
  ledger's credibility then. A claim without statements has nothing to group and no object.

Every version keeps the event in the ledger's extension (``ledger_event``), so an import
reads the ledger's own words back. ``created`` is when the statement was made
(``occurred_at``); the recording time is in the extension and is the object's TAXII
``date_added``. Memory is bounded by one page and the largest claim, never the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.application import ClaimsLedger
from ledger.interop import stix_terms as terms
from ledger.statements import RULES
from ledger.times import format_instant, now, parse_instant

#: Events a stream reads per page.
PAGE = 1000
#: An ``as_of`` past every statement: whatever was said, whenever it was said.
END_OF_VALID_TIME = datetime(9999, 12, 31, tzinfo=UTC)
#: Statements that name an earlier one: they make new versions of its object.
_SUPERSEDING = tuple(kind for kind, rule in RULES.items() if rule.supersedes)
#: Fields a correction replaces in the content of the object it corrects.
_CONTENT = ("quote", "summary", "likelihood", "likelihood_phrase", "confidence", "outcome",
            "basis", "reference", "note", "source")


@dataclass(frozen=True)
class StixItem:
    """One STIX object version and where it comes from in the log."""

    obj: dict[str, Any]
    position: int  # the event that made it (0: the ledger's own definitions)
    date_added: str  # when the ledger recorded that event


@dataclass(frozen=True)
class StixPage:
    items: list[StixItem]
    after: int  # the position the page starts after
    last_position: int  # the last event read: the next page starts after it
    next_cursor: str | None  # as the global log's pages have it: None on the last page


def _plain(obj: Any) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(obj.serialize())
    return plain


def definitions() -> list[dict[str, Any]]:
    """The ledger's identity and its extension definition: the head of every export."""
    import stix2  # imported when used: it takes half a second to import
    ledger = stix2.v21.Identity(
        id=terms.LEDGER_IDENTITY_ID, name=terms.LEDGER_IDENTITY_NAME, identity_class="system",
        description="An event-sourced, bitemporal ledger of claims and of what was said "
        "about them; it records and publishes, it does not make the statements.",
        created=terms.EXTENSION_DEFINED, modified=terms.EXTENSION_DEFINED,
    )
    extension = stix2.v21.ExtensionDefinition(
        id=terms.EXTENSION_ID, created_by_ref=terms.LEDGER_IDENTITY_ID,
        name="Claims Ledger", description="The ledger's record of an event (who said what "
        "when, who recorded it, a source's Admiralty reliability) and its credibility of a "
        "claim.", schema=terms.EXTENSION_SCHEMA, version=terms.EXTENSION_VERSION,
        extension_types=["property-extension"],
        created=terms.EXTENSION_DEFINED, modified=terms.EXTENSION_DEFINED,
    )
    return [_plain(ledger), _plain(extension)]


def _later(moment: str, than: str) -> str:
    """``moment``, or just after ``than`` if it is not later: a version's ``modified``."""
    at, floor = parse_instant("modified", moment), parse_instant("created", than)
    return moment if at > floor else format_instant(floor + timedelta(milliseconds=1))


class _ClaimHistory:
    """A claim's statements as known at one time: which object each belongs to, and each
    object's content as corrected up to an event."""

    def __init__(self, ledger: ClaimsLedger, claim_id: str, known_at: datetime) -> None:
        self.events: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = ledger.claim_events(claim_id, as_of=END_OF_VALID_TIME, known_at=known_at,
                                       limit=1000, cursor=cursor)
            self.events += page["events"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.by_id = {event["event_id"]: event for event in self.events}

    def root(self, event: dict[str, Any]) -> dict[str, Any]:
        """The statement a correction or retraction (through any chain of them) is about."""
        seen = 0
        while event["type"] in _SUPERSEDING and event.get("supersedes") in self.by_id:
            event = self.by_id[event["supersedes"]]
            seen += 1
            if seen > len(self.events):  # pragma: no cover - the ledger refuses cycles
                break
        return event

    def content(self, root: dict[str, Any], until: int) -> dict[str, Any]:
        """``root`` with every correction of it recorded up to position ``until`` applied."""
        fields = dict(root)
        for event in self.events:
            if event["position"] > until:
                break
            if event["type"] == "corrected" and self.root(event) is root:
                fields.update({k: event[k] for k in _CONTENT if k in event})
                fields["type"] = event.get("corrected_type", fields["type"])
        return fields

    def objects(self) -> list[str]:
        """The ids of the claim's statement objects, each once, in the order first made."""
        ids: dict[str, None] = {}
        for event in self.events:
            root = self.root(event)
            ids[terms.statement_object_id(root["type"], root["event_id"])] = None
        return list(ids)


class StixExport:
    """Reads the ledger through its public reads and answers STIX objects."""

    def __init__(self, ledger: ClaimsLedger) -> None:
        self.ledger = ledger
        self._names: dict[str, str] = {}
        self._histories: dict[str, _ClaimHistory] = {}  # claims as known now (is_latest)

    def page(
        self, after: int | None = None, limit: int = PAGE, cursor: str | None = None
    ) -> StixPage:
        """The objects of one page of the global log (``ClaimsLedger.log_page``: the events
        after position ``after`` or ``cursor``, at most ``limit`` of them)."""
        log = self.ledger.log_page(cursor=cursor, limit=limit, after=after)
        events: list[dict[str, Any]] = log["data"]
        items: list[StixItem] = []
        last_in_page: dict[str, int] = {}  # claim -> its last statement in this page
        for event in events:
            obj = self._object(event)
            if obj is not None:
                items.append(StixItem(obj, event["position"], event["recorded_at"]))
            if "occurred_at" in event and "claim_id" in event:
                last_in_page[event["claim_id"]] = event["position"]
        for claim_id, position in last_in_page.items():
            grouping = self._grouping(claim_id, position, events)
            if grouping is not None:
                at = next(i for i, item in enumerate(items) if item.position == position)
                # Added with its latest statement: the same date_added, to the microsecond.
                items.insert(at + 1, StixItem(grouping, position, items[at].date_added))
        start = after if after is not None else int(cursor or 0)
        last = events[-1]["position"] if events else start
        return StixPage(items, start, last, log["next_cursor"])

    def stream(self, after: int = 0) -> Iterator[dict[str, Any]]:
        """Every object from ``after`` to the end of the log, page by page."""
        while True:
            page = self.page(after, PAGE)
            for item in page.items:
                yield item.obj
            if page.next_cursor is None:
                return
            after = page.last_position

    def is_latest(self, item: StixItem) -> bool:
        """Whether ``item`` is its object's latest version the ledger holds now."""
        event = terms.ledger_properties(item.obj) or {}
        recorded = event.get("ledger_event")
        if recorded is None:
            return True  # a grouping (made at its latest) or the ledger's definitions
        if "claim_id" not in recorded:  # a source's registration or re-rating
            ratings = self.ledger.get_source(recorded["source"])["ratings"]
            return bool(ratings[-1]["position"] == item.position)
        claim_id = recorded["claim_id"]
        history = self._histories.get(claim_id)
        if history is None:
            if len(self._histories) >= 64:  # one request's worth; bounded
                self._histories.clear()
            history = self._histories[claim_id] = _ClaimHistory(self.ledger, claim_id, now())
        root = history.root(history.by_id[recorded["event_id"]])
        last = [e["position"] for e in history.events if history.root(e) is root][-1]
        return bool(last == item.position)

    # One event -> one object version.

    def _object(self, event: dict[str, Any]) -> dict[str, Any] | None:
        kind = event["type"]
        if kind == "claim_registered":
            return None  # the claim's grouping is made at its latest statement
        if kind in ("source_registered", "source_rerated"):
            return self._identity(event)
        return self._statement(event)

    def _identity(self, event: dict[str, Any]) -> dict[str, Any]:
        import stix2  # imported when used: it takes half a second to import
        source_id = event["source"]
        known = parse_instant("recorded_at", event["recorded_at"])
        source = self.ledger.get_source(source_id, known_at=known, as_of=END_OF_VALID_TIME)
        registered = source["ratings"][0]["recorded_at"]
        affiliation = source.get("affiliation")
        about = [source["role"]] if source.get("role") else []
        about += [f"affiliation {affiliation}"] if affiliation else []
        about.append(f"Admiralty reliability {event['reliability']}")
        identity = stix2.v21.Identity(
            id=terms.source_identity_id(source_id), name=source["name"],
            identity_class="unknown", description="; ".join(about),
            roles=[source["role"]] if source.get("role") else None,
            created=registered, modified=_later(event["recorded_at"], registered)
            if event["type"] == "source_rerated" else registered,
            created_by_ref=terms.LEDGER_IDENTITY_ID,
            extensions=terms.ledger_extension(ledger_event=event),
        )
        return _plain(identity)

    def _name(self, source_id: str) -> str:
        if source_id not in self._names:
            if len(self._names) > 10_000:  # bounded: a page needs few
                self._names.clear()
            self._names[source_id] = self.ledger.get_source(source_id)["name"]
        return self._names[source_id]

    def _statement(self, event: dict[str, Any]) -> dict[str, Any]:
        import stix2  # imported when used: it takes half a second to import
        if event["type"] in _SUPERSEDING:
            history = _ClaimHistory(
                self.ledger, event["claim_id"], parse_instant("at", event["recorded_at"])
            )
            root = history.root(event)
            fields = history.content(root, event["position"])
        else:
            root = fields = event
        created = root["occurred_at"]
        version = {
            "id": terms.statement_object_id(root["type"], root["event_id"]),
            "created": created,
            "modified": created if root is event else _later(event["recorded_at"], created),
            "created_by_ref": terms.source_identity_id(fields["source"]),
            "object_refs": [terms.claim_grouping_id(event["claim_id"])],
            "external_references": _references(event, fields),
            "extensions": terms.ledger_extension(ledger_event=event),
            **({"revoked": True} if event["type"] == "retracted" else {}),
        }
        name = self._name(fields["source"])
        if terms.statement_kind(root["type"]) == "opinion":
            return _plain(stix2.v21.Opinion(**version, **_opinion(fields, name)))
        return _plain(stix2.v21.Note(**version, **_note(fields, name)))

    def _grouping(
        self, claim_id: str, position: int, events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """The claim's grouping, if ``position`` holds its latest statement."""
        import stix2  # imported when used: it takes half a second to import
        if self.ledger.claim_events(claim_id, as_of=END_OF_VALID_TIME, limit=1,
                                    cursor=str(position))["events"]:
            return None  # a later page holds the claim's latest statement
        recorded = next(e["recorded_at"] for e in events if e["position"] == position)
        known = parse_instant("recorded_at", recorded)
        history = _ClaimHistory(self.ledger, claim_id, known)
        claim = self.ledger.claim(claim_id, as_of=known, known_at=known)
        credibility = {k: v for k, v in claim["credibility"].items() if k != "contributions"}
        first = history.events[0]["recorded_at"]
        grouping = stix2.v21.Grouping(
            id=terms.claim_grouping_id(claim_id), context="unspecified",
            name=claim["text"], created=first, modified=_later(recorded, first) if
            recorded != first else first, created_by_ref=terms.LEDGER_IDENTITY_ID,
            description=f"Claims Ledger: {credibility['band']} "
            f"({credibility['probability']}), {credibility['status']}, by "
            f"{credibility['model']}, as the ledger knew it at {claim['known_at']}",
            labels=claim["tags"] or None,
            object_refs=history.objects(),
            extensions=terms.ledger_extension(
                claim={k: claim[k] for k in ("id", "text", "tags", "parties", "beneficiaries",
                                             "alleged_at") if k in claim},
                credibility={**credibility, "as_of": claim["as_of"],
                             "known_at": claim["known_at"]},
            ),
        )
        return _plain(grouping)


def _references(event: dict[str, Any], fields: dict[str, Any]) -> list[dict[str, str]]:
    references = [{"source_name": "claims-ledger", "external_id": event["event_id"],
                   "description": f"recorded at {event['recorded_at']} by {event['actor']}, "
                   f"position {event['position']}"}]
    if fields.get("reference"):
        references.append({"source_name": "reference", "url": fields["reference"]})
    return references


def _words(fields: dict[str, Any]) -> str | None:
    quote, summary = fields.get("quote"), fields.get("summary")
    if quote and summary:
        return f"\u201c{quote}\u201d {summary}"
    return f"\u201c{quote}\u201d" if quote else summary


def _note(fields: dict[str, Any], name: str) -> dict[str, Any]:
    said = f"{name} {fields['type']} the claim"
    return {"abstract": said, "content": _words(fields) or said, "authors": [name],
            "labels": [fields["type"]]}


def _opinion(fields: dict[str, Any], name: str) -> dict[str, Any]:
    kind, likelihood = fields["type"], fields.get("likelihood")
    if kind == "resolved":
        confirmed = fields.get("outcome") == "confirmed"
        return {"opinion": "strongly-agree" if confirmed else "strongly-disagree",
                "confidence": 100, "authors": [name], "labels": ["resolved"],
                "explanation": f"Resolved: {fields.get('outcome')}. {fields.get('basis') or ''}"
                .strip()}
    if likelihood is None:  # a correction made it a statement without a likelihood
        stance = {"asserted": "agree", "denied": "disagree"}.get(kind, "neutral")
        return {"opinion": stance, "authors": [name], "labels": [kind],
                "explanation": _words(fields) or f"{name} {kind} the claim"}
    term = terms.band_term(likelihood)
    words = f" ('{fields['likelihood_phrase']}')" if fields.get("likelihood_phrase") else ""
    explanation = f"{name} assessed the claim {term} ({likelihood}){words}."
    if _words(fields):
        explanation += f" {_words(fields)}"
    return {"opinion": terms.likelihood_opinion(likelihood),
            "confidence": terms.likelihood_confidence(likelihood), "authors": [name],
            "labels": ["assessed"], "explanation": explanation}


def bundle_head(bundle_id: str) -> str:
    """The start of a bundle written as a stream: objects follow, then ``BUNDLE_TAIL``."""
    return f'{{"type": "bundle", "id": "{bundle_id}", "objects": ['


BUNDLE_TAIL = "]}\n"


def write_bundle(objects: Iterator[dict[str, Any]], bundle_id: str) -> Iterator[str]:
    """A bundle as text, a piece at a time: ``definitions()`` then ``objects``."""
    yield bundle_head(bundle_id)
    for i, obj in enumerate(_chain(definitions(), objects)):
        yield ("\n" if i == 0 else ",\n") + json.dumps(obj, ensure_ascii=False)
    yield BUNDLE_TAIL


def _chain(first: list[dict[str, Any]], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from first
    yield from rest


def bundle_id(*scope: object) -> str:
    """A bundle's id for what it holds (the scope: e.g. the positions it covers)."""
    return terms.stix_id("bundle", *(str(part) for part in scope))
