"""A stream read for the first time in a process is checked against the chain whole; the
aggregate is then folded from those checked events, not read again from its snapshot
(``LedgerApplication.aggregate``), and the snapshot a read would have used is judged
against the fold on the way. Either way the aggregate must be the library's own at every
version, and the process must go on to use (and trust) the snapshots it judged."""

from __future__ import annotations

from typing import Any

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import claim_uuid
from ledger.snapshots import CheckedSnapshots

from .helpers import claim, say, source


def _state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if not k.startswith("_cache")}


def test_a_first_read_folds_its_checked_events_into_the_librarys_aggregate(
    sql_store: str,
) -> None:
    settings = Settings(store=sql_store, snapshot_interval=3, _env_file=None)  # type: ignore[call-arg]
    writer = open_ledger(settings)
    try:
        for sid in ("a", "b"):
            source(writer, sid)
        claim(writer, "c")
        for day in range(1, 12):
            kind = "asserted" if day % 2 else "denied"
            say(writer, "c", kind, "ab"[day % 2], f"2024-01-{day:02d}")
    finally:
        writer.close()
    uid = claim_uuid("c")
    for version in (None, 1, 3, 7, 12):
        fresh = open_ledger(settings)  # a new process: nothing of the stream known
        try:
            folded = fresh.store.aggregate(uid, version=version)
            library = fresh.store.repository.get(uid, version=version)
            assert folded.version == library.version == (version or 12)
            assert _state(folded) == _state(library)
            snapshots = fresh.store.snapshots
            assert isinstance(snapshots, CheckedSnapshots) and snapshots.refused == 0
        finally:
            fresh.close()
