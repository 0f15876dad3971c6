"""The credibility model, version 1: how far the evidence in scope supports one claim.

``assess`` is a pure function of the evidence, the sources' standing and the claim's parties
(no store, clock or framework), so a replay at any (as_of, known_at) gives the same bytes.
Statements are sorted by valid time (``occurred_at``), ties broken by recording order
(``position``); a source may retract its own statements; only
each source's latest position counts, weighed in log-odds by its Admiralty reliability; a
party to the claim counts x0.25 speaking in its own favour and x2 against its interest;
voices of one affiliation are not independent, so on each side the strongest counts in full,
the next at 1/2, then 1/4 ...; the pool is p = 0.01 + 0.98 * sigmoid(sum), and a resolution
overrides it. Every event gets a ``Contribution``: the move it made when it arrived in date
order, and a sentence naming every number and multiplier used.
"""

import bisect
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC

from ledger.likelihood import band_for
from ledger.statements import (
    CONFIDENCE_LEVELS,
    EVIDENCE_TYPES,
    OUTCOMES,
    RELIABILITY_GRADES,
    Statement,
    a_or_an,
)

MODEL_VERSION = "credibility-v1"

# Log-odds of a plain statement by the speaker's rating. F means "cannot be judged", not
# "unreliable", so an unrated source is heard like a D rather than below an E.
STATEMENT_WEIGHT = {"A": 1.6, "B": 1.2, "C": 0.8, "D": 0.5, "E": 0.25, "F": 0.5}
# Share of an assessment's own log-odds the ledger adopts, by the assessor's rating.
ASSESSOR_FACTOR = {"A": 1.0, "B": 0.9, "C": 0.7, "D": 0.5, "E": 0.3, "F": 0.5}
CONFIDENCE_FACTOR = {"high": 1.0, "moderate": 0.85, "low": 0.6}
SELF_SERVING = 0.25  # a party saying what serves it risks nothing by saying it
AGAINST_INTEREST = 2.0  # a party admitting what harms it had every reason not to
# A beneficiary (whose cause gains if the claim is believed) accusing the parties says what
# suits it: it is heard, but at half weight; a beneficiary denying it speaks against its
# interest, and counts double.
SELF_SERVING_ACCUSATION = 0.5
RESOLVED_PROBABILITY = {"confirmed": 0.995, "refuted": 0.005}
# Short of a resolution the probability must stay strictly inside (0.01, 0.99) even after
# rounding to 6 decimals (law 7), however lopsided the evidence.
_LOWEST, _HIGHEST = 0.010001, 0.989999
_MAX_LOG_ODDS = 50.0  # only keeps math.exp from overflowing; the bounds above bind first
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_Ranks = Mapping[str, tuple[int, tuple[str, ...]]]  # event_id -> (rank, stronger voices)


class InvalidEvidence(ValueError):
    """A statement the model cannot weigh: a caller's bug, as the ledger validates on append."""


@dataclass(frozen=True)
class SourceStanding:
    """A source as it stood at (as_of, known_at)."""

    source_id: str
    name: str
    affiliation: str | None  # e.g. "UA", "RU", "KR"; None = unaffiliated
    reliability: str  # Admiralty "A".."F"

    def __post_init__(self) -> None:
        if self.reliability not in RELIABILITY_GRADES:
            raise InvalidEvidence(f"source {self.source_id!r}: reliability must be one of A-F")


def unweighable(item: Statement) -> str | None:
    """Why the model cannot weigh ``item`` (a caller's bug: the ledger checks on append)."""
    likelihood = item.likelihood
    if item.type not in EVIDENCE_TYPES:
        return f"type {item.type!r} is not one of {', '.join(EVIDENCE_TYPES)}"
    if item.source is None:
        return "it has no source"
    if item.occurred_at is None or item.occurred_at.utcoffset() is None:
        return "occurred_at has no time zone"
    if item.type == "assessed" and (
        isinstance(likelihood, bool)
        or not isinstance(likelihood, int | float)
        or not 0.0 < likelihood < 1.0
    ):
        return f"likelihood {likelihood!r} is not a number strictly between 0 and 1"
    if item.type == "assessed" and item.confidence not in (None, *CONFIDENCE_LEVELS):
        return f"confidence {item.confidence!r} is not one of {', '.join(CONFIDENCE_LEVELS)}"
    if item.type == "resolved" and item.outcome not in OUTCOMES:
        return f"outcome {item.outcome!r} is not one of {', '.join(OUTCOMES)}"
    if item.type == "retracted" and not item.supersedes:
        return "a retraction must name the event it withdraws in supersedes"
    return None


