"""Scoring a credibility model against claims whose truth is known.

For each resolved claim the model is asked what it would have said the day before the
resolution: valid time ``as_of`` = the resolution's ``occurred_at`` minus one day, so the
claim's own resolution is never in scope (its ``resolved`` events, and retractions of them,
are left out of the evidence whatever their dates). Other claims' earlier resolutions may
be in scope: a model that learns from track records (``credibility-v2``) sees every stance
on claims resolved by ``as_of``, and nothing resolved later.

The scores are the Brier score (mean squared error of the probability against 1 for
confirmed, 0 for refuted) and the log loss (mean negative log-likelihood, natural log),
beside two baselines: a coin flip (0.5 for every claim) and the naive mean of stances
(each source's latest position counts 1 asserted, 0 denied, its likelihood if assessed;
0.5 without positions; kept within 0.01 .. 0.99 like the model). A reliability diagram
groups the model's probabilities in tenths and compares each bin's mean with how often its
claims were confirmed. Per source: how often its latest stance before a resolution
matched the outcome.

Everything but ``cases`` is pure: ``cases`` reads a ledger (the store use case);
``evaluate`` scores the cases it is given; ``reliability_svg`` draws the diagram.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from ledger import replay
from ledger.application import ClaimsLedger
from ledger.credibility.records import stance_value, stances_on, track_records
from ledger.credibility.registry import VERSIONS, ModelVersion
from ledger.credibility.selection import positions, resolution_of
from ledger.credibility.values import Credibility, ResolvedStance, SourceStanding, TrackRecord
from ledger.statements import OUTCOMES, Statement, StatementType
from ledger.times import format_instant, now, to_micros

CALIBRATION_SET = "calibration.ndjson"
CONFIRMED, REFUTED = OUTCOMES
#: The model is asked the day before the resolution.
LEAD = timedelta(days=1)
#: Baselines are kept within the model's own bounds, so one wrong 0 or 1 is not infinite.
FLOOR, CEILING = 0.01, 0.99
#: Log loss of a probability of exactly 0 or 1 would be infinite; no model here gives one.
_EPSILON = 1e-12
BINS = 10


@dataclass(frozen=True)
class Case:
    """One resolved claim as it stood the day before its resolution."""

    claim_id: str
    text: str
    parties: tuple[str, ...]
    beneficiaries: tuple[str, ...]
    evidence: tuple[Statement, ...]  # in scope at as_of; the claim's resolutions left out
    sources: Mapping[str, SourceStanding]  # each cited source as rated at as_of
    outcome: str  # confirmed / refuted
    resolved_at: datetime
    names: Mapping[str, str] = field(default_factory=dict)  # source id -> name
    #: When the alleged thing happened, if the claim says (no model reads it yet: anchoring
    #: v2's early window there was measured and not kept, docs/evaluation.md).
    alleged_at: datetime | None = None

    @property
    def as_of(self) -> datetime:
        return self.resolved_at - LEAD

    @property
    def truth(self) -> int:
        return 1 if self.outcome == CONFIRMED else 0


def predicted(model: ModelVersion, case: Case, history: Sequence[ResolvedStance]) -> Credibility:
    """The version's answer on ``case``, with ``history`` (every stance on the other
    resolved claims) as the track records of a version that learns (filtered by date)."""
    weight = model.strategy.record_weight

    def records(moment: datetime) -> Mapping[str, TrackRecord]:
        return track_records(history, moment, weight)

    return model.assess(case.evidence, case.sources, case.parties, case.beneficiaries, records)


# --- the store use case ---------------------------------------------------------------


def calibration_records() -> list[dict[str, Any]]:
    """The shipped calibration set (``ledger/data/resolved/calibration.ndjson``)."""
    folder = resources.files("ledger.data").joinpath("resolved")
    text = folder.joinpath(CALIBRATION_SET).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def cases(ledger: ClaimsLedger, known_at: datetime | None = None) -> list[Case]:
    """Every resolved claim in ``ledger`` (as known at ``known_at``, default now)."""
    known_us = to_micros(known_at or now())
    found = []
    for claim_id in _claim_ids(ledger, known_us):
        data = ledger.store.claim_as_known(claim_id, known_us)
        case = _case(data, ledger.store.sources_cited(data, known_us), known_us)
        if case is not None:
            found.append(case)
    return sorted(found, key=lambda case: (case.resolved_at, case.claim_id))


def _claim_ids(ledger: ClaimsLedger, known_us: int) -> Iterable[str]:
    after = 0
    while True:
        page = ledger.store.index.stream_ids("claim", known_us, after, 200)
        yield from (claim_id for claim_id, _ in page)
        if len(page) < 200:
            return
        after = page[-1][1]


def _case(
    data: replay.ClaimData, sources: Mapping[str, replay.SourceData], known_us: int
) -> Case | None:
    resolution = resolution_of(replay.corrected_statements(data, known_us))
    if resolution is None:
        return None
    as_of = resolution.at - LEAD
    items = replay.evidence(data, as_of, known_us)
    resolutions = {item.event_id for item in items if item.type == StatementType.RESOLVED}
    evidence = tuple(
        item
        for item in items
        if item.type != StatementType.RESOLVED
        and not (item.type == StatementType.RETRACTED and item.supersedes in resolutions)
    )
    cited = {item.speaker for item in evidence}
    return Case(
        claim_id=data.claim_id,
        text=data.text,
        parties=tuple(data.parties),
        beneficiaries=tuple(data.beneficiaries),
        evidence=evidence,
        sources={sid: sources[sid].standing(as_of, known_us) for sid in cited if sid in sources},
        outcome=str(resolution.outcome),
        resolved_at=resolution.at,
        names={sid: sources[sid].name for sid in cited if sid in sources},
        alleged_at=data.alleged_at,
    )


# --- pure scoring -----------------------------------------------------------------------


def naive_mean(case: Case) -> float:
    values = [stance_value(item) for item in positions(case.evidence).values()]
    mean = math.fsum(values) / len(values) if values else 0.5
    return min(max(mean, FLOOR), CEILING)


def stances(case: Case) -> list[ResolvedStance]:
    """The sources' latest stances on a resolved case (an even 0.5 takes no side)."""
    return stances_on(case.evidence, case.outcome, case.resolved_at)


