"""Words of estimative probability: ICD 203 terms, their synonyms, and parsing.

Analysts write "highly likely" as often as they write 0.85. The ledger accepts either and
keeps both: the number it computes with, the caller's own words, and the ICD 203 band the
likelihood falls in, so an assessment can always be read back the way it was said.

Errors (both are ``ValueError``, so a caller that only wants "bad input" can catch that)::

    InvalidLikelihood
     +-- UnknownLikelihoodTerm   words that are neither an ICD 203 term nor a known synonym
     +-- LikelihoodOutOfRange    a number not strictly between 0 and 1 (or not a number)
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ICD203_BANDS",
    "ICD203_TERMS",
    "SYNONYMS",
    "Band",
    "InvalidLikelihood",
    "Likelihood",
    "LikelihoodOutOfRange",
    "UnknownLikelihoodTerm",
    "band_for",
    "parse_likelihood",
]



@dataclass(frozen=True)
class Band:
    """One ICD 203 term: its probability range and the single value that stands for it."""

    term: str
    low: float
    high: float
    representative: float  # the midpoint: the least surprising number for the words


ICD203_BANDS: tuple[Band, ...] = (
    Band("almost no chance", 0.01, 0.05, 0.03),
    Band("very unlikely", 0.05, 0.20, 0.125),
    Band("unlikely", 0.20, 0.45, 0.325),
    Band("roughly even chance", 0.45, 0.55, 0.50),
    Band("likely", 0.55, 0.80, 0.675),
    Band("very likely", 0.80, 0.95, 0.875),
    Band("almost certain", 0.95, 0.99, 0.97),
)
ICD203_TERMS: tuple[str, ...] = tuple(band.term for band in ICD203_BANDS)
_BAND_BY_TERM = {band.term: band for band in ICD203_BANDS}

# Keys are in normalised form (see _normalise). The pairs ICD 203 itself prints beside each
# term come first in every group; the rest are the phrasings that turn up in reporting.
# "improbable" goes to "unlikely", as ICD 203 pairs it, mirroring "probable" -> "likely".
_SYNONYMS_BY_TERM: dict[str, tuple[str, ...]] = {
    "almost no chance": (
        "remote",
        "remote chance",
        "almost impossible",
        "virtually impossible",
        "virtually no chance",
        "extremely unlikely",
    ),
    "very unlikely": ("highly improbable", "highly unlikely", "very improbable"),
    "unlikely": ("improbable", "improbably", "probably not", "not likely"),
    "roughly even chance": (
        "roughly even odds",
        "even chance",
        "even odds",
        "about even",
        "toss up",
        "fifty fifty",
    ),
    "likely": ("probable", "probably"),
    "very likely": ("highly probable", "highly likely", "very probable", "very probably"),
    "almost certain": (
        "almost certainly",
        "nearly certain",
        "virtually certain",
        "all but certain",
    ),
}
SYNONYMS: Mapping[str, str] = MappingProxyType(
    {synonym: term for term, synonyms in _SYNONYMS_BY_TERM.items() for synonym in synonyms}
)
_LOOKUP = {**{term: term for term in ICD203_TERMS}, **SYNONYMS}


class InvalidLikelihood(ValueError):
    """A likelihood the ledger cannot read."""


class UnknownLikelihoodTerm(InvalidLikelihood):
    """Words that are neither an ICD 203 term nor one of its known synonyms."""

    def __init__(self, phrase: str) -> None:
        self.phrase = phrase
        accepted = "; ".join(
            f"{term} (also: {', '.join(_SYNONYMS_BY_TERM[term])})" for term in ICD203_TERMS
        )
        super().__init__(
            f"unknown likelihood term {phrase!r}: give a probability strictly between 0 and 1"
            f" or one of the ICD 203 terms: {accepted}"
        )


class LikelihoodOutOfRange(InvalidLikelihood):
    """A number that is not a probability strictly between 0 and 1."""

    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(
            f"likelihood {value!r} is not a probability strictly between 0 and 1"
            " (certainty is a resolution, not an assessment)"
        )


@dataclass(frozen=True)
class Likelihood:
    """A parsed likelihood: the number, the caller's words (if any) and the ICD 203 band."""

    probability: float
    phrase: str | None
    term: str


def band_for(probability: float) -> str:
    """The ICD 203 term for a probability.

    The boundaries between bands are shared; they are settled here once so every part of
    the ledger names the same band for the same number. The even-chance band is closed on
    both ends so that 0.45 and 0.55 read as "roughly even", not as a lean.
    """
    if math.isnan(probability):
        raise ValueError("a probability cannot be NaN")
    if probability < 0.05:
        return "almost no chance"
    if probability < 0.20:
        return "very unlikely"
    if probability < 0.45:
        return "unlikely"
    if probability <= 0.55:
        return "roughly even chance"
    if probability < 0.80:
        return "likely"
    if probability < 0.95:
        return "very likely"
    return "almost certain"


def _normalise(phrase: str) -> str:
    # People type "Highly-Likely", "toss-up" and "  very  likely ": all mean the same words.
    return re.sub(r"[\s\-_]+", " ", phrase.casefold()).strip()


def parse_likelihood(value: float | str) -> Likelihood:
    """Read a likelihood given as a probability in (0, 1) or as ICD 203 words."""
    if isinstance(value, str):
        term = _LOOKUP.get(_normalise(value))
        if term is None:
            raise UnknownLikelihoodTerm(value)
        return Likelihood(_BAND_BY_TERM[term].representative, value, term)
    # bool is an int subclass: True would otherwise slip through as the number 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LikelihoodOutOfRange(value)
    probability = float(value)
    if not 0.0 < probability < 1.0:  # also false for NaN
        raise LikelihoodOutOfRange(value)
    return Likelihood(probability, None, band_for(probability))
