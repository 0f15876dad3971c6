"""Likelihood words as STIX confidence, and derived ids."""

from __future__ import annotations

from uuid import UUID

import pytest
from stix2.confidence.scales import dni_to_value, value_to_dni

from ledger.interop import stix_terms as terms
from ledger.likelihood import ICD203_BANDS


def test_the_dni_table_is_the_libraries_and_covers_every_icd_203_term() -> None:
    assert list(terms.DNI_SCALE) == [band.term for band in ICD203_BANDS]
    for term, (words, value) in terms.DNI_SCALE.items():
        assert dni_to_value(words) == value, term
        assert value_to_dni(value) == words, term
        assert terms.confidence_term(value) == term


def test_every_confidence_value_reads_as_the_libraries_dni_term() -> None:
    words_to_term = {words: term for term, (words, _) in terms.DNI_SCALE.items()}
    for value in range(101):
        assert terms.confidence_term(value) == words_to_term[value_to_dni(value)], value
    with pytest.raises(ValueError):
        terms.confidence_term(101)


@pytest.mark.parametrize(("likelihood", "term", "confidence", "opinion"), [
    (0.03, "almost no chance", 5, "strongly-disagree"),
    (0.325, "unlikely", 30, "disagree"),
    (0.5, "roughly even chance", 50, "neutral"),
    (0.6, "likely", 70, "agree"),
    (0.875, "very likely", 85, "strongly-agree"),
    (0.97, "almost certain", 95, "strongly-agree"),
])
def test_a_likelihood_maps_to_its_band_its_confidence_and_an_opinion(
    likelihood: float, term: str, confidence: int, opinion: str
) -> None:
    assert terms.band_term(likelihood) == term
    assert terms.likelihood_confidence(likelihood) == confidence
    assert terms.likelihood_opinion(likelihood) == opinion


def test_derived_ids_are_stable_distinct_and_shaped_as_uuid4() -> None:
    a = terms.stix_id("note", "event", "e1")
    assert a == terms.stix_id("note", "event", "e1") != terms.stix_id("note", "event", "e2")
    kind, _, value = a.partition("--")
    assert kind == "note" and UUID(value).version == 4
    assert terms.statement_object_id("assessed", "e1").startswith("opinion--")
    assert terms.statement_object_id("denied", "e1").startswith("note--")
