"""The read-only TAXII 2.1 collection: the STIX export of the whole log, one collection per
ledger, paged by the time each object was added.

An object version's ``date_added`` is when the ledger recorded the event that made it
(the ledger's definitions: when its first event was recorded). Recording times increase
along the log, so ``added_after`` is a place in the log, found by bisecting it, and a page
never rereads what came before. ``next`` is opaque to clients: where the page stopped (the
event before it, and how many of that place's objects were already served).

Filters are TAXII's: ``match[id]``, ``match[type]``, ``match[version]`` (``last``, the
default; ``first``; ``all``; or ``modified`` timestamps) and ``match[spec_version]``
(2.1). A full page ends before objects that share a ``date_added`` (an event's statement
and its claim's grouping) rather than between them, where it can, so a poller reading on
with ``added_after`` misses none. A page reads at most ``SCAN`` events: a filter that
matches little answers fewer objects than ``limit``, with ``more`` and ``next`` to read on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from ledger.application import ClaimsLedger
from ledger.errors import InvalidInput, NotFound
from ledger.interop import stix_terms as terms
from ledger.interop.stix_export import StixExport, StixItem, definitions
from ledger.reads import MAX_POSITION
from ledger.statements import RULES
from ledger.times import parse_instant

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
COLLECTION_ID = str(UUID(terms.stix_id("collection", "ledger").partition("--")[2]))
#: Most objects a page answers, and the default.
MAX_LIMIT, DEFAULT_LIMIT = 1000, 100
#: Most events a page reads looking for objects that match its filters.
SCAN = 10_000
_EVENTS_PER_READ = 500
_NEXT = re.compile(r"^(-1|[0-9]{1,18})\.([0-9]{1,6})$")
_VERSION_WORDS = ("last", "first", "all")
#: Events that make a later version of an object (the first comes from the event it names).
_LATER_VERSIONS = frozenset(
    {kind for kind, rule in RULES.items() if rule.supersedes} | {"source_rerated"})


@dataclass(frozen=True)
class Filters:
    """What a request asks of the collection."""

    added_after: datetime | None = None
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: tuple[str, ...] = ("last",)  # words, or modified timestamps

    def version_times(self) -> frozenset[datetime]:
        return frozenset(parse_instant("match[version]", v) for v in self.versions
                         if v not in _VERSION_WORDS)


@dataclass(frozen=True)
class Page:
    """One page of the collection: ``items`` and, if there is more, ``next``."""

    items: list[StixItem]
    more: bool
    next: str | None

    @property
    def first_added(self) -> str | None:
        return self.items[0].date_added if self.items else None

    @property
    def last_added(self) -> str | None:
        return self.items[-1].date_added if self.items else None


def parse_filters(
    added_after: str | None = None,
    ids: Sequence[str] = (),
    types: Sequence[str] = (),
    versions: Sequence[str] = (),
    spec_versions: Sequence[str] = (),
) -> Filters:
    """The filters as TAXII sends them (comma-separated lists), checked."""
    def split(values: Sequence[str]) -> list[str]:
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    after = None if added_after is None else parse_instant("added_after", added_after)
    wanted = tuple(split(versions)) or ("last",)
    filters = Filters(after, frozenset(split(ids)), frozenset(split(types)), wanted)
    filters.version_times()  # refuses a timestamp that is not one, naming match[version]
    unknown = [v for v in split(spec_versions) if v != "2.1"]
    if unknown:
        raise InvalidInput("match[spec_version]", f"{unknown[0]!r}: this collection holds "
                           "STIX 2.1 objects only")
    return filters


@dataclass
class _Place:
    """Where a page starts: after the event at ``after``, skipping ``skip`` objects."""

    after: int
    skip: int = 0
    scanned: int = field(default=0)


def _parse_next(token: str) -> _Place:
    match = _NEXT.match(token)
    if match is None:
        raise InvalidInput("next", "is not a next value this collection returned")
    return _Place(int(match.group(1)), int(match.group(2)))


class Collection:
    """The ledger's one collection, over its STIX export."""

    def __init__(self, ledger: ClaimsLedger) -> None:
        self.ledger = ledger
        self.export = StixExport(ledger)

    def page(self, filters: Filters, limit: int = DEFAULT_LIMIT, next: str | None = None
             ) -> Page:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
        place = _parse_next(next) if next else _Place(self._start(filters.added_after))
        items: list[StixItem] = []
        tokens: list[str] = []  # where a page starting at each item would restart
        for restart, served, item in self._feed(place):
            token = f"{restart}.{served}"
            if len(items) == limit or place.scanned > SCAN:
                return _cut(items, tokens, item, token)
            if self._matches(item, filters):
                items.append(item)
                tokens.append(token)
        return Page(items, False, None)

    def object_versions(self, object_id: str, filters: Filters, limit: int,
                        next: str | None) -> Page:
        """The versions of one object (``filters``' versions default to all of them)."""
        page = self.page(Filters(filters.added_after, frozenset({object_id}), filters.types,
                                 filters.versions), limit, next)
        if not page.items and next is None and not self._exists(object_id):
            raise NotFound(f"the collection holds no object {object_id!r}")
        return page

    def _exists(self, object_id: str) -> bool:
        scan = self.page(Filters(ids=frozenset({object_id}), versions=("all",)), 1)
        while not scan.items and scan.more:
            scan = self.page(Filters(ids=frozenset({object_id}), versions=("all",)), 1,
                             scan.next)
        return bool(scan.items)

    def _matches(self, item: StixItem, filters: Filters) -> bool:
        obj = item.obj
        if filters.added_after is not None and \
                parse_instant("date_added", item.date_added) <= filters.added_after:
            return False
        if filters.ids and obj["id"] not in filters.ids:
            return False
        if filters.types and obj["type"] not in filters.types:
            return False
        return self._version_matches(item, filters)

    def _version_matches(self, item: StixItem, filters: Filters) -> bool:
        if "all" in filters.versions:
            return True
        if "first" in filters.versions and _is_first(item):
            return True
        times = filters.version_times()
        if times and parse_instant("modified", item.obj.get("modified", "")) in times:
            return True
        return "last" in filters.versions and self.export.is_latest(item)

    def _feed(self, place: _Place) -> Iterator[tuple[int, int, StixItem]]:
        """Every object from ``place`` on, each with where a page after it would restart."""
        after, skip = place.after, place.skip
        if after < 0:
            first = self.ledger.log_page(after=0, limit=1)["data"]
            added = first[0]["recorded_at"] if first else terms.EXTENSION_DEFINED
            for i, obj in enumerate(definitions()):
                if i >= skip:
                    yield -1, i, StixItem(obj, 0, added)
            after, skip = 0, 0
        while True:
            page = self.export.page(after=after, limit=_EVENTS_PER_READ)
            place.scanned += page.last_position - after
            served, previous = 0, None
            for item in page.items:
                if item.position != previous:
                    served, previous = 0, item.position
                if skip and item.position == page.items[0].position and served < skip:
                    served += 1
                    continue
                # A restart reads the events after the one before this object's event.
                yield item.position - 1, served, item
                served += 1
            skip = 0
            if page.next_cursor is None:
                return
            after = page.last_position

    def _start(self, added_after: datetime | None) -> int:
        """The event after which the objects added after ``added_after`` begin (-1: the
        ledger's definitions first), by bisecting the log on recording time."""
        first = self._added(0)
        if added_after is None or first is None or first > added_after:
            return -1
        low, high = 0, 1  # the first event after low was added by then; find a high past it
        while (added := self._added(high)) is not None and added <= added_after:
            low, high = high, min(high * 2, MAX_POSITION - 1)
        while high - low > 1:  # the event after low: by then; after high: later, or none
            middle = (low + high) // 2
            added = self._added(middle)
            if added is not None and added <= added_after:
                low = middle
            else:
                high = middle
        return high

    def _added(self, after: int) -> datetime | None:
        """When the first event after position ``after`` was recorded (None: none is)."""
        data = self.ledger.log_page(after=after, limit=1)["data"]
        return parse_instant("recorded_at", data[0]["recorded_at"]) if data else None


def _cut(items: list[StixItem], tokens: list[str], following: StixItem, token: str) -> Page:
    """A full page, ended before the objects it shares its last ``date_added`` with when
    the next object has it too (and the page holds others): a poller that reads on with
    ``added_after`` = the page's last date added then misses nothing."""
    if items and following.date_added == items[-1].date_added:
        keep = len(items)
        while keep > 0 and items[keep - 1].date_added == following.date_added:
            keep -= 1
        if keep:
            return Page(items[:keep], True, tokens[keep])
    return Page(items, True, token)


def _is_first(item: StixItem) -> bool:
    recorded = (terms.ledger_properties(item.obj) or {}).get("ledger_event")
    return recorded is None or recorded["type"] not in _LATER_VERSIONS
