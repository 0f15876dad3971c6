"""Pooling: how the weighed positions of one claim become one answer.

Voices of one witness group on one side count 1, 1/2, 1/4 ... strongest first (ties by
event id), summed in log-odds (``math.fsum``: exactly rounded, so no total depends on the
order its terms arrived in); the pool is p = 0.01 + 0.98 * sigmoid(scale * sum), bounded
strictly inside (0.01, 0.99) (law 7); a resolution overrides it. ``conclude`` explains an
answer; ``Voices`` keeps the pool up to date as positions change, at the cost of the
witness groups speaking, not of the events.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence

from ledger.credibility.selection import speaker
from ledger.credibility.values import (
    Contribution,
    Credibility,
    Position,
    SourceStanding,
    Summary,
    Voice,
)
from ledger.likelihood import band_for
from ledger.statements import Statement

RESOLVED_PROBABILITY = {"confirmed": 0.995, "refuted": 0.005}
# Short of a resolution the probability must stay strictly inside (0.01, 0.99) even after
# rounding to 6 decimals (law 7), however lopsided the evidence.
_LOWEST, _HIGHEST = 0.010001, 0.989999
_MAX_LOG_ODDS = 50.0  # only keeps math.exp from overflowing; the bounds above bind first
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
_Ranks = Mapping[str, tuple[int, tuple[str, ...]]]  # event_id -> (rank, stronger voices)
EVEN: Summary = (0.5, band_for(0.5), "unverified", 6)


def probability(log_odds: float, scale: float = 1.0) -> float:
    """The pooled probability of ``log_odds`` (times ``scale``, a version's extremizing)."""
    bounded = min(max(log_odds * scale, -_MAX_LOG_ODDS), _MAX_LOG_ODDS)
    found = 0.01 + 0.98 / (1.0 + math.exp(-bounded))
    return min(max(rounded(found), _LOWEST), _HIGHEST)


def pool(weighed: Sequence[Voice], outcome: str | None, scale: float = 1.0) -> Summary:
    """Probability, band, status and grade of the counted positions and the resolution.

    ``weighed`` holds each counted position's (event id, witness group, log-odds); a
    resolution's ``outcome`` overrides the pool. ``conclude`` gives the same four values
    and explains them.
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
    found = probability(math.fsum(totals), scale)
    if outcome is not None:
        found = RESOLVED_PROBABILITY[outcome]
    status, grade = verdict(found, outcome, finals, len(supporting))
    return found, band_for(found), status, grade


def pooled_sides(
    totals: Mapping[tuple[str, bool], float], outcome: str | None, scale: float = 1.0
) -> Summary:
    """``pool`` of one voice a side: ``totals`` holds each (witness group, in favour) side's
    pooled log-odds (as ``pool`` sums it, signed). The same four values as ``pool`` over
    those voices, without regrouping and re-sorting them."""
    finals = list(totals.values())
    found = probability(math.fsum(finals), scale)
    if outcome is not None:
        found = RESOLVED_PROBABILITY[outcome]
    supporting = len({group for (group, _), total in totals.items() if total > 0})
    status, grade = verdict(found, outcome, finals, supporting)
    return found, band_for(found), status, grade


class Voices:
    """The counted positions, weighed, as ``pool`` groups them.

    Each side's total is kept as its voices change, so a summary pools one voice a side:
    the same four values as ``pool`` (a side's total is its only voice's weight; the
    sides, their signs and the groups with a voice in favour are the same), at the cost of
    the number of sides, not of voices.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        #: Each speaker's counted position: (event id, witness group, log-odds).
        self.by_speaker: dict[str, Voice] = {}
        self._sides: dict[tuple[str, bool], list[tuple[float, str]]] = {}
        self._totals: dict[tuple[str, bool], float] = {}

    def set(self, speaker: str, entry: Voice | None) -> bool:
        """Count ``entry`` as the speaker's position (None: none); whether that changed."""
        old = self.by_speaker.get(speaker)
        if old == entry:
            return False
        if old is not None:
            del self.by_speaker[speaker]
            self._move(old, out=True)
        if entry is not None:
            self.by_speaker[speaker] = entry
            self._move(entry, out=False)
        return True

    def _move(self, entry: Voice, *, out: bool) -> None:
        event_id, group, weight = entry
        side = (group, weight > 0)
        voices = self._sides.setdefault(side, [])
        voice = (-abs(weight), event_id)
        if out:
            del voices[bisect.bisect_left(voices, voice)]
        else:
            bisect.insort(voices, voice)
        if not voices:
            del self._sides[side], self._totals[side]
            return
        total = math.fsum(-v * 0.5**rank for rank, (v, _) in enumerate(voices))
        self._totals[side] = total if side[1] else -total

    def fill(self, entries: Iterable[tuple[str, Voice]]) -> None:
        """Count each (speaker, entry) at once, in place of ``set`` one by one: each side
        is sorted and summed once. The speakers must have no position yet."""
        grown: set[tuple[str, bool]] = set()
        for speaker_id, entry in entries:
            self.by_speaker[speaker_id] = entry
            event_id, group, weight = entry
            side = (group, weight > 0)
            self._sides.setdefault(side, []).append((-abs(weight), event_id))
            grown.add(side)
        for side in grown:
            voices = self._sides[side]
            voices.sort()
            total = math.fsum(-v * 0.5**rank for rank, (v, _) in enumerate(voices))
            self._totals[side] = total if side[1] else -total

    def pooled(self, outcome: str | None) -> Summary:
        """Probability, band, status and grade, as ``pool`` answers for every counted voice."""
        return pooled_sides(self._totals, outcome, self.scale)


def pooled_steps(positions: Sequence[Position], scale: float = 1.0) -> list[float]:
    """The pooled probability of the first k positions, for k = 1 .. n, discounts included."""
    voices: dict[tuple[str, bool], list[float]] = {}  # negated magnitudes: strongest first
    totals: dict[tuple[str, bool], float] = {}
    steps = []
    for position in positions:
        side = (position.group, position.weight > 0)
        bisect.insort(voices.setdefault(side, []), -abs(position.weight))
        magnitude = math.fsum(-voice * 0.5**rank for rank, voice in enumerate(voices[side]))
        totals[side] = magnitude if position.weight > 0 else -magnitude
        steps.append(probability(math.fsum(totals.values()), scale))
    return steps


def conclude(
    items: Sequence[Statement],
    standings: Mapping[str, SourceStanding],
    reasons: dict[str, str],
    positions: Sequence[Position],
    resolution: Statement | None,
    model: str,
    scale: float = 1.0,
    pooling: str = "",
) -> Credibility:
    """The answer from the weighed positions: each one's rank among its group's voices,
    its delta (the move it made arriving in date order), its log-odds in the pool now, the
    resolution's override, the status and grade, and every event's contribution.
    ``pooling`` ends the reason of every counted position (what the version does to the
    pooled sum, if anything)."""
    steps = pooled_steps(positions, scale)
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
    pooled = probability(0.0, scale)
    for position, step in zip(positions, steps, strict=True):
        deltas[position.item.event_id] = rounded(step - pooled)
        pooled = step
    found, outcome = pooled, None
    if resolution is not None:
        outcome = str(resolution.outcome)
        found = RESOLVED_PROBABILITY[outcome]
        deltas[resolution.event_id] = rounded(found - pooled)
        reasons[resolution.event_id] = (
            f"{speaker(standings[resolution.speaker])} resolved the claim as {outcome}: ground"
            f" truth overrides the pooled {pooled:g} and sets the probability to {found:g};"
            " it adds no log-odds to the pool"
        )
    supporting = {p.group for p in positions if finals[p.item.event_id] > 0}
    status, grade = verdict(found, outcome, list(finals.values()), len(supporting))
    for item in items:
        if item.corrected_by:
            reasons[item.event_id] += f" (as corrected by event {item.corrected_by})"
    contributions = tuple(
        Contribution(
            event_id=i.event_id,
            source=i.speaker,
            type=i.type,
            delta=deltas.get(i.event_id, 0.0),
            log_odds=0.0 if (final := finals.get(i.event_id)) is None else rounded(final),
            reason=reasons[i.event_id],
        )
        for i in items
    )
    return Credibility(found, band_for(found), status, grade, model, contributions)


def verdict(
    found: float, outcome: str | None, finals: Sequence[float], supporting: int
) -> tuple[str, int]:
    """The status and the Admiralty information-credibility grade (1-6)."""
    if outcome is not None:
        return outcome, 1 if outcome == "confirmed" else 5
    if not finals:
        return "unverified", 6  # nothing to judge by
    if found >= 0.95 and supporting >= 2:  # confirmed by independent witnesses
        grade = 1
    else:
        thresholds = ((0.8, 2), (0.5, 3), (0.2, 4))
        grade = next((grade for floor, grade in thresholds if found >= floor), 5)
    if found >= 0.6:
        return "leaning true", grade
    if found <= 0.4:
        return "leaning false", grade
    both_sides = any(final > 0 for final in finals) and any(final < 0 for final in finals)
    return ("contested" if both_sides else "unverified"), grade


def _ranks(positions: Sequence[Position]) -> _Ranks:
    """Each position's rank among its group's voices on the same side, and who is ahead."""
    sides: dict[tuple[str, bool], list[Position]] = {}
    for position in positions:
        sides.setdefault((position.group, position.weight > 0), []).append(position)
    ranks: dict[str, tuple[int, tuple[str, ...]]] = {}
    for voices in sides.values():
        voices.sort(key=lambda voice: (-abs(voice.weight), voice.item.event_id))
        ahead = tuple(voice.item.event_id for voice in voices)
        for rank, voice in enumerate(voices):
            ranks[voice.item.event_id] = (rank, ahead[:rank])
    return ranks


def _discount_note(position: Position, ranks: _Ranks) -> str:
    rank, ahead = ranks[position.item.event_id]
    if rank == 0 or position.weight == 0.0:
        return ""
    ordinal = _ORDINALS[rank] if rank < len(_ORDINALS) else f"{rank + 1}th"
    return (
        f"; {ordinal} voice from {position.affiliation} on this side (after {', '.join(ahead)}),"
        f" not an independent witness: counted at 1/{2**rank}:"
        f" {num(position.weight * 0.5**rank)} log-odds"
    )


def num(log_odds: float) -> str:
    return f"{log_odds:+.4g}"


def rounded(value: float) -> float:
    return round(value, 6) + 0.0  # + 0.0 turns -0.0 into 0.0, which serialises the same
