"""The model ``credibility-v2``: laws 1, 2, 4, 7 and 8 of v1 hold for it (with any track
records, and statements that relay others), laws 3 and 5 in their refined form
(docs/credibility-model.md) and law 6 unchanged; it never looks ahead, and its reasons name
every number it used. v1 ignores ``relays``."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.credibility import VERSIONS, Credibility, SourceStanding
from ledger.credibility.records import track_records as records_by
from ledger.credibility.values import ResolvedStance, TrackRecord
from ledger.likelihood import parse_likelihood
from ledger.statements import CONFIDENCE_LEVELS, RELIABILITY_GRADES, STANCE_TYPES, Statement

V1, V2 = VERSIONS["credibility-v1"], VERSIONS["credibility-v2"]
v2 = V2.strategy
laws = settings(max_examples=200, deadline=None)


def assess(
    evidence: Sequence[Statement],
    sources: dict[str, SourceStanding],
    parties: Sequence[str],
    beneficiaries: Sequence[str] = (),
    *,
    track_records: Any = None,
) -> Credibility:
    return V2.assess(evidence, sources, parties, beneficiaries, track_records)


def track_records(history: Sequence[ResolvedStance], as_of: datetime) -> dict[str, TrackRecord]:
    return records_by(history, as_of, v2.record_weight)

BASE = datetime(2024, 10, 1, tzinfo=UTC)
LATE = BASE + timedelta(days=100)
PARTIES = ("RU", "KP")
AFFILIATIONS = (None, "UA", "RU", "KP", "KR", "US")
ZONES = (UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5)))

moments = st.builds(
    lambda hours, zone: (BASE + timedelta(hours=hours)).astimezone(zone),
    st.integers(0, 24 * 20),
    st.sampled_from(ZONES),
)
records = st.builds(
    TrackRecord,
    st.floats(min_value=0, max_value=12, allow_nan=False),
    st.floats(min_value=0, max_value=12, allow_nan=False),
)


@dataclass(frozen=True)
class Scenario:
    evidence: list[Statement]
    sources: dict[str, SourceStanding]
    parties: tuple[str, ...]
    beneficiaries: tuple[str, ...]
    records: dict[str, TrackRecord]

    def assess(self, evidence: Sequence[Statement] | None = None) -> Credibility:
        chosen = self.evidence if evidence is None else evidence
        return assess(
            chosen, self.sources, self.parties, self.beneficiaries, track_records=self.records
        )


def verdict(credibility: Credibility) -> tuple[float, str, str, int]:
    return (credibility.probability, credibility.band, credibility.status, credibility.grade)


@st.composite
def positions(draw: st.DrawFn, event_id: str, source: str) -> Statement:
    kind = draw(st.sampled_from(STANCE_TYPES))
    if kind != "assessed":
        return Statement(event_id, kind, source, draw(moments))
    return Statement(
        event_id,
        kind,
        source,
        draw(moments),
        likelihood=draw(st.floats(min_value=0.001, max_value=0.999)),
        confidence=draw(st.sampled_from((None, *CONFIDENCE_LEVELS))),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    sources = {
        f"s{i}": SourceStanding(
            f"s{i}",
            f"Source {i}",
            draw(st.sampled_from(AFFILIATIONS)),
            draw(st.sampled_from(RELIABILITY_GRADES)),
        )
        for i in range(draw(st.integers(1, 5)))
    }
    speakers = [*sources, "ghost"]
    evidence = [
        draw(positions(f"e{i}", draw(st.sampled_from(speakers))))
        for i in range(draw(st.integers(0, 10)))
    ]
    for i in range(draw(st.integers(0, 2))):
        outcome = draw(st.sampled_from(("confirmed", "refuted")))
        source = draw(st.sampled_from(speakers))
        evidence.append(Statement(f"v{i}", "resolved", source, draw(moments), outcome=outcome))
    for i in range(draw(st.integers(0, 3)) if evidence else 0):
        target = draw(st.sampled_from(evidence))
        source = target.source if draw(st.booleans()) else draw(st.sampled_from(speakers))
        evidence.append(
            Statement(f"r{i}", "retracted", source, draw(moments), supersedes=target.event_id)
        )
    # Some statements relay another (an earlier one, or one not in scope).
    ids = [item.event_id for item in evidence]
    evidence = [
        replace(item, relays=draw(st.sampled_from([*ids, "gone"])))
        if item.type in STANCE_TYPES and draw(st.sampled_from((False, False, True)))
        else item
        for item in evidence
    ]
    landslide = draw(st.sampled_from(("asserted", "denied")))
    for i in range(draw(st.sampled_from((0, 0, 4, 12)))):
        sources[f"l{i}"] = SourceStanding(f"l{i}", f"Witness {i}", None, "A")
        evidence.append(Statement(f"l{i}", landslide, f"l{i}", draw(moments)))
    known = draw(st.lists(st.sampled_from([*sources, "ghost"]), unique=True))
    return Scenario(
        evidence,
        sources,
        draw(st.sampled_from(((), ("RU",), PARTIES))),
        draw(st.sampled_from(((), ("UA",), ("UA", "US")))),
        {source: draw(records) for source in known},
    )


@laws
@given(scenarios())
def test_law_1_no_events_gives_roughly_even_chance_and_unverified(scenario: Scenario) -> None:
    credibility = scenario.assess([])
    assert credibility.probability == 0.5
    assert credibility.band == "roughly even chance"
    assert credibility.status == "unverified"
    assert credibility.contributions == ()
    assert credibility.model == "credibility-v2"


@laws
@given(scenarios(), st.data())
def test_law_2_an_assertion_never_lowers_and_a_denial_never_raises_the_probability(
    scenario: Scenario, data: st.DataObject
) -> None:
    affiliation = data.draw(st.sampled_from([s.affiliation for s in scenario.sources.values()]))
    reliability = data.draw(st.sampled_from(RELIABILITY_GRADES))
    sources = {
        **scenario.sources,
        "newcomer": SourceStanding("newcomer", "Newcomer", affiliation, reliability),
    }
    records = {**scenario.records, "newcomer": data.draw(records_or_none())}
    records = {source: record for source, record in records.items() if record is not None}
    speaker = data.draw(st.sampled_from([*sources, "ghost"]))
    without = [item for item in scenario.evidence if item.source != speaker]
    # The statement may come at any moment, before, among or after the others: the early
    # caution must never turn it against its own side.
    at = data.draw(st.one_of(st.just(LATE), moments, st.just(BASE - timedelta(days=3))))
    earlier = [
        replace(
            data.draw(positions(f"early-{i}", speaker)), occurred_at=at - timedelta(hours=i + 1)
        )
        for i in range(data.draw(st.integers(0, 2)))
    ]
    kind = data.draw(st.sampled_from(("asserted", "denied")))
    relays = data.draw(st.sampled_from([None, *(item.event_id for item in without)]))
    statement = Statement("statement", kind, speaker, at, relays=relays)

    def probability(evidence: list[Statement]) -> float:
        return assess(
            evidence, sources, scenario.parties, scenario.beneficiaries, track_records=records
        ).probability

    before = probability(without)
    after = probability([*without, *earlier, statement])
    assert after >= before if kind == "asserted" else after <= before


def records_or_none() -> st.SearchStrategy[TrackRecord | None]:
    return st.one_of(st.none(), records)


def test_law_2_an_earlier_report_never_lifts_the_caution_on_the_other_side() -> None:
    # The counterexample to v2's first early caution, which started the story at the first
    # position of either side: a weak assertion made before a strong denial made the denial
    # "late", so it counted in full, and the assertion lowered the probability.
    sources = {
        "weak": SourceStanding("weak", "Weak", None, "E"),
        "strong": SourceStanding("strong", "Strong", None, "B"),
    }
    denial = Statement("d", "denied", "strong", BASE + timedelta(days=2))
    assertion = Statement("a", "asserted", "weak", BASE)
    alone = assess([denial], sources, ())
    both = assess([assertion, denial], sources, ())
    assert both.probability >= alone.probability
    assert {c.event_id: c.log_odds for c in both.contributions} == {"a": 0.125, "d": -1.2}


@laws
@given(scenarios(), st.data())
def test_law_3_refined_a_later_repetition_changes_nothing_and_a_retraction_restores(
    scenario: Scenario, data: st.DataObject
) -> None:
    """Law 3 for v2: only a source's latest position counts, and it dates from when its
    source first took it (the early caution), so saying it again later changes nothing;
    a retraction restores the result as it was without that statement."""
    speaker = data.draw(st.sampled_from([*scenario.sources, "ghost"]))
    latest = replace(data.draw(positions("latest", speaker)), occurred_at=LATE)
    evidence = [*scenario.evidence, latest]
    once = scenario.assess(evidence)
    for days in (0, 1, 30):
        repeated = replace(latest, event_id=f"repeat-{days}", occurred_at=LATE + timedelta(days))
        assert verdict(scenario.assess([*evidence, repeated])) == verdict(once)

    target = data.draw(st.sampled_from([e for e in evidence if e.type in STANCE_TYPES]))
    withdrawal = Statement(
        "withdrawal", "retracted", target.source, LATE + timedelta(days=40),
        supersedes=target.event_id,
    )
    without_target = [item for item in evidence if item is not target]
    assert verdict(scenario.assess([*evidence, withdrawal])) == verdict(
        scenario.assess(without_target)
    )


@laws
@given(scenarios(), st.data())
def test_law_4_the_result_does_not_depend_on_input_order(
    scenario: Scenario, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(scenario.evidence))
    assert scenario.assess(shuffled) == scenario.assess()


@laws
@given(
    st.sampled_from((None, "UA", "KR", "US")),
    st.sampled_from(("A", "B")),
    st.floats(min_value=0.80, max_value=0.95, exclude_max=True),
    st.sampled_from((None, *CONFIDENCE_LEVELS)),
    st.sampled_from(((), ("UA",), ("UA", "US"))),
)
def test_law_5_refined_a_very_likely_assessment_by_a_reliable_assessor_without_a_record(
    affiliation: str | None,
    reliability: str,
    likelihood: float,
    confidence: str | None,
    beneficiaries: tuple[str, ...],
) -> None:
    """Law 5 for v2: the assessor's record moves its weight by design (a reliable assessor
    that was often wrong is heard less), so the law holds for an assessor without one
    (an assessment is never an early report)."""
    assert parse_likelihood(likelihood).term == "very likely"
    assessor = SourceStanding("nis", "National Intelligence Service", affiliation, reliability)
    assessment = Statement(
        "a1", "assessed", "nis", BASE, likelihood=likelihood, confidence=confidence
    )
    credibility = assess([assessment], {"nis": assessor}, PARTIES, beneficiaries)
    assert credibility.band in ("likely", "very likely")


@laws
@given(
    scenarios(),
    st.sampled_from(RELIABILITY_GRADES),
    st.sampled_from(("asserted", "denied")),
    records_or_none(),
    moments,
)
def test_law_6_statements_against_interest_weigh_more_than_self_serving_ones(
    scenario: Scenario, reliability: str, kind: str, record: TrackRecord | None, at: datetime
) -> None:
    sources = {sid: s for sid, s in scenario.sources.items() if s.affiliation != "KP"}
    evidence = [e for e in scenario.evidence if e.source in sources or e.source == "ghost"]
    statement = Statement("statement", kind, "witness", at)
    records = {**scenario.records, **({"witness": record} if record else {})}

    def probability(affiliation: str | None) -> float:
        witness = SourceStanding("witness", "Witness", affiliation, reliability)
        return assess(
            [*evidence, statement], {**sources, "witness": witness}, PARTIES,
            track_records=records,
        ).probability

    assert probability("KP") >= probability(None)


@laws
@given(scenarios(), st.sampled_from(("confirmed", "refuted")), st.data())
def test_law_7_a_resolution_dominates_until_retracted(
    scenario: Scenario, outcome: str, data: st.DataObject
) -> None:
    unresolved = [item for item in scenario.evidence if item.type != "resolved"]
    before = scenario.assess(unresolved)
    assert 0.01 < before.probability < 0.99

    resolver = data.draw(st.sampled_from([*scenario.sources, "ghost"]))
    ruling = Statement("ruling", "resolved", resolver, LATE, outcome=outcome)
    resolved = scenario.assess([*scenario.evidence, ruling])
    assert resolved.status == outcome
    if outcome == "confirmed":
        assert resolved.probability >= 0.99
    else:
        assert resolved.probability <= 0.01

    withdrawal = Statement(
        "ruling-withdrawn", "retracted", resolver, LATE + timedelta(days=1), supersedes="ruling"
    )
    assert verdict(scenario.assess([*unresolved, ruling, withdrawal])) == verdict(before)


@laws
@given(scenarios(), st.data())
def test_law_8_the_same_events_give_the_same_bytes(scenario: Scenario, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(scenario.evidence))
    first = json.dumps(scenario.assess().to_dict(), sort_keys=True)
    assert json.dumps(scenario.assess().to_dict(), sort_keys=True) == first
    assert json.dumps(scenario.assess(shuffled).to_dict(), sort_keys=True) == first


@laws
@given(scenarios())
def test_every_event_has_one_contribution_and_the_deltas_add_up(scenario: Scenario) -> None:
    credibility = scenario.assess()
    in_order = sorted(scenario.evidence, key=lambda item: (item.occurred_at, item.event_id))
    assert [c.event_id for c in credibility.contributions] == [e.event_id for e in in_order]
    assert all(c.reason for c in credibility.contributions)
    total = sum(c.delta for c in credibility.contributions)
    assert abs(total - (credibility.probability - 0.5)) < 1e-5


# --- no look-ahead -------------------------------------------------------------------------

stances = st.builds(
    ResolvedStance,
    st.sampled_from(("s0", "s1", "s2", "ghost")),
    st.booleans(),
    st.sampled_from(("confirmed", "refuted")),
    st.builds(lambda days: BASE + timedelta(days=days), st.integers(-2000, 200)),
)


@laws
@given(scenarios(), st.lists(stances, max_size=12), st.lists(stances, min_size=1, max_size=6))
def test_no_look_ahead_a_resolution_after_as_of_changes_nothing(
    scenario: Scenario, history: list[ResolvedStance], later: list[ResolvedStance]
) -> None:
    as_of = BASE + timedelta(days=30)
    past = [stance for stance in history if stance.resolved_at <= as_of]
    future = [
        ResolvedStance(s.source, s.supported, s.outcome, as_of + timedelta(seconds=1 + i))
        for i, s in enumerate(later)
    ]
    known = track_records(past, as_of)
    assert track_records([*past, *future], as_of) == known
    assert track_records([*history, *future], as_of) == known  # later history: ignored too

    def result(records: dict[str, TrackRecord]) -> str:
        credibility = assess(
            scenario.evidence,
            scenario.sources,
            scenario.parties,
            scenario.beneficiaries,
            track_records=records,
        )
        return json.dumps(credibility.to_dict(), sort_keys=True)

    assert result(track_records([*past, *future], as_of)) == result(known)


@laws
@given(scenarios(), st.lists(stances, max_size=12))
def test_each_statement_is_weighed_with_its_sources_record_as_it_stood_then(
    scenario: Scenario, history: list[ResolvedStance]
) -> None:
    """The records are asked for at each counted statement's own time, and nothing else:
    giving every statement the records of its own time by hand gives the same bytes."""
    asked: set[datetime] = set()

    def records_at(moment: datetime) -> dict[str, TrackRecord]:
        asked.add(moment)
        return track_records(history, moment)

    result = assess(
        scenario.evidence,
        scenario.sources,
        scenario.parties,
        scenario.beneficiaries,
        track_records=records_at,
    )
    assert asked <= {item.at for item in scenario.evidence}
    by_hand = [
        assess(
            scenario.evidence,
            scenario.sources,
            scenario.parties,
            scenario.beneficiaries,
            track_records=track_records(history, item.at),
        ).contributions
        for item in scenario.evidence
    ]
    for contribution in result.contributions:
        at = next(i.at for i in scenario.evidence if i.event_id == contribution.event_id)
        mine = next(
            found
            for item, contributions in zip(scenario.evidence, by_hand, strict=True)
            if item.at == at
            for found in contributions
            if found.event_id == contribution.event_id
        )
        assert _record_part(mine.reason) == _record_part(contribution.reason)


def _record_part(reason: str) -> list[str]:
    """The parts of a reason that tell the source's record (none without one)."""
    return [part for part in reason.split("; ") if part.startswith("its record when")]


