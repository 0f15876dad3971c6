"""The read side: claims, sources, histories, audit trails, timelines and the global log.

Every answer states the concrete ``as_of`` and ``known_at`` it was computed for, so asking
again with those values gives the same bytes. ``known_at`` finds each stream's version
through the side table (``ledger.persistence``), never by scanning other streams. Times
are ``datetime`` in and out; ``*_us`` names are recording times in microseconds.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from ledger import models, replay
from ledger.answers import JSON
from ledger.credibility.values import Contribution, Credibility
from ledger.domain import claim_uuid
from ledger.errors import (
    ClaimNotFound,
    DamagedHistory,
    EventNotFound,
    InvalidInput,
    ProjectionBehind,
    SourceNotFound,
)
from ledger.export import export_record
from ledger.integrity import verify_chain
from ledger.likelihood import ICD203_TERMS
from ledger.models import ModelVersion
from ledger.projection.projector import Projector
from ledger.projection.tables import (
    BEGINNING_OF_TIME,
    SORT_KEYS,
    CredibilityTables,
    Filters,
    Order,
)
from ledger.statements import STATUSES
from ledger.store import END_OF_TIME, LedgerApplication, store_errors
from ledger.times import format_instant, from_micros, now, to_micros

log = logging.getLogger(__name__)

MAX_LIMIT = 1000
MAX_POSITION = 10**18  # positions are 64-bit integers in every store
#: A list is replayed claim by claim, rather than answered from a projection that is behind,
#: only in a ledger of at most this many events (a replay costs the whole ledger).
REPLAYED_AT_MOST = 20_000
#: Record books (every resolved claim's stances, for a version that learns) kept between
#: reads (the oldest goes first): a book is built again when the records change.
BOOKS_KEPT = 2


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


def _filters(
    status: str | None,
    band: str | None,
    tag: str | None,
    q: str | None,
    min_probability: float | None,
    max_probability: float | None,
) -> Filters:
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"{status!r} is not one of {', '.join(STATUSES)}")
    if band is not None and band not in ICD203_TERMS:
        raise InvalidInput("band", f"{band!r} is not one of {', '.join(ICD203_TERMS)}")
    for name, value in (("min_probability", min_probability), ("max_probability", max_probability)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise InvalidInput(name, "must be a probability between 0 and 1")
    if (
        min_probability is not None
        and max_probability is not None
        and min_probability > max_probability
    ):
        raise InvalidInput("min_probability", "is greater than max_probability")
    return Filters(
        status=status,
        band=band,
        tag=tag.lower() if tag else None,
        text=q.lower() if q else None,
        min_probability=min_probability,
        max_probability=max_probability,
    )


def _order(sort: str | None, since: datetime | None) -> Order:
    """The order a list was asked for: ``sort`` a key of ``SORT_KEYS``, ``-`` first for
    largest first; ``since`` the valid time ``moved`` counts from."""
    key = (sort or "registered").removeprefix("-")
    if key not in SORT_KEYS:
        accepted = ", ".join(f"{k}, -{k}" for k in SORT_KEYS)
        raise InvalidInput("sort", f"{sort!r} is not a sort key; use one of {accepted}")
    if key == "moved" and since is None:
        raise InvalidInput("sort", "moved needs since: the date the move is counted from")
    return Order(key, bool(sort and sort.startswith("-")),
                 None if since is None else to_micros(since))


def _ordered(rows: list[tuple[int, JSON]], order: Order, after: int) -> list[tuple[int, JSON]]:
    """The replayed rows in ``order`` (as the projection's ``sorted_page`` orders them;
    damaged claims, with no answer, last), from the one after the claim at ``after``."""
    keys: dict[str, Callable[[JSON], Any]] = {
        "registered": lambda item: 0,
        "text": lambda item: item["text"].lower(),
        "probability": lambda item: item["credibility"]["probability"],
        "status": lambda item: STATUSES.index(item["credibility"]["status"]),
        "last_change": lambda item: item["_changed"],
        "moved": lambda item: item["moved"],
    }
    key = keys[order.key]
    sound = [row for row in rows if "damaged" not in row[1]]
    damaged = [row for row in rows if "damaged" in row[1]]
    sound.sort(key=lambda row: row[0])
    if order.key == "registered":
        sound.sort(key=lambda row: row[0], reverse=order.descending)
    else:
        sound.sort(key=lambda row: key(row[1]), reverse=order.descending)  # stable: ties keep
    found = sound + damaged
    if not after:
        return found
    at = next((i for i, (position, _) in enumerate(found) if position == after), None)
    if at is None:
        raise InvalidInput("cursor", "is not a cursor this service returned")
    return found[at + 1:]


def _passes(filters: Filters, credibility: JSON) -> bool:
    """Whether a claim's credibility passes the filters on it (the replayed path)."""
    probability = credibility["probability"]
    return (
        (filters.status is None or credibility["status"] == filters.status)
        and (filters.band is None or credibility["band"] == filters.band)
        and (filters.min_probability is None or probability >= filters.min_probability)
        and (filters.max_probability is None or probability <= filters.max_probability)
    )


