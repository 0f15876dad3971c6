"""Drafting statements from an article (``ledger.drafts``), on short texts of our own."""

from __future__ import annotations

from datetime import date

from ledger.drafts import (
    MAX_SENTENCE,
    KnownSource,
    Proposal,
    draft,
    known_sources,
    sentences,
)

PUBLISHED = date(2025, 3, 12)  # a Wednesday
SOURCES = [
    KnownSource("berg", "Anna Berg", "Foreign Minister of Norway", ("NO",)),
    KnownSource("fis", "Federal Intelligence Service (Germany)", "intelligence service", ("DE",)),
    KnownSource("ua-president", "Olena Marchenko", "President of Ukraine", ("UA",)),
    KnownSource("cn-government", "Government of China", "government", ("CN",)),
]


def one(text: str, sources: list[KnownSource] = SOURCES) -> Proposal:
    found = draft(text, PUBLISHED, sources)
    assert len(found) == 1, [p.as_dict() for p in found]
    return found[0]


def test_an_attribution_verb_with_a_known_name_and_a_weekday() -> None:
    p = one("Anna Berg said on Monday that the bridge was destroyed by a missile.")
    assert (p.source, p.type, p.occurred_at) == ("berg", "asserted", date(2025, 3, 10))
    assert p.new_source is None
    assert "attribution verb 'said'" in p.reason and "name 'Anna Berg'" in p.reason
    assert p.date_precision == "day" and "'on Monday'" in p.date_basis


def test_a_surname_and_a_denial_cue() -> None:
    p = one("Berg told reporters last Friday that the story was a hoax.")
    assert (p.source, p.type, p.occurred_at) == ("berg", "denied", date(2025, 3, 7))
    assert "denial cue 'hoax'" in p.reason and "surname 'berg'" in p.reason


def test_a_denial_verb() -> None:
    p = one("Beijing on 2 March rejected reports of a secret shipment.")
    assert (p.source, p.type, p.occurred_at) == ("cn-government", "denied", date(2025, 3, 2))


def test_icd_203_words_make_an_assessment_with_the_words_used() -> None:
    p = one("Germany's Federal Intelligence Service said last week it was highly likely "
            "that the convoy carried troops.")
    assert (p.source, p.type) == ("fis", "assessed")
    assert p.likelihood == "highly likely" and p.likelihood_term == "very likely"
    # "last week" names a week: Monday 3 March to Sunday 9 March.
    assert p.date_precision == "week" and p.window() == (date(2025, 3, 3), date(2025, 3, 9))


def test_a_hedge_is_an_assessment_too() -> None:
    p = one("The Federal Intelligence Service said the report could be accurate.")
    assert (p.source, p.type, p.likelihood, p.likelihood_phrase) == (
        "fis", "assessed", 0.6, "could be accurate")
    assert p.likelihood_term == "likely"
    event = p.event("https://example.org/a")
    assert event["likelihood"] == 0.6 and event["likelihood_phrase"] == "could be accurate"
    assert event["reference"] == "https://example.org/a"


def test_according_to_and_a_date_inside_what_was_said() -> None:
    p = one("According to the Federal Intelligence Service, the shipment left in January.")
    assert (p.source, p.type) == ("fis", "asserted")
    assert "'according to'" in p.reason
    # January dates the shipment, not the saying: the article's date stands in.
    assert p.occurred_at == PUBLISHED and not p.dated


def test_a_month_by_the_verb_and_a_date_after_the_occasion() -> None:
    p = one("The Federal Intelligence Service said in January that the shipment left in May.")
    assert p.occurred_at == date(2025, 1, 1) and p.date_precision == "month"
    assert p.window() == (date(2025, 1, 1), date(2025, 1, 31))
    q = one("Anna Berg said the ships had left, speaking at a press conference in Oslo on "
            "Monday.")
    assert q.occurred_at == date(2025, 3, 10)


def test_an_explicit_date_and_a_role_with_a_country() -> None:
    p = one("On 13 February the Ukrainian president said: \u201cThe convoy crossed at night. "
            "We saw it ourselves.\u201d")
    assert (p.source, p.occurred_at) == ("ua-president", date(2025, 2, 13))
    assert p.quote == "The convoy crossed at night. We saw it ourselves."
    assert "role 'President of Ukraine'" in p.reason


