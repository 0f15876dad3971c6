"""The credibility model ``credibility-v2``: v1 plus what the sources' records teach, and
caution with the first reports of a story.

Selectable with ``?model=credibility-v2`` (CLI ``--model``) on every claim read, and in
``claims-ledger evaluate``. ``assess`` takes what v1's takes, and optionally the sources'
track records as they stood at any moment (``track_records``), and returns the same
``Credibility``. It keeps v1's steps (retractions, each source's latest position, interest
multipliers, the 1/2^rank discount of voices of one affiliation, the bounded pool and the
resolution override) and changes these, each measured on the calibration set
(docs/evaluation.md):

- **track record**: a source's reliability grade stands for a prior accuracy,
  ``sigmoid(v1 statement weight)`` (B: 0.769), worth ``PRIOR_STANCES`` (2) stances; its
  record *when it made the statement* updates it (a Beta-binomial mean): its stances on
  claims resolved by then, each counting 1/2 per ``RECORD_HALF_LIFE_DAYS`` (365) between
  its claim's resolution and the statement. The statement's weight is scaled by
  ``logit(posterior) / logit(prior)``, kept within 0 .. ``MAX_RECORD_FACTOR`` (2). A
  source wrong more often than right is not heard (x0), never heard backwards. A
  statement's weight is fixed by what was known of its source when it spoke, so the
  answer moves in valid time only where the claim's own statements or its sources'
  ratings do (a step function the credibility projection holds), and never uses a
  resolution later than the statement, let alone than ``as_of``;
- **early-report caution**: the story starts with the claim's first report (an assertion,
  by a source that still asserts it); an assertion whose source first made it less than
  ``EARLY_DAYS`` (1) after that counts x``EARLY_FACTOR`` (0.5). Denials and assessments
  are never early, and an assertion dates from when its source first made it, so
  repeating it changes nothing and a statement never moves the result against its own
  side (laws 2 and 3 hold);
- **relays**: a statement whose ``relays`` names the earlier statement on the claim that
  it repeats (a newspaper repeating a government, one government repeating another's
  assessment) adds no independent weight: it counts x``RELAY_FACTOR`` (0), whether or not
  the statement it repeats is in scope, so its weight never depends on another source's
  statements (law 2 holds for both). v1 ignores ``relays``.

Measured and not kept (they did not help out of sample, docs/evaluation.md): a stronger
discount of a beneficiary's accusation (``SELF_SERVING_ACCUSATION`` stays 0.5),
extremizing the pooled log-odds, fixed or fitted on the earlier claims (``EXTREMIZING``
stays 1), a boost for neutral expertise (international bodies, courts, inquiries,
journals), lifting the early discount when an independent witness corroborates later or
the source repeats itself later, an early window anchored per side or at the claim's
first position of either side, or at the claim's ``alleged_at`` (when the alleged thing
happened), a relay counted at 1/4 or 1/2 or as the relayed source's own voice, an accuser
whose affiliation is an adversary of a party counted as interested (relations between
affiliations, beyond each claim's ``beneficiaries``), records counted at full weight once
resolved (no half-life: clearly worse), and a record read at the answer's ``as_of`` rather
than at the statement's time (fading with ``as_of``: no better out of sample, and not a
step function of valid time).

Every number used appears in the contribution's reason, with its value. Like v1 the model is
a pure function: no store, clock or randomness.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ledger.credibility import (
    AGAINST_INTEREST,
    ASSESSOR_FACTOR,
    CONFIDENCE_FACTOR,
    SELF_SERVING,
    STATEMENT_WEIGHT,
    Credibility,
    SourceStanding,
    _apply_retractions,
    _canonical,
    _explain_superseded,
    _num,
    _Position,
    _round,
    _select,
    _speaker,
    _standings,
    conclude,
    unweighable,
)
from ledger.likelihood import band_for
from ledger.statements import OUTCOMES, Statement, StatementType, a_or_an

MODEL_VERSION = "credibility-v2"

#: How many stances a reliability grade is worth against a source's record.
PRIOR_STANCES = 2.0
#: The most a good record can multiply a source's weight by.
MAX_RECORD_FACTOR = 2.0
#: A beneficiary accusing the parties says what suits it. Measured 0.25 and 0.35: both hurt
#: out of sample, so it stays at v1's 0.5.
SELF_SERVING_ACCUSATION = 0.5
#: A stance counts in a record at 1/2 for every this many days since its claim's resolution.
RECORD_HALF_LIFE_DAYS = 365.0
#: Assertions first made less than this many days after the claim's first report (the day
#: the story broke) count x EARLY_FACTOR.
EARLY_DAYS = 1.0
EARLY_FACTOR = 0.5
#: A relay (a statement whose ``relays`` names the earlier statement on the claim it
#: repeats) adds no independent weight: it counts x RELAY_FACTOR.
RELAY_FACTOR = 0.0
#: The pooled log-odds are multiplied by this before the bounded sigmoid. Measured from 0.4
#: to 1.3, and fitted (Satopaa et al. 2014) on the claims resolved before 2010: anything but
#: 1 hurt out of sample (docs/evaluation.md), so it stays at v1's 1.
EXTREMIZING = 1.0

_LOWEST, _HIGHEST = 0.010001, 0.989999
_MAX_LOG_ODDS = 50.0


@dataclass(frozen=True)
class ResolvedStance:
    """A source's latest stance on a claim, and how and when the claim was resolved."""

    source: str
    supported: bool  # asserted, or assessed above 0.5
    outcome: str  # confirmed / refuted
    resolved_at: datetime

    @property
    def matched(self) -> bool:
        return self.supported == (self.outcome == OUTCOMES[0])