@dataclass(frozen=True)
class Contribution:
    """One event's part in the answer, in two numbers that cannot be confused, and why.

    ``delta``: the move the event made on arrival, in probability: the counted positions
    taken one by one in date order (valid time, then recording order), it is the pooled
    probability just after it minus just before it (for the resolution: the resolved
    probability minus the pool it overrides), so the deltas add up to the final
    probability minus 0.5. ``log_odds``: the event's weight in the current pool, after
    every multiplier and discount (0 for an event that does not count now: superseded,
    withdrawn, a retraction, a resolution, which overrides the pool rather than adding to
    it). ``reason`` explains ``log_odds``: its last number is that weight.
    """

    event_id: str
    source: str
    type: str
    delta: float
    log_odds: float
    reason: str


@dataclass(frozen=True)
class Credibility:
    """The model's answer for one claim at one (as_of, known_at)."""

    probability: float
    band: str  # the ICD 203 term the probability falls in
    status: str  # unverified / contested / leaning true / leaning false / confirmed / refuted
    grade: int  # Admiralty information credibility, 1 (confirmed) .. 6 (cannot be judged)
    model: str
    contributions: tuple[Contribution, ...]

    def to_dict(self) -> dict[str, object]:
        # Built by hand: dataclasses.asdict deep-copies every field and dominated the
        # cost of answering an append on a long claim.
        return {
            "probability": self.probability,
            "band": self.band,
            "status": self.status,
            "grade": self.grade,
            "model": self.model,
            "contributions": [
                {
                    "event_id": c.event_id,
                    "source": c.source,
                    "type": c.type,
                    "delta": c.delta,
                    "log_odds": c.log_odds,
                    "reason": c.reason,
                }
                for c in self.contributions
            ],
        }


@dataclass(frozen=True)
class _Position:
    """A counted position, weighed but not yet discounted for non-independence."""

    item: Statement
    group: str  # positions sharing a group are one witness, not several
    affiliation: str | None
    weight: float  # log-odds after the interest multiplier
    account: str  # the reason, so far


def assess(
    evidence: Iterable[Statement],
    sources: Mapping[str, SourceStanding],
    parties: Collection[str],
    beneficiaries: Collection[str] = (),
) -> Credibility:
    """Compute the credibility of one claim from the evidence in scope.

    ``parties`` are the affiliations whose conduct the claim alleges; ``beneficiaries``
    those whose cause gains if it is believed (e.g. ``UA`` for a claim against ``RU``).
    """
    items = _canonical(evidence)
    standings = _standings(sources, items)
    reasons: dict[str, str] = {}
    withdrawn = _apply_retractions(items, standings, reasons)

    latest, resolution, superseded = _select(items, withdrawn)
    _explain_superseded(superseded, reasons)

    positions = [
        _weigh(item, standings[item.speaker], parties, beneficiaries)
        for item in items
        if latest.get(item.speaker) is item
    ]
    return conclude(
        items, standings, reasons, positions, _pooled_steps(positions), resolution, MODEL_VERSION
    )


