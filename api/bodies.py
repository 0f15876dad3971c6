"""Request bodies: the shape of what clients send, for OpenAPI and a first check.

These models check shape (which fields, of which JSON types) and size: every string has a
``maxLength`` and every list a ``maxItems``, checked here so an oversized value is refused
before any per-item work. The rules of the domain (slugs, Admiralty grades, ICD 203 terms,
which fields an event type needs, dates not in the future) are the ledger's
(``ledger.inputs``), which gets ``model_dump(exclude_unset=True)`` and answers with its own
errors; it enforces the same limits, for the CLI, which does not come through here.

The schema publishes those rules too (patterns, formats, enums, and for events the fields
each type allows and needs), so a client generated from it sends requests the ledger
takes; they are documentation here (``Published``, ``WithJsonSchema``), not checks, so a
refusal always carries the ledger's message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ledger.inputs import (
    MAX_AFFILIATION,
    MAX_EVENT_ID,
    MAX_ID,
    MAX_ITEMS,
    MAX_LIKELIHOOD_TERM,
    MAX_TEXT,
    REFERENCE_PATTERN,
    reference_problem,
    too_long,
    unicode_problem,
)
from ledger.likelihood import ICD203_TERMS, SYNONYMS
from ledger.statements import (
    COMMON_FIELDS,
    CONFIDENCE_LEVELS,
    EVIDENCE_LABELS,
    OUTCOMES,
    RELIABILITY_GRADES,
    RULES,
    STATEMENT_TYPES,
    SUPERSEDABLE_TYPES,
    StatementType,
)

# Patterns are ECMA 262 as JSON Schema means them: [0-9], not \d (which is any Unicode
# digit in Python), and anchored at both ends.
SLUG_PATTERN = f"^[a-z0-9-]{{1,{MAX_ID}}}$"
TAG_PATTERN = f"^[A-Za-z0-9-]{{1,{MAX_ID}}}$"  # lower-cased by the ledger
AFFILIATION_PATTERN = f"^[A-Za-z0-9-]{{2,{MAX_AFFILIATION}}}$"  # upper-cased by the ledger
#: A claim's party or beneficiary: a source id (all lower-case) or an affiliation code.
PARTY_PATTERN = f"^(?:[a-z0-9-]{{1,{MAX_ID}}}|[A-Za-z0-9-]{{2,{MAX_AFFILIATION}}})$"
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"  # 0001-9999
_MONTH_DAY = (  # February 29th is left to the ledger, which knows leap years
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-9]))"
)
_DAY = f"{_YEAR}-{_MONTH_DAY}"
_CLOCK = "(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_INSTANT = rf"{_DAY}[Tt]{_CLOCK}:[0-5][0-9](?:\.[0-9]{{1,6}})?(?:[Zz]|[+-]{_CLOCK})"
#: What ``ledger.times.parse_instant`` takes: RFC 3339 with a zone (at most microseconds).
DATE_TIME_PATTERN = f"^{_INSTANT}$"
DATE_PATTERN = f"^{_DAY}$"
#: A query time: either of the two.
TIME_PATTERN = f"^(?:{_INSTANT}|{_DAY})$"
TIME_MAX_LENGTH = 32  # 2024-10-13T18:00:00.000000+00:00
#: Non-blank (the ledger trims text, and a blank one counts as not given), and no NUL
#: character (the ledger refuses it: PostgreSQL text cannot hold one).
NOT_BLANK = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"


def _unicode(value: str) -> str:
    # The ledger's rule (``ledger.inputs.unicode_problem``), checked here as well so that a
    # lone surrogate is refused in the words of the other shape errors, at its field.
    problem = unicode_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _reference(value: str) -> str:
    # The ledger's rule for a report's address (``ledger.inputs.reference_problem``).
    problem = reference_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _not_blank(value: str) -> str:
    # What the schema publishes (minLength, a non-blank pattern), checked: an optional field
    # sent blank is refused like a required one, not taken as left out.
    if not value.strip():
        raise ValueError("must not be empty; leave an optional field out instead")
    return value


def _number_or_words(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a probability in (0,1) or an ICD 203 term such as 'likely'")
    if isinstance(value, str) and len(value) > MAX_LIKELIHOOD_TERM:  # here: one error, not
        raise ValueError(too_long(MAX_LIKELIHOOD_TERM))  # one per member of the union
    return _unicode(value) if isinstance(value, str) else value


class Published:
    """JSON Schema keywords added to a type's schema for clients, and not checked here:
    the ledger checks what they say, with its own messages."""

    def __init__(self, **keywords: Any) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(self.keywords)
        return schema


def _time_schema(description: str) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN,
             "maxLength": TIME_MAX_LENGTH},
            {"type": "string", "format": "date", "pattern": DATE_PATTERN, "maxLength": 10},
        ],
        "description": description,
    }


#: Every string of a request body: any Unicode text, but only text, and at most MAX_TEXT.
Text = Annotated[str, MaxLen(MAX_TEXT), AfterValidator(_unicode), AfterValidator(_not_blank),
                 Published(minLength=1, pattern=NOT_BLANK)]
Id = Annotated[str, MaxLen(MAX_ID), AfterValidator(_unicode), Published(pattern=SLUG_PATTERN)]
Tag = Annotated[str, MaxLen(MAX_ID), AfterValidator(_unicode), Published(pattern=TAG_PATTERN)]
Affiliation = Annotated[
    str, MaxLen(MAX_AFFILIATION), AfterValidator(_unicode), AfterValidator(_not_blank),
    Published(pattern=AFFILIATION_PATTERN,
              description="country or bloc code, 2-16 of A-Z, 0-9 and '-' (case-insensitive: "
                          "stored upper-cased)"),
]
Party = Annotated[
    str, MaxLen(MAX_ID), AfterValidator(_unicode), AfterValidator(_not_blank),
    Published(pattern=PARTY_PATTERN,
              description="a source id, all lower-case as registered ('luckin'; the source "
                          "may be registered later), or an affiliation code with a capital "
                          "letter ('UA', 'GB-GOV'; 2-16 of A-Z, 0-9 and '-', stored "
                          "upper-cased)"),
]
EventId = Annotated[str, MaxLen(MAX_EVENT_ID), AfterValidator(_unicode),
                    AfterValidator(_not_blank), Published(minLength=1, pattern=NOT_BLANK)]
#: A report's address: http(s), as people paste it (non-ASCII letters are taken as they
#: are, as in an IRI): the ledger's pattern (``ledger.inputs.REFERENCE_PATTERN``), published
#: as it is checked, with no ``format`` whose checkers would judge it otherwise.
Url = Annotated[str, MaxLen(MAX_TEXT), AfterValidator(_unicode), AfterValidator(_reference),
                Published(pattern=REFERENCE_PATTERN)]
TIME_HELP = (
    "RFC 3339 timestamp with a zone ('2024-10-13T18:00:00Z'), or a date (00:00 UTC that day); "
    "a timestamp without a zone is refused, and so is one in the future"
)
Time = Annotated[str, MaxLen(64), AfterValidator(_unicode), WithJsonSchema(_time_schema(TIME_HELP))]
#: Every word the ledger reads as a likelihood (case, hyphens and spacing do not matter).
LIKELIHOOD_TERMS = sorted({*ICD203_TERMS, *SYNONYMS})
Likelihood = Annotated[
    float | str, BeforeValidator(_number_or_words),
    WithJsonSchema({
        "oneOf": [
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            {"type": "string", "enum": LIKELIHOOD_TERMS},
        ],
    }),
]
# Documented as enums, checked by the ledger (which also accepts, e.g., lower-case grades).
Reliability = Annotated[Text, WithJsonSchema({
    "type": "string", "enum": list(RELIABILITY_GRADES),
    "description": "NATO Admiralty source reliability, A (completely reliable) to E "
                   "(unreliable), F cannot be judged; case-insensitive (stored upper-cased)",
})]
EventType = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(STATEMENT_TYPES)})]
Confidence = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(CONFIDENCE_LEVELS)})]
Outcome = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(OUTCOMES)})]
EVIDENCE_HELP = "what backs the statement: " + "; ".join(
    f"{kind} ({label})" for kind, label in EVIDENCE_LABELS.items()
)
Evidence = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(EVIDENCE_LABELS),
                                           "description": EVIDENCE_HELP})]
SupersedableType = Annotated[
    Text, WithJsonSchema({"type": "string", "enum": list(SUPERSEDABLE_TYPES)})
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def fields(self) -> dict[str, Any]:
        """What the client sent, as the plain mapping the ledger validates."""
        return self.model_dump(exclude_unset=True, by_alias=True)


class SourceCreate(Body):
    """A new source: who speaks."""

    id: Id = Field(description="slug: 1-64 characters of a-z, 0-9 and '-'", examples=["zelensky"])
    name: Text = Field(examples=["Volodymyr Zelensky"])
    role: Text | None = Field(default=None, examples=["President of Ukraine"])
    affiliations: list[Affiliation] | None = Field(
        default=None, max_length=MAX_ITEMS,
        description="the source's affiliation codes (a minister: ['GB', 'GB-GOV']); "
        "duplicates are dropped",
        examples=[["UA", "UA-GOV"]],
    )
    affiliation: Affiliation | None = Field(
        default=None, examples=["UA"],
        description="one code, meaning affiliations: [it]; sent with affiliations, it must be "
        "their first",
    )
    reliability: Reliability | None = Field(
        default=None,
        description="NATO Admiralty source reliability, A (completely reliable) to E "
        "(unreliable); F cannot be judged (the default); case-insensitive",
    )


class RatingCreate(Body):
    """A source's new reliability rating, in force from ``occurred_at``."""

    reliability: Reliability
    occurred_at: Time = Field(description=TIME_HELP, examples=["2024-10-14"])
    note: Text | None = Field(default=None, description="why the rating changed")


