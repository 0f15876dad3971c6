"""What a model version is: a strategy over the one evaluator.

The evaluator (``ledger.credibility.evaluator``) decides which statements count and when
(``selection``), and pools them (``pooling``); a version decides how much each counted
position weighs and says why, in steps a reader can check:

1. ``stated``: the position's own log-odds (a statement by its source's grade, an
   assessment by its likelihood, its assessor's grade and its confidence);
2. ``with_record``: its source's track record when it was made (versions that ``learn``);
3. ``with_interest``: a party to the claim speaking in its own favour or against it, a
   beneficiary accusing;
4. ``with_relay``: a statement that repeats another;
5. ``caution``: adjustments that depend on the claim's other positions (the early-report
   caution of versions that ``date_first_report``);
6. ``extremizing``: a factor on the pooled log-odds.

A version overrides the steps it changes; every number it uses appears in the reason.
Each step must keep the laws: a position never weighs against its own side (law 2), and a
party speaking in its own favour never counts more than a neutral voice (law 6).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from ledger.credibility.pooling import num
from ledger.credibility.selection import speaker
from ledger.credibility.values import Position, SourceStanding, TrackRecord
from ledger.likelihood import band_for
from ledger.statements import Statement, StatementType, a_or_an


class Strategy:
    """A credibility model version. Subclasses set the name, the description and the
    weights, and override the steps they change (see the module's notes)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Whether it weighs a statement with its source's record on claims resolved by then.
    learns: ClassVar[bool] = False
    #: Whether a position's weight depends on when its source first asserted the claim,
    #: and when the claim was first reported (``caution``).
    dates_first_report: ClassVar[bool] = False
    #: The pooled log-odds are multiplied by this before the bounded sigmoid.
    extremizing: ClassVar[float] = 1.0
    #: A resolved stance counts 1/2 in a record per this many days (``learns`` only).
    record_half_life_days: ClassVar[float] = 365.0

    # Log-odds of a plain statement by the speaker's rating. F means "cannot be judged",
    # not "unreliable", so an unrated source is heard like a D rather than below an E.
    statement_weight: ClassVar[Mapping[str, float]] = {
        "A": 1.6, "B": 1.2, "C": 0.8, "D": 0.5, "E": 0.25, "F": 0.5,
    }
    # Share of an assessment's own log-odds the ledger adopts, by the assessor's rating.
    assessor_factor: ClassVar[Mapping[str, float]] = {
        "A": 1.0, "B": 0.9, "C": 0.7, "D": 0.5, "E": 0.3, "F": 0.5,
    }
    confidence_factor: ClassVar[Mapping[str, float]] = {
        "high": 1.0, "moderate": 0.85, "low": 0.6,
    }
    self_serving: ClassVar[float] = 0.25  # a party saying what serves it risks nothing
    against_interest: ClassVar[float] = 2.0  # a party admitting what harms it
    # A beneficiary accusing the parties says what suits it: heard, at half weight.
    self_serving_accusation: ClassVar[float] = 0.5

    # -- the steps ------------------------------------------------------------------------

    def weigh(
        self,
        item: Statement,
        standing: SourceStanding,
        parties: Collection[str],
        beneficiaries: Collection[str] = (),
        record: TrackRecord | None = None,
        context: Mapping[str, Statement] | None = None,
    ) -> Position:
        """A counted position weighed, before ``caution`` (which needs the claim's other
        positions); ``record``: its source's track record when it was made; ``context``:
        the claim's statements in scope by event id (what a reason may name)."""
        weight, kind, account = self.stated(item, standing)
        weight, account = self.with_record(item, standing, weight, account, record)
        weight, account = self.with_interest(
            standing, weight, kind, account, parties, beneficiaries
        )
        weight, account = self.with_relay(item, weight, account, context or {})
        return Position(item, self.group(item, standing), standing.affiliation, weight, account)

    def voice(
        self,
        item: Statement,
        standing: SourceStanding,
        parties: Collection[str],
        beneficiaries: Collection[str] = (),
        record: TrackRecord | None = None,
    ) -> tuple[str, float]:
        """``weigh``'s witness group and log-odds, without the reason."""
        position = self.weigh(item, standing, parties, beneficiaries, record)
        return position.group, position.weight

    def stated(self, item: Statement, standing: SourceStanding) -> tuple[float, str, str]:
        """The position's own log-odds, what kind of position it is, and why."""
        who, grade = speaker(standing), standing.reliability
        if item.type == StatementType.ASSESSED:
            likelihood = float(item.likelihood or 0.5)  # never None: checked on append
            logit = math.log(likelihood / (1.0 - likelihood))
            factor = self.assessor_factor[grade]
            confidence = self.confidence_factor[item.confidence or "moderate"]
            weight = logit * factor * confidence
            return weight, "assessment", (
                f"{who} assessed the claim {band_for(likelihood)} ({likelihood:g}) with"
                f" {item.confidence or 'no stated'} confidence: logit {num(logit)}"
                f" x{factor:g} for an assessor rated {grade} x{confidence:g} for"
                f" {item.confidence or 'moderate (assumed)'} confidence = {num(weight)} log-odds"
            )
        sign = 1.0 if item.type == StatementType.ASSERTED else -1.0
        weight = self.statement_weight[grade] * sign
        kind = "assertion" if sign > 0 else "denial"
        return weight, kind, (
            f"{who} {item.type} the claim: reliability {grade} gives {num(weight)} log-odds"
        )

    def with_record(
        self,
        item: Statement,
        standing: SourceStanding,
        weight: float,
        account: str,
        record: TrackRecord | None,
    ) -> tuple[float, str]:
        """Its source's track record when it was made (none: as stated)."""
        return weight, account

    def interest(
        self, weight: float, standing: SourceStanding,
        parties: Collection[str], beneficiaries: Collection[str],
    ) -> tuple[float, str | None, bool]:
        """The multiplier a speaker's interest puts on a position of ``weight`` (1: none),
        the party or beneficiary it is or is affiliated with, and whether it is a party."""
        if weight == 0.0:
            return 1.0, None, False
        # Parties are those whose conduct the claim alleges, so "false" is what suits them.
        party = standing.interested(parties)
        if party is not None:
            return (self.self_serving if weight < 0 else self.against_interest), party, True
        gains = standing.interested(beneficiaries)
        if gains is not None:
            multiplier = self.self_serving_accusation if weight > 0 else self.against_interest
            return multiplier, gains, False
        return 1.0, None, False

    def with_interest(
        self,
        standing: SourceStanding,
        weight: float,
        kind: str,
        account: str,
        parties: Collection[str],
        beneficiaries: Collection[str],
    ) -> tuple[float, str]:
        """A party or a beneficiary speaking for or against its interest."""
        multiplier, who, party = self.interest(weight, standing, parties, beneficiaries)
        if who is None:
            return weight, account
        weight *= multiplier
        serves = weight < 0 if party else weight > 0
        why = f"a self-serving {kind}" if serves else f"{a_or_an(kind)} {kind} against its interest"
        role = "is a party to the claim" if party else "gains if the claim is believed"
        return weight, account + (
            f"; {who} {role}, so {why} counts x{multiplier:g}: {num(weight)} log-odds"
        )

    def with_relay(
        self, item: Statement, weight: float, account: str, context: Mapping[str, Statement]
    ) -> tuple[float, str]:
        """A statement that repeats another (none: as weighed)."""
        return weight, account

    def cautioned(self, weight: float, since: datetime | None, start: datetime | None) -> float:
        """A voice of ``weight`` whose source first asserted the claim at ``since`` (None:
        its position is not an assertion), the claim's first report being at ``start``."""
        return weight

    def caution(
        self, positions: Sequence[Position], first: Mapping[str, datetime]
    ) -> list[Position]:
        """The weighed positions adjusted for what depends on the claim's other positions
        (``first``: when each asserting speaker first asserted the claim)."""
        return list(positions)

    def pooling_note(self) -> str:
        """What the version does to the pooled sum, ending every counted position's reason."""
        if self.extremizing == 1.0:
            return ""
        return (
            "; the pooled log-odds are multiplied by the extremizing factor"
            f" {self.extremizing:g}"
        )

    def group(self, item: Statement, standing: SourceStanding) -> str:
        """Positions sharing a group are one witness, not several."""
        affiliation = standing.affiliation
        return f"affiliation:{affiliation}" if affiliation is not None else f"source:{item.speaker}"

    def record_weight(self, resolved_at: datetime, moment: datetime) -> float:
        """How much a stance on a claim resolved at ``resolved_at`` counts in its source's
        record at ``moment``: 1/2 per ``record_half_life_days`` since."""
        age = (moment - resolved_at).total_seconds() / 86400
        return float(0.5 ** (age / self.record_half_life_days))
