"""Worked examples of the credibility model, from the October 2024 article and around it.

Claim: "North Korea is sending troops to fight for Russia in Ukraine"; parties RU and KP.
"""

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ledger.credibility import VERSIONS, Credibility, InvalidEvidence, SourceStanding
from ledger.likelihood import parse_likelihood
from ledger.statements import Statement

V1 = VERSIONS["credibility-v1"]
MODEL_VERSION = V1.name
assess = V1.assess

PARTIES = ("RU", "KP")
SOURCES = {
    source.source_id: source
    for source in (
        SourceStanding("zelensky", "Volodymyr Zelensky", "UA", "C"),
        SourceStanding("peskov", "Dmitry Peskov", "RU", "D"),
        SourceStanding("zakharova", "Maria Zakharova", "RU", "D"),
        SourceStanding("lukashenko", "Alexander Lukashenko", "BY", "D"),
        SourceStanding("kim-yong-hyun", "Kim Yong-hyun", "KR", "B"),
        SourceStanding("kcna", "KCNA", "KP", "D"),
        SourceStanding("pentagon", "Pentagon", "US", "A"),
        SourceStanding("nato", "NATO", "NATO", "A"),
        SourceStanding("white-house", "White House", "US", "A"),
    )
}


def on(day: int) -> datetime:
    return datetime(2024, 10, day, 12, tzinfo=UTC)


def said(event_id: str, kind: str, source: str, day: int) -> Statement:
    return Statement(event_id, kind, source, on(day))


def pooled(log_odds: float) -> float:
    """The model's pooling, written out independently: 0.01 + 0.98 * sigmoid(log-odds)."""
    return round(0.01 + 0.98 / (1 + math.exp(-log_odds)), 6)


def reasons(credibility: Credibility) -> dict[str, str]:
    return {c.event_id: c.reason for c in credibility.contributions}


def test_the_article_leans_true() -> None:
    highly_likely = parse_likelihood("highly likely")  # Kim Yong-hyun's words, 0.875
    evidence = [
        Statement("kim", "assessed", "kim-yong-hyun", on(8), likelihood=highly_likely.probability),
        said("peskov", "denied", "peskov", 10),  # "another hoax"
        said("zelensky", "asserted", "zelensky", 13),  # Sunday's video message
    ]
    credibility = assess(evidence, SOURCES, PARTIES)

    kim = math.log(7) * 0.9 * 0.85  # logit(0.875) x assessor B x confidence unstated
    assert credibility.probability == pooled(kim - 0.5 * 0.25 + 0.8)
    assert credibility.band == "very likely"
    assert credibility.status == "leaning true"
    assert credibility.grade == 2
    assert reasons(credibility) == {
        "kim": "Kim Yong-hyun (KR, reliability B) assessed the claim very likely (0.875) with"
        " no stated confidence: logit +1.946 x0.9 for an assessor rated B x0.85 for"
        " moderate (assumed) confidence = +1.489 log-odds, its weight in the pool now",
        "peskov": "Dmitry Peskov (RU, reliability D) denied the claim: reliability D gives"
        " -0.5 log-odds; RU is a party to the claim, so a self-serving denial counts x0.25:"
        " -0.125 log-odds, its weight in the pool now",
        "zelensky": "Volodymyr Zelensky (UA, reliability C) asserted the claim: reliability C"
        " gives +0.8 log-odds, its weight in the pool now",
    }
    # Each delta is the move made when the event arrived, in date order.
    deltas = [c.delta for c in credibility.contributions]
    assert deltas[0] == pytest.approx(pooled(kim) - 0.5, abs=1e-6)
    assert sum(deltas) == pytest.approx(credibility.probability - 0.5, abs=1e-5)


def test_two_organs_of_one_government_count_less_than_two_independent_voices() -> None:
    # No parties here, so only non-independence is at work.
    one_government = assess(
        [said("d1", "denied", "peskov", 10), said("d2", "denied", "zakharova", 11)], SOURCES, ()
    )
    two_governments = assess(
        [said("d1", "denied", "peskov", 10), said("d2", "denied", "lukashenko", 11)], SOURCES, ()
    )
    assert one_government.probability == pooled(-0.5 - 0.25)
    assert two_governments.probability == pooled(-0.5 - 0.5)
    assert one_government.probability > two_governments.probability
    assert reasons(one_government)["d2"].endswith(
        "; second voice from RU on this side (after d1), not an independent witness:"
        " counted at 1/2: -0.25 log-odds, its weight in the pool now"
    )


