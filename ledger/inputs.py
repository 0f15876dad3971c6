"""What callers send, checked against the domain's rules and turned into values.

HTTP and the CLI both hand plain mappings (parsed JSON) to these functions, so one set of
rules decides what the ledger accepts. Every refusal is an ``InvalidInput`` naming the
field and the reason; nothing here touches the store.

Every value is bounded, and every check is linear in the size of its input: the HTTP
schema (``api.bodies``) publishes the same limits (``maxLength``, ``maxItems``), but the
CLI's ``load`` comes here without it, so these checks are the ones that hold.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ledger.errors import InvalidInput, InvalidStatement, InvalidTime
from ledger.likelihood import LikelihoodOutOfRange, UnknownLikelihoodTerm, parse_likelihood
from ledger.statements import (
    COMMON_FIELDS,
    CONFIDENCE_LEVELS,
    DEFAULT_RELIABILITY,
    EVIDENCE_KINDS,
    OUTCOMES,
    RELIABILITY_GRADES,
    RULES,
    STATEMENT_TYPES,
    SUPERSEDABLE_TYPES,
    Statement,
    StatementType,
    a_or_an,
)
from ledger.times import CLOCK_SKEW, now, parse_instant

#: Ids (of claims and sources) and tags: matched whole (``fullmatch``: no trailing newline).
SLUG = re.compile(r"[a-z0-9-]{1,64}")
MAX_ID = 64
#: Affiliation codes, matched whole once upper-cased.
AFFILIATION = re.compile(r"[A-Z0-9-]{2,16}")
MAX_AFFILIATION = 16
#: Free text: a claim's text, a name, a quote, a summary, a note, a basis, a reference.
MAX_TEXT = 20_000
#: An event id (``supersedes``, ``relays``; an imported ``event_id`` or ``actor``): a UUID,
#: or an id kept from an export.
MAX_EVENT_ID = 200
#: Items in each of a claim's lists: tags, parties and beneficiaries.
MAX_ITEMS = 32
#: A likelihood given in words: an ICD 203 term or a synonym, as typed.
MAX_LIKELIHOOD_TERM = 64
#: Events in one batch request.
MAX_BATCH = 10_000
#: How much of a refused value an error message repeats.
_SHOWN = 80
#: Characters no store of the ledger can keep, though JSON's escapes (``\ud800``, ``\u0000``)
#: spell them: half of a UTF-16 pair (no UTF-8 text holds one alone) and NUL (PostgreSQL text
#: cannot hold it: a claim's text with one would be stored, then fail every list's projection
#: for ever).
_UNKEEPABLE = re.compile(r"[\ud800-\udfff\x00]")


def shown(value: object) -> str:
    """``repr(value)`` for an error message, cut short: a refused value may be huge."""
    if isinstance(value, str) and len(value) > _SHOWN:
        return f"{value[:_SHOWN]!r}... ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... (a {type(value).__name__})"


def _text(
    data: Mapping[str, Any], field: str, *, required: bool = False, max_length: int = MAX_TEXT
) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise InvalidInput(field, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a string, not {type(value).__name__}")
    # As sent, like the schema's maxLength: whitespace counts before it is trimmed.
    if len(value) > max_length:
        raise InvalidInput(field, too_long(max_length))
    value = value.strip()
    if not value:
        if required:
            raise InvalidInput(field, "must not be empty")
        return None
    return check_text(field, value)


def unicode_problem(value: str) -> str | None:
    """Why ``value`` is not text the ledger can keep (a lone surrogate, a NUL), or None.

    The one statement of this rule: the HTTP schema (``api.bodies``), the CLI's record
    reader (``ledger_cli.records``) and the checks here all ask it.
    """
    found = _UNKEEPABLE.search(value)
    if found is None:
        return None
    if found[0] == "\x00":
        return "holds a NUL character (\\u0000), which the ledger cannot store; leave it out"
    return (
        f"is not valid Unicode text: it holds a lone surrogate (\\u{ord(found[0]):04x}, "
        "half of a UTF-16 pair); send the whole character"
    )


def check_text(field: str, value: str) -> str:
    """``value``, or ``InvalidInput`` naming ``field`` if it is not Unicode text."""
    problem = unicode_problem(value)
    if problem is not None:
        raise InvalidInput(field, problem)
    return value


def json_problem(error: BaseException | None) -> str:
    """Why a JSON document without a syntax error still could not be read, in words.

    ``error`` is what the parser raised (or the cause it gave): bytes that are not UTF-8,
    nesting deeper than the parser goes, an integer longer than Python reads. The HTTP
    layer and the CLI's ``load`` both give this reason, after the place it concerns.
    """
    if isinstance(error, UnicodeDecodeError):
        return (
            f"is not UTF-8 text (byte {error.start} cannot be decoded); "
            "send JSON encoded as UTF-8"
        )
    if isinstance(error, RecursionError):
        return "is nested too deeply to be parsed"
    if isinstance(error, ValueError) and "digits" in str(error):
        return (
            f"holds an integer of more than {sys.get_int_max_str_digits()} digits; "
            "send such a value as a string"
        )
    return "could not be parsed as JSON"


def too_long(max_length: int) -> str:
    """The reason given for a string over its limit (the HTTP layer says the same)."""
    return f"is longer than {max_length} characters"


def too_many(max_items: int) -> str:
    """The reason given for a list over its limit (the HTTP layer says the same)."""
    return f"has more than {max_items} items"


def imported_text(data: Mapping[str, Any], field: str) -> str | None:
    """An ``event_id`` or ``actor`` kept from an export: a short string, if given."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_EVENT_ID:
        raise InvalidInput(
            field, f"must be a non-empty string of at most {MAX_EVENT_ID} characters"
        )
    return _text(data, field, max_length=MAX_EVENT_ID)