def test_an_unknown_speaker_is_proposed_as_a_new_source() -> None:
    p = one("Defence Minister Tomas Lind claimed on Tuesday that the drones were Iranian.")
    assert p.source == "tomas-lind" and p.new_source is not None
    assert p.new_source.as_dict() == {"id": "tomas-lind", "name": "Tomas Lind",
                                      "role": "Defence Minister"}
    assert p.occurred_at == date(2025, 3, 11)
    q = one("Poland's Border Guard said the fence was breached.")
    assert q.new_source is not None
    assert q.new_source.as_dict() == {"id": "border-guard-poland",
                                      "name": "Border Guard (Poland)", "affiliation": "PL"}


def test_no_date_phrase_falls_back_to_the_article_date_and_says_so() -> None:
    p = one("Anna Berg warned that more ships were on the way.")
    assert p.occurred_at == PUBLISHED and not p.dated
    assert "no date in the sentence" in p.date_basis


def test_he_added_is_the_last_speaker_on_the_same_occasion() -> None:
    found = draft("Anna Berg said on Sunday that the ships had left. \u201cThey will not come "
                  "back, it is very unlikely,\u201d she added.", PUBLISHED, SOURCES)
    assert [(p.source, p.type, p.occurred_at) for p in found] == [
        ("berg", "asserted", date(2025, 3, 9)), ("berg", "assessed", date(2025, 3, 9))]
    assert found[1].likelihood == "very unlikely"


def test_both_countries_are_their_governments() -> None:
    found = draft("Several diplomats have accused Beijing of arming Tehran, a charge both "
                  "countries have denied.", PUBLISHED, SOURCES)
    assert [(p.source, p.type) for p in found] == [
        ("several-diplomats", "asserted"), ("cn-government", "denied"),
        ("ir-government", "denied")]
    iran = found[2].new_source
    assert iran is not None and iran.as_dict()["affiliation"] == "IR"


def test_a_lead_restating_a_dated_statement_is_folded_into_it() -> None:
    found = draft("The ships have left, Anna Berg has said.\nSpeaking on Monday, Berg said "
                  "the ships had left the port.", PUBLISHED, SOURCES)
    assert len(found) == 1 and found[0].occurred_at == date(2025, 3, 10)
    assert "also told undated in sentence 1" in found[0].reason


def test_verbs_inside_quotes_and_sentences_without_a_speaker_propose_nothing() -> None:
    assert draft("\u201cThey said it was over,\u201d the sign read. The weather was fine.",
                 PUBLISHED, SOURCES) == []
    assert sentences("He said: \u201cOne. Two.\u201d Then he left.") == [
        "He said: \u201cOne. Two.\u201d", "Then he left."]


def test_known_sources_from_the_ledger_answers() -> None:
    found = known_sources([{"id": "x", "name": "X", "role": None, "affiliation": "ua",
                            "affiliations": []}])
    assert found == [KnownSource("x", "X", None, ("UA",))]


def test_a_surname_takes_the_full_name_the_article_gave_earlier() -> None:
    found = draft("Prime Minister Jonas Dahl visited the port in May. On Friday, Dahl said "
                  "the ships were gone.", PUBLISHED, SOURCES)
    assert [(p.source, p.occurred_at) for p in found] == [("jonas-dahl", date(2025, 3, 7))]
    assert found[0].new_source is not None
    assert found[0].new_source.as_dict() == {"id": "jonas-dahl", "name": "Jonas Dahl",
                                             "role": "Prime Minister"}


def test_a_run_without_full_stops_is_read_in_bounded_pieces() -> None:
    run = "Anna Berg said the ships left " * 400  # 12,000 characters, no full stop
    pieces = sentences(run)
    assert len(pieces) > 1 and all(len(p) <= MAX_SENTENCE for p in pieces)
    assert " ".join(pieces).split() == run.split()  # nothing lost
    found = draft(run, PUBLISHED, SOURCES)
    assert found and {p.source for p in found} == {"berg"}
