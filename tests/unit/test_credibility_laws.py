"""The eight laws of the credibility model (docs/credibility-model.md, "The eight laws"), as
properties.

Each law is one test over generated sets of evidence: sources of every reliability and
affiliation (parties among them), statements and assessments on random dates in several time
zones, retractions that take effect and retractions that must be ignored, and resolutions.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.credibility import VERSIONS, Credibility, SourceStanding
from ledger.credibility.pooling import pool
from ledger.credibility.selection import canonical, retractions, select, standings
from ledger.credibility.values import Summary
from ledger.likelihood import SYNONYMS, parse_likelihood
from ledger.statements import CONFIDENCE_LEVELS, RELIABILITY_GRADES, Statement
from ledger.statements import STANCE_TYPES as POSITION_TYPES

V1 = VERSIONS["credibility-v1"]
assess = V1.assess


def summarize(
    evidence: list[Statement],
    sources: dict[str, SourceStanding],
    parties: list[str],
    beneficiaries: list[str] | tuple[str, ...] = (),
) -> Summary:
    """The pool of the counted positions' voices (what the evaluator pools), without
    explaining them."""
    items = canonical(evidence)
    heard = standings(sources, items)
    latest, resolution, _ = select(items, retractions(items))
    voices = [
        (item.event_id, *V1.strategy.voice(item, heard[item.speaker], parties, beneficiaries))
        for item in items
        if latest.get(item.speaker) is item
    ]
    return pool(voices, None if resolution is None else str(resolution.outcome))


laws = settings(max_examples=200, deadline=None)

BASE = datetime(2024, 10, 1, tzinfo=UTC)
LATE = BASE + timedelta(days=100)  # after anything the strategies generate
PARTIES = ("RU", "KP")
AFFILIATIONS = (None, "UA", "RU", "KP", "KR", "US")
ZONES = (UTC, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5)))

moments = st.builds(
    lambda hours, zone: (BASE + timedelta(hours=hours)).astimezone(zone),
    st.integers(0, 24 * 20),  # narrow enough that equal times (ties) turn up
    st.sampled_from(ZONES),
)
likelihoods = st.floats(min_value=0.001, max_value=0.999)
confidences = st.sampled_from((None, *CONFIDENCE_LEVELS))
ANY_PARTIES = st.sampled_from(((), ("RU",), PARTIES))
# Beneficiaries never overlap the parties (the ledger refuses a claim where they do).
ANY_BENEFICIARIES = st.sampled_from(((), ("UA",), ("UA", "US")))


@dataclass(frozen=True)
class Scenario:
    evidence: list[Statement]
    sources: dict[str, SourceStanding]
    parties: tuple[str, ...]
    beneficiaries: tuple[str, ...] = ()

    def assess(self, evidence: Sequence[Statement] | None = None) -> Credibility:
        chosen = self.evidence if evidence is None else evidence
        return assess(chosen, self.sources, self.parties, self.beneficiaries)


def verdict(credibility: Credibility) -> tuple[float, str, str, int]:
    return (credibility.probability, credibility.band, credibility.status, credibility.grade)


@st.composite
def positions(draw: st.DrawFn, event_id: str, source: str) -> Statement:
    """An assertion, denial or assessment by ``source`` at a generated time."""
    kind = draw(st.sampled_from(POSITION_TYPES))
    if kind != "assessed":
        return Statement(event_id, kind, source, draw(moments))
    return Statement(
        event_id,
        kind,
        source,
        draw(moments),
        likelihood=draw(likelihoods),
        confidence=draw(confidences),
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
    affiliations: Sequence[str | None] = AFFILIATIONS,
    parties: st.SearchStrategy[tuple[str, ...]] = ANY_PARTIES,
) -> Scenario:
    sources = {
        f"s{i}": SourceStanding(
            f"s{i}",
            f"Source {i}",
            draw(st.sampled_from(affiliations)),
            draw(st.sampled_from(RELIABILITY_GRADES)),
        )
        for i in range(draw(st.integers(1, 5)))
    }
    speakers = [*sources, "ghost"]  # "ghost" has no standing: heard as unaffiliated F
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
        # Half by the target's own source (takes effect), half by anyone (mostly ignored).
        source = target.source if draw(st.booleans()) else draw(st.sampled_from(speakers))
        evidence.append(
            Statement(f"r{i}", "retracted", source, draw(moments), supersedes=target.event_id)
        )
    if draw(st.booleans()):
        evidence.append(Statement("r-x", "retracted", "s0", draw(moments), supersedes="nowhere"))
    # Sometimes a landslide of independent, reliable voices, to push towards the bounds.
    landslide = draw(st.sampled_from(("asserted", "denied")))
    for i in range(draw(st.sampled_from((0, 0, 4, 12)))):
        sources[f"l{i}"] = SourceStanding(f"l{i}", f"Witness {i}", None, "A")
        evidence.append(Statement(f"l{i}", landslide, f"l{i}", draw(moments)))
    return Scenario(evidence, sources, draw(parties), draw(ANY_BENEFICIARIES))


@laws
@given(scenarios())
def test_law_1_no_events_gives_roughly_even_chance_and_unverified(scenario: Scenario) -> None:
    credibility = scenario.assess([])
    assert credibility.probability == 0.5
    assert credibility.band == "roughly even chance"
    assert credibility.status == "unverified"
    assert credibility.contributions == ()


@laws
@given(scenarios(), st.data())
def test_law_2_an_assertion_never_lowers_and_a_denial_never_raises_the_probability(
    scenario: Scenario, data: st.DataObject
) -> None:
    # A newcomer joining an affiliation already heard tests the non-independence discount.
    affiliation = data.draw(st.sampled_from([s.affiliation for s in scenario.sources.values()]))
    reliability = data.draw(st.sampled_from(RELIABILITY_GRADES))
    newcomer = SourceStanding("newcomer", "Newcomer", affiliation, reliability)
    sources = {**scenario.sources, "newcomer": newcomer}
    speaker = data.draw(st.sampled_from([*sources, "ghost"]))
    without = [item for item in scenario.evidence if item.source != speaker]
    # Earlier positions of the speaker do not matter: its latest statement is the one compared.
    count = data.draw(st.integers(0, 2))
    earlier = [data.draw(positions(f"early-{i}", speaker)) for i in range(count)]
    kind = data.draw(st.sampled_from(("asserted", "denied")))
    statement = Statement("statement", kind, speaker, LATE)

    before = assess(without, sources, scenario.parties, scenario.beneficiaries).probability
    after = assess(
        [*without, *earlier, statement], sources, scenario.parties, scenario.beneficiaries
    ).probability

    assert after >= before if kind == "asserted" else after <= before


@laws
@given(scenarios(), st.data())
def test_law_3_only_the_latest_position_counts_and_a_retraction_restores(
    scenario: Scenario, data: st.DataObject
) -> None:
    speaker = data.draw(st.sampled_from([*scenario.sources, "ghost"]))
    latest = replace(data.draw(positions("latest", speaker)), occurred_at=LATE)
    evidence = [*scenario.evidence, latest]
    once = scenario.assess(evidence)

    repeated = replace(latest, event_id="repeat", occurred_at=LATE + timedelta(days=1))
    assert verdict(scenario.assess([*evidence, repeated])) == verdict(once)
    older = replace(latest, event_id="older", occurred_at=BASE - timedelta(days=1))
    assert verdict(scenario.assess([*evidence, older])) == verdict(once)

    target = data.draw(st.sampled_from([e for e in evidence if e.type in POSITION_TYPES]))
    withdrawal = Statement(
        "withdrawal",
        "retracted",
        target.source,
        LATE + timedelta(days=2),
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
    st.one_of(
        st.sampled_from(["very likely", *(w for w, t in SYNONYMS.items() if t == "very likely")]),
        st.floats(min_value=0.80, max_value=0.95, exclude_max=True),
    ),
    confidences,
    ANY_BENEFICIARIES,
)
def test_law_5_a_very_likely_assessment_by_a_reliable_assessor_lands_likely_or_very_likely(
    affiliation: str | None,
    reliability: str,
    said: float | str,
    confidence: str | None,
    beneficiaries: tuple[str, ...],
) -> None:
    likelihood = parse_likelihood(said)
    assert likelihood.term == "very likely"
    assessor = SourceStanding("nis", "National Intelligence Service", affiliation, reliability)
    assessment = Statement(
        "a1", "assessed", "nis", BASE, likelihood=likelihood.probability, confidence=confidence
    )
    credibility = assess([assessment], {"nis": assessor}, PARTIES, beneficiaries)
    assert credibility.band in ("likely", "very likely")


@laws
@given(
    scenarios(affiliations=(None, "UA", "RU", "KR", "US"), parties=st.just(PARTIES)),
    st.sampled_from(RELIABILITY_GRADES),
    st.sampled_from(("asserted", "denied")),
)
def test_law_6_statements_against_interest_weigh_more_than_self_serving_ones(
    scenario: Scenario, reliability: str, kind: str
) -> None:
    # Other things equal: the speaker is its group's only voice either way (the context has
    # no other KP source), so only its interest differs between the two runs.
    statement = Statement("statement", kind, "witness", LATE)
    party = SourceStanding("witness", "Witness", "KP", reliability)
    neutral = SourceStanding("witness", "Witness", None, reliability)
    evidence = [*scenario.evidence, statement]
    as_party = assess(evidence, {**scenario.sources, "witness": party}, PARTIES).probability
    as_neutral = assess(evidence, {**scenario.sources, "witness": neutral}, PARTIES).probability

    # Both a party's denial and a party's admission leave the claim more credible than the
    # same words from a neutral source: the denial counts less, the admission more.
    assert as_party >= as_neutral
    resolved = any(item.type == "resolved" for item in scenario.evidence)
    if not resolved and 0.02 < as_neutral < 0.98:  # not pinned at a bound or rounded away
        assert as_party > as_neutral


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


@laws
@given(scenarios())
def test_an_assertion_never_moves_the_probability_down_nor_a_denial_up(
    scenario: Scenario,
) -> None:
    for contribution in scenario.assess().contributions:
        if contribution.type == "asserted":
            assert contribution.delta >= 0
        if contribution.type == "denied":
            assert contribution.delta <= 0


@laws
@given(scenarios())
def test_summarize_answers_what_assess_answers(scenario: Scenario) -> None:
    """The projection's fast path: the same four values as the full model, on any evidence."""
    full = scenario.assess()
    assert summarize(scenario.evidence, scenario.sources, scenario.parties,
                     scenario.beneficiaries) == verdict(full)
