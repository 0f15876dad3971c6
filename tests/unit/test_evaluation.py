"""``ledger.evaluation``: the scores' arithmetic, the cases read from a store, the diagram,
and the shipped calibration set."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ledger import evaluation
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.credibility import SourceStanding
from ledger.evaluation import Case, brier, log_loss
from ledger.statements import Statement

DAY = datetime(2020, 3, 1, tzinfo=UTC)


def at(days: int) -> datetime:
    return DAY + timedelta(days=days)


def case(
    claim_id: str,
    outcome: str,
    resolved: int,
    *evidence: Statement,
    grades: dict[str, str] | None = None,
) -> Case:
    grades = grades or {}
    sources = {
        item.speaker: SourceStanding(
            item.speaker, item.speaker, None, grades.get(item.speaker, "B")
        )
        for item in evidence
    }
    return Case(claim_id, claim_id, (), (), tuple(evidence), sources, outcome, at(resolved))


def said(event_id: str, kind: str, source: str, day: int, **fields: object) -> Statement:
    return Statement(event_id, kind, source, at(day), **fields)  # type: ignore[arg-type]


# --- arithmetic ----------------------------------------------------------------------------


def test_brier_is_the_mean_squared_error_against_the_outcome() -> None:
    pairs = [(0.8, 1), (0.3, 0), (0.6, 0)]
    assert brier(pairs) == pytest.approx((0.04 + 0.09 + 0.36) / 3)
    assert brier([(0.5, 1), (0.5, 0)]) == 0.25
    assert brier([(1.0, 1), (0.0, 0)]) == 0.0


def test_log_loss_is_the_mean_negative_log_likelihood() -> None:
    pairs = [(0.8, 1), (0.3, 0), (0.6, 0)]
    expected = -(math.log(0.8) + math.log(0.7) + math.log(0.4)) / 3
    assert log_loss(pairs) == pytest.approx(expected)
    assert log_loss([(0.5, 1), (0.5, 0)]) == pytest.approx(math.log(2))
    assert math.isfinite(log_loss([(0.0, 1)]))  # clipped, not infinite


def test_no_pairs_score_nan() -> None:
    assert math.isnan(brier([])) and math.isnan(log_loss([]))


def test_a_tiny_set_scores_by_hand() -> None:
    # One B assertion (+1.2 log-odds): v1 says 0.01 + 0.98 * sigmoid(1.2) = 0.771353.
    confirmed = case("a", "confirmed", 10, said("a1", "asserted", "s1", 0))
    # One B denial: 1 - 0.771353 = 0.228647.
    refuted = case("b", "refuted", 10, said("b1", "denied", "s1", 0))
    # A denial, but the claim was confirmed.
    missed = case("c", "confirmed", 10, said("c1", "denied", "s2", 0))
    report = evaluation.evaluate([confirmed, refuted, missed], "credibility-v1")
    p = 0.01 + 0.98 / (1 + math.exp(-1.2))
    assert [row["probability"] for row in report["predictions"]] == pytest.approx(
        [p, 1 - p, 1 - p], abs=1e-6
    )
    scores = report["scores"]["all"]
    assert scores["claims"] == 3 and scores["confirmed"] == 2
    assert scores["model"]["brier"] == pytest.approx(((1 - p) ** 2 * 2 + p**2) / 3, abs=1e-6)
    assert scores["model"]["log_loss"] == pytest.approx(
        -(math.log(p) * 2 + math.log(1 - p)) / 3, abs=1e-6
    )
    assert scores["coin_flip"] == {"brier": 0.25, "log_loss": round(math.log(2), 6)}
    # Naive mean: 1, 0 and 0 (kept within 0.01 .. 0.99).
    assert scores["naive_mean"]["brier"] == pytest.approx(
        (0.01**2 + 0.01**2 + 0.99**2) / 3, abs=1e-6
    )


def test_the_naive_mean_averages_each_sources_latest_stance() -> None:
    evidence = (
        said("e1", "asserted", "s1", 0),
        said("e2", "denied", "s1", 1),  # s1's latest: 0
        said("e3", "assessed", "s2", 0, likelihood=0.7),
        said("e4", "asserted", "s3", 0),
        said("e5", "retracted", "s3", 2, supersedes="e4"),  # withdrawn
    )
    assert evaluation.naive_mean(case("x", "confirmed", 5, *evidence)) == pytest.approx(0.35)
    assert evaluation.naive_mean(case("y", "confirmed", 5)) == 0.5


def test_a_split_scores_both_sides_apart() -> None:
    early = case("a", "confirmed", 10, said("a1", "asserted", "s1", 0))
    late = case("b", "refuted", 400, said("b1", "asserted", "s1", 300))
    report = evaluation.evaluate([early, late], "credibility-v1", split=at(100))
    assert report["scores"]["in_sample"]["claims"] == 1
    assert report["scores"]["out_of_sample"]["claims"] == 1
    assert report["scores"]["out_of_sample"]["confirmed"] == 0


def test_reliability_bins_compare_mean_forecast_with_observed_rate() -> None:
    predictions = [
        evaluation.Prediction("a", at(0), at(1), "confirmed", 0.72, 0.5),
        evaluation.Prediction("b", at(0), at(1), "refuted", 0.78, 0.5),
        evaluation.Prediction("c", at(0), at(1), "refuted", 0.05, 0.5),
    ]
    rows = evaluation.reliability(predictions)
    assert len(rows) == 10 and sum(row["claims"] for row in rows) == 3
    assert rows[7] == {
        "low": 0.7,
        "high": 0.8,
        "claims": 2,
        "mean_probability": 0.75,
        "observed": 0.5,
    }
    assert rows[0]["observed"] == 0.0 and rows[5]["mean_probability"] is None


def test_per_source_figures_count_matched_stances() -> None:
    cases = [
        case("a", "confirmed", 10, said("a1", "asserted", "s1", 0), said("a2", "denied", "s2", 0)),
        case("b", "refuted", 10, said("b1", "asserted", "s1", 0)),
        case("c", "refuted", 10, said("c1", "assessed", "s2", 0, likelihood=0.2)),
        case("d", "refuted", 10, said("d1", "assessed", "s3", 0, likelihood=0.5)),  # no side
    ]
    rows = {row["source"]: row for row in evaluation.source_figures(cases)}
    assert rows["s1"] | {"name": "s1"} == {
        "source": "s1",
        "name": "s1",
        "stances": 2,
        "matched": 1,
        "rate": 0.5,
        "supported": 2,
        "disputed": 0,
    }
    assert (rows["s2"]["stances"], rows["s2"]["matched"]) == (2, 1)
    assert "s3" not in rows


def test_the_diagram_is_well_formed_svg() -> None:
    predictions = [
        evaluation.Prediction(
            str(i), at(0), at(1), "confirmed" if i % 3 else "refuted", i / 10, 0.5
        )
        for i in range(10)
    ]
    svg = evaluation.reliability_svg(evaluation.reliability(predictions), "v1 & <friends>")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    circles = root.findall(".//{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 10
    assert root.find("{http://www.w3.org/2000/svg}title").text == "v1 & <friends>"  # type: ignore[union-attr]
    assert (
        ET.fromstring(evaluation.reliability_svg(evaluation.reliability([]), "empty")) is not None
    )


def test_an_unknown_model_is_refused() -> None:
    with pytest.raises(KeyError):
        evaluation.evaluate([], "credibility-v9")


# --- cases read from a store -----------------------------------------------------------------


@pytest.fixture
def ledger() -> Iterator[ClaimsLedger]:
    opened = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    yield opened
    opened.close()


def _source(source: str, reliability: str, affiliation: str | None = None) -> dict[str, object]:
    record: dict[str, object] = {
        "type": "source_registered",
        "source": source,
        "name": source.upper(),
        "reliability": reliability,
    }
    if affiliation:
        record["affiliation"] = affiliation
    return record


def _event(claim: str, kind: str, source: str, day: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {"claim_id": claim, "type": kind, "source": source}
    words = {} if kind == "resolved" else {"summary": "said"}
    return {**base, "occurred_at": day, **words, **fields}


def test_each_resolved_claim_is_assessed_the_day_before_its_resolution(
    ledger: ClaimsLedger,
) -> None:
    ledger.import_batch(
        [
            _source("a", "B"),
            _source("b", "C", "RU"),
            _source("judge", "A"),
            {"type": "claim_registered", "claim_id": "c1", "text": "one", "parties": ["RU"]},
            {"type": "claim_registered", "claim_id": "open", "text": "two"},
            _event("c1", "asserted", "a", "2020-01-01"),
            _event("c1", "denied", "b", "2020-01-09"),  # the day before: in scope
            _event("c1", "asserted", "b", "2020-01-10"),  # the resolution's day: not
            {**_event("c1", "resolved", "judge", "2020-01-10"), "outcome": "refuted", "basis": "x"},
            _event("open", "asserted", "a", "2020-01-01"),
        ],
        "test",
    )
    [found] = evaluation.cases(ledger)  # the unresolved claim is not scored
    assert found.claim_id == "c1" and found.outcome == "refuted"
    assert found.resolved_at == datetime(2020, 1, 10, tzinfo=UTC)
    assert found.as_of == datetime(2020, 1, 9, tzinfo=UTC)
    assert [(e.type, e.source) for e in found.evidence] == [("asserted", "a"), ("denied", "b")]
    assert found.sources["b"].affiliation == "RU" and found.parties == ("RU",)
    assert found.names == {"a": "A", "b": "B"}


def test_a_retracted_resolution_leaves_the_claim_unresolved_and_its_own_never_counts(
    ledger: ClaimsLedger,
) -> None:
    ledger.import_batch(
        [
            _source("a", "B"),
            {"type": "claim_registered", "claim_id": "c1", "text": "one"},
            {"type": "claim_registered", "claim_id": "c2", "text": "two"},
            _event("c1", "asserted", "a", "2020-01-01"),
            {
                **_event("c1", "resolved", "a", "2020-01-05"),
                "event_id": "r1",
                "outcome": "confirmed",
                "basis": "x",
            },
            {**_event("c1", "retracted", "a", "2020-01-06"), "supersedes": "r1"},
            {**_event("c2", "resolved", "a", "2020-01-05"), "outcome": "refuted", "basis": "x"},
            {**_event("c2", "resolved", "a", "2020-02-05"), "outcome": "confirmed", "basis": "y"},
        ],
        "test",
    )
    [found] = evaluation.cases(ledger)
    assert (found.claim_id, found.outcome, found.as_of.month) == ("c2", "confirmed", 2)
    assert found.evidence == ()  # the earlier resolution of the same claim is left out


# --- the calibration set ---------------------------------------------------------------------


def test_the_calibration_set_loads_and_is_what_it_says(ledger: ClaimsLedger) -> None:
    records = evaluation.calibration_records()
    ledger.import_batch(records, "test")
    cases = evaluation.cases(ledger)
    claims = [r for r in records if r["type"] == "claim_registered"]
    assert len(cases) == len(claims) >= 80
    refuted = sum(c.outcome == "refuted" for c in cases)
    assert refuted / len(cases) >= 0.4
    resolutions = [r for r in records if r["type"] == "resolved"]
    assert len(resolutions) == len(claims)
    assert all(r["basis"] and r["reference"].startswith("https://") for r in resolutions)
    resolved_on = {r["claim_id"]: r["occurred_at"] for r in resolutions}
    stances = [r for r in records if r["type"] in ("asserted", "denied", "assessed")]
    assert all(r["occurred_at"] < resolved_on[r["claim_id"]] for r in stances)
    # Track records need repeats: several sources speak on five claims or more.
    spoken: dict[str, set[str]] = {}
    for r in stances:
        spoken.setdefault(r["source"], set()).add(r["claim_id"])
    assert sum(len(claims) >= 5 for claims in spoken.values()) >= 4
