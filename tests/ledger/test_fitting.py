"""credibility-v3's fit: reproducible byte for byte, and blind to the held-out part."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ledger import evaluation, fitting
from ledger.application import ClaimsLedger
from ledger.credibility.v3 import CredibilityV3, shipped_params


@pytest.fixture(scope="module")
def cases() -> list[evaluation.Case]:
    from ledger import bootstrap
    from ledger.config import Settings

    ledger: ClaimsLedger = bootstrap.open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        ledger.import_batch(
            evaluation.loadable(evaluation.calibration_records("calibration-v3")), "test"
        )
        return evaluation.cases(ledger)
    finally:
        ledger.close()


def test_the_split_is_by_resolution_date(cases: list[evaluation.Case]) -> None:
    fit, held = evaluation.split(cases)
    assert len(fit) == int(0.7 * len(cases)) and len(fit) + len(held) == len(cases)
    assert max(c.resolved_at for c in fit) <= min(c.resolved_at for c in held)


def test_the_fit_reproduces_the_shipped_file_and_never_reads_the_held_out_part(
    cases: list[evaluation.Case],
) -> None:
    text = fitting.dumps(fitting.fit_calibration_set(cases))
    shipped = json.dumps(shipped_params(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert text == shipped
    # Flip every held-out outcome: the fit is the same but for nothing.
    fit, held = evaluation.split(cases)
    flipped = [
        replace(c, outcome="refuted" if c.outcome == "confirmed" else "confirmed") for c in held
    ]
    assert fitting.dumps(fitting.fit_calibration_set(fit + flipped)) == text


def test_the_shipped_weights_keep_the_constraints() -> None:
    weights = shipped_params()["weights"]
    grades = [weights["grade"][g] for g in "ABCDE"]
    assert grades == sorted(grades, reverse=True)
    assert all(w >= weights["min_weight"] > 0 for w in weights["grade"].values())
    assert 0 < weights["self_serving"] <= 1 <= weights["against_interest"]
    assert 0 < weights["self_serving_accusation"] <= 1
    assert 0 < weights["relay"] <= 1 and 0 < weights["early_report"] <= 1
    assert weights["extremizing"] > 0 and weights["assessment_scale"] > 0
    assert CredibilityV3().extremizing == weights["extremizing"]