def conclude(
    items: Sequence[Statement],
    standings: Mapping[str, SourceStanding],
    reasons: dict[str, str],
    positions: Sequence[_Position],
    steps: Sequence[float],
    resolution: Statement | None,
    model: str,
    pooling: str = "",
) -> Credibility:
    """The answer from the weighed positions: each one's rank among its group's voices,
    its delta (the move it made arriving in date order: ``steps`` holds the pooled
    probability after each), its log-odds in the pool now, the resolution's override, the
    status and grade, and every event's contribution. ``pooling`` ends the reason of every
    counted position (what the model does to the pooled sum, if anything)."""
    ranks = _ranks(positions)
    finals = {p.item.event_id: p.weight * 0.5 ** ranks[p.item.event_id][0] for p in positions}
    for position in positions:
        reasons[position.item.event_id] = (
            position.account
            + _discount_note(position, ranks)
            + ", its weight in the pool now"
            + pooling
        )
    deltas: dict[str, float] = {}
    pooled = _probability(0.0)
    for position, step in zip(positions, steps, strict=True):
        deltas[position.item.event_id] = _round(step - pooled)
        pooled = step
    probability, outcome = pooled, None
    if resolution is not None:
        outcome = str(resolution.outcome)
        probability = RESOLVED_PROBABILITY[outcome]
        deltas[resolution.event_id] = _round(probability - pooled)
        reasons[resolution.event_id] = (
            f"{_speaker(standings[resolution.speaker])} resolved the claim as {outcome}: ground"
            f" truth overrides the pooled {pooled:g} and sets the probability to {probability:g};"
            " it adds no log-odds to the pool"
        )
    supporting = {p.group for p in positions if finals[p.item.event_id] > 0}
    status, grade = _verdict(probability, outcome, list(finals.values()), len(supporting))
    for item in items:
        if item.corrected_by:
            reasons[item.event_id] += f" (as corrected by event {item.corrected_by})"
    contributions = tuple(
        Contribution(
            event_id=i.event_id,
            source=i.speaker,
            type=i.type,
            delta=deltas.get(i.event_id, 0.0),
            log_odds=0.0 if (final := finals.get(i.event_id)) is None else _round(final),
            reason=reasons[i.event_id],
        )
        for i in items
    )
    return Credibility(probability, band_for(probability), status, grade, model, contributions)


def summarize(
    evidence: Iterable[Statement],
    sources: Mapping[str, SourceStanding],
    parties: Collection[str],
    beneficiaries: Collection[str] = (),
) -> tuple[float, str, str, int]:
    """``assess``'s probability, band, status and grade, without explaining them."""
    items = _canonical(evidence)
    standings = _standings(sources, items)
    withdrawn = _apply_retractions(items, standings, {})
    latest, resolution, _ = _select(items, withdrawn)
    weighed = [
        (item.event_id, *weigh(item, standings[item.speaker], parties, beneficiaries))
        for item in items
        if latest.get(item.speaker) is item
    ]
    return pool(weighed, None if resolution is None else str(resolution.outcome))


def weigh(
    item: Statement,
    standing: SourceStanding,
    parties: Collection[str],
    beneficiaries: Collection[str] = (),
) -> tuple[str, float]:
    """A counted position's witness group and its log-odds, interest included."""
    return _group(item, standing), _weight(item, standing, parties, beneficiaries)


def pool(
    weighed: Sequence[tuple[str, str, float]], outcome: str | None
) -> tuple[float, str, str, int]:
    """Probability, band, status and grade of the counted positions and the resolution.

    ``weighed`` holds each counted position's (event id, witness group, log-odds); the
    voices of a group on one side count 1, 1/2, 1/4 ... strongest first (ties by event id),
    pooled in log-odds; a resolution's ``outcome`` overrides the pool. ``assess`` gives the
    same four values and explains them.
    """
    voices: dict[tuple[str, bool], list[tuple[float, str]]] = {}
    for event_id, group, weight in weighed:
        voices.setdefault((group, weight > 0), []).append((-abs(weight), event_id))
    totals, finals, supporting = [], [], set()
    for (group, positive), side in voices.items():
        side.sort()
        magnitude = math.fsum(-voice * 0.5**rank for rank, (voice, _) in enumerate(side))
        totals.append(magnitude if positive else -magnitude)
        for rank, (voice, _) in enumerate(side):
            final = (-voice if positive else voice) * 0.5**rank
            finals.append(final)
            if final > 0:
                supporting.add(group)
    probability = _probability(math.fsum(totals))
    if outcome is not None:
        probability = RESOLVED_PROBABILITY[outcome]
    status, grade = _verdict(probability, outcome, finals, len(supporting))
    return probability, band_for(probability), status, grade


