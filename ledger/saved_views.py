"""Saved views: a user's named choices of the claims list (filters, order, times).

Each principal has one ``Shelf``, an aggregate of its own stream (opened, a view saved, a
view deleted), stored as watches are (``ledger.watches``): in the library's aggregate
recorder ``saved_views`` of the ledger's own store, so views survive a restart and every
change says who made it and when. A view is a name and the list's query parameters
(``VIEW_FIELDS``), checked here; saving under a name already used replaces that view.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import EventStore, IntegrityError

from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.store import LedgerApplication, store_errors
from ledger.times import format_instant, now

JSON = dict[str, Any]
#: The claims list's parameters a view keeps (those of ``GET /claims`` and ``/ui``).
VIEW_FIELDS = ("as_of", "known_at", "since", "tag", "status", "band", "q", "sort", "per")
MAX_NAME = 100
MAX_VALUE = 256
#: The most views one principal keeps.
MAX_VIEWS = 100
_NAMESPACE = UUID("0b8f9d52-6c1e-5a7b-9e2d-4f3a1c5b7d90")


class ViewNotFound(NotFound):
    """The principal has no saved view of this name."""

    title = "Not found"


def shelf_uuid(principal: str) -> UUID:
    return uuid5(_NAMESPACE, f"saved-views:{principal}")


def view_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        raise InvalidInput("name", f"must be a name of 1-{MAX_NAME} characters")
    return " ".join(value.split())


def view_query(data: Mapping[str, Any]) -> dict[str, str]:
    """The parameters of a view: only ``VIEW_FIELDS``, strings, blank ones left out."""
    query: dict[str, str] = {}
    for name, value in data.items():
        if name not in VIEW_FIELDS:
            raise InvalidInput(name, f"is not a field of a view; use {', '.join(VIEW_FIELDS)}")
        if not isinstance(value, str) or len(value) > MAX_VALUE:
            raise InvalidInput(name, f"must be a string of at most {MAX_VALUE} characters")
        if value.strip():
            query[name] = value.strip()
    return query


class Shelf(Aggregate):
    """One principal's saved views, by name, in the order first saved."""

    @staticmethod
    def create_id(principal: str) -> UUID:
        return shelf_uuid(principal)

    @event("Opened")
    def __init__(self, principal: str) -> None:
        self.principal = principal
        self.views: dict[str, JSON] = {}

    @event("Saved")
    def save(self, name: str, query: dict[str, str], actor: str, at: str) -> None:
        self.views[name] = {"name": name, "query": query, "saved_at": at, "actor": actor}

    @event("Deleted")
    def delete(self, name: str, actor: str, at: str) -> None:
        del self.views[name]


class SavedViews:
    """Save, list and delete a principal's views of the claims list."""

    def __init__(self, store: LedgerApplication) -> None:
        self.store = store  # asked whether it can be reached when a use case fails
        recorder = store.factory.aggregate_recorder("saved_views")  # made if it is not there
        self.repository: Repository[Any] = Repository(EventStore(store.mapper, recorder))
        self._lock = threading.Lock()

    @store_errors
    def list_views(self, principal: str) -> list[JSON]:
        """The principal's views, in the order first saved."""
        return list(self._shelf(principal).views.values())

    @store_errors
    def get(self, principal: str, name: str) -> JSON:
        views = self._shelf(principal).views
        if name not in views:
            raise ViewNotFound(f"no saved view named {name!r}")
        return dict(views[name])

    @store_errors
    def save(self, principal: str, name: Any, query: Mapping[str, Any]) -> JSON:
        """Save the list's ``query`` under ``name`` (replacing a view of that name)."""
        chosen, kept = view_name(name), view_query(query)

        def change(shelf: Shelf) -> None:
            if chosen not in shelf.views and len(shelf.views) >= MAX_VIEWS:
                raise InvalidInput("name", f"at most {MAX_VIEWS} views are kept: delete one")
            shelf.save(chosen, kept, principal, format_instant(now()))

        return dict(self._change(principal, change).views[chosen])

    @store_errors
    def delete(self, principal: str, name: str) -> None:
        def change(shelf: Shelf) -> None:
            if name not in shelf.views:
                raise ViewNotFound(f"no saved view named {name!r}")
            shelf.delete(name, principal, format_instant(now()))

        self._change(principal, change)

    def _shelf(self, principal: str) -> Shelf:
        try:
            shelf: Shelf = self.repository.get(shelf_uuid(principal))
        except AggregateNotFoundError:
            return Shelf(principal)
        return shelf

    def _change(self, principal: str, change: Any) -> Shelf:
        """Load, change and save the shelf; another process's write in between: again."""
        for _ in range(5):
            with self._lock:
                shelf = self._shelf(principal)
                change(shelf)
                try:
                    self.repository.event_store.put(shelf.collect_events())
                except IntegrityError:
                    continue
                return shelf
        raise Conflict("the saved views kept changing under this write; retry")
