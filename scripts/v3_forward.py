"""Model designs for credibility-v3 compared by forward-chaining validation inside
calibration-v3's fitting part only (docs/evaluation.md; the held-out part is never read).

The fitting part's 219 claims, sorted by resolution date (ties by claim id) as
``evaluation.split`` sorts them, are split again at 70%: the earliest 153 are "train", the
latest 66 "validate". Every design is fitted on train only and scored on validate; each
claim is read the day before its resolution, and a version that learns (v2) sees the stances
on fitting claims resolved by then (``evaluation.predict`` over the fitting part, which
filters the history by date), never a held-out claim.

    .venv/bin/python scripts/v3_forward.py            # the table
    .venv/bin/python scripts/v3_forward.py --json F   # and every row to F

Designs (free parameters in brackets):

- v1, v2 as shipped [0];
- v3's design as shipped (``ledger.fitting.fit``: C by 5-fold CV) [19 + scale];
- the same with C fixed (stronger / weaker regularisation);
- the same with recency sample weights, 1/2 per H years before the last train claim's
  resolution (in the regression and the calibration scale), H in {2, 5, 10, 20};
- the same with the evidence kinds of the 105 claims of calibration.ndjson (set by the
  source's role) treated as unknown in the fit;
- the same without the law constraints (diagnostic: the regression's own probabilities,
  sigmoid of X.coef; not a model the laws allow);
- grade weights + one calibration scale only (interest multipliers v1's, no relay or
  early-report term, assessments as v1's) [6 + scale];
- v1's grade weights and multipliers with evidence-kind terms + scale [7 + scale];
- v1 / v2 with one fitted calibration scale (Platt without intercept) [1];
- v1 / v2 with Platt with an intercept (diagnostic: no evidence would not be 0.5) [2].

Selection (fixed before anything was scored): lowest validate Brier among the designs the
laws allow, the one with fewer free parameters when within 0.005; shipped only if it beats
both v1 and v2 on validate.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ledger import evaluation, fitting
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.credibility.registry import ModelVersion
from ledger.credibility.strategy import Strategy
from ledger.credibility.v1 import CredibilityV1
from ledger.credibility.v2 import CredibilityV2
from ledger.credibility.v3 import CredibilityV3
from ledger.evaluation import Case, brier, log_loss, predict
from ledger.statements import EVIDENCE_KINDS, RELIABILITY_GRADES

TRAIN_FRACTION = 0.7
YEAR = 365.25 * 86400


def load() -> tuple[list[Case], list[Case], list[Case], set[str]]:
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    ledger.import_batch(evaluation.loadable(evaluation.calibration_records("calibration-v3")), "x")
    cases = evaluation.cases(ledger)
    ledger.close()
    fit_part, held = evaluation.split(cases)
    del held  # never read
    train, validate = evaluation.split(fit_part, TRAIN_FRACTION)
    old = {
        str(r["claim_id"])
        for r in evaluation.calibration_records("calibration")
        if r.get("type") == "claim_registered"
    }
    return fit_part, train, validate, old


# --- fitting helpers --------------------------------------------------------------------


def recency(cases: Sequence[Case], half_life_years: float | None) -> np.ndarray | None:
    if half_life_years is None:
        return None
    last = max(c.resolved_at for c in cases)
    ages = np.array([(last - c.resolved_at).total_seconds() / YEAR for c in cases])
    return np.asarray(0.5 ** (ages / half_life_years))


def blanked(cases: Sequence[Case], old: set[str]) -> list[Case]:
    """The cases with the old claims' evidence kinds unknown."""
    return [
        replace(c, evidence=tuple(replace(s, evidence=None) for s in c.evidence))
        if c.claim_id in old
        else c
        for c in cases
    ]


