"""ICD 203 likelihood terms: bands, synonyms and parsing."""

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.likelihood import (
    ICD203_BANDS,
    ICD203_TERMS,
    SYNONYMS,
    Band,
    InvalidLikelihood,
    Likelihood,
    LikelihoodOutOfRange,
    UnknownLikelihoodTerm,
    band_for,
    parse_likelihood,
)
from ledger.statements import CONFIDENCE_LEVELS


def test_terms_are_the_seven_icd_203_terms_in_order() -> None:
    assert ICD203_TERMS == (
        "almost no chance",
        "very unlikely",
        "unlikely",
        "roughly even chance",
        "likely",
        "very likely",
        "almost certain",
    )
    assert CONFIDENCE_LEVELS == ("low", "moderate", "high")


def test_bands_tile_one_to_ninety_nine_percent() -> None:
    assert ICD203_BANDS[0].low == 0.01
    assert ICD203_BANDS[-1].high == 0.99
    for lower, upper in itertools.pairwise(ICD203_BANDS):
        assert lower.high == upper.low


@pytest.mark.parametrize("band", ICD203_BANDS, ids=lambda band: band.term)
def test_each_term_parses_to_its_midpoint(band: Band) -> None:
    parsed = parse_likelihood(band.term)
    assert parsed == Likelihood(band.representative, band.term, band.term)
    assert parsed.probability == pytest.approx((band.low + band.high) / 2)
    assert band_for(parsed.probability) == band.term


@pytest.mark.parametrize(
    ("words", "term"),
    [
        ("remote", "almost no chance"),
        ("highly unlikely", "very unlikely"),
        ("highly improbable", "very unlikely"),
        ("improbable", "unlikely"),
        ("probably not", "unlikely"),
        ("even chance", "roughly even chance"),
        ("roughly even odds", "roughly even chance"),
        ("about even", "roughly even chance"),
        ("toss-up", "roughly even chance"),
        ("probable", "likely"),
        ("probably", "likely"),
        ("highly likely", "very likely"),
        ("highly probable", "very likely"),
        ("nearly certain", "almost certain"),
        ("almost certainly", "almost certain"),
        ("virtually certain", "almost certain"),
    ],
)
def test_synonyms_map_onto_their_term(words: str, term: str) -> None:
    assert SYNONYMS[words.replace("-", " ")] == term
    assert parse_likelihood(words).term == term


def test_words_are_read_regardless_of_case_and_spacing_but_kept_as_said() -> None:
    parsed = parse_likelihood("  Highly   LIKELY ")
    assert parsed.term == "very likely"
    assert parsed.probability == 0.875
    assert parsed.phrase == "  Highly   LIKELY "
    assert parse_likelihood("Toss Up").term == "roughly even chance"


def test_a_number_keeps_its_value_and_has_no_phrase() -> None:
    assert parse_likelihood(0.7) == Likelihood(0.7, None, "likely")


@pytest.mark.parametrize(
    ("probability", "term"),
    [
        (0.001, "almost no chance"),
        (0.0499, "almost no chance"),
        (0.05, "very unlikely"),
        (0.1999, "very unlikely"),
        (0.20, "unlikely"),
        (0.4499, "unlikely"),
        (0.45, "roughly even chance"),
        (0.55, "roughly even chance"),
        (0.5501, "likely"),
        (0.7999, "likely"),
        (0.80, "very likely"),
        (0.9499, "very likely"),
        (0.95, "almost certain"),
        (0.999, "almost certain"),
    ],
)
def test_band_boundaries(probability: float, term: str) -> None:
    assert band_for(probability) == term


@given(st.floats(min_value=0.01, max_value=0.99))
def test_every_probability_falls_in_the_range_of_its_band(probability: float) -> None:
    band = ICD203_BANDS[ICD203_TERMS.index(band_for(probability))]
    assert band.low <= probability <= band.high


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, -0.1, 1.5, math.nan, math.inf, True, False])
def test_numbers_outside_the_open_unit_interval_are_refused(value: float) -> None:
    with pytest.raises(LikelihoodOutOfRange, match="strictly between 0 and 1"):
        parse_likelihood(value)


def test_an_unknown_term_names_every_accepted_term_and_synonym() -> None:
    with pytest.raises(UnknownLikelihoodTerm) as raised:
        parse_likelihood("could be accurate")
    message = str(raised.value)
    assert "'could be accurate'" in message
    for words in (*ICD203_TERMS, *SYNONYMS):
        assert words in message


def test_errors_are_value_errors_with_one_base() -> None:
    assert issubclass(UnknownLikelihoodTerm, InvalidLikelihood)
    assert issubclass(LikelihoodOutOfRange, InvalidLikelihood)
    assert issubclass(InvalidLikelihood, ValueError)


def test_band_for_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        band_for(math.nan)