def pooled_sides(
    totals: Mapping[tuple[str, bool], float], outcome: str | None
) -> tuple[float, str, str, int]:
    """``pool`` of one voice a side: ``totals`` holds each (witness group, in favour) side's
    pooled log-odds (as ``pool`` sums it, signed). The same four values as ``pool`` over
    those voices, without regrouping and re-sorting them."""
    finals = list(totals.values())
    probability = _probability(math.fsum(finals))
    if outcome is not None:
        probability = RESOLVED_PROBABILITY[outcome]
    supporting = len({group for (group, _), total in totals.items() if total > 0})
    status, grade = _verdict(probability, outcome, finals, supporting)
    return probability, band_for(probability), status, grade


def _select(
    items: Sequence[Statement], withdrawn: set[str]
) -> tuple[dict[str, Statement], Statement | None, list[tuple[Statement, Statement]]]:
    """Each source's latest position, the latest resolution, and what they superseded."""
    latest: dict[str, Statement] = {}
    resolution: Statement | None = None
    superseded: list[tuple[Statement, Statement]] = []
    for item in reversed(items):  # latest first, by (occurred_at, position)
        if item.event_id in withdrawn or item.type == "retracted":
            continue
        if item.type == "resolved" and resolution is None:
            resolution = item
        elif item.type == "resolved":
            assert resolution is not None
            superseded.append((item, resolution))
        elif item.speaker not in latest:
            latest[item.speaker] = item
        else:
            superseded.append((item, latest[item.speaker]))
    return latest, resolution, superseded


def _canonical(evidence: Iterable[Statement]) -> list[Statement]:
    evidence = list(evidence)
    for item in evidence:
        problem = unweighable(item)
        if problem:
            raise InvalidEvidence(f"event {item.event_id!r}: {problem}")
    # Valid time first; among equal times the later recorded is the later (law 3).
    items = sorted(evidence, key=lambda item: (item.occurred_at, item.position, item.event_id))
    if len({item.event_id for item in items}) < len(items):  # the order would not be total
        raise InvalidEvidence("an event_id appears more than once in the evidence")
    return items


def _standings(
    sources: Mapping[str, SourceStanding], items: Sequence[Statement]
) -> dict[str, SourceStanding]:
    """Each speaker's standing, looked up once per speaker (a long claim repeats a few)."""
    return {speaker: _standing(sources, speaker) for speaker in {i.speaker: 0 for i in items}}


def _explain_superseded(
    superseded: Sequence[tuple[Statement, Statement]], reasons: dict[str, str]
) -> None:
    """The reason of every statement a later one superseded (``_select``'s pairs)."""
    refs: dict[str, str] = {}  # many statements name the same later one
    for item, by in superseded:
        ref = refs.get(by.event_id)
        if ref is None:
            ref = refs[by.event_id] = _ref(by)
        reasons[item.event_id] = (
            f"superseded by later resolution {ref}"
            if item.type == "resolved"
            else f"superseded by this source's later statement {ref}:"
            " only a source's latest position counts"
        )


def _standing(sources: Mapping[str, SourceStanding], source_id: str) -> SourceStanding:
    # A source missing from the mapping is heard as any unrated source is: at F.
    fallback = SourceStanding(source_id, f"unregistered source {source_id}", None, "F")
    return sources.get(source_id) or fallback


