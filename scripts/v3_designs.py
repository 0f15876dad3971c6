"""Model designs compared by five-fold cross-validation inside calibration-v3's fitting
part only (the held-out part is never read): v1 and v2 as shipped, each with a fitted
calibration scale, and v1 with a fitted factor per evidence kind (docs/evaluation.md).

    .venv/bin/python scripts/v3_designs.py
"""
import math
import random
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ledger import evaluation
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.credibility.registry import ModelVersion
from ledger.credibility.v1 import CredibilityV1
from ledger.credibility.v2 import CredibilityV2
from ledger.evaluation import brier, log_loss, predict, split
from ledger.statements import EVIDENCE_LABELS

ledger = open_ledger(Settings(store="memory", _env_file=None))
ledger.import_batch(evaluation.loadable(evaluation.calibration_records("calibration-v3")), "x")
cases = evaluation.cases(ledger)
fitting, held = split(cases)
print("fitting", len(fitting), "held", len(held))
KINDS = sorted(EVIDENCE_LABELS)

def make(base, scale=1.0, ev=None, grade=None):
    class S(base):
        pass
    S.extremizing = scale
    if grade is not None:
        S.statement_weight = dict(grade)
    if ev:
        orig = base.stated
        def stated(self, item, standing, _orig=orig, _ev=ev):
            w, kind, acc = _orig(self, item, standing)
            f = _ev.get(item.evidence or "", 1.0)
            return w * f, kind, acc
        S.stated = stated
    return ModelVersion(S())

def score(model, cs):
    p = predict(model, cs)
    pairs = [(x.probability, x.truth) for x in p]
    return brier(pairs), log_loss(pairs)

folds = 5
idx = list(range(len(fitting)))
rng = random.Random(0)
rng.shuffle(idx)
parts = [idx[i::folds] for i in range(folds)]

def fit_params(base, train, design, reg):
    # params: log scale, log ev multipliers
    names = ["scale"] + ([f"ev:{k}" for k in KINDS] if design == "ev" else [])
    x0 = np.zeros(len(names))
    def obj(x):
        scale = math.exp(x[0])
        ev = {k: math.exp(x[1 + i]) for i, k in enumerate(KINDS)} if design == "ev" else None
        m = make(base, scale, ev)
        p = predict(m, train)
        ll = -sum(
            math.log(max(1e-6, q.probability if q.truth else 1 - q.probability)) for q in p
        ) / len(p)
        return ll + reg * float(np.sum(x[1:] ** 2))
    res = minimize(obj, x0, method="Powell", options={"maxiter": 3000, "xtol": 1e-3, "ftol": 1e-5})
    scale = math.exp(res.x[0])
    ev = {k: math.exp(res.x[1 + i]) for i, k in enumerate(KINDS)} if design == "ev" else None
    return scale, ev

results = {}
for label, base, design, reg in [
    ("v1", CredibilityV1, "none", 0), ("v2", CredibilityV2, "none", 0),
    ("v1+scale", CredibilityV1, "scale", 0), ("v2+scale", CredibilityV2, "scale", 0),
    ("v1+ev(0.05)", CredibilityV1, "ev", 0.05), ("v1+ev(0.2)", CredibilityV1, "ev", 0.2),
]:
    bs, ls = [], []
    for k in range(folds):
        test = [fitting[i] for i in parts[k]]
        train = [fitting[i] for i in idx if i not in set(parts[k])]
        if design == "none":
            m = make(base)
        else:
            scale, ev = fit_params(base, train, design, reg)
            m = make(base, scale, ev)
        # The test fold's own stances are its track records, as evaluate reads them.
        b, loss = score(m, test)
        bs.append(b)
        ls.append(loss)
    results[label] = (sum(bs)/folds, sum(ls)/folds)
    brier_cv, loss_cv = results[label]
    print(f"{label} CV brier {brier_cv:.4f} logloss {loss_cv:.4f}", flush=True)
