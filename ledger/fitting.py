"""Fitting credibility-v3's weights on resolved claims (pure: cases in, parameters out).

Protocol (issue 24): the calibration set's resolved claims, sorted by resolution date (ties
by claim id), are split once: the earliest ``FIT_FRACTION`` (70%) are the **fitting**
part, the latest 30% the **held-out** part, which nothing here reads (``fit`` is given the
fitting part only; the held-out part is scored by ``claims-ledger evaluate --held-out``).

Each fitting claim is read as ``evaluate`` reads it: the day before its resolution. Its
features are, over its counted positions (the engine's selection: each source's latest,
unretracted position), signed sums of indicators, each position discounted 1/2^rank within
its witness group's side as the pool discounts it:

- ``grade:X``: +1 for an assertion, -1 for a denial, by its source's grade;
- ``evidence:K``: the same, by the statement's evidence kind (none: no column);
- ``assessment``: an assessment's logit x v1's assessor and confidence factors;
- ``interest:*``, ``relay``, ``early``: the sign, where a position is self-serving, against
  interest, a beneficiary accusing, a relay, an early report.

``LogisticRegression`` (L2, no intercept, so no evidence is 0.5; C chosen by 5-fold
cross-validation on the fitting part, fixed folds) gives each column a log-odds
coefficient. They become the strategy's weights: grades (made monotone: a grade never
weighs less than the one below it, at least ``MIN_WEIGHT``), evidence log-odds (added to the
grade), the assessment scale; an additive interest, relay or early term ``c`` becomes a
multiplier ``1 + c / b`` (``b``: the mean base weight of the positions it applies to),
clipped to the laws (self-serving and a beneficiary accusing in [0.05, 1], against
interest in [1, 3] (with more, no assessment scale keeps law 5), relay and early report
in [0.05, 1]). The ranks depend on the weights: pass 1 ranks with v1's, pass 2 with pass
1's fit. Last, the calibration scale (the ``extremizing`` factor) is fitted by an
unpenalised one-parameter logistic regression on the engine's own pooled log-odds over
the fitting part, and the assessment scale is kept
within what law 5 allows. Everything is rounded to 4 decimals, so the file is the same bytes
on every run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import KFold

from ledger.credibility.registry import ModelVersion
from ledger.credibility.selection import (
    canonical,
    first_support,
    retractions,
    select,
    standings,
)
from ledger.credibility.strategy import Strategy
from ledger.credibility.v1 import CredibilityV1
from ledger.credibility.v3 import NAME, CredibilityV3
from ledger.evaluation import (
    FIT_FRACTION,
    Case,
    brier,
    expected_calibration_error,
    log_loss,
    predict,
    split,
)
from ledger.statements import EVIDENCE_KINDS, RELIABILITY_GRADES, StatementType

CALIBRATION_SET = "calibration-v3.ndjson"
CS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
FOLDS = 5
RANDOM_STATE = 0
PASSES = 2
MIN_WEIGHT = 0.05
EARLY_DAYS = 1.0
DECIMALS = 4
#: Law constraints on the multipliers: (low, high).
BOUNDS = {
    "self_serving": (0.05, 1.0),
    "self_serving_accusation": (0.05, 1.0),
    "against_interest": (1.0, 3.0),  # law 5: with 4, no assessment scale keeps it
    "relay": (0.05, 1.0),
    "early_report": (0.05, 1.0),
}
# Law 5: a single "very likely" (0.80 .. 0.95) assessment by an A-B assessor, whatever its
# confidence and interest, must pool to more than 0.55 and less than 0.95: its log-odds in
# (0.2048, 3.157). The lowest it can be: logit(0.80) x 0.9 (B) x 0.6 (low confidence) x the
# smallest multiplier; the highest: logit(0.95) x 1 (A) x 1 (high) x the largest.
_LAW5_LOW, _LAW5_HIGH = 0.22, 3.0

COLUMNS: tuple[str, ...] = (
    *(f"grade:{g}" for g in RELIABILITY_GRADES),
    *(f"evidence:{k}" for k in EVIDENCE_KINDS),
    "assessment",
    "interest:self_serving",
    "interest:against_interest",
    "interest:self_serving_accusation",
    "relay",
    "early",
)
_MULTIPLIERS = {
    "interest:self_serving": "self_serving",
    "interest:against_interest": "against_interest",
    "interest:self_serving_accusation": "self_serving_accusation",
    "relay": "relay",
    "early": "early_report",
}


@dataclass(frozen=True)
class Fact:
    """One counted position of a case, as the features see it."""

    discount: float  # 1/2^rank within its witness group's side
    sign: float  # +1 for, -1 against, 0 for an even assessment
    statement: bool  # asserted/denied (else an assessment)
    grade: str
    evidence: str | None
    assessed: float  # an assessment's logit x assessor factor x confidence factor
    interest: str | None  # self_serving / against_interest / self_serving_accusation
    relay: bool
    early: bool
    base: float  # its weight's magnitude before interest, relay and early (ranking model)


def facts(case: Case, ranking: Strategy) -> list[Fact]:
    """The counted positions of ``case`` at its as_of, ranked by ``ranking``'s weights."""
    items = canonical(case.evidence)
    heard = standings(case.sources, items)
    withdrawn = retractions(items)
    latest, _, _ = select(items, withdrawn)
    counted = [item for item in items if latest.get(item.speaker) is item]
    by_id = {item.event_id: item for item in items}
    weighed = [
        ranking.weigh(item, heard[item.speaker], case.parties, case.beneficiaries, None, by_id)
        for item in counted
    ]
    first = first_support(items, latest, withdrawn)
    if ranking.dates_first_report:
        weighed = ranking.caution(weighed, first)
    start = min(first.values()) if first else None
    sides: dict[tuple[str, bool], list[tuple[float, str]]] = {}
    for position in weighed:
        sides.setdefault((position.group, position.weight > 0), []).append(
            (-abs(position.weight), position.item.event_id)
        )
    rank: dict[str, int] = {}
    for side in sides.values():
        for n, (_, event_id) in enumerate(sorted(side)):
            rank[event_id] = n
    found = []
    for position in weighed:
        item, standing = position.item, heard[position.item.speaker]
        grade = standing.reliability
        if item.type == StatementType.ASSESSED:
            likelihood = float(item.likelihood or 0.5)
            logit = math.log(likelihood / (1.0 - likelihood))
            assessed = (
                logit
                * Strategy.assessor_factor[grade]
                * Strategy.confidence_factor[item.confidence or "moderate"]
            )
            sign = float(np.sign(logit))
            statement = False
        else:
            assessed = 0.0
            sign = 1.0 if item.type == StatementType.ASSERTED else -1.0
            statement = True
        interest = None
        if standing.interested(case.parties) is not None:
            interest = "self_serving" if sign < 0 else "against_interest"
        elif standing.interested(case.beneficiaries) is not None:
            interest = "self_serving_accusation" if sign > 0 else "against_interest"
        if sign == 0:
            interest = None
        since = first.get(item.speaker)
        early = (
            sign > 0
            and statement
            and since is not None
            and start is not None
            and (since - start).total_seconds() / 86400 < EARLY_DAYS
        )
        found.append(
            Fact(
                discount=0.5 ** rank[item.event_id],
                sign=sign,
                statement=statement,
                grade=grade,
                evidence=item.evidence,
                assessed=assessed,
                interest=interest,
                relay=item.relays is not None,
                early=bool(early),
                base=0.0,
            )
        )
    return found