def slug(field: str, value: object) -> str:
    if value is None:
        raise InvalidInput(field, "is required")
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise InvalidInput(
            field, f"{shown(value)} is not an id: use 1-{MAX_ID} characters of a-z, 0-9 and '-'"
        )
    return value


def reliability(field: str, value: object) -> str:
    if not isinstance(value, str) or value.upper() not in RELIABILITY_GRADES:
        raise InvalidInput(
            field,
            f"{shown(value)} is not an Admiralty reliability grade; "
            f"use one of {' '.join(RELIABILITY_GRADES)}",
        )
    return value.upper()


def affiliation(field: str, value: object) -> str:
    # The length first: upper-casing a long string would cost as much as the string.
    if (
        not isinstance(value, str)
        or len(value) > MAX_AFFILIATION
        or not AFFILIATION.fullmatch(value.upper())
    ):
        raise InvalidInput(
            field,
            f"{shown(value)} is not an affiliation code such as 'UA', 'RU' or 'KR' "
            f"(2-{MAX_AFFILIATION} characters of A-Z, 0-9 and '-'; case does not matter)",
        )
    return value.upper()


def party(field: str, value: object) -> str:
    """A claim's party or beneficiary: a source id as it is (a slug, all lower-case; the
    source may be registered later), or else an affiliation code, upper-cased."""
    if isinstance(value, str) and SLUG.fullmatch(value):
        return value
    if (
        not isinstance(value, str)
        or len(value) > MAX_AFFILIATION
        or not AFFILIATION.fullmatch(value.upper())
    ):
        raise InvalidInput(
            field,
            f"{shown(value)} is not an affiliation code such as 'UA' or 'GB-GOV' "
            f"(2-{MAX_AFFILIATION} characters of A-Z, 0-9 and '-', with a capital letter) "
            f"nor a source id such as 'luckin' (1-{MAX_ID} characters of a-z, 0-9 and '-')",
        )
    return value.upper()


def _string_list(data: Mapping[str, Any], field: str, item: Any) -> list[str]:
    values = data.get(field) or []
    if not isinstance(values, list):
        raise InvalidInput(field, "must be a list of strings")
    # The bound first, so a huge list costs one comparison; then linear work only.
    if len(values) > MAX_ITEMS:
        raise InvalidInput(field, too_many(MAX_ITEMS))
    # Duplicates dropped, first occurrence kept, in one pass.
    return list(dict.fromkeys(item(f"{field}[{i}]", v) for i, v in enumerate(values)))