def test_independent_confirmation_earns_grade_1_and_one_government_does_not() -> None:
    independent = assess(
        [said("a1", "asserted", "pentagon", 20), said("a2", "asserted", "nato", 21)],
        SOURCES,
        PARTIES,
    )
    one_government = assess(
        [said("a1", "asserted", "pentagon", 20), said("a2", "asserted", "white-house", 21)],
        SOURCES,
        PARTIES,
    )
    assert independent.probability == pooled(3.2) >= 0.95
    assert independent.grade == 1
    assert one_government.probability == pooled(2.4)
    assert one_government.grade == 2


def test_an_admission_by_a_party_counts_double_and_its_denial_a_quarter() -> None:
    admitted = assess([said("k1", "asserted", "kcna", 25)], SOURCES, PARTIES)
    denied = assess([said("k1", "denied", "kcna", 25)], SOURCES, PARTIES)
    assert admitted.probability == pooled(1.0)
    assert denied.probability == pooled(-0.125)
    assert "so an assertion against its interest counts x2: +1 log-odds" in reasons(admitted)["k1"]


def test_a_source_changing_its_mind_counts_once() -> None:
    credibility = assess(
        [said("z1", "asserted", "zelensky", 13), said("z2", "denied", "zelensky", 14)],
        SOURCES,
        PARTIES,
    )
    assert credibility.probability == pooled(-0.8)
    assert credibility.status == "leaning false"
    assert reasons(credibility)["z1"] == (
        "superseded by this source's later statement z2 of 2024-10-14:"
        " only a source's latest position counts"
    )
    assert credibility.contributions[0].delta == 0.0


def test_a_retraction_withdraws_only_the_sources_own_statement() -> None:
    claim = said("z1", "asserted", "zelensky", 13)
    own = Statement("z2", "retracted", "zelensky", on(20), supersedes="z1")
    foreign = Statement("p1", "retracted", "peskov", on(15), supersedes="z1")

    withdrawn = assess([claim, own], SOURCES, PARTIES)
    assert (withdrawn.probability, withdrawn.status, withdrawn.grade) == (0.5, "unverified", 6)
    assert reasons(withdrawn) == {
        "z1": "withdrawn by Volodymyr Zelensky in event z2 of 2024-10-20, so it no longer counts",
        "z2": "Volodymyr Zelensky (UA, reliability C) withdraws event z1 of 2024-10-13",
    }
    ignored = assess([claim, foreign], SOURCES, PARTIES)
    assert ignored.probability == pooled(0.8)
    assert "a source may withdraw only its own; ignored" in reasons(ignored)["p1"]


def test_a_resolution_overrides_everything_and_says_so() -> None:
    evidence = [
        said("peskov", "denied", "peskov", 10),
        Statement("ruling", "resolved", "pentagon", on(28), outcome="confirmed"),
    ]
    credibility = assess(evidence, SOURCES, PARTIES)
    assert (credibility.probability, credibility.status, credibility.grade) == (
        0.995,
        "confirmed",
        1,
    )
    assert credibility.band == "almost certain"
    assert reasons(credibility)["ruling"] == (
        "Pentagon (US, reliability A) resolved the claim as confirmed: ground truth overrides"
        f" the pooled {pooled(-0.125):g} and sets the probability to 0.995; it adds no log-odds"
        " to the pool"
    )
    assert credibility.contributions[-1].delta == pytest.approx(0.995 - pooled(-0.125))


def test_an_unknown_source_is_heard_as_unaffiliated_and_unrated() -> None:
    credibility = assess([said("x1", "asserted", "anonymous", 13)], SOURCES, PARTIES)
    assert credibility.probability == pooled(0.5)
    assert reasons(credibility)["x1"].startswith(
        "unregistered source anonymous (unaffiliated, reliability F) asserted the claim"
    )


def test_a_corrected_event_says_which_correction_it_reflects() -> None:
    corrected = Statement("z1", "asserted", "zelensky", on(13), corrected_by="c1")
    credibility = assess([corrected], SOURCES, PARTIES)
    assert reasons(credibility)["z1"].endswith("(as corrected by event c1)")


def test_the_answer_is_plain_json_with_the_contracted_keys() -> None:
    credibility = assess([said("z1", "asserted", "zelensky", 13)], SOURCES, PARTIES)
    document = json.loads(json.dumps(credibility.to_dict()))
    assert list(document) == ["probability", "band", "status", "grade", "model", "contributions"]
    assert document["model"] == MODEL_VERSION
    assert list(document["contributions"][0]) == [
        "event_id", "source", "type", "delta", "log_odds", "reason"
    ]