def features(
    cases: Sequence[Case], ranking: Strategy
) -> tuple[np.ndarray, np.ndarray, list[list[Fact]]]:
    """The design matrix (one row per case, ``COLUMNS``), the outcomes, and the facts."""
    index = {column: n for n, column in enumerate(COLUMNS)}
    rows = np.zeros((len(cases), len(COLUMNS)))
    all_facts = []
    for r, case in enumerate(cases):
        found = facts(case, ranking)
        all_facts.append(found)
        for fact in found:
            signed = fact.discount * fact.sign
            if fact.statement:
                rows[r, index[f"grade:{fact.grade}"]] += signed
                if fact.evidence in EVIDENCE_KINDS:
                    rows[r, index[f"evidence:{fact.evidence}"]] += signed
            else:
                rows[r, index["assessment"]] += fact.discount * fact.assessed
            if fact.interest is not None:
                rows[r, index[f"interest:{fact.interest}"]] += signed
            if fact.relay:
                rows[r, index["relay"]] += signed
            if fact.early:
                rows[r, index["early"]] += signed
    truth = np.array([case.truth for case in cases])
    return rows, truth, all_facts


def regression(rows: np.ndarray, truth: np.ndarray) -> tuple[float, dict[str, float]]:
    """C chosen by cross-validation on these rows, and the coefficients by column."""
    folds = KFold(n_splits=min(FOLDS, len(truth)), shuffle=True, random_state=RANDOM_STATE)
    model = LogisticRegressionCV(
        Cs=list(CS),
        cv=folds,
        fit_intercept=False,
        scoring="neg_log_loss",
        solver="lbfgs",
        max_iter=10000,
        random_state=RANDOM_STATE,
        l1_ratios=(0.0,),
        use_legacy_attributes=False,
    )
    model.fit(rows, truth)
    chosen = float(np.asarray(model.C_).ravel()[0])
    return chosen, {column: float(c) for column, c in zip(COLUMNS, model.coef_[0], strict=True)}