#: By default a model diff lists a claim whose probability differs by this much, even in
#: the same band and status.
DIFFERENCE = 0.1


def _difference(
    data: replay.ClaimData, one: Credibility, other: Credibility, min_difference: float
) -> JSON | None:
    """How two answers for one claim differ, or None if they do not (see ``models_diff``)."""
    changed = [
        name
        for name, differs in (
            ("band", one.band != other.band),
            ("status", one.status != other.status),
            ("probability", abs(other.probability - one.probability) >= min_difference),
        )
        if differs
    ]
    if not changed:
        return None
    theirs = {c.event_id: c for c in other.contributions}
    explained = []
    for mine in one.contributions:
        their = theirs[mine.event_id]
        if (mine.log_odds, mine.reason) != (their.log_odds, their.reason):
            explained.append(
                {
                    "event_id": mine.event_id,
                    "source": mine.source,
                    "type": mine.type,
                    "from": _contribution(mine),
                    "to": _contribution(their),
                }
            )
    return {
        "id": data.claim_id,
        "text": data.text,
        "changed": changed,
        "difference": round(other.probability - one.probability, 6) + 0.0,
        "from": _summary(one),
        "to": _summary(other),
        "contributions": explained,
    }


def _summary(c: Credibility) -> JSON:
    return {
        "probability": c.probability,
        "band": c.band,
        "status": c.status,
        "grade": c.grade,
        "model": c.model,
    }


def _contribution(c: Contribution) -> JSON:
    return {"delta": c.delta, "log_odds": c.log_odds, "reason": c.reason}


def _damaged(item: JSON, position: int, reason: str) -> JSON:
    """A list's item for a claim whose history is damaged: what it cannot vouch for goes."""
    for field in ("text", "tags", "parties", "beneficiaries", "credibility", "last_change",
                  "moved"):
        item.pop(field, None)
    item["damaged"] = {"position": position, "reason": reason}
    return item


def _times(as_of: datetime | None, known_at: datetime | None) -> tuple[datetime, datetime]:
    """The concrete (as_of, known_at) of an answer; both default to now.

    A known_at in the future is answered as of now, and says so: what the ledger will know
    later is not an answer it can give today and repeat tomorrow.
    """
    moment = now()
    return as_of or moment, min(known_at, moment) if known_at else moment