class ClaimCreate(Body):
    """A new claim, phrased as an allegation against its parties."""

    id: Id | None = Field(
        default=None,
        description="slug [a-z0-9-]{1,64}; omitted, the server makes a UUID",
        examples=["nk-troops-for-russia"],
    )
    text: Text = Field(examples=["North Korea is sending troops to fight for Russia in Ukraine"])
    tags: list[Tag] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="lower-cased; duplicates are dropped", examples=[["north-korea", "troops"]],
    )
    parties: list[Party] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="the actors whose conduct the claim alleges: affiliation codes, or source "
        "ids where the accused is a person or a company that speaks in the ledger",
        examples=[["RU", "KP"]],
    )
    beneficiaries: list[Party] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="affiliation codes or source ids of those whose cause gains if the claim "
        "is believed (their statements for it count as self-serving); none may also be a party",
        examples=[["UA"]],
    )
    alleged_at: Time | None = Field(
        default=None,
        description="when the alleged thing happened (valid time), if known: RFC 3339 with a "
        "zone, or a date (00:00 UTC that day); not later than now. credibility-v2 counts "
        "assertions made within a day of it as early reports",
        examples=["2024-10-01"],
    )


_NULL = {"type": "null"}


def _not_null(field: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without its ``null`` alternative: the form of a field a type needs."""
    alternatives = [a for a in field.get("anyOf", ()) if a != _NULL]
    if not alternatives:
        return {**field, "not": _NULL}
    kept = {k: v for k, v in field.items() if k not in ("anyOf", "default")}
    if len(alternatives) == 1:
        return {**kept, **alternatives[0]}
    return {**kept, "anyOf": alternatives}


def _none_of(names: Iterable[str]) -> dict[str, Any]:
    """A schema that a body giving none of ``names`` (absent or null) matches; a branch
    says ``not`` it to need one of them."""
    return {"allOf": [{"anyOf": [{"not": {"required": [name]}},
                                 {"properties": {name: _NULL}}]}
                      for name in names]}


def _per_type(schema: dict[str, Any]) -> None:
    """Publish which fields each event type allows and needs (``ledger.statements.RULES``
    and ``ledger.inputs.statement``), as one ``oneOf`` branch per type.

    Each branch is closed (``additionalProperties: false``) and lists only the fields its
    type allows, rather than naming the others with a ``false`` subschema: OpenAPI 3.1
    allows boolean schemas, but the client generators people use (openapi-python-client)
    refuse them. Each branch repeats its fields' schemas (so a generated
    client's model per type is typed), without ``null`` for those the type needs.
    """
    every = set(COMMON_FIELDS).union(*(rule.fields for rule in RULES.values()))
    branches = []
    for kind, rule in RULES.items():
        allowed = COMMON_FIELDS | rule.fields
        needed = [] if kind == StatementType.CORRECTED else ["source", "occurred_at"]
        needed += ["supersedes"] if rule.supersedes else []
        needed += {StatementType.ASSESSED: ["likelihood"],
                   StatementType.RESOLVED: ["outcome", "basis"]}.get(kind, [])
        # The schema's own fields, less those of other types only (a batch item's
        # ``claim_id`` is in every branch).
        own = [name for name in schema["properties"] if name not in every - allowed]
        branch: dict[str, Any] = {
            "title": f"{schema.get('title', 'Event')} {kind}",
            "type": "object",
            "properties": {
                name: {"const": str(kind)} if name == "type"
                else _not_null(schema["properties"][name]) if name in needed
                else schema["properties"][name]
                for name in own
            },
            "required": ["type", *needed, *(n for n in schema.get("required", ()) if n != "type")],
            "additionalProperties": False,
        }
        if kind in (StatementType.ASSERTED, StatementType.DENIED):
            branch["not"] = _none_of(("quote", "summary"))
        elif kind == StatementType.CORRECTED:  # and at least one corrected field
            branch["not"] = _none_of(sorted(allowed - {"type", "supersedes", "source"}))
        branches.append(branch)
    schema["oneOf"] = branches


class EventCreate(Body):
    """A statement, denial, assessment, retraction, correction or resolution of a claim."""

    model_config = ConfigDict(json_schema_extra=_per_type)

    type: EventType = Field(examples=["asserted"])
    source: Id | None = Field(
        default=None,
        description="the source's id; required except on corrected (defaults to the "
        "corrected event's source)",
        examples=["zelensky"],
    )
    occurred_at: Time | None = Field(
        default=None,
        description=TIME_HELP + "; required except on corrected",
        examples=["2024-10-13T18:00:00Z"],
    )
    quote: Text | None = Field(
        default=None, description="the words used (asserted/denied need a quote or a summary)"
    )
    summary: Text | None = Field(default=None, description="a paraphrase")
    reference: Url | None = Field(default=None, description="http(s) URL of the report")
    note: Text | None = Field(default=None, description="the recorder's note")
    likelihood: Likelihood | None = Field(
        default=None,
        description="assessed: a probability in (0,1) or an ICD 203 term ('very likely', "
        "'highly likely', 'remote', ...)",
        examples=[0.6, "highly likely"],
    )
    likelihood_phrase: Text | None = Field(default=None, description="the source's own words")
    confidence: Confidence | None = Field(default=None, description="assessed: how sure")
    supersedes: EventId | None = Field(
        default=None, description="retracted/corrected: the event_id it replaces"
    )
    relays: EventId | None = Field(
        default=None,
        description="asserted/denied/assessed: the event_id of an earlier asserted, denied or "
        "assessed event on the same claim that this statement repeats (e.g. a newspaper "
        "repeating a government); credibility-v2 gives a relay no independent weight",
    )
    evidence: Evidence | None = Field(
        default=None, description="asserted/denied/assessed (and corrected): " + EVIDENCE_HELP,
        examples=["official-inquiry"],
    )
    corrected_type: SupersedableType | None = Field(
        default=None, description="corrected: the type the corrected event should have had"
    )
    outcome: Outcome | None = Field(default=None, description="resolved: the ground truth")
    basis: Text | None = Field(default=None, description="resolved: how the truth was established")


class BatchEventCreate(EventCreate):
    """One event of a batch: an event with the claim it is about."""

    claim_id: Id = Field(examples=["nk-arms-for-russia"])