def _r(value: float) -> float:
    return round(float(value), DECIMALS) + 0.0


def weights_from(
    coef: Mapping[str, float], all_facts: Sequence[Sequence[Fact]], notes: list[str]
) -> dict[str, Any]:
    """The strategy's weights from the coefficients (before the calibration scale)."""
    grade = {g: coef[f"grade:{g}"] for g in RELIABILITY_GRADES}
    # Monotone in reliability: from E up, a grade weighs at least the one below it.
    ordered = [g for g in RELIABILITY_GRADES if g != "F"]
    for lower, higher in zip(reversed(ordered), list(reversed(ordered))[1:], strict=False):
        if grade[higher] < grade[lower]:
            notes.append(f"grade {higher} ({grade[higher]:.4f}) raised to grade {lower}'s")
            grade[higher] = grade[lower]
    for g in RELIABILITY_GRADES:
        if grade[g] < MIN_WEIGHT:
            notes.append(f"grade {g} ({grade[g]:.4f}) raised to {MIN_WEIGHT}")
            grade[g] = MIN_WEIGHT
    evidence = {k: coef[f"evidence:{k}"] for k in EVIDENCE_KINDS}
    assessment_scale = max(coef["assessment"], 0.0)
    weights: dict[str, Any] = {
        "grade": {g: _r(v) for g, v in grade.items()},
        "evidence": {k: _r(v) for k, v in evidence.items()},
        "assessment_scale": _r(assessment_scale),
        "min_weight": MIN_WEIGHT,
        "early_days": EARLY_DAYS,
        "extremizing": 1.0,
    }

    def base(fact: Fact) -> float:
        if not fact.statement:
            return abs(fact.assessed) * assessment_scale
        added = evidence.get(fact.evidence, 0.0) if fact.evidence else 0.0
        return max(grade[fact.grade] + added, MIN_WEIGHT)

    for column, key in _MULTIPLIERS.items():
        applies = [
            base(fact)
            for found in all_facts
            for fact in found
            if (
                fact.interest == column.removeprefix("interest:")
                if column.startswith("interest:")
                else getattr(fact, column)
            )
        ]
        mean = math.fsum(applies) / len(applies) if applies else 0.0
        raw = 1.0 + coef[column] / mean if mean > 0 else 1.0
        low, high = BOUNDS[key]
        value = min(max(raw, low), high)
        if value != raw:
            notes.append(f"{key} ({raw:.4f}) clipped to [{low}, {high}]")
        weights[key] = _r(value)
    return weights


def params_for(weights: Mapping[str, Any], protocol: Mapping[str, Any]) -> dict[str, Any]:
    return {"model": NAME, "protocol": dict(protocol), "weights": dict(weights)}