@dataclass(frozen=True)
class TrackRecord:
    """How often a source's stances matched the resolutions known by some ``as_of``."""

    matched: float = 0
    missed: float = 0


#: The sources' track records as they stood at a moment of valid time.
RecordsAt = Callable[[datetime], Mapping[str, TrackRecord]]


def track_records(history: Iterable[ResolvedStance], as_of: datetime) -> dict[str, TrackRecord]:
    """Each source's record on claims resolved by ``as_of``: nothing resolved later counts.
    (Summed exactly rounded, so a record does not depend on the order of its stances.)"""
    counts: dict[str, tuple[list[float], list[float]]] = {}
    for stance in history:
        if stance.resolved_at <= as_of:
            tally = counts.setdefault(stance.source, ([], []))
            tally[0 if stance.matched else 1].append(stance_weight(stance, as_of))
    return {
        source: TrackRecord(math.fsum(matched), math.fsum(missed))
        for source, (matched, missed) in sorted(counts.items())
    }


def stance_weight(stance: ResolvedStance, moment: datetime) -> float:
    """How much a stance counts in its source's record at ``moment`` (after its claim's
    resolution): 1/2 per ``RECORD_HALF_LIFE_DAYS`` since."""
    age = (moment - stance.resolved_at).total_seconds() / 86400
    return float(0.5 ** (age / RECORD_HALF_LIFE_DAYS))


#: A stance counts in its source's record if it was taken at least this long before its
#: claim's resolution: the latest position a day before, as ``claims-ledger evaluate`` asks.
RECORD_LEAD = timedelta(days=1)


def resolution_of(statements: Iterable[Statement]) -> Statement | None:
    """The resolution in force: the latest ``resolved`` its own source has not retracted."""
    items = list(statements)
    withdrawn = _withdrawn(items)
    resolutions = [
        item
        for item in items
        if item.type == StatementType.RESOLVED and item.event_id not in withdrawn
    ]
    return max(resolutions, key=lambda item: (item.at, item.position), default=None)


def positions(evidence: Iterable[Statement]) -> dict[str, Statement]:
    """Each source's latest position (asserted, denied, assessed) not retracted by it."""
    items = sorted(evidence, key=lambda item: (item.at, item.position, item.event_id))
    withdrawn = _withdrawn(items)
    latest: dict[str, Statement] = {}
    for item in items:
        if item.rule.stance and item.event_id not in withdrawn:
            latest[item.speaker] = item
    return latest


def _withdrawn(items: Sequence[Statement]) -> set[str | None]:
    by_id = {item.event_id: item for item in items}
    return {
        item.supersedes
        for item in items
        if item.type == StatementType.RETRACTED
        and item.supersedes in by_id
        and by_id[item.supersedes].source == item.source
    }


def stance_value(item: Statement) -> float:
    """1 for an assertion, 0 for a denial, the likelihood of an assessment."""
    if item.type == StatementType.ASSERTED:
        return 1.0
    if item.type == StatementType.DENIED:
        return 0.0
    return float(item.likelihood if item.likelihood is not None else 0.5)


