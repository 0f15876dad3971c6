"""The claims ledger: the use cases by role, composed over one library Application.

``ClaimsLedger`` is what the faces (HTTP, CLI) and the tests hold. It owns

- ``store``: the ``eventsourcing`` Application (``ledger.store``): events, snapshots, the
  side tables, and loading aggregates as known at a recording time;
- ``reads``: the read use cases (``ledger.reads``);
- ``writes``: the write use cases (``ledger.writes``), whose answers say whether they
  were an idempotent replay (``Written``);
- ``preview``: how an append would move a claim's number, nothing written
  (``ledger.preview``);
- ``saved_views``: each user's named views of the claims list (``ledger.saved_views``);
- ``importer``: loading records of the export format (``ledger.export``);
- ``projector``: the credibility projection (``ledger.projection``), None in memory; a
  server starts it (``projector.start()``), other processes bring it up to date on read.

Its methods are those use cases, each a plain value in the contract's field names. Build
one with ``ledger.bootstrap.open_ledger(settings)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ledger.answers import JSON
from ledger.errors import LedgerError
from ledger.export import Importer
from ledger.preview import Preview
from ledger.projection import open_projector
from ledger.reads import LedgerReads
from ledger.saved_views import SavedViews
from ledger.store import LedgerApplication
from ledger.writes import LedgerWrites

log = logging.getLogger(__name__)


class ClaimsLedger:
    """Register, append, replay and audit claims: one object over one store."""

    def __init__(self, env: Mapping[str, str] | None = None, snapshot_interval: int = 100) -> None:
        self.store = LedgerApplication(env, snapshot_interval=snapshot_interval)
        self.projector = open_projector(self.store)
        self.reads = LedgerReads(self.store, self.projector)
        self.writes = LedgerWrites(self.store, self.reads)
        #: How a statement would move a claim's number, nothing written (``ledger.preview``).
        self.preview = Preview(self.reads, self.writes)
        #: Each principal's saved views of the claims list (``ledger.saved_views``).
        self.saved_views = SavedViews(self.store)
        self.importer = Importer(self.store)
        # The read use cases, as they are.
        self.claim = self.reads.claim
        self.claim_version = self.reads.claim_version
        self.claim_events = self.reads.claim_events
        self.claim_event = self.reads.claim_event
        self.audit = self.reads.audit
        self.timeline = self.reads.timeline
        self.titled_timeline = self.reads.titled_timeline
        self.list_claims = self.reads.list_claims
        self.get_source = self.reads.get_source
        self.list_sources = self.reads.list_sources
        self.global_log = self.reads.global_log
        self.log_page = self.reads.log_page
        self.verify = self.reads.verify
        self.models = self.reads.models
        self.models_diff = self.reads.models_diff
        self.ping = self.store.ping
        self.import_batch = self.importer.import_batch

    # The write use cases, answering what was written (``writes`` also says if replayed).

    def register_source(self, data: Mapping[str, Any], actor: str, key: str | None = None) -> JSON:
        return self.writes.register_source(data, actor, key).answer

    def rerate_source(
        self, source_id: str, data: Mapping[str, Any], actor: str, key: str | None = None
    ) -> JSON:
        return self.writes.rerate_source(source_id, data, actor, key).answer

    def register_claim(self, data: Mapping[str, Any], actor: str, key: str | None = None) -> JSON:
        return self.writes.register_claim(data, actor, key).answer

    def append(self, claim_id: str, data: Mapping[str, Any], actor: str, **options: Any) -> JSON:
        """Append one event (options: ``expected_version``, ``key``, ``event_id``)."""
        return self.writes.append(claim_id, data, actor, **options).answer

    def append_batch(self, items: Any, actor: str, key: str | None = None) -> JSON:
        return self.writes.append_batch(items, actor, key).answer

    def close(self) -> None:
        if self.projector is not None:
            self.projector.stop()
        try:
            self.importer.finish()  # snapshots a load owes, if it did not finish itself
        except LedgerError as error:  # derived data: a later save takes them
            log.warning("snapshots owed by a load were not taken: %s", error.detail)
        self.store.close()