class LedgerReads:
    """The read use cases, over one ``LedgerApplication``."""

    def __init__(self, store: LedgerApplication, projector: Projector | None = None) -> None:
        self.store = store
        self.projector = projector
        #: The latest record books built, by (model, ``records_revision``).
        self._books: dict[tuple[str, int], replay.LedgerRecords] = {}
        self._books_lock = threading.Lock()

    @store_errors
    def claim(
        self,
        claim_id: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        model: str | None = None,
    ) -> JSON:
        """One claim with its credibility at (``as_of``, ``known_at``) by ``model`` (a
        version name; default ``models.DEFAULT``)."""
        version = models.version(model)
        as_of, known = _times(as_of, known_at)
        data = self.store.claim_as_known(claim_id, to_micros(known))
        return self.claim_view(data, as_of, known, version, self.record_book(version, known))

    def record_book(self, model: ModelVersion, known: datetime) -> replay.LedgerRecords | None:
        """Every resolved claim as known at ``known``, for a model that learns from the
        sources' records (None for one that does not): the claims with a resolution
        recorded by then (``LedgerApplication.resolved_claims``).

        A resolved claim whose stored history is damaged adds nothing to the records
        (logged): its own reads answer the damage and ``verify`` names it, and the other
        claims are still served, as the projection, which skips it too, serves them.
        """
        if not model.learns:
            return None
        known_us = to_micros(known)
        # Kept for the next reads that see the same records (nothing a resolved claim
        # adds to them recorded in between): building it reads every resolved claim.
        key = (model.name, self.store.records_revision(known_us))
        with self._books_lock:
            book = self._books.get(key)
        if book is None:
            book = replay.LedgerRecords(
                resolved_claims(self.store, known_us), model.strategy.record_weight,
                self.store.records_revision,
            )
            with self._books_lock:
                self._books[key] = book
                while len(self._books) > BOOKS_KEPT:
                    del self._books[next(iter(self._books))]
        return book

    def claim_view(
        self,
        data: replay.ClaimData,
        as_of: datetime,
        known: datetime,
        model: ModelVersion | None = None,
        records: replay.Records | None = None,
    ) -> JSON:
        """The claim's answer at (``as_of``, ``known``) in ``model`` (default: the default
        version), with the sources' track records (``records``) if it learns from them
        (read here when not given)."""
        known_us = to_micros(known)
        if model is None:
            model = models.version(None)
            records = records or self.record_book(model, known)
        sources = self.store.sources_cited(data, known_us)
        version = 1 + len(replay.known(data, known_us))
        return {
            "id": data.claim_id,
            "text": data.text,
            "tags": data.tags,
            "parties": data.parties,
            "beneficiaries": data.beneficiaries,
            **({} if data.alleged_at is None else {"alleged_at": format_instant(data.alleged_at)}),
            "version": version,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "credibility": replay.credibility(
                data, sources, as_of, known_us, model, records
            ).to_dict(),
        }

    @store_errors
    def claim_version(self, claim_id: str) -> int:
        """The claim's current version (its ETag), from the log's index."""
        version = self.store.index.version_at(claim_uuid(claim_id), END_OF_TIME)
        if version is None:
            raise ClaimNotFound(f"no claim {claim_id!r}")
        return version

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
        data = self.store.claim_as_known(claim_id, to_micros(known))
        limit = _limit(limit)
        events = list(itertools.islice(replay.history(data, as_of, to_micros(known), after),
                                       limit + 1))
        page = events[:limit]
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
    def claim_event(self, claim_id: str, event_id: str, known_at: datetime | None = None) -> JSON:
        """One event of the claim, as recorded (whatever its ``occurred_at``), by ``known_at``."""
        _, known = _times(None, known_at)
        data = self.store.claim_as_known(claim_id, to_micros(known))
        for record in replay.known(data, to_micros(known)):
            if record.statement.event_id == event_id:
                return replay.event_view(claim_id, record)
        raise EventNotFound(
            f"claim {claim_id!r} has no event {event_id!r}; GET /claims/{claim_id}/events "
            "lists its events"
        )

    @store_errors
    def audit(
        self,
        claim_id: str,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = None,
        known_at: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        model: str | None = None,
    ) -> JSON:
        """Every change of the claim's credibility in recording order, and its cause, by
        ``model`` (a version name; default ``models.DEFAULT``).

        With ``known_at``, the trail as it stood then: only changes recorded by then.
        With ``limit``, one page: the entries after ``cursor`` (the ``next_cursor`` of the
        page before), at most ``limit``, and ``next_cursor`` (None on the last page); the
        work is the claim's records up to the page's end, and explaining that page's
        entries. Without it, every entry (and no ``next_cursor``).
        """
        chosen = models.version(model)
        page_size = None if limit is None else _limit(limit)
        after = _cursor(cursor)
        if since is not None and until is not None and since > until:
            raise InvalidInput("since", "is later than until: no entry could be recorded between")
        as_of, known = _times(as_of, known_at)
        data = self.store.claim_as_known(claim_id, to_micros(known))
        sources = self.store.sources_cited(data, to_micros(known))
        entries = replay.audit(
            data,
            sources,
            as_of,
            since=None if since is None else to_micros(since),
            until=None if until is None else to_micros(until),
            source=source,
            after=after,
            limit=None if page_size is None else page_size + 1,
            model=chosen,
            records=self.record_book(chosen, known),
        )
        answer: JSON = {
            "claim_id": claim_id,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "model": chosen.name,
            "entries": entries[:page_size],
        }
        if page_size is not None:
            more = len(entries) > page_size
            answer["next_cursor"] = str(entries[page_size - 1]["position"]) if more else None
        return answer

    @store_errors
    def timeline(
        self, claim_id: str, known_at: datetime | None = None, model: str | None = None
    ) -> JSON:
        """Credibility as a step function of valid time, as known at ``known_at``, by
        ``model`` (a version name; default ``models.DEFAULT``)."""
        return self.titled_timeline(claim_id, known_at, model)[0]

    @store_errors
    def titled_timeline(
        self, claim_id: str, known_at: datetime | None = None, model: str | None = None
    ) -> tuple[JSON, str]:
        """The ``timeline`` and the claim's text as known at ``known_at`` (a chart's title),
        from one read of the claim."""
        chosen = models.version(model)
        _, known = _times(None, known_at)
        data = self.store.claim_as_known(claim_id, to_micros(known))
        sources = self.store.sources_cited(data, to_micros(known))
        points = replay.timeline(
            data, sources, to_micros(known), chosen, self.record_book(chosen, known)
        )
        steps = {
            "claim_id": claim_id,
            "known_at": format_instant(known),
            "model": chosen.name,
            "points": points,
        }
        return steps, data.text

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
        band: str | None = None,
        min_probability: float | None = None,
        max_probability: float | None = None,
        model: str | None = None,
        sort: str | None = None,
        since: datetime | None = None,
    ) -> JSON:
        """All claims at (``as_of``, ``known_at``), filtered, in registration order or in
        the order ``sort`` names.

        Each item is a claim with the summary of its credibility (probability, band,
        status, grade, model) and ``last_change``: the valid time its answer (those four)
        last changed by as_of, as known at known_at (None: nothing has changed it yet).
        With ``since`` each item also has ``moved``: its probability at as_of minus its
        probability at ``since``. ``sort``: one of ``SORT_KEYS`` (registered, text,
        probability, status, last_change, moved), ``-`` first for largest first; ties in
        registration order; ``moved`` needs ``since``. One claim's answer has the
        contributions.

        In the model version the store serves (``models.PROJECTED`` unless ``rebuild
        --model`` switched it), on SQLite and PostgreSQL, the page is a query of the
        credibility projection (indexed in registration order; another order sorts every
        claim's answer in SQL), which is first brought up to every event stored now (read
        your writes); the in-memory store, and any other ``model``, replays every claim
        instead (with the same answer in the served version). The cursor is the position
        of the page's last claim: the next page starts after that claim in the same order,
        at the same times.
        """
        chosen = models.version(model)
        filters = _filters(status, band, tag, q, min_probability, max_probability)
        order = _order(sort, since)
        as_of, known = _times(as_of, known_at)
        known_us, limit, after = to_micros(known), _limit(limit), _cursor(cursor)
        served = self._served_page(
            chosen, to_micros(as_of), known_us, filters, after, limit + 1, order
        )
        behind: JSON | None = None
        if served is None:
            rows = self._replayed(as_of, known, filters, after, limit + 1, chosen, order)
        else:
            rows, reach = served
            if reach is not None:  # answered as the ledger knew it when the projection was
                known, behind = from_micros(reach[1]), {"position": reach[0], "head": reach[2]}
        page = rows[:limit]
        self._flag_damaged(page)
        for _, item in page:
            item.update(as_of=format_instant(as_of), known_at=format_instant(known))
        answer: JSON = {"as_of": format_instant(as_of), "known_at": format_instant(known)}
        if since is not None:
            answer["since"] = format_instant(since)
        if behind is not None:
            answer["behind"] = behind
        return {
            **answer,
            "data": [item for _, item in page],
            "next_cursor": str(page[-1][0]) if len(rows) > limit else None,
        }

    def _flag_damaged(self, page: list[tuple[int, JSON]]) -> None:
        """Flag the claims of a page whose stored events no longer match the log.

        One query for the page (an index lookup per event of its claims): a claim with a
        log row whose event is gone keeps its id and version but loses its text and
        credibility, which rest on that history, and gets ``damaged``: where ``verify``
        finds the damage. Its own routes answer the same as a 500 problem.
        """
        uids = {item["id"]: claim_uuid(item["id"]) for _, item in page}
        screened = [uids[item["id"]] for _, item in page if "damaged" not in item]
        gaps = self.store.index.gaps(screened)
        for _, item in page:
            position = gaps.get(uids[item["id"]].hex)
            if position is not None:
                _damaged(item, position, "the stored event is missing")

    def _served_page(
        self,
        chosen: ModelVersion,
        as_of_us: int,
        known_us: int,
        filters: Filters,
        after: int,
        limit: int,
        order: Order | None = None,
    ) -> tuple[list[tuple[int, JSON]], tuple[int, int, int] | None] | None:
        """The page from the projection if ``chosen`` is the version served, with None, or,
        where the projection is behind what ``known_us`` asks for, the (position, its
        recording time, the log's head) the page was answered at; None: replay it.

        A ``known_us`` the projection has reached is answered at once. Otherwise the
        projection is first brought up to the head (read your writes), waiting at most
        ``Projector.caught_up``'s bound; a projection still behind then answers the page as
        the ledger knew it at the position it has reached (the caller says so), unless
        the ledger is small enough to replay (``REPLAYED_AT_MOST`` events): replaying a
        large ledger for a list costs time and memory that grow with it. A large ledger
        whose projection has reached nothing yet is ``ProjectionBehind``.

        The served version is looked up first (``rebuild --model`` may have switched it);
        a read that loses its tables to a switch under it looks again."""
        projector = self.projector
        if projector is None:
            return None
        for _ in range(3):
            projector.follow_served()
            tables = projector.view.tables  # the served version's, as of this look
            if chosen.name != tables.model:
                return None
            try:
                reach = self._reached(known_us)
                if reach is not None and projector.caught_up():
                    reach = None
                if reach is not None:
                    head = projector.head()
                    if head <= REPLAYED_AT_MOST:
                        return None
                    reach = self._reached(known_us, head)  # where it has got to meanwhile
                    if reach is not None and reach[0] == 0:
                        raise ProjectionBehind(
                            f"the credibility projection has projected none of the log's "
                            f"{head} events yet; lists are answered from it once it has "
                            "(one claim's routes answer now)")
                known = known_us if reach is None else min(known_us, reach[1])
                rows = self._projected(
                    as_of_us, known, filters, after, limit, order, tables=tables
                )
                return rows, reach
            except ProjectionBehind:
                raise
            except Exception:
                if projector.view.tables is tables and not projector.follow_served():
                    raise  # not a switch: a failure of the store
        return None

    def _reached(self, known_us: int, head: int | None = None) -> tuple[int, int, int] | None:
        """None if the projection has projected every event recorded by ``known_us``;
        otherwise (its position, that event's recording time, the log's head)."""
        assert self.projector is not None
        reached = self.projector.view.position()
        if reached > 0 and not self.store.log_reaches(reached):  # the log was cut short
            return (0, 0, head or self.projector.head())
        recorded = self.store.entry(reached).recorded_at if reached > 0 else 0
        # Recording times strictly increase: every event recorded by then is in.
        if reached > 0 and known_us <= recorded:
            return None
        head = self.projector.head() if head is None else head
        return None if reached >= head else (reached, recorded, head)

    def _projected(
        self,
        as_of_us: int,
        known_us: int,
        filters: Filters,
        after: int,
        limit: int,
        order: Order | None = None,
        tables: CredibilityTables | None = None,
    ) -> list[tuple[int, JSON]]:
        """A page of the projection's ``tables`` (default: the served version's)."""
        assert self.projector is not None
        view = self.projector.view
        tables = tables or view.tables
        with view.reading() as cursor:
            if order is None or order == Order():
                rows = tables.page(cursor, as_of_us, known_us, filters, after, limit)
            else:
                found = tables.sorted_page(
                    cursor, as_of_us, known_us, filters, order, after, limit)
                if found is None:
                    raise InvalidInput("cursor", "is not a cursor this service returned")
                rows = found
        return [(int(r["position"]), self._listed(r, order, tables.model)) for r in rows]

    def _listed(self, r: Any, order: Order | None, model: str) -> JSON:
        """A projected row (of ``model``'s tables) as a list's item."""
        changed = int(r["valid_from"])
        item: JSON = {
            "id": r["claim_id"],
            "text": r["text"],
            "tags": json.loads(r["tags"]),
            "parties": json.loads(r["parties"]),
            "beneficiaries": json.loads(r["beneficiaries"]),
            "version": int(r["version"]),
            "credibility": {
                "probability": float(r["probability"]),
                "band": r["band"],
                "status": r["status"],
                "grade": int(r["grade"]),
                "model": model,
            },
            "last_change": None if changed <= BEGINNING_OF_TIME
            else format_instant(from_micros(changed)),
        }
        if order is not None and order.since is not None:
            item["moved"] = float(r["moved"]) + 0.0
        return item

    def _replayed(
        self,
        as_of: datetime,
        known: datetime,
        filters: Filters,
        after: int,
        limit: int,
        model: ModelVersion | None = None,
        order: Order | None = None,
    ) -> list[tuple[int, JSON]]:
        """``list_claims`` by replaying each claim: in registration order, the page after
        ``after``; in another ``order``, every claim's answer, sorted (``_ordered``)."""
        known_us = to_micros(known)
        model = model or models.version(None)
        records = self.record_book(model, known)
        sorting = order is not None and order != Order()
        found: list[tuple[int, JSON]] = []
        for claim_id, position in self._streams("claim", known_us, 0 if sorting else after):
            if len(found) == limit and not sorting:
                break
            try:
                data = self.store.claim_as_known(claim_id, known_us)
            except DamagedHistory as damaged:
                version = self.store.index.version_at(claim_uuid(claim_id), known_us)
                found.append((position, _damaged({"id": claim_id, "version": version},
                                                 damaged.position, damaged.reason)))
                continue
            if filters.tag and filters.tag not in data.tags:
                continue
            if filters.text and filters.text not in data.text.lower():
                continue
            view = self.claim_view(data, as_of, known, model, records)
            credibility = view["credibility"]
            if not _passes(filters, credibility):
                continue
            del credibility["contributions"]
            del view["as_of"], view["known_at"]
            view.pop("alleged_at", None)  # as the projected list: read the claim for it
            sources = self.store.sources_cited(data, known_us)
            changed = replay.last_change(data, sources, as_of, known_us, model, records)
            view["last_change"] = None if changed is None else format_instant(changed)
            if order is not None and order.since is not None:
                since = from_micros(order.since)
                then = replay.credibility(data, sources, since, known_us, model, records)
                view["moved"] = credibility["probability"] - then.probability + 0.0
            if sorting:
                view["_changed"] = BEGINNING_OF_TIME if changed is None else to_micros(changed)
            found.append((position, view))
        if not sorting:
            return found
        assert order is not None
        page = _ordered(found, order, after)[:limit]
        for _, item in page:
            item.pop("_changed", None)
        return page

    def models(self) -> JSON:
        """The credibility model versions the ledger answers with, the default and the
        projected one (the version the store serves lists of from its projection; None in
        memory, where every list replays) marked."""
        projected = None
        if self.projector is not None:
            self.projector.follow_served()
            projected = self.projector.model.name
        listing = models.listing()
        listing["projected"] = projected
        for item in listing["data"]:
            item["projected"] = item["name"] == projected
        return listing

    @store_errors
    def models_diff(
        self,
        from_model: str,
        to_model: str,
        as_of: datetime | None = None,
        known_at: datetime | None = None,
        min_difference: float = DIFFERENCE,
        limit: int = 100,
        cursor: str | None = None,
    ) -> JSON:
        """The claims two model versions judge differently at (``as_of``, ``known_at``).

        A claim differs when its band or its status differs, or its probability by at
        least ``min_difference``. Each item gives both answers (without contributions),
        what changed, the probability's difference (to minus from) and the contributions
        that explain it: every event whose weight in the pool (``log_odds``) or whose
        reason differs, with both versions' delta, log-odds and reason. In registration
        order, paged like the claims list; a page may read many claims to find its items.
        """
        first = models.version(from_model, "from")
        second = models.version(to_model, "to")
        if not 0.0 <= min_difference <= 1.0:
            raise InvalidInput("min_difference", "must be a probability between 0 and 1")
        as_of, known = _times(as_of, known_at)
        known_us, limit, after = to_micros(known), _limit(limit), _cursor(cursor)
        books = {m.name: self.record_book(m, known) for m in (first, second)}
        found: list[tuple[int, JSON]] = []
        for claim_id, position in self._streams("claim", known_us, after):
            if len(found) > limit:
                break
            data = self.store.claim_as_known(claim_id, known_us)
            sources = self.store.sources_cited(data, known_us)
            one, other = (
                replay.credibility(data, sources, as_of, known_us, m, books[m.name])
                for m in (first, second)
            )
            item = _difference(data, one, other, min_difference)
            if item is not None:
                found.append((position, item))
        page = found[:limit]
        return {
            "from": first.name,
            "to": second.name,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "min_difference": min_difference,
            "data": [item for _, item in page],
            "next_cursor": str(page[-1][0]) if len(found) > limit else None,
        }

    def _streams(self, kind: str, known_us: int, after: int) -> Iterator[tuple[str, int]]:
        while True:
            page = self.store.index.stream_ids(kind, known_us, after, 200)
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
        data = self.store.source_as_known(source_id, to_micros(known))
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
            "affiliations": list(data.affiliations),
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
        known_us = to_micros(known)
        page = self.store.index.stream_ids("source", known_us, _cursor(cursor), _limit(limit) + 1)
        more = len(page) > limit
        page = page[:limit]
        data = []
        for sid, _position in page:
            source = self.store.source_as_known(sid, known_us)
            assert source is not None
            data.append(self._source_view(source, as_of, known))
        return {
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "data": data,
            "next_cursor": str(page[-1][1]) if more else None,
        }

    @store_errors
    def global_log(self, after: int = 0, limit: int = 100, *, stored: bool = False) -> JSON:
        """The global log in position order, for export and replication: ``events`` after
        position ``after``, and ``next``, the last position returned (``after`` itself when
        there is none). ``stored``: each record also carries the event's stored bytes (a
        backup). ``log_page`` answers the same events in the shape of every list."""
        if not 0 <= after < MAX_POSITION:
            raise InvalidInput("after", "must be 0 or a position")
        events, _ = self._log(after, _limit(limit), stored)
        return {"events": events, "next": events[-1]["position"] if events else after}

    @store_errors
    def log_page(
        self, cursor: str | None = None, limit: int = 100, *, after: int | None = None
    ) -> JSON:
        """One page of the global log, paged like every list: ``data`` (the events after
        ``cursor``, at most ``limit``) and ``next_cursor`` (None on the last page).

        ``after``, a position, starts there instead of at a cursor: a subscriber that holds
        events up to position P asks ``after=P`` (the position of the last event it read).
        """
        if after is not None and cursor not in (None, ""):
            raise InvalidInput("after", "give cursor or after, not both")
        if after is not None and not 0 <= after < MAX_POSITION:
            raise InvalidInput("after", "must be 0 or a position")
        start = _cursor(cursor) if after is None else after
        events, cut = self._log(start, _limit(limit) + 1, stored=False)
        page = events[:limit]
        more = cut or len(events) > limit  # a page cut before a damaged event has a next
        return {"data": page, "next_cursor": str(page[-1]["position"]) if more else None}

    def _log(self, after: int, count: int, stored: bool) -> tuple[list[JSON], bool]:
        """The events after ``after`` (at most ``count``), and whether a damaged event cut
        them short (``DamagedHistory`` if it is the first)."""
        entries = self.store.index.log_entries(after, count)
        if not entries:
            self.store.require_log_end(after)  # events stored past the log's end: damage
            return [], False
        events: list[JSON] = []
        for entry, notification, found in self.store.stored_at(entries):
            if notification is None:
                # A gap must not be papered over: the page ends before the damage, and a
                # page that would start there names it (the ledger's own check).
                if not events:
                    raise DamagedHistory(
                        f"the log after position {entry.position - 1}", entry.position, found
                    )
                return events, True
            events.append(
                export_record(
                    found, entry.position, entry.recorded_at, notification if stored else None
                )
            )
        return events, False

    def verify(self, page_size: int = 1000) -> JSON:
        """Recompute the hash chain over every stored event; name the first bad position."""
        return verify_chain(self.store, page_size)


def resolved_claims(store: LedgerApplication, known_us: int) -> Iterator[replay.ClaimData]:
    """The claims with a resolution recorded by ``known_us``, as known then, but those whose
    stored history is damaged (logged: they add nothing to the sources' records)."""
    for claim_id in store.resolved_claims(known_us):
        try:
            yield store.claim_as_known(claim_id, known_us)
        except DamagedHistory as damaged:
            log.warning(
                "claim %s adds nothing to the sources' track records: %s",
                claim_id,
                damaged.detail,
            )
