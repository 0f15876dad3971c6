"""The persisted, bitemporal credibility projection (SQLite and PostgreSQL stores).

- ``state``: what the projection keeps of a claim in memory, and its credibility as a step
  function of valid time (pure);
- ``tables``: the projection's tables and queries, in portable SQL;
- ``views``: the library tracking recorders that hold the tables on each backend;
- ``projector``: the ``eventsourcing`` ``Projection`` and the runner that follows the log.

``open_projector(store)`` gives the store's projector, or None for the in-memory store
(whose reads replay).
"""

from __future__ import annotations

from typing import Any, cast

from eventsourcing.sqlite import SQLiteFactory

from ledger.projection.projector import Projector
from ledger.projection.views import CredibilityView
from ledger.store import LedgerApplication


def open_projector(store: LedgerApplication) -> Projector | None:
    factory: Any = store.factory
    if isinstance(factory, SQLiteFactory):
        from ledger.projection.views import SQLiteCredibilityView

        return Projector(
            store, cast(CredibilityView, factory.tracking_recorder(SQLiteCredibilityView))
        )
    if any(c.__module__ == "eventsourcing.postgres" for c in type(factory).__mro__):
        from ledger.projection.views import postgres_view_class

        return Projector(
            store, cast(CredibilityView, factory.tracking_recorder(postgres_view_class()))
        )
    return None