def stances_on(
    evidence: Iterable[Statement], outcome: str, resolved_at: datetime
) -> list[ResolvedStance]:
    """The sources' latest stances in ``evidence`` on a claim resolved as ``outcome`` at
    ``resolved_at`` (an even 0.5 takes no side)."""
    return [
        ResolvedStance(source, stance_value(item) > 0.5, outcome, resolved_at)
        for source, item in sorted(positions(evidence).items())
        if stance_value(item) != 0.5
    ]


def resolved_stances(statements: Sequence[Statement]) -> list[ResolvedStance]:
    """What one claim's statements in scope add to the sources' records: nothing if it is
    not resolved in them; else each source's latest stance ``RECORD_LEAD`` before the
    resolution in force, with its outcome and date."""
    resolution = resolution_of(statements)
    if resolution is None:
        return []
    try:
        cut = resolution.at - RECORD_LEAD
    except OverflowError:  # resolved within RECORD_LEAD of year 1: nothing is before it
        return stances_on([], str(resolution.outcome), resolution.at)
    before = [item for item in statements if item.at <= cut]
    return stances_on(before, str(resolution.outcome), resolution.at)


#: One claim's stances in its sources' records while one resolution of it is in force:
#: (from, until or None, the stance).
RecordEntry = tuple[datetime, datetime | None, ResolvedStance]


def record_entries(statements: Iterable[Statement]) -> list[RecordEntry]:
    """What one claim adds to its sources' records, over valid time: from each moment a
    resolution comes into force (or a retraction changes which one is), the stances
    ``resolved_stances`` finds in the statements up to then, as
    ``ledger.replay.RecordBook`` reads them at any moment."""
    items = sorted(
        (statement for statement in statements if not unweighable(statement)),
        key=lambda item: (item.at, item.position, item.event_id),
    )
    resolved = [item.at for item in items if item.type == StatementType.RESOLVED]
    if not resolved:
        return []
    # Before its first resolution a claim adds nothing; after it, each resolution, and each
    # retraction (of a resolution, or of what one rested on), may change what it adds.
    turns = sorted(
        {
            statement.at
            for statement in items
            if statement.type == StatementType.RESOLVED
            or (statement.type == StatementType.RETRACTED and statement.at >= resolved[0])
        }
    )
    spans: list[tuple[datetime, list[ResolvedStance]]] = []
    for turn in turns:
        stances = resolved_stances([item for item in items if item.at <= turn])
        if (spans[-1][1] if spans else []) != stances:
            spans.append((turn, stances))
    entries: list[RecordEntry] = []
    for i, (since, stances) in enumerate(spans):
        until = spans[i + 1][0] if i + 1 < len(spans) else None
        entries.extend((since, until, stance) for stance in stances)
    return entries


def record_factor(grade: str, record: TrackRecord) -> tuple[float, float, float]:
    """(prior accuracy, posterior accuracy, weight factor) of a source rated ``grade``."""
    prior = 1.0 / (1.0 + math.exp(-STATEMENT_WEIGHT[grade]))
    seen = record.matched + record.missed
    posterior = (prior * PRIOR_STANCES + record.matched) / (PRIOR_STANCES + seen)
    if seen == 0:
        return prior, posterior, 1.0
    heard = max(posterior, 0.5)
    factor = math.log(heard / (1.0 - heard)) / math.log(prior / (1.0 - prior))
    return prior, posterior, min(max(factor, 0.0), MAX_RECORD_FACTOR)


def assess(
    evidence: Iterable[Statement],
    sources: Mapping[str, SourceStanding],
    parties: Collection[str],
    beneficiaries: Collection[str] = (),
    *,
    track_records: RecordsAt | Mapping[str, TrackRecord] | None = None,
) -> Credibility:
    """The credibility of one claim from the evidence in scope (see the module's notes).

    ``track_records``: the sources' records as they stood at a moment of valid time
    (``track_records(history, moment)``), asked for at each counted statement's
    ``occurred_at``; a mapping is the records at every moment; none means every source's
    grade alone.
    """
    records = _records_at(track_records)
    items = _canonical(evidence)
    standings = _standings(sources, items)
    reasons: dict[str, str] = {}
    withdrawn = _apply_retractions(items, standings, reasons)

    latest, resolution, superseded = _select(items, withdrawn)
    _explain_superseded(superseded, reasons)
    counted = [item for item in items if latest.get(item.speaker) is item]
    by_id = {item.event_id: item for item in items}
    weighed = [
        _relayed(
            _weigh(item, standings[item.speaker], parties, beneficiaries, records), by_id
        )
        for item in counted
    ]
    positions = _early(weighed, _first_support(items, latest, withdrawn))
    pooling = (
        f"; the pooled log-odds are multiplied by the extremizing factor {EXTREMIZING:g}"
        if EXTREMIZING != 1.0
        else ""
    )
    return conclude(
        items,
        standings,
        reasons,
        positions,
        _pooled_steps(positions),
        resolution,
        MODEL_VERSION,
        pooling,
    )


