"""What the credibility projection keeps of one claim: the engine's evaluator, and the
rows the projection's tables hold for it.

The credibility over valid time is the engine's (``ledger.credibility.evaluator``); the
projection adds where the claim was registered in the log and its current rows, kept so a
change need not read them back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.credibility.evaluator import ClaimEvaluator
from ledger.projection.tables import Interval


@dataclass
class ProjectedClaim(ClaimEvaluator):
    """One claim as the projection holds it in memory."""

    #: Where the claim was registered in the log (its rows are indexed by it).
    position: int = 0
    #: The projection's current rows of this claim (recorded_to open), sorted by valid
    #: time and covering all of it: what the tables hold.
    rows: list[Interval] = field(default_factory=list)
