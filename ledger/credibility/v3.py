"""``credibility-v3``: the v1 pool with weights fitted on resolved claims.

A model version is its strategy code and its parameters: this module's code and the
versioned file ``ledger/credibility/params/credibility-v3.json``, which
``claims-ledger models fit`` reproduces byte for byte from the calibration set
``calibration-v3.ndjson`` (``ledger.fitting``: regularised logistic regression on the
earliest 70% of the claims by resolution date; the latest 30% is held out and never used
to choose anything). The weights:

- a statement (asserted or denied) weighs its source's **reliability grade** (log-odds,
  fitted, monotone in the grade) plus what backs it, its **evidence kind** (fitted log-odds,
  added; none: 0), never less than ``min_weight`` (a position never weighs against its
  side, law 2);
- an assessment weighs its own logit x the fitted ``assessment_scale`` x v1's assessor
  and confidence factors;
- **interest**: a party speaking in its own favour counts x``self_serving`` (<= 1), a party
  or beneficiary against its interest x``against_interest`` (>= 1, law 6), a beneficiary
  accusing x``self_serving_accusation`` (<= 1);
- a **relay** counts x``relay_factor``; an **early report** (an assertion first made less
  than ``early_days`` after the claim's first report) x``early_factor``;
- the pooled log-odds are multiplied by the fitted calibration scale ``extremizing``.

Every factor is positive; every number used appears in the contribution's reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from typing import Any

from ledger.credibility.pooling import num
from ledger.credibility.selection import speaker
from ledger.credibility.strategy import Strategy
from ledger.credibility.v2 import CredibilityV2
from ledger.credibility.values import Position, SourceStanding
from ledger.likelihood import band_for
from ledger.statements import EVIDENCE_LABELS, Statement, StatementType

NAME = "credibility-v3"
PARAMS_FILE = f"{NAME}.json"


def shipped_params() -> dict[str, Any]:
    """The parameter file shipped in the package."""
    folder = resources.files("ledger.credibility").joinpath("params")
    return dict(json.loads(folder.joinpath(PARAMS_FILE).read_text(encoding="utf-8")))


class CredibilityV3(Strategy):
    name = NAME
    description = (
        "Log-odds pooling as v1, with weights fitted by regularised logistic regression on"
        " the earliest 70% of calibration-v3 (by resolution date): per reliability grade,"
        " per evidence kind, interest, relay and early report, and one calibration scale"
        " (ledger/credibility/params/credibility-v3.json; docs/evaluation.md)."
    )
    dates_first_report = True

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        found = dict(shipped_params() if params is None else params)
        weights = found["weights"]
        self.params = found
        self.grade_weight: dict[str, float] = dict(weights["grade"])
        self.evidence_weight: dict[str, float] = dict(weights["evidence"])
        self.assessment_scale = float(weights["assessment_scale"])
        self.min_weight = float(weights["min_weight"])
        self.relay_factor = float(weights["relay"])
        self.early_factor = float(weights["early_report"])
        self.early_days = float(weights["early_days"])
        # The base class's interest step reads these three.
        self.self_serving = float(weights["self_serving"])  # type: ignore[misc]
        self.against_interest = float(weights["against_interest"])  # type: ignore[misc]
        self.self_serving_accusation = float(weights["self_serving_accusation"])  # type: ignore[misc]
        self.extremizing = float(weights["extremizing"])  # type: ignore[misc]

    def stated(self, item: Statement, standing: SourceStanding) -> tuple[float, str, str]:
        who, grade = speaker(standing), standing.reliability
        if item.type == StatementType.ASSESSED:
            likelihood = float(item.likelihood or 0.5)
            logit = math.log(likelihood / (1.0 - likelihood))
            factor = self.assessor_factor[grade]
            confidence = self.confidence_factor[item.confidence or "moderate"]
            weight = logit * self.assessment_scale * factor * confidence
            return (
                weight,
                "assessment",
                (
                    f"{who} assessed the claim {band_for(likelihood)} ({likelihood:g}) with"
                    f" {item.confidence or 'no stated'} confidence: logit {num(logit)}"
                    f" x{self.assessment_scale:g} (fitted assessment scale) x{factor:g} for an"
                    f" assessor rated {grade} x{confidence:g} for"
                    f" {item.confidence or 'moderate (assumed)'} confidence ="
                    f" {num(weight)} log-odds"
                ),
            )
        sign = 1.0 if item.type == StatementType.ASSERTED else -1.0
        base = self.grade_weight[grade]
        kind = "assertion" if sign > 0 else "denial"
        account = f"{who} {item.type} the claim: reliability {grade} gives {base:g} log-odds"
        magnitude = base
        if item.evidence is not None:
            added = self.evidence_weight.get(item.evidence, 0.0)
            magnitude += added
            account += (
                f", backed by {EVIDENCE_LABELS.get(item.evidence, item.evidence)}"
                f" ({item.evidence}) {added:+g}"
            )
        if magnitude < self.min_weight:
            magnitude = self.min_weight
            account += f", at least {self.min_weight:g}"
        weight = sign * magnitude
        return weight, kind, account + f": {num(weight)} log-odds"

    def with_relay(
        self, item: Statement, weight: float, account: str, context: Mapping[str, Statement]
    ) -> tuple[float, str]:
        relayed_id = item.relays
        if relayed_id is None or weight == 0.0:
            return weight, account
        weight *= self.relay_factor
        relayed = context.get(relayed_id)
        whose = "" if relayed is None or relayed.source is None else f" by {relayed.source}"
        return weight, account + (
            f"; it relays event {relayed_id}{whose}, which it repeats: a relay counts"
            f" x{self.relay_factor:g}: {num(weight)} log-odds"
        )

    # The early-report caution is v2's rule with v3's fitted factor.
    def is_early(self, since: datetime | None, start: datetime | None) -> bool:
        return CredibilityV2.is_early(self, since, start)  # type: ignore[arg-type]

    def cautioned(self, weight: float, since: datetime | None, start: datetime | None) -> float:
        return CredibilityV2.cautioned(self, weight, since, start)  # type: ignore[arg-type]

    def caution(
        self, positions: Sequence[Position], first: Mapping[str, datetime]
    ) -> list[Position]:
        return CredibilityV2.caution(self, positions, first)  # type: ignore[arg-type]

    def pooling_note(self) -> str:
        return (
            "; the pooled log-odds are multiplied by the fitted calibration scale"
            f" {self.extremizing:g}"
        )
