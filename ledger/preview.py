"""How a claim's number would move if a statement were appended now: nothing is written.

``preview`` checks the proposed statement exactly as an append would (``LedgerWrites.proposed``:
the same refusals, field for field), then asks the credibility engine for the claim's answer
twice at the same (as_of, known_at): with the statements recorded so far, and with the
proposed one added after them, as if recorded at known_at. Both answers come from the same
``LedgerReads.claim_view`` an append's answer comes from, so a preview and the append that
follows it agree (unless something else is recorded between them).

The proposed statement carries the event id ``PROPOSED`` in the contributions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ledger.answers import JSON
from ledger.reads import LedgerReads
from ledger.replay import RecordedStatement, event_view
from ledger.store import store_errors
from ledger.times import format_instant, now, to_micros
from ledger.writes import LedgerWrites

#: The event id the proposed statement has in a preview's contributions.
PROPOSED = "proposed"

_SUMMARY = ("probability", "band", "status", "grade", "model")


class Preview:
    """The preview use case over the ledger's reads and writes (it only reads)."""

    def __init__(self, reads: LedgerReads, writes: LedgerWrites) -> None:
        self.reads = reads
        self.writes = writes

    @store_errors
    def __call__(self, claim_id: str, data: Mapping[str, Any], actor: str) -> JSON:
        """The claim's credibility now (``before``), and if ``data`` were appended now
        (``after``, with every contribution as ``credibility``); ``change``, after minus
        before, in probability. Refused as ``append`` would refuse ``data``."""
        statement = self.writes.proposed(claim_id, data, actor, PROPOSED)
        known = now()
        known_us = to_micros(known)
        store = self.reads.store
        claim = store.claim_as_known(claim_id, known_us)
        # As an append answers: an occurred_at within the clock-skew allowance may be later.
        as_of = max(known, statement.at)
        before = self.reads.claim_view(claim, as_of, known)
        # After every statement of the claim in the log's order (law 3's tie at one moment).
        last = max((r.position for r in claim.records), default=0)
        added = RecordedStatement(replace(statement, position=last + 1), known_us)
        # Not the stream's records: nothing worked out of them is shared with the claim's.
        proposed = replace(
            claim, version=claim.version + 1, records=[*claim.records, added], derived={}
        )
        after = self.reads.claim_view(proposed, as_of, known)
        was, will = before["credibility"], after["credibility"]
        return {
            "claim_id": claim_id,
            "as_of": format_instant(as_of),
            "known_at": format_instant(known),
            "version": before["version"],
            "before": {name: was[name] for name in _SUMMARY},
            "after": {name: will[name] for name in _SUMMARY},
            "change": round(will["probability"] - was["probability"], 6) + 0.0,
            "event": {k: v for k, v in event_view(claim_id, added).items() if k != "position"},
            "credibility": will,
        }