def _apply_retractions(
    items: Sequence[Statement], standings: Mapping[str, SourceStanding], reasons: dict[str, str]
) -> set[str]:
    """Explain every retraction in ``reasons``; return the event ids actually withdrawn."""
    by_id = {item.event_id: item for item in items}
    withdrawn: set[str] = set()
    for item in (item for item in items if item.type == "retracted"):
        speaker, target = _speaker(standings[item.speaker]), by_id.get(item.supersedes or "")
        if target is None:
            reason = f"withdraws event {item.supersedes}, which is not in scope: ignored"
        elif target.speaker != item.speaker:
            reason = (
                f"cannot withdraw event {target.event_id}, a statement by"
                f" {standings[target.speaker].name}: a source may withdraw only its own; ignored"
            )
        elif target.type == "retracted":  # undoing an undo needs rules v1 does not have
            reason = f"withdraws retraction {target.event_id}, which v1 cannot undo: ignored"
        elif target.event_id in withdrawn:
            reason = f"withdraws event {target.event_id}, already withdrawn earlier"
        else:
            withdrawn.add(target.event_id)
            reason = f"withdraws event {_ref(target)}"
            reasons[target.event_id] = (
                f"withdrawn by {standings[item.speaker].name} in event {_ref(item)},"
                " so it no longer counts"
            )
        reasons[item.event_id] = f"{speaker} {reason}"
    return withdrawn


def _weigh(
    item: Statement,
    standing: SourceStanding,
    parties: Collection[str],
    beneficiaries: Collection[str] = (),
) -> _Position:
    speaker, grade = _speaker(standing), standing.reliability
    if item.type == "assessed":
        likelihood = float(item.likelihood or 0.5)  # never None: checked on construction
        logit = math.log(likelihood / (1.0 - likelihood))
        factor = ASSESSOR_FACTOR[grade]
        confidence = CONFIDENCE_FACTOR[item.confidence or "moderate"]  # unstated reads moderate
        stated = f"{item.confidence or 'no stated'} confidence"
        weight, kind = _stated_weight(item, grade), "assessment"
        account = (
            f"{speaker} assessed the claim {band_for(likelihood)} ({likelihood:g}) with {stated}:"
            f" logit {_num(logit)} x{factor:g} for an assessor rated {grade}"
            f" x{confidence:g} for {item.confidence or 'moderate (assumed)'} confidence"
            f" = {_num(weight)} log-odds"
        )
    else:
        weight = _stated_weight(item, grade)
        kind = "assertion" if item.type == "asserted" else "denial"
        account = (
            f"{speaker} {item.type} the claim: reliability {grade} gives {_num(weight)} log-odds"
        )
    affiliation = standing.affiliation
    multiplier = _interest(weight, affiliation, parties, beneficiaries)
    if affiliation is not None and affiliation in parties and weight != 0.0:
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
        weight *= multiplier
        why = (
            f"a self-serving {kind}" if weight > 0
            else f"{a_or_an(kind)} {kind} against its interest"
        )
        account += (
            f"; {affiliation} gains if the claim is believed, so {why}"
            f" counts x{multiplier:g}: {_num(weight)} log-odds"
        )
    return _Position(item, _group(item, standing), affiliation, weight, account)


def _stated_weight(item: Statement, grade: str) -> float:
    """The log-odds of a position before any interest multiplier."""
    if item.type == "assessed":
        likelihood = float(item.likelihood or 0.5)
        logit = math.log(likelihood / (1.0 - likelihood))
        return logit * ASSESSOR_FACTOR[grade] * CONFIDENCE_FACTOR[item.confidence or "moderate"]
    return STATEMENT_WEIGHT[grade] * (1.0 if item.type == "asserted" else -1.0)


def _interest(
    weight: float,
    affiliation: str | None,
    parties: Collection[str],
    beneficiaries: Collection[str],
) -> float:
    """The multiplier a speaker's interest puts on a position of ``weight`` (1: none)."""
    # Parties are those whose conduct the claim alleges, so "false" is what suits them.
    if affiliation is not None and affiliation in parties and weight != 0.0:
        return SELF_SERVING if weight < 0 else AGAINST_INTEREST
    if affiliation is not None and affiliation in beneficiaries and weight != 0.0:
        return SELF_SERVING_ACCUSATION if weight > 0 else AGAINST_INTEREST
    return 1.0


def _weight(
    item: Statement,
    standing: SourceStanding,
    parties: Collection[str],
    beneficiaries: Collection[str],
) -> float:
    """A position's log-odds, interest included (what ``_weigh`` explains)."""
    weight = _stated_weight(item, standing.reliability)
    return weight * _interest(weight, standing.affiliation, parties, beneficiaries)