def _tag(field: str, value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_ID or not SLUG.fullmatch(value.lower()):
        raise InvalidInput(
            field, f"{shown(value)} is not a tag: use 1-{MAX_ID} characters of a-z, 0-9 and '-'"
        )
    return value.lower()


def _reject_unknown(data: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(
            unknown[0], f"is not a field of {what}; allowed: {', '.join(sorted(allowed))}"
        )


def claim_fields(data: Mapping[str, Any], *, at: datetime | None = None) -> dict[str, Any]:
    """Validate a new claim: ``id`` (optional slug), ``text``, ``tags``, ``parties`` (the
    accused), ``beneficiaries`` (whose cause gains if the claim is believed): each a source id
    or an affiliation code (``party``), and
    ``alleged_at`` (optional: when the alleged thing happened; a bare date is 00:00 UTC,
    and it cannot be later than now)."""
    _reject_unknown(
        data, {"id", "text", "tags", "parties", "beneficiaries", "alleged_at"}, "a claim"
    )
    claim_id = data.get("id")
    parties = _string_list(data, "parties", party)
    beneficiaries = _string_list(data, "beneficiaries", party)
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
        **_alleged_at(data.get("alleged_at"), at),
    }


def _alleged_at(value: object, at: datetime | None) -> dict[str, datetime]:
    """``{"alleged_at": moment}``, or nothing when it is left out (so a claim registered
    without it is stored as before)."""
    if value is None:
        return {}
    moment = parse_instant("alleged_at", value, bare_date="start")
    if moment > (at or now()) + CLOCK_SKEW:
        raise InvalidTime(
            "alleged_at",
            "is in the future: a claim alleges what happened, not what will happen",
        )
    return {"alleged_at": moment}


def source_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a new source: ``id``, ``name``, ``role``, ``affiliations``, ``reliability``.

    ``affiliation`` (one code) is still taken: it means ``affiliations: [it]``; given with
    ``affiliations``, it must be their first, as answers show it.
    """
    _reject_unknown(
        data, {"id", "name", "role", "affiliation", "affiliations", "reliability"}, "a source"
    )
    one = data.get("affiliation")
    one = None if one in (None, "") else affiliation("affiliation", one)
    if data.get("affiliations") is None:
        codes = [] if one is None else [one]
    else:
        codes = _string_list(data, "affiliations", affiliation)
        if one is not None and codes[:1] != [one]:
            raise InvalidInput(
                "affiliation",
                f"{one!r} disagrees with affiliations {codes!r}: send affiliations alone "
                "(affiliation, where given, must be their first)",
            )
    return {
        "source_id": slug("id", data.get("id")),
        "name": _text(data, "name", required=True),
        "role": _text(data, "role"),
        "affiliations": codes,
        "reliability": reliability("reliability", data.get("reliability") or DEFAULT_RELIABILITY),
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


#: The fields a statement of each type may carry.
_ALLOWED: dict[str, frozenset[str]] = {
    kind: COMMON_FIELDS | rule.fields for kind, rule in RULES.items()
}


def statement(
    data: Mapping[str, Any],
    *,
    event_id: str,
    actor: str,
    at: datetime | None = None,
    claim_id: str | None = None,
) -> Statement:
    """Turn one event as sent into the statement the claim stores, or raise ``InvalidInput``.

    ``claim_id``: the claim it is for, if known (``Claim.record`` sets it otherwise)."""
    kind = data.get("type")
    if kind not in STATEMENT_TYPES:
        raise InvalidInput(
            "type", f"{shown(kind)} is not an event type; use one of {', '.join(STATEMENT_TYPES)}"
        )
    rule = RULES[kind]  # a StatementType is the str it names
    allowed = _ALLOWED[kind]
    if not data.keys() <= allowed:
        _reject_unknown(data, set(allowed), f"{a_or_an(kind)} {kind} event")
    correcting = kind == StatementType.CORRECTED
    said: dict[str, Any] = {
        name: _text(data, name)
        for name in ("quote", "summary", "basis", "note", "likelihood_phrase")
        if name in allowed
    }
    if correcting and data.get("source") is None:
        said["source"] = None  # filled in from the corrected event by the claim
    else:
        said["source"] = slug("source", data.get("source"))
    if correcting and data.get("occurred_at") is None:
        said["occurred_at"] = None
    else:
        said["occurred_at"] = occurred_at(data.get("occurred_at"), at=at)
    said["reference"] = _reference(data)
    if rule.supersedes:
        said["supersedes"] = _text(data, "supersedes", required=True, max_length=MAX_EVENT_ID)
    if "relays" in allowed:
        said["relays"] = _text(data, "relays", max_length=MAX_EVENT_ID)
    if "likelihood" in data or kind == StatementType.ASSESSED:
        _likelihood(data, said, required=kind == StatementType.ASSESSED)
    if data.get("confidence") is not None:
        if data["confidence"] not in CONFIDENCE_LEVELS:
            raise InvalidStatement(
                "confidence",
                f"{shown(data['confidence'])} is not one of {', '.join(CONFIDENCE_LEVELS)}",
            )
        said["confidence"] = data["confidence"]
    if data.get("evidence") is not None:
        said["evidence"] = evidence("evidence", data["evidence"])
    if kind == StatementType.RESOLVED or data.get("outcome") is not None:
        if data.get("outcome") not in OUTCOMES:
            raise InvalidStatement("outcome", f"must be one of {', '.join(OUTCOMES)}")
        said["outcome"] = data["outcome"]
    if correcting:
        changed = data.get("corrected_type")
        if changed is not None:
            if changed not in SUPERSEDABLE_TYPES:
                raise InvalidStatement(
                    "corrected_type", f"must be one of {', '.join(SUPERSEDABLE_TYPES)}"
                )
            said["corrected_type"] = changed
        if not any(data.get(f) is not None for f in allowed - {"type", "supersedes", "source"}):
            raise InvalidStatement(
                "supersedes", "a correction must give at least one corrected field"
            )
    result = Statement(event_id=event_id, type=kind, actor=actor, claim_id=claim_id, **said)
    problem = result.incomplete()
    if problem is not None:
        raise InvalidStatement(*problem)
    return result


def evidence(field: str, value: object) -> str:
    """One of ``EVIDENCE_KINDS``, as sent (the vocabulary is closed and lower-case)."""
    if value not in EVIDENCE_KINDS:
        raise InvalidStatement(
            field, f"{shown(value)} is not an evidence kind; use one of {', '.join(EVIDENCE_KINDS)}"
        )
    assert isinstance(value, str)
    return value


#: A report's address: http(s), a host (no user info, no IPv6 literal), an optional port,
#: then a path, query or fragment; no whitespace or control character (C0, DEL, C1)
#: anywhere. Non-ASCII letters are taken as they are (an IRI). The API publishes the same
#: pattern (``api.bodies.Url``).
REFERENCE_PATTERN = (
    r"^https?://[^\s\x00-\x1f\x7f-\x9f/?#@:\[\]]+(:[0-9]*)?"
    r"([/?#][^\s\x00-\x1f\x7f-\x9f]*)?$"
)
_REFERENCE = re.compile(REFERENCE_PATTERN)


def reference_problem(value: str) -> str | None:
    """Why ``value`` is not a report's address (``REFERENCE_PATTERN``), or None."""
    if not value.startswith(("http://", "https://")):
        return "must be an http(s) URL of the report"
    if not _REFERENCE.match(value):
        return ("must be an http(s) URL of the report: a host, then a path; no spaces or "
                "control characters")
    return None


def check_reference(value: object) -> str | None:
    """A statement's ``reference`` as the ledger takes it (length, characters, address),
    trimmed, or None; ``InvalidInput`` naming ``reference`` otherwise."""
    return _reference({"reference": value})


def _reference(data: Mapping[str, Any]) -> str | None:
    reference = _text(data, "reference")
    if reference is not None and (problem := reference_problem(reference)) is not None:
        raise InvalidInput("reference", problem)
    return reference


def _likelihood(data: Mapping[str, Any], said: dict[str, Any], *, required: bool) -> None:
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
    if isinstance(value, str) and len(value) > MAX_LIKELIHOOD_TERM:
        raise InvalidStatement(
            "likelihood", f"{too_long(MAX_LIKELIHOOD_TERM)}: no ICD 203 term is that long"
        )
    try:
        parsed = parse_likelihood(value)
    except (UnknownLikelihoodTerm, LikelihoodOutOfRange) as error:
        raise InvalidStatement("likelihood", str(error)) from None
    said["likelihood"] = parsed.probability
    said["likelihood_phrase"] = said.get("likelihood_phrase") or parsed.phrase