def calibrate(params: dict[str, Any], cases: Sequence[Case], notes: list[str]) -> dict[str, Any]:
    """Fit the calibration scale on ``cases`` (the fitting part) and keep law 5."""
    weights = params["weights"]
    # Law 5: the spread between the weakest and the strongest single
    # "very likely" must fit in (_LAW5_LOW, _LAW5_HIGH); if a beneficiary accusing is
    # discounted too far for that, its multiplier is raised to what law 5 allows.
    weakest = math.log(0.80 / 0.20) * 0.9 * 0.6
    strongest = math.log(0.95 / 0.05) * max(1.0, weights["against_interest"])
    needed = strongest * _LAW5_LOW / (weakest * _LAW5_HIGH)
    if weights["self_serving_accusation"] < needed:
        raised = math.ceil(needed * 10**DECIMALS) / 10**DECIMALS
        notes.append(
            f"self_serving_accusation ({weights['self_serving_accusation']}) raised to"
            f" {raised} for law 5"
        )
        weights["self_serving_accusation"] = _r(raised)
    weights["extremizing"] = 1.0
    strategy = CredibilityV3(params)
    version = ModelVersion(strategy)
    # The engine's own pooled log-odds at scale 1 (inverting its bounded sigmoid).
    predictions = predict(version, cases)
    z = np.array([[math.log((p.probability - 0.01) / (0.99 - p.probability))] for p in predictions])
    truth = np.array([case.truth for case in cases])
    scale = 1.0
    if np.any(z != 0):
        model = LogisticRegression(C=np.inf, fit_intercept=False, solver="lbfgs", max_iter=10000)
        model.fit(z, truth)
        scale = float(model.coef_[0][0])
    if scale <= 0.05:
        notes.append(f"calibration scale ({scale:.4f}) raised to 0.05")
        scale = 0.05
    weights["extremizing"] = _r(scale)
    multipliers_low = min(1.0, weights["self_serving_accusation"])
    low_factor = weakest * multipliers_low * weights["extremizing"]
    high_factor = strongest * weights["extremizing"]
    alpha = weights["assessment_scale"]
    lowest, highest = _LAW5_LOW / low_factor, _LAW5_HIGH / high_factor
    if lowest > highest:
        raise ValueError(f"law 5 cannot hold with these multipliers: {weights}")
    kept = min(max(alpha, lowest), highest)
    if kept != alpha:
        notes.append(
            f"assessment scale ({alpha:.4f}) kept within law 5: [{lowest:.4f}, {highest:.4f}]"
        )
        weights["assessment_scale"] = _r(
            math.ceil(kept * 10**DECIMALS) / 10**DECIMALS
            if kept == lowest
            else math.floor(kept * 10**DECIMALS) / 10**DECIMALS
        )
    return params


def fit(fitting: Sequence[Case], protocol: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """credibility-v3's parameters fitted on ``fitting`` (the fitting part only)."""
    ranking: Strategy = CredibilityV1()
    notes: list[str] = []
    chosen = math.nan
    coef: dict[str, float] = {}
    params: dict[str, Any] = {}
    for n in range(PASSES):
        notes = []
        rows, truth, all_facts = features(fitting, ranking)
        chosen, coef = regression(rows, truth)
        weights = weights_from(coef, all_facts, notes)
        params = params_for(weights, {})
        params = calibrate(params, fitting, notes)
        if n + 1 < PASSES:
            ranking = CredibilityV3(params)
    found = dict(protocol or {})
    found.update(
        {
            "fitting_claims": len(fitting),
            "first_resolved": fitting[0].resolved_at.date().isoformat() if fitting else None,
            "last_resolved": fitting[-1].resolved_at.date().isoformat() if fitting else None,
            "C_grid": list(CS),
            "C": chosen,
            "folds": FOLDS,
            "random_state": RANDOM_STATE,
            "passes": PASSES,
            "coefficients": {column: _r(value) for column, value in coef.items()},
            "constraints_applied": notes,
        }
    )
    params["protocol"] = found
    return params


def fit_calibration_set(cases: Sequence[Case], set_name: str = CALIBRATION_SET) -> dict[str, Any]:
    """``fit`` on the fitting part of ``cases`` (the whole calibration set), with the split
    recorded; the held-out part is only counted and dated."""
    fitting, held_out = split(cases)
    protocol = {
        "calibration_set": set_name,
        "claims": len(cases),
        "fit_fraction": FIT_FRACTION,
        "held_out_claims": len(held_out),
        "held_out_from": held_out[0].resolved_at.date().isoformat() if held_out else None,
        "sklearn_model": "LogisticRegressionCV(penalty=l2, fit_intercept=False, lbfgs)",
    }
    return fit(fitting, protocol)


def dumps(params: Mapping[str, Any]) -> str:
    """The parameter file's bytes: sorted keys, 2-space indent, a final newline."""
    return json.dumps(params, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def learning_curve(
    cases: Sequence[Case], fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0)
) -> list[dict[str, Any]]:
    """Held-out scores of v3 fitted on the earliest ``fraction`` of the fitting part, for
    each fraction (a report: nothing is chosen with it)."""
    fitting, held_out = split(cases)
    rows = []
    for fraction in fractions:
        part = fitting[: math.floor(len(fitting) * fraction)]
        params = fit(part)
        scored = predict(ModelVersion(CredibilityV3(params)), held_out)
        pairs = [(p.probability, p.truth) for p in scored]
        rows.append(
            {
                "fraction": fraction,
                "fitting_claims": len(part),
                "C": params["protocol"]["C"],
                "held_out_claims": len(held_out),
                "brier": _r(brier(pairs)),
                "log_loss": _r(log_loss(pairs)),
                "ece": _r(expected_calibration_error(scored)),
            }
        )
    return rows