def weigh(
    item: Statement,
    standing: SourceStanding,
    parties: Collection[str],
    beneficiaries: Collection[str],
    record: TrackRecord | None,
) -> tuple[str, float]:
    """A counted position's witness group and its log-odds with its source's ``record``
    when it was made, interest and relay included, before the early-report caution
    (``early``), which depends on the claim's other positions."""
    records = {} if record is None else {item.speaker: record}
    position = _relayed(
        _weigh(item, standing, parties, beneficiaries, lambda moment: records), {}
    )
    return position.group, position.weight


def early(weight: float, since: datetime | None, start: datetime | None) -> float:
    """The early-report caution on a position of ``weight`` whose source first asserted the
    claim at ``since`` (None: its position is not an assertion), the claim's first report
    being at ``start``."""
    if weight <= 0.0 or EARLY_FACTOR == 1.0 or not is_early(since, start):
        return weight
    return weight * EARLY_FACTOR


def is_early(since: datetime | None, start: datetime | None) -> bool:
    """Whether an assertion its source first made at ``since`` is an early report of a
    story that broke at ``start`` (less than ``EARLY_DAYS`` after it)."""
    if since is None or start is None:
        return False
    return (since - start).total_seconds() / 86400 < EARLY_DAYS


def _records_at(found: RecordsAt | Mapping[str, TrackRecord] | None) -> RecordsAt:
    if found is None:
        return lambda moment: {}
    if isinstance(found, Mapping):
        return lambda moment: found
    return found


def _weigh(
    item: Statement,
    standing: SourceStanding,
    parties: Collection[str],
    beneficiaries: Collection[str],
    records: RecordsAt,
) -> _Position:
    speaker, grade = _speaker(standing), standing.reliability
    if item.type == StatementType.ASSESSED:
        likelihood = float(item.likelihood or 0.5)
        logit = math.log(likelihood / (1.0 - likelihood))
        factor = ASSESSOR_FACTOR[grade]
        confidence = CONFIDENCE_FACTOR[item.confidence or "moderate"]
        weight, kind = logit * factor * confidence, "assessment"
        account = (
            f"{speaker} assessed the claim {band_for(likelihood)} ({likelihood:g}) with"
            f" {item.confidence or 'no stated'} confidence: logit {_num(logit)} x{factor:g}"
            f" for an assessor rated {grade} x{confidence:g} for"
            f" {item.confidence or 'moderate (assumed)'} confidence = {_num(weight)} log-odds"
        )
    else:
        sign = 1.0 if item.type == StatementType.ASSERTED else -1.0
        weight = STATEMENT_WEIGHT[grade] * sign
        kind = "assertion" if sign > 0 else "denial"
        account = (
            f"{speaker} {item.type} the claim: reliability {grade} gives {_num(weight)} log-odds"
        )
    record = records(item.at).get(item.speaker)
    if record is not None and record.matched + record.missed:
        prior, posterior, scale = record_factor(grade, record)
        weight *= scale
        account += (
            f"; its record when it said so ({item.at:%Y-%m-%d}) on claims resolved by then,"
            f" {record.matched:.3g} matched and {record.missed:.3g} missed (a stance counts"
            f" 1/2 per {RECORD_HALF_LIFE_DAYS:g} days between its claim's resolution and"
            " this statement), moves its accuracy from"
            f" {prior:.3f} (grade"
            f" {grade}, worth {PRIOR_STANCES:g} stances) to {posterior:.3f}, so it counts"
            f" x{scale:.3f} (between 0 and {MAX_RECORD_FACTOR:g}): {_num(weight)} log-odds"
        )
    affiliation = standing.affiliation
    if affiliation is not None and affiliation in parties and weight != 0.0:
        multiplier = SELF_SERVING if weight < 0 else AGAINST_INTEREST
        weight *= multiplier
        why = (
            f"a self-serving {kind}" if weight < 0
            else f"{a_or_an(kind)} {kind} against its interest"
        )
        account += (
            f"; {affiliation} is a party to the claim, so {why}"
            f" counts x{multiplier:g}: {_num(weight)} log-odds"
        )
    elif affiliation is not None and affiliation in beneficiaries and weight != 0.0:
        multiplier = SELF_SERVING_ACCUSATION if weight > 0 else AGAINST_INTEREST
        weight *= multiplier
        why = (
            f"a self-serving {kind}" if weight > 0
            else f"{a_or_an(kind)} {kind} against its interest"
        )
        account += (
            f"; {affiliation} gains if the claim is believed, so {why}"
            f" counts x{multiplier:g}: {_num(weight)} log-odds"
        )
    group = f"affiliation:{affiliation}" if affiliation is not None else f"source:{item.speaker}"
    return _Position(item, group, affiliation, weight, account)


