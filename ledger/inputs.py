"""What callers send, checked against the domain's rules and turned into records.

HTTP and the CLI both hand plain mappings (parsed JSON) to these functions, so one set of
rules decides what the ledger accepts. Every refusal is an ``InvalidInput`` naming the
field and the reason; nothing here touches the store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ledger.errors import InvalidInput, InvalidStatement, InvalidTime
from ledger.likelihood import (
    CONFIDENCE_LEVELS,
    LikelihoodOutOfRange,
    UnknownLikelihoodTerm,
    parse_likelihood,
)
from ledger.times import CLOCK_SKEW, now, parse_instant

SLUG = re.compile(r"^[a-z0-9-]{1,64}$")
AFFILIATION = re.compile(r"^[A-Z0-9-]{2,16}$")
RELIABILITY = ("A", "B", "C", "D", "E", "F")
OUTCOMES = ("confirmed", "refuted")
MAX_TEXT = 20_000

_COMMON = {"type", "source", "occurred_at", "reference", "note"}
_FIELDS_BY_TYPE: dict[str, set[str]] = {
    "asserted": _COMMON | {"quote", "summary"},
    "denied": _COMMON | {"quote", "summary"},
    "assessed": _COMMON | {"quote", "summary", "likelihood", "likelihood_phrase", "confidence"},
    "retracted": _COMMON | {"supersedes", "quote", "summary"},
    "corrected": _COMMON
    | {
        "supersedes",
        "quote",
        "summary",
        "likelihood",
        "likelihood_phrase",
        "confidence",
        "outcome",
        "basis",
        "corrected_type",
    },
    "resolved": _COMMON | {"outcome", "basis"},
}
STATEMENT_TYPES = tuple(_FIELDS_BY_TYPE)


def _text(data: Mapping[str, Any], field: str, *, required: bool = False) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise InvalidInput(field, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(field, "must not be empty")
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(field, f"is longer than {MAX_TEXT} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. half of an escaped emoji
        raise InvalidInput(field, "is not valid Unicode text (a lone surrogate)") from None
    return value


def imported_text(data: Mapping[str, Any], field: str) -> str | None:
    """An ``event_id`` or ``actor`` kept from an export: a short string, if given."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidInput(field, "must be a non-empty string of at most 200 characters")
    return _text(data, field)


def slug(field: str, value: object) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise InvalidInput(
            field, f"{value!r} is not an id: use 1-64 characters of a-z, 0-9 and '-'"
        )
    return value


def reliability(field: str, value: object) -> str:
    if not isinstance(value, str) or value.upper() not in RELIABILITY:
        raise InvalidInput(
            field, f"{value!r} is not an Admiralty reliability grade; use one of A B C D E F"
        )
    return value.upper()


def affiliation(field: str, value: object) -> str:
    if not isinstance(value, str) or not AFFILIATION.match(value.upper()):
        raise InvalidInput(
            field, f"{value!r} is not an affiliation code such as 'UA', 'RU' or 'KR'"
        )
    return value.upper()


def _string_list(data: Mapping[str, Any], field: str, item: Any) -> list[str]:
    values = data.get(field) or []
    if not isinstance(values, list):
        raise InvalidInput(field, "must be a list of strings")
    out = [item(f"{field}[{i}]", v) for i, v in enumerate(values)]
    return sorted(set(out), key=out.index)


def _tag(field: str, value: object) -> str:
    if not isinstance(value, str) or not SLUG.match(value.lower()):
        raise InvalidInput(field, f"{value!r} is not a tag: use a-z, 0-9 and '-'")
    return value.lower()