class _Weighted:
    """Makes ``fitting``'s LogisticRegression(CV) fits use sample weights (study only)."""

    def __init__(self, weights: np.ndarray | None) -> None:
        self.weights = weights
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        if self.weights is None:
            return
        w = self.weights
        for name in ("LogisticRegression", "LogisticRegressionCV"):
            base = getattr(fitting, name)
            self.saved[name] = base

            class Patched(base):  # type: ignore[misc, valid-type]
                def fit(self, X: Any, y: Any, sample_weight: Any = None, **kw: Any) -> Any:
                    return super().fit(X, y, sample_weight=w, **kw)

            setattr(fitting, name, Patched)

    def __exit__(self, *exc: object) -> None:
        for name, base in self.saved.items():
            setattr(fitting, name, base)


def fit_v3(
    train: Sequence[Case],
    cs: Sequence[float] | None = None,
    half_life: float | None = None,
    old: set[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """v3's design (``fitting.fit``) with a C grid, recency weights, or blanked old
    evidence; returns the params and the last pass's raw regression (for diagnostics)."""
    cases = blanked(train, old) if old else list(train)
    saved = fitting.CS
    if cs is not None:
        fitting.CS = tuple(cs)
    try:
        with _Weighted(recency(cases, half_life)):
            ranking: Strategy = CredibilityV1()
            raw: dict[str, Any] = {}
            params: dict[str, Any] = {}
            for _ in range(fitting.PASSES):
                notes: list[str] = []
                rows, truth, all_facts = fitting.features(cases, ranking)
                chosen, coef = fitting.regression(rows, truth)
                weights = fitting.weights_from(coef, all_facts, notes)
                params = fitting.calibrate(fitting.params_for(weights, {}), cases, notes)
                raw = {"C": chosen, "coef": coef, "ranking": ranking, "notes": notes}
                ranking = CredibilityV3(params)
    finally:
        fitting.CS = saved
    return params, raw


V1_MULT = {
    "self_serving": Strategy.self_serving,
    "against_interest": Strategy.against_interest,
    "self_serving_accusation": Strategy.self_serving_accusation,
}


def v1_params(**changes: Any) -> dict[str, Any]:
    """credibility-v1 as v3 parameters (v3 with these weights answers as v1)."""
    weights: dict[str, Any] = {
        "grade": dict(Strategy.statement_weight),
        "evidence": {k: 0.0 for k in EVIDENCE_KINDS},
        "assessment_scale": 1.0,
        "min_weight": fitting.MIN_WEIGHT,
        "early_days": fitting.EARLY_DAYS,
        "early_report": 1.0,
        "relay": 1.0,
        "extremizing": 1.0,
        **V1_MULT,
    }
    weights.update(changes)
    return fitting.params_for(weights, {})


def _penalised(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, c: float, w: np.ndarray | None = None
) -> np.ndarray:
    """L2 logistic regression with an offset, no intercept (sklearn's objective)."""
    sw = np.ones(len(y)) if w is None else w

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + x @ beta
        p = 1.0 / (1.0 + np.exp(-z))
        loss = float(np.sum(sw * (np.logaddexp(0.0, z) - y * z))) + float(beta @ beta) / (2 * c)
        grad = x.T @ (sw * (p - y)) + beta / c
        return loss, grad

    found = minimize(objective, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(found.x)


def _cv_c(x: np.ndarray, y: np.ndarray, offset: np.ndarray) -> float:
    """C by the same 5-fold CV as ``fitting.regression`` (log loss)."""
    from sklearn.model_selection import KFold

    folds = KFold(n_splits=fitting.FOLDS, shuffle=True, random_state=fitting.RANDOM_STATE)
    best, chosen = math.inf, fitting.CS[0]
    for c in fitting.CS:
        total = 0.0
        for tr, te in folds.split(x):
            beta = _penalised(x[tr], y[tr], offset[tr], c)
            z = offset[te] + x[te] @ beta
            total += float(np.sum(np.logaddexp(0.0, z) - y[te] * z))
        if total < best - 1e-12:
            best, chosen = total, c
    return chosen


def fit_fixed_multipliers(train: Sequence[Case], free: str) -> tuple[dict[str, Any], float]:
    """v1's multipliers kept; ``free`` = "grade" (grade weights fitted, no evidence terms)
    or "evidence" (v1's grade weights, evidence terms fitted); then the calibration scale."""
    params = v1_params()
    ranking: Strategy = CredibilityV1()
    chosen = math.nan
    for _ in range(fitting.PASSES):
        all_facts = [fitting.facts(c, ranking) for c in train]
        names = (
            [f"grade:{g}" for g in RELIABILITY_GRADES]
            if free == "grade"
            else [f"evidence:{k}" for k in EVIDENCE_KINDS]
        )
        index = {n: i for i, n in enumerate(names)}
        x = np.zeros((len(train), len(names)))
        offset = np.zeros(len(train))
        for r, found in enumerate(all_facts):
            for f in found:
                m = 1.0
                if f.interest is not None:
                    m = V1_MULT[f.interest]
                if not f.statement:
                    offset[r] += f.discount * f.assessed * m
                    continue
                signed = f.discount * f.sign * m
                if free == "grade":
                    x[r, index[f"grade:{f.grade}"]] += signed
                else:
                    offset[r] += signed * Strategy.statement_weight[f.grade]
                    if f.evidence in EVIDENCE_KINDS:
                        x[r, index[f"evidence:{f.evidence}"]] += signed
        y = np.array([c.truth for c in train], dtype=float)
        chosen = _cv_c(x, y, offset)
        beta = dict(zip(names, _penalised(x, y, offset, chosen), strict=True))
        notes: list[str] = []
        if free == "grade":
            grade = {g: beta[f"grade:{g}"] for g in RELIABILITY_GRADES}
            ordered = [g for g in RELIABILITY_GRADES if g != "F"]
            for lower, higher in zip(reversed(ordered), list(reversed(ordered))[1:], strict=False):
                grade[higher] = max(grade[higher], grade[lower])
            grade = {g: max(v, fitting.MIN_WEIGHT) for g, v in grade.items()}
            params = v1_params(grade=grade)
        else:
            params = v1_params(evidence={k: beta[f"evidence:{k}"] for k in EVIDENCE_KINDS})
        params = fitting.calibrate(params, train, notes)
        ranking = CredibilityV3(params)
    return params, chosen


def scaled(base: type[Strategy], scale: float) -> ModelVersion:
    class Scaled(base):  # type: ignore[misc, valid-type]
        extremizing = scale

    return ModelVersion(Scaled())


def pooled_z(
    model: ModelVersion, fit_part: Sequence[Case], ids: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    found = [p for p in predict(model, fit_part) if p.claim_id in ids]
    z = np.array([math.log((p.probability - 0.01) / (0.99 - p.probability)) for p in found])
    return z, np.array([p.truth for p in found], dtype=float)


def platt(
    base: type[Strategy], fit_part: Sequence[Case], train_ids: set[str], intercept: bool
) -> tuple[float, float]:
    z, y = pooled_z(ModelVersion(base()), fit_part, train_ids)
    x = np.column_stack([z, np.ones_like(z)]) if intercept else z[:, None]
    beta = _penalised(x, y, np.zeros_like(z), 1e9)
    return float(beta[0]), float(beta[1]) if intercept else 0.0


# --- scoring ----------------------------------------------------------------------------


def score(probs: Sequence[tuple[float, int]]) -> tuple[float, float]:
    return brier(probs), log_loss(probs)


def on(model: ModelVersion, fit_part: Sequence[Case], ids: set[str]) -> list[tuple[float, int]]:
    return [(p.probability, p.truth) for p in predict(model, fit_part) if p.claim_id in ids]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    fit_part, train, validate, old = load()
    train_ids = {c.claim_id for c in train}
    val_ids = {c.claim_id for c in validate}
    print(
        f"fitting part {len(fit_part)}: train {len(train)} (resolved"
        f" {train[0].resolved_at:%Y-%m-%d} .. {train[-1].resolved_at:%Y-%m-%d},"
        f" {sum(c.truth for c in train)} confirmed), validate {len(validate)} (resolved"
        f" {validate[0].resolved_at:%Y-%m-%d} .. {validate[-1].resolved_at:%Y-%m-%d},"
        f" {sum(c.truth for c in validate)} confirmed); old claims: train"
        f" {len(train_ids & old)}, validate {len(val_ids & old)}"
    )
    rows: list[dict[str, Any]] = []

    def row(
        label: str,
        free: int,
        lawful: bool,
        probs: Callable[[], list[tuple[float, int]]],
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        found = probs()
        b, ll = score(found)
        rows.append(
            {
                "design": label,
                "free": free,
                "lawful": lawful,
                "brier": round(b, 4),
                "log_loss": round(ll, 4),
                **(extra or {}),
            }
        )
        print(
            f"{label:58} {free:>3} {'yes' if lawful else 'no':>5} {b:8.4f} {ll:9.4f}"
            f"  {json.dumps(extra or {})}",
            flush=True,
        )

    print(f"{'design':58} {'k':>3} {'laws':>5} {'Brier':>8} {'log loss':>9}")
    row("v1 as shipped", 0, True, lambda: on(ModelVersion(CredibilityV1()), fit_part, val_ids))
    row("v2 as shipped", 0, True, lambda: on(ModelVersion(CredibilityV2()), fit_part, val_ids))

    def v3_row(label: str, **kw: Any) -> None:
        params, raw = fit_v3(train, **kw)
        row(
            label,
            20,
            True,
            lambda: on(ModelVersion(CredibilityV3(params)), fit_part, val_ids),
            {"C": raw["C"], "scale": params["weights"]["extremizing"]},
        )

    v3_row("v3 design as shipped (C by CV)")
    for c in (0.03, 0.1, 1.0, 10.0):
        v3_row(f"v3 design, C = {c:g}", cs=(c,))
    for h in (2.0, 5.0, 10.0, 20.0):
        v3_row(f"v3 design, recency weights, half-life {h:g} y", half_life=h)
    v3_row("v3 design, old claims' evidence kinds unknown in the fit", old=old)

    # Diagnostic: the unconstrained regression of the last pass, its own probabilities.
    params, raw = fit_v3(train)
    vrows, _, _ = fitting.features(validate, raw["ranking"])
    beta = np.array([raw["coef"][c] for c in fitting.COLUMNS])
    probs = 1.0 / (1.0 + np.exp(-(vrows @ beta)))
    row(
        "v3 regression unconstrained, no clipping (diagnostic)",
        19,
        False,
        lambda: [(float(p), c.truth) for p, c in zip(probs, validate, strict=True)],
        {"C": raw["C"]},
    )

    for free, label, k in (
        ("grade", "grade weights + scale (v1's multipliers)", 7),
        ("evidence", "v1's weights + evidence terms + scale", 8),
    ):
        params, chosen = fit_fixed_multipliers(train, free)
        row(
            label,
            k,
            True,
            lambda p=params: on(ModelVersion(CredibilityV3(p)), fit_part, val_ids),
            {
                "C": chosen,
                "scale": params["weights"]["extremizing"],
                "weights": params["weights"]["grade" if free == "grade" else "evidence"],
            },
        )

    for base, name in ((CredibilityV1, "v1"), (CredibilityV2, "v2")):
        s, _ = platt(base, fit_part, train_ids, intercept=False)
        row(
            f"{name} + fitted calibration scale (Platt, no intercept)",
            1,
            True,
            lambda b=base, s=s: on(scaled(b, s), fit_part, val_ids),
            {"scale": round(s, 4)},
        )
    for base, name in ((CredibilityV1, "v1"), (CredibilityV2, "v2")):
        s, a = platt(base, fit_part, train_ids, intercept=True)
        z, y = pooled_z(ModelVersion(base()), fit_part, val_ids)
        probs = 0.01 + 0.98 / (1.0 + np.exp(-(a + s * z)))
        row(
            f"{name} + Platt with intercept (diagnostic)",
            2,
            False,
            lambda probs=probs, y=y: [(float(p), int(t)) for p, t in zip(probs, y, strict=True)],
            {"scale": round(s, 4), "intercept": round(a, 4)},
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
