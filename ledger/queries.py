"""The read side: claims, sources, histories, audit trails, timelines and the global log.

Every answer states the concrete ``as_of`` and ``known_at`` it was computed for, so asking
again with those values gives the same bytes. ``known_at`` finds each stream's version
through the side table (``ledger.stores``), never by scanning other streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ledger import replay
from ledger.credibility import MODEL_VERSION
from ledger.domain import Claim, Source
from ledger.errors import InvalidInput, SourceNotFound
from ledger.loading import LedgerStore, store_errors
from ledger.persistence.chain import GENESIS, chain_link, uuid_hex
from ledger.statements import STATUSES, Statement
from ledger.times import format_instant, from_micros, now, to_micros

JSON = dict[str, Any]
MAX_LIMIT = 1000
MAX_POSITION = 10**18  # positions are 64-bit integers in every store


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def _cursor(cursor: str | None) -> int:
    if cursor in (None, ""):
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise InvalidInput("cursor", "is not a cursor this service returned")
    return int(cursor)


def _times(as_of: datetime | None, known_at: datetime | None) -> tuple[datetime, datetime]:
    """The concrete (as_of, known_at) of an answer; both default to now.

    A known_at in the future is answered as of now, and says so: what the ledger will know
    later is not an answer it can give today and repeat tomorrow.
    """
    moment = now()
    return as_of or moment, min(known_at, moment) if known_at else moment


class LedgerQueries(LedgerStore):
    """The read use cases; ``ClaimsLedger`` adds the writes."""

    @store_errors
    def claim(
        self,
        claim_id: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
    ) -> JSON:
        """One claim with its credibility at (``as_of``, ``known_at``)."""
        as_of, known = _times(as_of, known_at)
        data = self.load_claim(claim_id, to_micros(known))
        return self._claim_view(data, as_of, known)

    def _claim_view(self, data: replay.ClaimData, as_of: datetime, known: datetime) -> JSON:
        k = to_micros(known)
        sources = self.load_sources(data, k)
        version = 1 + len(replay.known(data, k))
        return {
            "id": data.claim_id,
            "text": data.text,
            "tags": data.tags,
            "parties": data.parties,
            "beneficiaries": data.beneficiaries,
            "version": version,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "credibility": replay.credibility(data, sources, as_of, k).to_dict(),
        }

    @store_errors
    def claim_version(self, claim_id: str) -> int:
        """The claim's current version (its ETag)."""
        return self._claim(claim_id).version

    @store_errors
    def claim_events(
        self,
        claim_id: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> JSON:
        """The claim's raw, immutable history in position order."""
        as_of, known = _times(as_of, known_at)
        after = _cursor(cursor)
        data = self.load_claim(claim_id, to_micros(known))
        events = [e for e in replay.history(data, as_of, to_micros(known)) if e["position"] > after]
        page = events[: _limit(limit)]
        more = len(events) > len(page)
        return {
            "claim_id": claim_id,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "version": data.version,
            "events": page,
            "next_cursor": str(page[-1]["position"]) if more else None,
        }

    @store_errors
    def audit(
        self,
        claim_id: str,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = None,
        known_at: datetime | None = None,
    ) -> JSON:
        """Every change of the claim's credibility in recording order, and its cause.

        With ``known_at``, the trail as it stood then: only changes recorded by then.
        """
        as_of, known = _times(as_of, known_at)
        data = self.load_claim(claim_id, to_micros(known))
        sources = self.load_sources(data, to_micros(known))
        entries = replay.audit(
            data,
            sources,
            as_of,
            since=None if since is None else to_micros(since),
            until=None if until is None else to_micros(until),
            source=source,
        )
        return {
            "claim_id": claim_id,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "model": MODEL_VERSION,
            "entries": entries,
        }

    @store_errors
    def timeline(self, claim_id: str, known_at: datetime | None = None) -> JSON:
        """Credibility as a step function of valid time, as known at ``known_at``."""
        _, known = _times(None, known_at)
        data = self.load_claim(claim_id, to_micros(known))
        sources = self.load_sources(data, to_micros(known))
        return {
            "claim_id": claim_id,
            "known_at": format_instant(known),
            "model": MODEL_VERSION,
            "points": replay.timeline(data, sources, to_micros(known)),
        }

    @store_errors
    def list_claims(
        self,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        status: str | None = None,
        tag: str | None = None,
        q: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> JSON:
        """All claims at (``as_of``, ``known_at``), filtered, in registration order."""
        if status is not None and status not in STATUSES:
            raise InvalidInput("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        as_of, known = _times(as_of, known_at)
        k, limit, after = to_micros(known), _limit(limit), _cursor(cursor)
        needle = q.lower() if q else None
        found: list[JSON] = []
        next_cursor = None
        for claim_id, position in self._streams("claim", k, after):
            if len(found) == limit:
                next_cursor = str(after)
                break
            after = position
            data = self.load_claim(claim_id, k)
            if tag and tag.lower() not in data.tags:
                continue
            if needle and needle not in data.text.lower():
                continue
            view = self._claim_view(data, as_of, known)
            if status and view["credibility"]["status"] != status:
                continue
            found.append(view)
        return {
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "data": found,
            "next_cursor": next_cursor,
        }

    def _streams(self, kind: str, known: int, after: int) -> Iterator[tuple[str, int]]:
        while True:
            page = self.index.stream_ids(kind, known, after, 200)
            yield from page
            if len(page) < 200:
                return
            after = page[-1][1]

    @store_errors
    def get_source(
        self, source_id: str, known_at: datetime | None = None, as_of: datetime | None = None
    ) -> JSON:
        """A source, its rating at ``as_of`` and its rating history, as known at ``known_at``."""
        as_of, known = _times(as_of, known_at)
        data = self.load_source(source_id, to_micros(known))
        if data is None:
            raise SourceNotFound(f"no source {source_id!r}")
        return self._source_view(data, as_of, known)

    def _source_view(self, data: replay.SourceData, as_of: datetime, known: datetime) -> JSON:
        standing = data.standing(as_of, to_micros(known))
        return {
            "id": data.source_id,
            "name": data.name,
            "role": data.role,
            "affiliation": data.affiliation,
            "reliability": standing.reliability,
            "version": len(data.ratings),
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "ratings": [
                {
                    "event_id": r.record["event_id"],
                    "reliability": r.record["reliability"],
                    "occurred_at": None
                    if r.record["occurred_at"] is None
                    else format_instant(r.record["occurred_at"]),
                    "recorded_at": format_instant(from_micros(r.recorded_at)),
                    "position": r.position,
                    "actor": r.record["actor"],
                    "note": r.record["note"],
                }
                for r in data.ratings
            ],
        }

    @store_errors
    def list_sources(
        self,
        known_at: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
        as_of: datetime | None = None,
    ) -> JSON:
        """Every source registered by ``known_at``, rated as at ``as_of``, in registration order."""
        as_of, known = _times(as_of, known_at)
        k = to_micros(known)
        page = self.index.stream_ids("source", k, _cursor(cursor), _limit(limit) + 1)
        more = len(page) > limit
        page = page[:limit]
        data = []
        for sid, _position in page:
            source = self.load_source(sid, k)
            assert source is not None
            data.append(self._source_view(source, as_of, known))
        return {
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "data": data,
            "next_cursor": str(page[-1][1]) if more else None,
        }

    @store_errors
    def global_log(self, after: int = 0, limit: int = 100) -> JSON:
        """The global log in position order, for subscribers, replication and export."""
        if not 0 <= after < MAX_POSITION:
            raise InvalidInput("after", "must be 0 or a position")
        entries = self.index.log_entries(after, _limit(limit))
        if not entries:
            return {"events": [], "next": after}
        notifications = self.notification_log.select(start=entries[0].position, limit=len(entries))
        events = []
        for entry, notification in zip(entries, notifications, strict=True):
            domain_event = self.mapper.to_domain_event(notification)
            events.append(_log_view(domain_event, entry.position, entry.recorded_at))
        return {"events": events, "next": entries[-1].position}

    @store_errors
    def verify(self, page_size: int = 1000) -> JSON:
        """Recompute the hash chain over every stored event; name the first bad position."""
        previous, checked, after = GENESIS, 0, 0
        while True:
            entries = self.index.log_entries(after, page_size)
            notifications = self.recorder.select_notifications(start=after + 1, limit=page_size)
            if not entries and not notifications:
                break
            by_position = {n.id: n for n in notifications}
            for entry in entries:
                stored = by_position.get(entry.position)
                if stored is None:
                    return _broken(entry.position, checked, "the stored event is missing")
                if uuid_hex(stored.originator_id) != entry.originator_id:
                    return _broken(entry.position, checked, "the event was moved to another stream")
                expected = chain_link(previous, entry.position, stored, entry.recorded_at)
                if expected != entry.hash:
                    return _broken(
                        entry.position, checked, "stored bytes do not match the hash chain"
                    )
                previous = entry.hash
                checked += 1
            extra = set(by_position) - {e.position for e in entries}
            if extra:
                return _broken(min(extra), checked, "an event is not in the hash chain")
            after = max([after, *by_position, *(e.position for e in entries)])
        return {
            "ok": True,
            "checked": checked,
            "head": previous,
            "first_bad_position": None,
            "reason": None,
        }


def _broken(position: int, checked: int, reason: str) -> JSON:
    return {
        "ok": False,
        "checked": checked,
        "head": None,
        "first_bad_position": position,
        "reason": reason,
    }


def _log_view(event: Any, position: int, recorded_at: int) -> JSON:
    base = {"position": position, "recorded_at": format_instant(from_micros(recorded_at))}
    if isinstance(event, Claim.StatementRecorded):
        statement = Statement.from_payload(event.record, position=position)
        return replay.event_view(
            event.record["claim_id"], replay.RecordedStatement(statement, recorded_at)
        )
    if isinstance(event, Claim.Registered):  # type: ignore[attr-defined]
        return {
            "type": "claim_registered",
            "event_id": event.event_id,
            "claim_id": event.claim_id,
            "text": event.text,
            "tags": event.tags,
            "parties": event.parties,
            "beneficiaries": getattr(event, "beneficiaries", None) or [],
            "actor": event.actor,
            **base,
        }
    if isinstance(event, Source.Registered):  # type: ignore[attr-defined]
        return {
            "type": "source_registered",
            "event_id": event.event_id,
            "source": event.source_id,
            "name": event.name,
            "role": event.role,
            "affiliation": event.affiliation,
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