def _relayed(position: _Position, by_id: Mapping[str, Statement]) -> _Position:
    """A relay adds no independent weight: it counts x``RELAY_FACTOR``, whether or not the
    statement it repeats is in scope (so its weight never depends on another source's)."""
    relayed_id = position.item.relays
    if relayed_id is None or position.weight == 0.0:
        return position
    weight = position.weight * RELAY_FACTOR
    relayed = by_id.get(relayed_id)
    whose = "" if relayed is None or relayed.source is None else f" by {relayed.source}"
    note = (
        f"; it relays event {relayed_id}{whose}, which it repeats, so it adds no"
        f" independent weight: a relay counts x{RELAY_FACTOR:g}: {_num(weight)} log-odds"
    )
    return replace(position, weight=weight, account=position.account + note)


def _reports(item: Statement) -> bool:
    """Whether a statement reports the claim as true: an assertion. (An assessment is an
    analytic judgement, not a report: it is never early.)"""
    return item.type == StatementType.ASSERTED


def _first_support(
    items: Sequence[Statement], latest: Mapping[str, Statement], withdrawn: Collection[str]
) -> dict[str, datetime]:
    """When each source that asserts the claim now first said so: its earliest assertion in
    scope that it has not withdrawn (a source whose position now is a denial or an
    assessment has none)."""
    first: dict[str, datetime] = {}
    for item in items:  # in valid-time order: the first seen is the earliest
        if (
            item.rule.stance
            and item.event_id not in withdrawn
            and item.speaker in latest
            and _reports(latest[item.speaker])
            and _reports(item)
        ):
            first.setdefault(item.speaker, item.at)
    return first


def _early(positions: Sequence[_Position], first: Mapping[str, datetime]) -> list[_Position]:
    """The early-report caution: the claim's story starts with its first assertion by a
    source that still asserts it (``first``); an assertion its source first made less than
    ``EARLY_DAYS`` after that counts x``EARLY_FACTOR``. Denials and assessments are never
    early. (Starting the story at the claim's ``alleged_at`` instead was measured and not
    kept: docs/evaluation.md.)"""
    if not first or EARLY_FACTOR == 1.0:
        return list(positions)
    start = min(first.values())
    found = []
    for position in positions:
        since = first.get(position.item.speaker)
        weight = early(position.weight, since, start)
        if since is None or weight == position.weight:
            found.append(position)
            continue
        days = (since - start).total_seconds() / 86400
        repeated = "" if since == position.item.at else f" (first on {since:%Y-%m-%d})"
        note = (
            f"; asserted{repeated} {days:g} days after the claim's first report"
            f" ({start:%Y-%m-%d}), less than {EARLY_DAYS:g} day: an early report counts"
            f" x{EARLY_FACTOR:g}: {_num(weight)} log-odds"
        )
        found.append(replace(position, weight=weight, account=position.account + note))
    return found


def _pooled_steps(positions: Sequence[_Position]) -> list[float]:
    """The pooled probability of the first k positions, for k = 1 .. n, discounts included."""
    voices: dict[tuple[str, bool], list[float]] = {}
    totals: dict[tuple[str, bool], float] = {}
    steps = []
    for position in positions:
        side = (position.group, position.weight > 0)
        bisect.insort(voices.setdefault(side, []), -abs(position.weight))
        magnitude = math.fsum(-voice * 0.5**rank for rank, voice in enumerate(voices[side]))
        totals[side] = magnitude if position.weight > 0 else -magnitude
        steps.append(_probability(math.fsum(totals.values())))
    return steps


def _probability(log_odds: float) -> float:
    bounded = min(max(log_odds * EXTREMIZING, -_MAX_LOG_ODDS), _MAX_LOG_ODDS)
    probability = 0.01 + 0.98 / (1.0 + math.exp(-bounded))
    return min(max(_round(probability), _LOWEST), _HIGHEST)