def test_a_record_is_weighed_by_recency_and_moves_the_weight_within_bounds() -> None:
    as_of = datetime(2020, 1, 1, tzinfo=UTC)
    year = timedelta(days=365)
    history = [
        ResolvedStance("gov", True, "refuted", as_of),  # missed, now: weight 1
        ResolvedStance("gov", True, "confirmed", as_of - year),  # matched, a year ago: 1/2
        ResolvedStance("gov", False, "refuted", as_of + year),  # after as_of: not counted
    ]
    assert track_records(history, as_of) == {"gov": TrackRecord(matched=0.5, missed=1.0)}
    prior, posterior, factor = v2.record_factor("B", TrackRecord(0.0, 0.0))
    assert (posterior, factor) == (prior, 1.0)
    _, _, liar = v2.record_factor("B", TrackRecord(0.0, 20.0))
    _, _, oracle = v2.record_factor("E", TrackRecord(50.0, 0.0))
    assert liar == 0.0 and oracle == v2.max_record_factor


def test_the_reason_names_every_number_used() -> None:
    gov = SourceStanding("gov", "Government", "US", "B")
    state = SourceStanding("state-tv", "State TV", "RU", "D")
    first = Statement("e1", "asserted", "gov", BASE)
    denial = Statement("e2", "denied", "state-tv", BASE + timedelta(days=3))
    result = assess(
        [first, denial],
        {"gov": gov, "state-tv": state},
        ["RU"],
        ["US"],
        track_records={"gov": TrackRecord(3.0, 1.0)},
    )
    reasons = {c.event_id: c.reason for c in result.contributions}
    prior, posterior, factor = v2.record_factor("B", TrackRecord(3.0, 1.0))
    for number in (
        "+1.2",
        "3 matched",
        "1 missed",
        f"{v2.record_half_life_days:g} days",
        f"{prior:.3f}",
        f"{posterior:.3f}",
        f"x{factor:.3f}",
        f"{v2.prior_stances:g} stances",
        f"{v2.max_record_factor:g}",
        f"x{v2.early_factor:g}",
        f"less than {v2.early_days:g} day",
        "0 days after the claim's first report (2024-10-01)",
        "x0.5",  # US gains if believed: its accusation counts x0.5
    ):
        assert number in reasons["e1"], number
    assert "early" not in reasons["e2"]  # against the claim: never early
    assert "x0.25" in reasons["e2"]  # a party's self-serving denial
    for contribution in result.contributions:
        assert re.search(r"[-+]\d", contribution.reason)


