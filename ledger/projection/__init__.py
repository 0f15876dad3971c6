"""The persisted, bitemporal credibility projection (SQLite and PostgreSQL stores).

- ``state``: what the projection keeps of a claim in memory, and its credibility as a step
  function of valid time (pure);
- ``tables``: the projection's tables and queries, in portable SQL;
- ``views``: the library tracking recorders that hold the tables on each backend;
- ``projection``: the ``eventsourcing`` ``Projection`` (events to changes of the tables);
- ``projector``: the runner that follows the log, and rebuilds;
- ``parallel``: a rebuild in several processes, each projecting a part of the claims.

``open_projector(store)`` gives the store's projector, or None for the in-memory store
(whose reads replay).
"""

from __future__ import annotations

from ledger.projection.projector import Projector
from ledger.projection.views import open_view
from ledger.store import LedgerApplication


def open_projector(store: LedgerApplication) -> Projector | None:
    view = open_view(store)
    return None if view is None else Projector(store, view)