def _group(item: Statement, standing: SourceStanding) -> str:
    """Positions sharing a group are one witness, not several."""
    affiliation = standing.affiliation
    return f"affiliation:{affiliation}" if affiliation is not None else f"source:{item.speaker}"


def _ranks(positions: Sequence[_Position]) -> _Ranks:
    """Each position's rank among its group's voices on the same side, and who is ahead."""
    sides: dict[tuple[str, bool], list[_Position]] = {}
    for position in positions:
        sides.setdefault((position.group, position.weight > 0), []).append(position)
    ranks: dict[str, tuple[int, tuple[str, ...]]] = {}
    for voices in sides.values():
        voices.sort(key=lambda voice: (-abs(voice.weight), voice.item.event_id))
        ahead = tuple(voice.item.event_id for voice in voices)
        for rank, voice in enumerate(voices):
            ranks[voice.item.event_id] = (rank, ahead[:rank])
    return ranks


def _discount_note(position: _Position, ranks: _Ranks) -> str:
    rank, ahead = ranks[position.item.event_id]
    if rank == 0 or position.weight == 0.0:
        return ""
    ordinal = _ORDINALS[rank] if rank < len(_ORDINALS) else f"{rank + 1}th"
    return (
        f"; {ordinal} voice from {position.affiliation} on this side (after {', '.join(ahead)}),"
        f" not an independent witness: counted at 1/{2**rank}:"
        f" {_num(position.weight * 0.5**rank)} log-odds"
    )


def _pooled_steps(positions: Sequence[_Position]) -> list[float]:
    """The pooled probability of the first k positions, for k = 1 .. n, discounts included."""
    voices: dict[tuple[str, bool], list[float]] = {}  # negated magnitudes: strongest first
    totals: dict[tuple[str, bool], float] = {}
    steps = []
    for position in positions:
        side = (position.group, position.weight > 0)
        bisect.insort(voices.setdefault(side, []), -abs(position.weight))
        # fsum is exactly rounded, so no total depends on the order its terms arrived in.
        magnitude = math.fsum(-voice * 0.5**rank for rank, voice in enumerate(voices[side]))
        totals[side] = magnitude if position.weight > 0 else -magnitude
        steps.append(_probability(math.fsum(totals.values())))
    return steps


def _probability(log_odds: float) -> float:
    bounded = min(max(log_odds, -_MAX_LOG_ODDS), _MAX_LOG_ODDS)
    probability = 0.01 + 0.98 / (1.0 + math.exp(-bounded))
    return min(max(_round(probability), _LOWEST), _HIGHEST)


def _verdict(
    probability: float, outcome: str | None, finals: Sequence[float], supporting: int
) -> tuple[str, int]:
    """The status and the Admiralty information-credibility grade (1-6)."""
    if outcome is not None:
        return outcome, 1 if outcome == "confirmed" else 5
    if not finals:
        return "unverified", 6  # nothing to judge by
    if probability >= 0.95 and supporting >= 2:  # confirmed by independent witnesses
        grade = 1
    else:
        thresholds = ((0.8, 2), (0.5, 3), (0.2, 4))
        grade = next((grade for floor, grade in thresholds if probability >= floor), 5)
    if probability >= 0.6:
        return "leaning true", grade
    if probability <= 0.4:
        return "leaning false", grade
    both_sides = any(final > 0 for final in finals) and any(final < 0 for final in finals)
    return ("contested" if both_sides else "unverified"), grade


def _speaker(standing: SourceStanding) -> str:
    affiliation = standing.affiliation or "unaffiliated"
    return f"{standing.name} ({affiliation}, reliability {standing.reliability})"


def _ref(item: Statement | None) -> str:
    return f"{item.event_id} of {item.at.astimezone(UTC):%Y-%m-%d}" if item else ""


def _num(log_odds: float) -> str:
    return f"{log_odds:+.4g}"


def _round(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0, which serialises the same