def brier(pairs: Sequence[tuple[float, int]]) -> float:
    """Mean of (p - truth)^2; 0 is perfect, 0.25 is a coin flip."""
    return math.fsum((p - y) ** 2 for p, y in pairs) / len(pairs) if pairs else math.nan


def log_loss(pairs: Sequence[tuple[float, int]]) -> float:
    """Mean of -ln(p) for confirmed and -ln(1 - p) for refuted; ln 2 is a coin flip."""
    if not pairs:
        return math.nan
    total = math.fsum(-math.log(max(p if y else 1.0 - p, _EPSILON)) for p, y in pairs)
    return total / len(pairs)


@dataclass(frozen=True)
class Prediction:
    claim_id: str
    as_of: datetime
    resolved_at: datetime
    outcome: str
    probability: float
    naive_mean: float

    @property
    def truth(self) -> int:
        return 1 if self.outcome == CONFIRMED else 0


def predict(model: ModelVersion, evaluated: Sequence[Case]) -> list[Prediction]:
    """The model's probability for each case, with every other case's stances as history."""
    history = [(case.claim_id, stance) for case in evaluated for stance in stances(case)]
    found = []
    for case in evaluated:
        known = [stance for claim_id, stance in history if claim_id != case.claim_id]
        result = predicted(model, case, known)
        found.append(
            Prediction(
                case.claim_id,
                case.as_of,
                case.resolved_at,
                case.outcome,
                result.probability,
                naive_mean(case),
            )
        )
    return found


def scores(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Brier score and log loss of the model and of both baselines."""
    model = [(p.probability, p.truth) for p in predictions]
    coin = [(0.5, p.truth) for p in predictions]
    mean = [(p.naive_mean, p.truth) for p in predictions]
    return {
        "claims": len(predictions),
        "confirmed": sum(p.truth for p in predictions),
        "model": {"brier": _r(brier(model)), "log_loss": _r(log_loss(model))},
        "coin_flip": {"brier": _r(brier(coin)), "log_loss": _r(log_loss(coin))},
        "naive_mean": {"brier": _r(brier(mean)), "log_loss": _r(log_loss(mean))},
    }


def reliability(predictions: Sequence[Prediction], bins: int = BINS) -> list[dict[str, Any]]:
    """The model's probabilities in ``bins`` equal bins: mean forecast vs observed rate."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            p
            for p in predictions
            if low <= p.probability < high or (b == bins - 1 and p.probability == 1.0)
        ]
        rows.append(
            {
                "low": low,
                "high": high,
                "claims": len(inside),
                "mean_probability": _r(math.fsum(p.probability for p in inside) / len(inside))
                if inside
                else None,
                "observed": _r(sum(p.truth for p in inside) / len(inside)) if inside else None,
            }
        )
    return rows


def source_figures(evaluated: Sequence[Case]) -> list[dict[str, Any]]:
    """Per source: stances on resolved claims and how many matched the outcome."""
    tally: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for case in evaluated:
        names.update(case.names)
        for stance in stances(case):
            counts = tally.setdefault(stance.source, [0, 0, 0, 0])  # stances, matched, +, -
            counts[0] += 1
            counts[1] += stance.matched
            counts[2 if stance.supported else 3] += 1
    rows = [
        {
            "source": source,
            "name": names.get(source, source),
            "stances": counts[0],
            "matched": counts[1],
            "rate": _r(counts[1] / counts[0]),
            "supported": counts[2],
            "disputed": counts[3],
        }
        for source, counts in tally.items()
    ]
    return sorted(rows, key=lambda row: (-row["stances"], -row["matched"], row["source"]))