# --- relays ----------------------------------------------------------------------------------


def test_a_relay_adds_no_independent_weight_and_says_so() -> None:
    sources = {
        "gov": SourceStanding("gov", "Government", "US", "B"),
        "paper": SourceStanding("paper", "Newspaper", None, "B"),
    }
    claim = Statement("e1", "asserted", "gov", BASE)
    relay = Statement("e2", "asserted", "paper", BASE + timedelta(days=3), relays="e1")
    alone = assess([claim], sources, ())
    both = assess([claim, relay], sources, ())
    assert both.probability == alone.probability
    reasons = {c.event_id: c for c in both.contributions}
    assert reasons["e2"].log_odds == 0.0
    assert (
        "it relays event e1 by gov, which it repeats, so it adds no independent weight:"
        f" a relay counts x{v2.relay_factor:g}: +0 log-odds" in reasons["e2"].reason
    )
    own = replace(relay, relays=None)  # the same words, said on its own authority
    assert assess([claim, own], sources, ()).probability > alone.probability


@laws
@given(scenarios())
def test_v1_ignores_relays_byte_for_byte(scenario: Scenario) -> None:
    plain = [replace(item, relays=None) for item in scenario.evidence]

    def v1(evidence: list[Statement]) -> str:
        result = V1.assess(
            evidence, scenario.sources, scenario.parties, scenario.beneficiaries
        )
        return json.dumps(result.to_dict(), sort_keys=True)

    assert v1(scenario.evidence) == v1(plain)