def test_a_contribution_gives_its_move_on_arrival_and_its_weight_now_and_says_which() -> None:
    # A weak voice of RU denies first, alone; a strong one of RU denies later and pushes it
    # to 1/2. Its move on arrival and its weight now differ, and the row gives both.
    sources = {
        "weak": SourceStanding("weak", "Weak", "RU", "E"),  # 0.25 log-odds
        "strong": SourceStanding("strong", "Strong", "RU", "B"),  # 1.2 log-odds
    }
    evidence = [said("d1", "denied", "weak", 10), said("d2", "denied", "strong", 11)]
    credibility = assess(evidence, sources, ())
    rows = {c.event_id: c for c in credibility.contributions}
    assert rows["d1"].delta == pytest.approx(pooled(-0.25) - 0.5, abs=1e-6)
    assert rows["d2"].delta == pytest.approx(pooled(-1.2 - 0.125) - pooled(-0.25), abs=1e-6)
    assert rows["d1"].log_odds == -0.125
    assert rows["d2"].log_odds == -1.2
    assert credibility.probability == pooled(rows["d1"].log_odds + rows["d2"].log_odds)
    assert rows["d1"].reason.endswith("counted at 1/2: -0.125 log-odds, its weight in the pool now")
    assert rows["d2"].reason.endswith("gives -1.2 log-odds, its weight in the pool now")
    assert sum(c.delta for c in credibility.contributions) == pytest.approx(
        credibility.probability - 0.5, abs=1e-5
    )


def test_what_does_not_count_now_weighs_nothing_but_keeps_its_move_on_arrival() -> None:
    evidence = [
        said("a1", "asserted", "zelensky", 10),
        said("a2", "denied", "zelensky", 11),  # changes its mind: a1 is superseded
        Statement("r", "resolved", "un", on(12), outcome="refuted"),
    ]
    credibility = assess(evidence, SOURCES, PARTIES)
    rows = {c.event_id: c for c in credibility.contributions}
    assert rows["a1"].log_odds == 0.0 and rows["a1"].delta == 0.0
    assert rows["a2"].log_odds < 0.0 and rows["a2"].delta < 0.0
    assert rows["r"].log_odds == 0.0
    assert rows["r"].delta == pytest.approx(0.005 - (0.5 + rows["a2"].delta), abs=1e-6)
    assert rows["r"].reason.endswith("it adds no log-odds to the pool")


@pytest.mark.parametrize(
    "build",
    [
        lambda: Statement("e1", "asserted", "zelensky", datetime(2024, 10, 13)),  # no zone
        lambda: Statement("e1", "rumoured", "zelensky", on(13)),
        lambda: Statement("e1", "assessed", "zelensky", on(13)),  # no likelihood
        lambda: Statement("e1", "assessed", "zelensky", on(13), likelihood=1.0),
        lambda: Statement("e1", "assessed", "zelensky", on(13), likelihood=0.5, confidence="x"),
        lambda: Statement("e1", "resolved", "zelensky", on(13), outcome="maybe"),
        lambda: Statement("e1", "retracted", "zelensky", on(13)),  # withdraws nothing
        lambda: SourceStanding("s", "S", None, "G"),
        lambda: assess([said("e1", "asserted", "a", 1), said("e1", "denied", "b", 2)], {}, ()),
    ],
)
def test_malformed_evidence_is_refused_not_guessed_at(build: Callable[[], object]) -> None:
    with pytest.raises(InvalidEvidence):
        built = build()
        if isinstance(built, Statement):
            assess([built], SOURCES, PARTIES)


def test_a_beneficiary_accusing_counts_half_and_denying_counts_double() -> None:
    """Ukraine gains if the claim is believed: its accusation is self-serving."""
    accusation = [said("z", "asserted", "zelensky", 13)]
    neutral = assess(accusation, SOURCES, PARTIES)
    interested = assess(accusation, SOURCES, PARTIES, beneficiaries=("UA",))
    assert neutral.probability == pooled(0.8)
    assert interested.probability == pooled(0.4)
    assert "UA gains if the claim is believed, so a self-serving assertion counts x0.5" in (
        reasons(interested)["z"]
    )
    denial = [said("z", "denied", "zelensky", 13)]
    assert assess(denial, SOURCES, PARTIES, beneficiaries=("UA",)).probability == pooled(-1.6)


def test_a_beneficiarys_low_assessment_reads_as_an_assessment_against_its_interest() -> None:
    """Grammar: 'an assessment', never 'a assessment' (issue 10)."""
    from ledger.statements import Statement

    item = Statement("e1", "assessed", "ua", datetime(2024, 10, 1, tzinfo=UTC), likelihood=0.2)
    standing = {"ua": SourceStanding("ua", "UA ministry", "UA", "B")}
    reasons = [c.reason for c in assess([item], standing, ["RU"], ["UA"]).contributions]
    assert any("an assessment against its interest" in r for r in reasons), reasons
    assert not any("a assessment" in r for r in reasons)
