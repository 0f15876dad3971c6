"""The article's events replayed: what the numbers do over time, and why.

Timeline (mid-October 2024): Kim Yong-hyun's and the NIS's assessments on Tuesday
2024-10-08, Peskov's "another hoax" on Thursday 2024-10-10, Zelensky's video on Sunday
2024-10-13; the arms denials and accusations are undated and entered at the article's date.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from ledger.application import ClaimsLedger
from ledger.examples import article_records, load_article
from ledger.times import parse_instant

TROOPS = "nk-troops-for-russia"
ARMS = "nk-arms-for-russia"


def day(text: str) -> object:
    return parse_instant("as_of", text, bare_date="end")


@pytest.fixture
def article(ledger: ClaimsLedger) -> ClaimsLedger:
    assert load_article(ledger) == len(article_records())
    return ledger


def cred(ledger: ClaimsLedger, claim: str, when: str | None = None) -> dict[str, object]:
    view = ledger.claim(claim, as_of=day(when) if when else None)
    return view["credibility"]  # type: ignore[no-any-return]


def test_loading_twice_writes_nothing_more(article: ClaimsLedger) -> None:
    assert load_article(article) == 0


def test_troops_claim_over_valid_time(article: ClaimsLedger) -> None:
    before = cred(article, TROOPS, "2024-10-07")
    assert (before["probability"], before["band"], before["status"]) == (
        0.5,
        "roughly even chance",
        "unverified",
    )

    assessed = cred(article, TROOPS, "2024-10-08")  # Kim "highly likely" + NIS "could be accurate"
    assert assessed["band"] == "very likely" and assessed["status"] == "leaning true"
    assert {c["source"] for c in assessed["contributions"]} == {"kim-yong-hyun", "kr-nis"}

    denied = cred(article, TROOPS, "2024-10-10")  # Peskov: "another hoax"
    assert denied["probability"] < assessed["probability"]
    # ...but a party's self-serving denial moves it little.
    assert assessed["probability"] - denied["probability"] < 0.05

    asserted = cred(article, TROOPS, "2024-10-13")  # Zelensky's video message
    assert asserted["probability"] > denied["probability"]
    assert cred(article, TROOPS) == asserted  # nothing after the article


def test_contributions_explain_the_numbers(article: ClaimsLedger) -> None:
    c = cred(article, TROOPS)
    reasons = {x["source"]: x["reason"] for x in c["contributions"]}
    assert "self-serving" in reasons["peskov"]
    assert (
        "KR" in reasons["kr-nis"] and "1/2" in reasons["kr-nis"]
    )  # second voice of one government
    assert "very likely" in reasons["kim-yong-hyun"]
    # Ukraine gains if the claim is believed: Zelensky's accusation is heard at half weight.
    assert "self-serving assertion counts x0.5" in reasons["zelensky"]
    total = sum(x["delta"] for x in c["contributions"])
    assert abs(0.5 + total - c["probability"]) < 1e-5


def test_arms_claim_both_parties_deny_but_accusations_weigh_more(article: ClaimsLedger) -> None:
    assert cred(article, ARMS, "2024-10-13")["status"] == "unverified"
    now = cred(article, ARMS)
    denials = [x for x in now["contributions"] if x["type"] == "denied"]
    assert len(denials) == 2 and all("self-serving" in x["reason"] for x in denials)
    # The accusers outweigh both parties' denials; in v2 (the default) their statement,
    # the day the story broke, is an early report at half weight, so the claim stays
    # contested, above even odds; v1 hears it in full and leans true.
    assert now["model"] == "credibility-v2" and now["status"] == "contested"
    assert float(now["probability"]) > 0.5  # type: ignore[arg-type]
    v1 = article.claim(ARMS, model="credibility-v1")["credibility"]
    assert v1["status"] == "leaning true"


def test_audit_trail_links_every_change(article: ClaimsLedger) -> None:
    entries = article.audit(TROOPS)["entries"]
    assert [e["source"] for e in entries] == ["kim-yong-hyun", "kr-nis", "peskov", "zelensky"]
    assert entries[0]["before"]["probability"] == 0.5
    for previous, entry in pairwise(entries):
        assert entry["before"] == previous["after"]
    assert all(e["actor"] == "example-data" for e in entries)
    assert "self-serving denial" in entries[2]["reason"]  # why Peskov's denial moved it
    assert entries[-1]["after"]["probability"] == cred(article, TROOPS)["probability"]


def test_timeline_is_a_step_function_of_valid_time(article: ClaimsLedger) -> None:
    points = article.timeline(TROOPS)["points"]
    assert [p["valid_from"][:10] for p in points] == ["2024-10-08", "2024-10-10", "2024-10-13"]
    assert points[-1]["probability"] == cred(article, TROOPS)["probability"]


def test_as_of_before_everything_lists_every_claim_unverified(article: ClaimsLedger) -> None:
    listed = article.list_claims(as_of=day("2024-01-01"))["data"]
    assert {c["id"] for c in listed} == {TROOPS, ARMS, "ru-kp-defence-pact"}
    assert {c["credibility"]["status"] for c in listed} == {"unverified"}
    assert [c["id"] for c in article.list_claims(tag="arms")["data"]] == [ARMS]
    assert [c["id"] for c in article.list_claims(q="PLEDGED")["data"]] == ["ru-kp-defence-pact"]


def test_replay_is_deterministic_across_stores(article: ClaimsLedger) -> None:
    from ledger.config import Settings

    other = ClaimsLedger(Settings(store="memory", _env_file=None).eventsourcing_env())  # type: ignore[call-arg]
    load_article(other)
    for claim in (TROOPS, ARMS):
        for when in ("2024-10-08", "2024-10-10", "2024-10-13", None):
            # The shipped data carries its event ids, so even the contributions match.
            assert cred(article, claim, when) == cred(other, claim, when)


def test_an_unknown_status_filter_names_the_accepted_ones(article: ClaimsLedger) -> None:
    from ledger.errors import InvalidInput

    with pytest.raises(InvalidInput, match="leaning true") as caught:
        article.list_claims(status="leaning-true")
    assert caught.value.field == "status"
    assert len(article.list_claims(status="leaning true")["data"]) == 2  # the arms claim:
    assert [c["id"] for c in article.list_claims(status="contested")["data"]] == [ARMS]
    assert len(article.list_claims(status="leaning true", model="credibility-v1")["data"]) == 3
