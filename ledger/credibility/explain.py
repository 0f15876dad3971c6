"""A claim's credibility at one point, explained: every event's contribution and why.

``assess`` is a pure function of the evidence in scope, the sources' standing, the claim's
parties and beneficiaries, and (for a version that learns) the sources' track records; it
applies the shared rule (``selection``), the version's weights (``Strategy``) and the pool
(``pooling``). No store, clock or framework, so a replay at any (as_of, known_at) gives the
same bytes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from ledger.credibility.pooling import conclude
from ledger.credibility.records import RecordsAt
from ledger.credibility.selection import (
    canonical,
    explain_superseded,
    first_support,
    retractions,
    select,
    standings,
)
from ledger.credibility.strategy import Strategy
from ledger.credibility.values import Credibility, SourceStanding, TrackRecord
from ledger.statements import Statement


def assess(
    strategy: Strategy,
    evidence: Iterable[Statement],
    sources: Mapping[str, SourceStanding],
    parties: Collection[str],
    beneficiaries: Collection[str] = (),
    records: RecordsAt | Mapping[str, TrackRecord] | None = None,
) -> Credibility:
    """The credibility of one claim from the evidence in scope, by ``strategy``.

    ``records``: the sources' records as they stood at a moment of valid time, asked for
    at each counted statement's ``occurred_at`` (a mapping: the records at every moment;
    none: every source's grade alone). Only a version that ``learns`` reads them.
    """
    items = canonical(evidence)
    heard = standings(sources, items)
    reasons: dict[str, str] = {}
    withdrawn = retractions(items, heard, reasons)
    latest, resolution, superseded = select(items, withdrawn)
    explain_superseded(superseded, reasons)
    counted = [item for item in items if latest.get(item.speaker) is item]
    by_id = {item.event_id: item for item in items}
    found = _records_at(records if strategy.learns else None)
    positions = [
        strategy.weigh(
            item,
            heard[item.speaker],
            parties,
            beneficiaries,
            found(item.at).get(item.speaker),
            by_id,
        )
        for item in counted
    ]
    if strategy.dates_first_report:
        positions = strategy.caution(positions, first_support(items, latest, withdrawn))
    return conclude(
        items,
        heard,
        reasons,
        positions,
        resolution,
        strategy.name,
        strategy.extremizing,
        strategy.pooling_note(),
    )


def _records_at(found: RecordsAt | Mapping[str, TrackRecord] | None) -> RecordsAt:
    if found is None:
        return lambda moment: {}
    if isinstance(found, Mapping):
        return lambda moment: found
    return found
