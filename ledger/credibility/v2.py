"""``credibility-v2``: v1 plus what the sources' records teach, caution with the first
reports of a story, and no independent weight for a relay.

- **track record**: a source's reliability grade stands for a prior accuracy,
  ``sigmoid(statement weight)`` (B: 0.769), worth ``prior_stances`` (2) stances; its
  record *when it made the statement* updates it (a Beta-binomial mean): its stances on
  claims resolved by then, each counting 1/2 per ``record_half_life_days`` (365) between
  its claim's resolution and the statement. The statement's weight is scaled by
  ``logit(posterior) / logit(prior)``, kept within 0 .. ``max_record_factor`` (2). A
  source wrong more often than right is not heard (x0), never heard backwards. A
  statement's weight is fixed by what was known of its source when it spoke, so the
  answer moves in valid time only where the claim's own statements or its sources'
  ratings do, and never uses a resolution later than the statement;
- **early-report caution**: the story starts with the claim's first report (an assertion,
  by a source that still asserts it); an assertion whose source first made it less than
  ``early_days`` (1) after that counts x``early_factor`` (0.5). Denials and assessments
  are never early, and an assertion dates from when its source first made it, so
  repeating it changes nothing and a statement never moves the result against its own
  side (laws 2 and 3 hold);
- **relays**: a statement whose ``relays`` names the earlier statement on the claim that
  it repeats adds no independent weight: it counts x``relay_factor`` (0), whether or not
  the statement it repeats is in scope, so its weight never depends on another source's
  statements (law 2 holds for both).

What was measured and not kept is in docs/evaluation.md. Every number used appears in the
contribution's reason, with its value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ledger.credibility.pooling import num
from ledger.credibility.strategy import Strategy
from ledger.credibility.values import Position, SourceStanding, TrackRecord
from ledger.statements import Statement


class CredibilityV2(Strategy):
    name = "credibility-v2"
    description = (
        "v1 plus each source's track record when it made the statement, on the claims"
        " resolved by then (as known at known_at; a Beta posterior from its rating, a"
        " stance counting 1/2 per year between its claim's resolution and the"
        " statement), caution with the reports of the day a story"
        " broke (x0.5), and no independent weight for a statement that relays another"
        " (x0) (docs/credibility-model.md, docs/evaluation.md)."
    )
    learns = True
    dates_first_report = True

    #: How many stances a reliability grade is worth against a source's record.
    prior_stances = 2.0
    #: The most a good record can multiply a source's weight by.
    max_record_factor = 2.0
    #: Assertions first made less than this many days after the claim's first report (the
    #: day the story broke) count x early_factor.
    early_days = 1.0
    early_factor = 0.5
    #: A relay adds no independent weight: it counts x relay_factor.
    relay_factor = 0.0

    def record_factor(self, grade: str, record: TrackRecord) -> tuple[float, float, float]:
        """(prior accuracy, posterior accuracy, weight factor) of a source rated ``grade``."""
        prior = 1.0 / (1.0 + math.exp(-self.statement_weight[grade]))
        seen = record.matched + record.missed
        posterior = (prior * self.prior_stances + record.matched) / (self.prior_stances + seen)
        if seen == 0:
            return prior, posterior, 1.0
        heard = max(posterior, 0.5)
        factor = math.log(heard / (1.0 - heard)) / math.log(prior / (1.0 - prior))
        return prior, posterior, min(max(factor, 0.0), self.max_record_factor)

    def with_record(
        self,
        item: Statement,
        standing: SourceStanding,
        weight: float,
        account: str,
        record: TrackRecord | None,
    ) -> tuple[float, str]:
        if record is None or not record.matched + record.missed:
            return weight, account
        grade = standing.reliability
        prior, posterior, scale = self.record_factor(grade, record)
        weight *= scale
        return weight, account + (
            f"; its record when it said so ({item.at:%Y-%m-%d}) on claims resolved by then,"
            f" {record.matched:.3g} matched and {record.missed:.3g} missed (a stance counts"
            f" 1/2 per {self.record_half_life_days:g} days between its claim's resolution and"
            " this statement), moves its accuracy from"
            f" {prior:.3f} (grade"
            f" {grade}, worth {self.prior_stances:g} stances) to {posterior:.3f}, so it counts"
            f" x{scale:.3f} (between 0 and {self.max_record_factor:g}): {num(weight)} log-odds"
        )

    def with_relay(
        self, item: Statement, weight: float, account: str, context: Mapping[str, Statement]
    ) -> tuple[float, str]:
        relayed_id = item.relays
        if relayed_id is None or weight == 0.0:
            return weight, account
        weight = weight * self.relay_factor
        relayed = context.get(relayed_id)
        whose = "" if relayed is None or relayed.source is None else f" by {relayed.source}"
        return weight, account + (
            f"; it relays event {relayed_id}{whose}, which it repeats, so it adds no"
            f" independent weight: a relay counts x{self.relay_factor:g}: {num(weight)} log-odds"
        )

    def is_early(self, since: datetime | None, start: datetime | None) -> bool:
        """Whether an assertion its source first made at ``since`` is an early report of a
        story that broke at ``start`` (less than ``early_days`` after it)."""
        if since is None or start is None:
            return False
        return (since - start).total_seconds() / 86400 < self.early_days

    def cautioned(self, weight: float, since: datetime | None, start: datetime | None) -> float:
        if weight <= 0.0 or self.early_factor == 1.0 or not self.is_early(since, start):
            return weight
        return weight * self.early_factor

    def caution(
        self, positions: Sequence[Position], first: Mapping[str, datetime]
    ) -> list[Position]:
        if not first or self.early_factor == 1.0:
            return list(positions)
        start = min(first.values())
        found = []
        for position in positions:
            since = first.get(position.item.speaker)
            weight = self.cautioned(position.weight, since, start)
            if since is None or weight == position.weight:
                found.append(position)
                continue
            days = (since - start).total_seconds() / 86400
            repeated = "" if since == position.item.at else f" (first on {since:%Y-%m-%d})"
            note = (
                f"; asserted{repeated} {days:g} days after the claim's first report"
                f" ({start:%Y-%m-%d}), less than {self.early_days:g} day: an early report"
                f" counts x{self.early_factor:g}: {num(weight)} log-odds"
            )
            found.append(replace(position, weight=weight, account=position.account + note))
        return found
