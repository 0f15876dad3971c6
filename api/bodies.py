"""Request bodies: the shape of what clients send, for OpenAPI and a first check.

These models check shape only (which fields, of which JSON types). The rules of the domain
(slugs, Admiralty grades, ICD 203 terms, which fields an event type needs, dates not in the
future) are the ledger's (``ledger.inputs``), which gets ``model_dump(exclude_unset=True)``
and answers with its own errors; the enums below are taken from it for documentation.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ledger.inputs import OUTCOMES, RELIABILITY, STATEMENT_TYPES
from ledger.likelihood import CONFIDENCE_LEVELS


def _number_or_words(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("must be a probability in (0,1) or an ICD 203 term such as 'likely'")
    return value


Likelihood = Annotated[float | str, BeforeValidator(_number_or_words)]
# Documented as enums, checked by the ledger (which also accepts, e.g., lower-case grades).
Reliability = Annotated[str, WithJsonSchema({"type": "string", "enum": list(RELIABILITY)})]
EventType = Annotated[str, WithJsonSchema({"type": "string", "enum": list(STATEMENT_TYPES)})]
Confidence = Annotated[str, WithJsonSchema({"type": "string", "enum": list(CONFIDENCE_LEVELS)})]
Outcome = Annotated[str, WithJsonSchema({"type": "string", "enum": list(OUTCOMES)})]
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

    id: str = Field(description="slug: 1-64 characters of a-z, 0-9 and '-'", examples=["zelensky"])
    name: str = Field(examples=["Volodymyr Zelensky"])
    role: str | None = Field(default=None, examples=["President of Ukraine"])
    affiliation: str | None = Field(
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
    occurred_at: str = Field(description=TIME_HELP, examples=["2024-10-14"])
    note: str | None = Field(default=None, description="why the rating changed")


class ClaimCreate(Body):
    """A new claim, phrased as an allegation against its parties."""

    id: str | None = Field(
        default=None,
        description="slug [a-z0-9-]{1,64}; omitted, the server makes a UUID",
        examples=["nk-troops-for-russia"],
    )
    text: str = Field(examples=["North Korea is sending troops to fight for Russia in Ukraine"])
    tags: list[str] = Field(default_factory=list, examples=[["north-korea", "troops"]])
    parties: list[str] = Field(
        default_factory=list,
        description="affiliation codes of the actors whose conduct the claim alleges",
        examples=[["RU", "KP"]],
    )


class EventCreate(Body):
    """A statement, denial, assessment, retraction, correction or resolution of a claim."""

    type: EventType = Field(examples=["asserted"])
    source: str | None = Field(
        default=None,
        description="the source's id; required except on corrected (defaults to the "
        "corrected event's source)",
        examples=["zelensky"],
    )
    occurred_at: str | None = Field(
        default=None,
        description=TIME_HELP + "; required except on corrected",
        examples=["2024-10-13T18:00:00Z"],
    )
    quote: str | None = Field(
        default=None, description="the words used (asserted/denied need a quote or a summary)"
    )
    summary: str | None = Field(default=None, description="a paraphrase")
    reference: str | None = Field(default=None, description="http(s) URL of the report")
    note: str | None = Field(default=None, description="the recorder's note")
    likelihood: Likelihood | None = Field(
        default=None,
        description="assessed: a probability in (0,1) or an ICD 203 term ('very likely', "
        "'highly likely', 'remote', ...)",
        examples=[0.6, "highly likely"],
    )
    likelihood_phrase: str | None = Field(default=None, description="the source's own words")
    confidence: Confidence | None = Field(default=None, description="assessed: how sure")
    supersedes: str | None = Field(
        default=None, description="retracted/corrected: the event_id it replaces"
    )
    corrected_type: str | None = Field(
        default=None, description="corrected: the type the corrected event should have had"
    )
    outcome: Outcome | None = Field(default=None, description="resolved: the ground truth")
    basis: str | None = Field(default=None, description="resolved: how the truth was established")


class BatchEventCreate(EventCreate):
    """One event of a batch: an event with the claim it is about."""

    claim_id: str = Field(examples=["nk-arms-for-russia"])
