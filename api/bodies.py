"""Request bodies: the shape of what clients send, for OpenAPI and a first check.

These models check shape (which fields, of which JSON types) and size: every string has a
``maxLength`` and every list a ``maxItems``, checked here so an oversized value is refused
before any per-item work. The rules of the domain (slugs, Admiralty grades, ICD 203 terms,
which fields an event type needs, dates not in the future) are the ledger's
(``ledger.inputs``), which gets ``model_dump(exclude_unset=True)`` and answers with its own
errors; it enforces the same limits, for the CLI, which does not come through here. The
enums below are taken from it for documentation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)

from ledger.inputs import (
    MAX_AFFILIATION,
    MAX_EVENT_ID,
    MAX_ID,
    MAX_ITEMS,
    MAX_LIKELIHOOD_TERM,
    MAX_TEXT,
)
from ledger.statements import CONFIDENCE_LEVELS, OUTCOMES, RELIABILITY_GRADES, STATEMENT_TYPES

# JSON's \uXXXX escapes can spell half a UTF-16 pair, which Python decodes to a lone
# surrogate: a str that no UTF-8 store can hold, so the write would fail deep in the store.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _unicode(value: str) -> str:
    found = _SURROGATE.search(value)
    if found is not None:
        raise ValueError(
            f"is not valid Unicode text: it holds a lone surrogate (\\u{ord(found[0]):04x}, "
            "half of a UTF-16 pair); send the whole character"
        )
    return value


def _number_or_words(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a probability in (0,1) or an ICD 203 term such as 'likely'")
    return _unicode(value) if isinstance(value, str) else value


#: Every string of a request body: any Unicode text, but only text, and at most MAX_TEXT.
Text = Annotated[str, MaxLen(MAX_TEXT), AfterValidator(_unicode)]
Id = Annotated[str, MaxLen(MAX_ID), AfterValidator(_unicode)]
Affiliation = Annotated[str, MaxLen(MAX_AFFILIATION), AfterValidator(_unicode)]
EventId = Annotated[str, MaxLen(MAX_EVENT_ID), AfterValidator(_unicode)]
Likelihood = Annotated[
    float | Annotated[str, MaxLen(MAX_LIKELIHOOD_TERM)], BeforeValidator(_number_or_words)
]
# Documented as enums, checked by the ledger (which also accepts, e.g., lower-case grades).
Reliability = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(RELIABILITY_GRADES)})]
EventType = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(STATEMENT_TYPES)})]
Confidence = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(CONFIDENCE_LEVELS)})]
Outcome = Annotated[Text, WithJsonSchema({"type": "string", "enum": list(OUTCOMES)})]
TIME_HELP = (
    "RFC 3339 timestamp with a zone ('2024-10-13T18:00:00Z'), or a date (00:00 UTC that day); "
    "a timestamp without a zone is refused"
)


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
    affiliation: Affiliation | None = Field(
        default=None, description="country or bloc code", examples=["UA"]
    )
    reliability: Reliability | None = Field(
        default=None,
        description="NATO Admiralty source reliability, A (completely reliable) to E "
        "(unreliable); F cannot be judged (the default)",
    )


class RatingCreate(Body):
    """A source's new reliability rating, in force from ``occurred_at``."""

    reliability: Reliability
    occurred_at: Text = Field(description=TIME_HELP, examples=["2024-10-14"])
    note: Text | None = Field(default=None, description="why the rating changed")


class ClaimCreate(Body):
    """A new claim, phrased as an allegation against its parties."""

    id: Id | None = Field(
        default=None,
        description="slug [a-z0-9-]{1,64}; omitted, the server makes a UUID",
        examples=["nk-troops-for-russia"],
    )
    text: Text = Field(examples=["North Korea is sending troops to fight for Russia in Ukraine"])
    tags: list[Id] = Field(
        default_factory=list, max_length=MAX_ITEMS, examples=[["north-korea", "troops"]]
    )
    parties: list[Affiliation] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="affiliation codes of the actors whose conduct the claim alleges",
        examples=[["RU", "KP"]],
    )
    beneficiaries: list[Affiliation] = Field(
        default_factory=list, max_length=MAX_ITEMS,
        description="affiliation codes of those whose cause gains if the claim is believed "
        "(their statements for it count as self-serving); none may also be a party",
        examples=[["UA"]],
    )


class EventCreate(Body):
    """A statement, denial, assessment, retraction, correction or resolution of a claim."""

    type: EventType = Field(examples=["asserted"])
    source: Id | None = Field(
        default=None,
        description="the source's id; required except on corrected (defaults to the "
        "corrected event's source)",
        examples=["zelensky"],
    )
    occurred_at: Text | None = Field(
        default=None,
        description=TIME_HELP + "; required except on corrected",
        examples=["2024-10-13T18:00:00Z"],
    )
    quote: Text | None = Field(
        default=None, description="the words used (asserted/denied need a quote or a summary)"
    )
    summary: Text | None = Field(default=None, description="a paraphrase")
    reference: Text | None = Field(default=None, description="http(s) URL of the report")
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
    corrected_type: Text | None = Field(
        default=None, description="corrected: the type the corrected event should have had"
    )
    outcome: Outcome | None = Field(default=None, description="resolved: the ground truth")
    basis: Text | None = Field(default=None, description="resolved: how the truth was established")


class BatchEventCreate(EventCreate):
    """One event of a batch: an event with the claim it is about."""

    claim_id: Id = Field(examples=["nk-arms-for-russia"])