def evaluate(
    evaluated: Sequence[Case], model_name: str, split: datetime | None = None
) -> dict[str, Any]:
    """The whole report: scores (and in- and out-of-sample with ``split``), the
    reliability diagram's bins, per-source figures and every prediction.

    ``split``: claims resolved before it are the in-sample (fitting) set, the others are
    scored out of sample. No model here has parameters fitted to data yet, so the split
    only reports both scores; a model's track record (v2) is online, never look-ahead.
    """
    if model_name not in VERSIONS:
        raise KeyError(model_name)
    by_version = {name: predict(model, evaluated) for name, model in VERSIONS.items()}
    predictions = by_version[model_name]
    report: dict[str, Any] = {
        "model": model_name,
        "lead_days": LEAD.days,
        "split": None if split is None else format_instant(split),
        "scores": _periods(predictions, split),
        # Every version side by side, on the same claims and periods (model scores only).
        "versions": {
            name: {
                period: found["model"] for period, found in _periods(found, split).items()
            }
            for name, found in by_version.items()
        },
    }
    report["reliability"] = reliability(predictions)
    report["sources"] = source_figures(evaluated)
    report["predictions"] = [
        {
            "claim_id": p.claim_id,
            "as_of": format_instant(p.as_of),
            "outcome": p.outcome,
            "probability": p.probability,
            "naive_mean": _r(p.naive_mean),
        }
        for p in predictions
    ]
    return report


def _periods(predictions: Sequence[Prediction], split: datetime | None) -> dict[str, Any]:
    """The scores on every claim, and with ``split``, in and out of sample."""
    found = {"all": scores(predictions)}
    if split is not None:
        found["in_sample"] = scores([p for p in predictions if p.resolved_at < split])
        found["out_of_sample"] = scores([p for p in predictions if p.resolved_at >= split])
    return found


# --- the reliability diagram ------------------------------------------------------------

_SIZE, _MARGIN = 360, 50


def reliability_svg(rows: Sequence[Mapping[str, Any]], title: str) -> str:
    """An SVG reliability diagram: each bin's mean forecast against its observed rate,
    the diagonal for perfect calibration, each point's area by its number of claims."""
    size, margin = _SIZE, _MARGIN
    full = size + 2 * margin

    def x(value: float) -> float:
        return margin + value * size

    def y(value: float) -> float:
        return margin + (1.0 - value) * size

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{full}" height="{full}"'
        f' viewBox="0 0 {full} {full}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{margin}" y="{margin}" width="{size}" height="{size}"'
        ' fill="white" stroke="black"/>',
    ]
    for tick in range(11):
        value = tick / 10
        parts.append(
            f'<line x1="{x(value):.1f}" y1="{y(0):.1f}" x2="{x(value):.1f}" y2="{y(1):.1f}"'
            ' stroke="#ddd"/>'
        )
        parts.append(
            f'<line x1="{x(0):.1f}" y1="{y(value):.1f}" x2="{x(1):.1f}" y2="{y(value):.1f}"'
            ' stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{x(value):.1f}" y="{y(0) + 15:.1f}" text-anchor="middle">{value:.1f}</text>'
        )
        parts.append(
            f'<text x="{x(0) - 6:.1f}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.1f}</text>'
        )
    parts.append(
        f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="gray"'
        ' stroke-dasharray="4 3"/>'
    )
    points = [row for row in rows if row["claims"]]
    path = " ".join(f"{x(row['mean_probability']):.1f},{y(row['observed']):.1f}" for row in points)
    if len(points) > 1:
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4"/>')
    for row in points:
        radius = 3 + 2 * math.sqrt(row["claims"])
        parts.append(
            f'<circle cx="{x(row["mean_probability"]):.1f}" cy="{y(row["observed"]):.1f}"'
            f' r="{radius:.1f}" fill="#1f77b4" fill-opacity="0.6">'
            f"<title>{row['low']:.1f}-{row['high']:.1f}: {row['claims']} claims,"
            f" mean forecast {row['mean_probability']:.3f},"
            f" observed {row['observed']:.3f}</title></circle>"
        )
    parts += [
        f'<text x="{full / 2}" y="{margin - 20}" text-anchor="middle" font-size="13">'
        f"{escape(title)}</text>",
        f'<text x="{full / 2}" y="{full - 12}" text-anchor="middle">'
        "forecast probability (bin mean)</text>",
        f'<text x="14" y="{full / 2}" text-anchor="middle"'
        f' transform="rotate(-90 14 {full / 2})">observed frequency confirmed</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _r(value: float) -> float:
    return value if math.isnan(value) else round(value, 6) + 0.0
