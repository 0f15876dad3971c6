"""Integrity: recompute the hash chain over every stored event and name the first bad position.

The side table ``<events>_log`` links every stored event to its predecessor by SHA-256
(``ledger.persistence.chain``); any byte of an event, its time, its place or its stream
changed behind the service's back breaks the link at that position.
"""

from __future__ import annotations

from ledger.answers import JSON
from ledger.persistence.chain import GENESIS, chain_link, uuid_hex
from ledger.store import LedgerApplication, store_errors


@store_errors
def verify_chain(store: LedgerApplication, page_size: int = 1000) -> JSON:
    """Recompute the hash chain over every stored event; name the first bad position."""
    previous, checked, after = GENESIS, 0, 0
    while True:
        entries = store.index.log_entries(after, page_size)
        notifications = store.recorder.select_notifications(start=after + 1, limit=page_size)
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
                return _broken(entry.position, checked, "stored bytes do not match the hash chain")
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
