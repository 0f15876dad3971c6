"""The words the ledger and STIX 2.1 share: identifiers, the extension, confidence.

Identifiers are derived, not drawn: exporting the same ledger twice gives the same ids, so
a platform that reads both exports sees one object, not two. STIX asks for UUIDv4 in the
ids of domain objects; a derived id is the first 16 bytes of a SHA-256 of what it names,
with the version 4 bits set (as random-looking as a drawn one, and stable).

The ledger's own fields travel in one property extension (``EXTENSION_ID``), defined by
the ``extension-definition`` object ``extension_definition()`` makes: ``ledger_event``
holds the event as the ledger's API returns it, so an import reads it back exactly;
``claim`` and ``credibility`` describe a claim's grouping.

Likelihood words map to STIX ``confidence`` through the DNI scale of the STIX 2.1 spec's
appendix A (the scale ICD 203 defines). ``stix2.confidence.scales`` carries the same
table; its docstrings have slips (WEP "Unlikely/Probably Not" printed as 20 where the code
and the spec say 30), so the table is written out here and a test holds it to the library.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from ledger.likelihood import ICD203_BANDS
from ledger.statements import StatementType

#: Who speaks for the ledger in STIX: the identity that defines the extension.
LEDGER_IDENTITY_NAME = "Claims Ledger"
EXTENSION_VERSION = "1.0.0"


def stix_id(kind: str, *names: str) -> str:
    """The STIX id of ``kind`` for what ``names`` name: stable, shaped as a UUIDv4."""
    digest = hashlib.sha256("\x1f".join(("claims-ledger", kind, *names)).encode()).digest()
    return f"{kind}--{UUID(bytes=digest[:16], version=4)}"


EXTENSION_ID = stix_id("extension-definition", "claims-ledger", EXTENSION_VERSION)
LEDGER_IDENTITY_ID = stix_id("identity", "claims-ledger")
#: When the extension was defined: its created and modified (a fixed time, so the same
#: definition is the same object in every bundle).
EXTENSION_DEFINED = "2026-12-01T00:00:00.000000Z"

EXTENSION_SCHEMA = (
    "Claims Ledger property extension (extension_type property-extension). On identity, "
    "note and opinion objects: ledger_event, the ledger event the object version records, "
    "as the ledger's HTTP API returns it (event_id, type, source, occurred_at, recorded_at, "
    "position, actor and the statement's fields; a source's reliability on the NATO "
    "Admiralty scale A-F). On grouping objects: claim (id, text, tags, parties, "
    "beneficiaries) and credibility (probability, band, status, grade, model, as_of, "
    "known_at), the ledger's judgement of the claim when the grouping version was made."
)


def source_identity_id(source_id: str) -> str:
    return stix_id("identity", "source", source_id)


def claim_grouping_id(claim_id: str) -> str:
    return stix_id("grouping", "claim", claim_id)


_JUDGEMENTS = frozenset({StatementType.ASSESSED, StatementType.RESOLVED})


def statement_kind(event_type: str) -> str:
    """The STIX type of a statement: assessments and resolutions are opinions, the rest notes."""
    return "opinion" if event_type in _JUDGEMENTS else "note"


def statement_object_id(event_type: str, event_id: str) -> str:
    return stix_id(statement_kind(event_type), "event", event_id)


#: ICD 203 terms -> (the STIX 2.1 DNI scale's words, its confidence value), appendix A.
DNI_SCALE: dict[str, tuple[str, int]] = {
    "almost no chance": ("Almost No Chance / Remote", 5),
    "very unlikely": ("Very Unlikely / Highly Improbable", 15),
    "unlikely": ("Unlikely / Improbable", 30),
    "roughly even chance": ("Roughly Even Chance / Roughly Even Odds", 50),
    "likely": ("Likely / Probable", 70),
    "very likely": ("Very Likely / Highly Probable", 85),
    "almost certain": ("Almost Certain / Nearly Certain", 95),
}
#: The upper end of each DNI term's range of STIX confidence values, in the scale's order.
_DNI_UPPER = (9, 19, 39, 59, 79, 89, 100)


def band_term(likelihood: float) -> str:
    """The ICD 203 term a probability falls in (the ledger's bands, ends included)."""
    for band in ICD203_BANDS:
        if likelihood <= band.high:
            return band.term
    return ICD203_BANDS[-1].term


def likelihood_confidence(likelihood: float) -> int:
    """STIX ``confidence`` for a likelihood: its ICD 203 term's value on the DNI scale."""
    return DNI_SCALE[band_term(likelihood)][1]


def confidence_term(confidence: int) -> str:
    """The ICD 203 term a STIX ``confidence`` (0-100) stands for on the DNI scale."""
    if not 0 <= confidence <= 100:
        raise ValueError(f"confidence {confidence} is not between 0 and 100")
    for term, upper in zip(DNI_SCALE, _DNI_UPPER, strict=True):
        if confidence <= upper:
            return term
    raise AssertionError("unreachable: the last range ends at 100")  # pragma: no cover


#: A likelihood -> an opinion's agreement with the claim (the opinion_enum vocabulary).
def likelihood_opinion(likelihood: float) -> str:
    if likelihood < 0.2:
        return "strongly-disagree"
    if likelihood < 0.45:
        return "disagree"
    if likelihood <= 0.55:
        return "neutral"
    if likelihood < 0.8:
        return "agree"
    return "strongly-agree"


#: An opinion from a platform that gave no confidence -> the ICD 203 term it reads as.
OPINION_TERMS = {
    "strongly-disagree": "very unlikely",
    "disagree": "unlikely",
    "neutral": "roughly even chance",
    "agree": "likely",
    "strongly-agree": "very likely",
}


def ledger_extension(**properties: Any) -> dict[str, Any]:
    """The ``extensions`` property of an object carrying the ledger's fields."""
    return {EXTENSION_ID: {"extension_type": "property-extension", **properties}}


def ledger_properties(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The ledger's extension of a STIX object, if it has one."""
    extension = (obj.get("extensions") or {}).get(EXTENSION_ID)
    return extension if isinstance(extension, dict) else None
