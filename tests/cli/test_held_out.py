"""``evaluate --set calibration-v3 --held-out``: every version on the held-out 30%, per
domain, with ECE and reliability bins, and which claims were used for what; ``models fit
--check``: the shipped parameter file is what the fit gives."""

from __future__ import annotations

import json
import math
from typing import Any

from ledger import evaluation
from ledger.models import VERSIONS

from .helpers import Invoke


def held_out(invoke: Invoke) -> dict[str, Any]:
    result = invoke("evaluate", "--set", "calibration-v3", "--held-out", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_held_out_report_scores_every_version_per_domain_on_the_latest_30_percent(
    invoke: Invoke,
) -> None:
    data = held_out(invoke)
    fitting, held = data["fitting_claims"], data["held_out_claims"]
    records = evaluation.calibration_records("calibration-v3")
    domains = evaluation.claim_domains(records)
    assert not set(fitting) & set(held)
    assert len(fitting) + len(held) == len(domains)
    assert len(fitting) == math.floor(0.7 * len(domains))
    assert set(data["versions"]) == set(VERSIONS)
    for found in data["versions"].values():
        scores = found["held_out"]
        assert scores["claims"] == len(held)
        assert 0.0 <= scores["brier"] <= 1.0 and scores["log_loss"] > 0
        assert 0.0 <= scores["ece"] <= 1.0
        assert sum(row["claims"] for row in scores["reliability"]) == len(held)
        assert sum(d["claims"] for d in found["domains"].values()) == len(held)
        assert set(found["domains"]) == {domains[claim] for claim in held}
    # ECE is the claim-weighted gap between each bin's mean forecast and observed rate.
    scores = data["versions"]["credibility-v1"]["held_out"]
    gap = sum(
        row["claims"] * abs(row["mean_probability"] - row["observed"])
        for row in scores["reliability"]
        if row["claims"]
    )
    assert abs(gap / len(held) - scores["ece"]) < 1e-5

    text = invoke("evaluate", "--set", "calibration-v3", "--held-out").stdout
    assert "held out" in text and "fitting claims:" in text
    for name, found in data["versions"].items():
        assert f"{found['held_out']['brier']:.4f}" in text and name in text


def test_the_old_calibration_set_stays_the_default(invoke: Invoke) -> None:
    default = invoke("evaluate", "--json")
    named = invoke("evaluate", "--json", "--set", "calibration")
    assert default.exit_code == 0 and default.stdout == named.stdout
    bad = invoke("evaluate", "--set", "nonesuch")
    assert bad.exit_code != 0


def test_models_fit_reproduces_the_shipped_parameter_file(invoke: Invoke) -> None:
    result = invoke("models", "fit", "--check")
    assert result.exit_code == 0, result.output