def _reject_unknown(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(
            unknown[0], f"is not a field of {what}; allowed: {', '.join(sorted(allowed))}"
        )


def claim_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a new claim: ``id`` (optional slug), ``text``, ``tags``, ``parties``,
    ``beneficiaries`` (affiliations whose cause gains if the claim is believed)."""
    _reject_unknown(data, {"id", "text", "tags", "parties", "beneficiaries"}, "a claim")
    claim_id = data.get("id")
    parties = _string_list(data, "parties", affiliation)
    beneficiaries = _string_list(data, "beneficiaries", affiliation)
    both = sorted(set(parties) & set(beneficiaries))
    if both:
        raise InvalidInput(
            "beneficiaries",
            f"{', '.join(both)} cannot be both a party (accused) and a beneficiary",
        )
    return {
        "claim_id": None if claim_id is None else slug("id", claim_id),
        "text": _text(data, "text", required=True),
        "tags": _string_list(data, "tags", _tag),
        "parties": parties,
        "beneficiaries": beneficiaries,
    }


def source_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a new source: ``id``, ``name``, ``role``, ``affiliation``, ``reliability``."""
    _reject_unknown(data, {"id", "name", "role", "affiliation", "reliability"}, "a source")
    aff = data.get("affiliation")
    return {
        "source_id": slug("id", data.get("id")),
        "name": _text(data, "name", required=True),
        "role": _text(data, "role"),
        "affiliation": None if aff in (None, "") else affiliation("affiliation", aff),
        "reliability": reliability("reliability", data.get("reliability") or "F"),
    }


def rating_fields(data: Mapping[str, Any], *, at: datetime | None = None) -> dict[str, Any]:
    """Validate a re-rating: ``reliability``, ``occurred_at``, optional ``note``."""
    _reject_unknown(data, {"reliability", "occurred_at", "note"}, "a rating")
    return {
        "reliability": reliability("reliability", data.get("reliability")),
        "occurred_at": occurred_at(data.get("occurred_at"), at=at),
        "note": _text(data, "note"),
    }


def occurred_at(value: object, *, at: datetime | None = None) -> datetime:
    if value is None:
        raise InvalidTime("occurred_at", "is required")
    moment = parse_instant("occurred_at", value, bare_date="start")
    if moment > (at or now()) + CLOCK_SKEW:
        raise InvalidTime(
            "occurred_at",
            "is in the future: the ledger records what was said, not what will be",
        )
    return moment


def statement_record(
    data: Mapping[str, Any], *, event_id: str, actor: str, at: datetime | None = None
) -> dict[str, Any]:
    """Turn one event as sent into the record the claim stores, or raise ``InvalidInput``."""
    kind = data.get("type")
    if kind not in _FIELDS_BY_TYPE:
        raise InvalidInput(
            "type", f"{kind!r} is not an event type; use one of {', '.join(STATEMENT_TYPES)}"
        )
    _reject_unknown(data, _FIELDS_BY_TYPE[kind], f"a {kind} event")
    record: dict[str, Any] = {"event_id": event_id, "type": kind, "actor": actor}
    correcting = kind == "corrected"
    if correcting and data.get("source") is None:
        record["source"] = None  # filled in from the corrected event by the claim
    else:
        record["source"] = slug("source", data.get("source"))
    if correcting and data.get("occurred_at") is None:
        record["occurred_at"] = None
    else:
        record["occurred_at"] = occurred_at(data.get("occurred_at"), at=at)
    for field in ("quote", "summary", "basis", "note", "likelihood_phrase"):
        if field in _FIELDS_BY_TYPE[kind]:
            record[field] = _text(data, field)
    record["reference"] = _reference(data)
    if kind in ("asserted", "denied") and not (record["quote"] or record["summary"]):
        raise InvalidStatement("quote", f"a {kind} event needs a quote or a summary")
    if kind in ("retracted", "corrected"):
        record["supersedes"] = _text(data, "supersedes", required=True)
    if "likelihood" in data or kind == "assessed":
        _likelihood(data, record, required=kind == "assessed")
    if "confidence" in data and data["confidence"] is not None:
        if data["confidence"] not in CONFIDENCE_LEVELS:
            raise InvalidStatement(
                "confidence", f"{data['confidence']!r} is not one of {', '.join(CONFIDENCE_LEVELS)}"
            )
        record["confidence"] = data["confidence"]
    if kind == "resolved" or data.get("outcome") is not None:
        if data.get("outcome") not in OUTCOMES:
            raise InvalidStatement("outcome", f"must be one of {', '.join(OUTCOMES)}")
        record["outcome"] = data["outcome"]
        if kind == "resolved" and not record.get("basis"):
            raise InvalidStatement("basis", "a resolution needs the basis of the ground truth")
    if correcting:
        changed = data.get("corrected_type")
        if changed is not None:
            if changed not in ("asserted", "denied", "assessed", "resolved"):
                raise InvalidStatement(
                    "corrected_type", "must be one of asserted, denied, assessed, resolved"
                )
            record["corrected_type"] = changed
        if not any(
            data.get(f) is not None
            for f in _FIELDS_BY_TYPE[kind] - {"type", "supersedes", "source"}
        ):
            raise InvalidStatement(
                "supersedes", "a correction must give at least one corrected field"
            )
    return {k: v for k, v in record.items() if v is not None or k in ("source", "occurred_at")}


def _reference(data: Mapping[str, Any]) -> str | None:
    reference = _text(data, "reference")
    if reference is not None and not reference.startswith(("http://", "https://")):
        raise InvalidInput("reference", "must be an http(s) URL of the report")
    return reference


def _likelihood(data: Mapping[str, Any], record: dict[str, Any], *, required: bool) -> None:
    value = data.get("likelihood")
    if value is None:
        if required:
            raise InvalidStatement(
                "likelihood",
                "an assessment needs a likelihood: a probability in (0,1) or an ICD 203 term",
            )
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidStatement("likelihood", "must be a number in (0,1) or an ICD 203 term")
    try:
        parsed = parse_likelihood(value)
    except (UnknownLikelihoodTerm, LikelihoodOutOfRange) as error:
        raise InvalidStatement("likelihood", str(error)) from None
    record["likelihood"] = parsed.probability
    record["likelihood_phrase"] = record.get("likelihood_phrase") or parsed.phrase
