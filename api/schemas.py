"""Response models: the contract's shapes (docs/http-api.md, "Shapes"), for OpenAPI and
serialisation.

The ledger already answers in these field names; the models document them and must drop
nothing it sends (``tests/api/test_schemas.py`` compares every read with the ledger's dict,
so a field the ledger adds fails there until it is documented here). Times are strings
the ledger formats (RFC 3339, UTC, microseconds), kept as strings so no serialiser
reformats them. Optional event fields are left out when they do not apply (routes use
``response_model_exclude_unset``), as the ledger leaves them out.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, RootModel

Instant = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        examples=["2024-10-13T18:00:00.000000Z"],
        description="RFC 3339, UTC, microseconds",
    ),
]
Cursor = Annotated[
    str | None, Field(description="pass as ?cursor= for the next page; null on the last page")
]
#: Real values for the schema's examples (a client's docs show them, not "string").
EVENT_ID = Field(description="the event's id", examples=["2a614098-f654-5f3d-811b-2ca77ef1db02"])
CLAIM_ID = Field(examples=["nk-troops-for-russia"])
POSITION = Field(description="place in the global log", examples=[20])
ACTOR = Field(description="the API key's principal that recorded it", examples=["desk"])


class Contribution(BaseModel):
    event_id: str = EVENT_ID
    source: str = Field(examples=["zelensky"])
    type: str = Field(examples=["asserted"])
    delta: float = Field(
        description="the move this event made on arrival, in probability: the counted"
        " positions taken one by one in date order, the pooled probability just after it"
        " minus just before it (a resolution: the resolved probability minus the pool it"
        " overrides); the deltas add up to the probability minus 0.5",
        examples=[0.050613],
    )
    log_odds: float = Field(
        description="this event's weight in the current pool, in log-odds, after every"
        " multiplier and discount; 0 for an event that does not count now (superseded,"
        " withdrawn, a retraction, a resolution); the sum over a claim's events is the"
        " pooled log-odds. `reason` explains this number: its last figure is this weight",
        examples=[0.4],
    )
    reason: str = Field(
        examples=["Volodymyr Zelensky (UA, reliability C) asserted the claim: reliability C "
                  "gives +0.8 log-odds; UA gains if the claim is believed, so a self-serving "
                  "assertion counts x0.5: +0.4 log-odds, its weight in the pool now"]
    )


class CredibilitySummary(BaseModel):
    probability: float = Field(examples=[0.841004])
    band: str = Field(
        description="the ICD 203 term the probability falls in", examples=["very likely"]
    )
    status: str = Field(
        description="unverified, contested, leaning true, leaning false, confirmed or refuted",
        examples=["leaning true"],
    )


class CredibilityGraded(CredibilitySummary):
    grade: int = Field(description="Admiralty information credibility, 1-6", examples=[2])
    model: str = Field(description="the credibility model version", examples=["credibility-v2"])


class Credibility(CredibilityGraded):
    contributions: list[Contribution]


class ClaimPublic(BaseModel):
    """A claim with its credibility at (as_of, known_at)."""

    id: str = Field(examples=["nk-troops-for-russia"])
    text: str = Field(examples=["North Korea is sending troops to fight for Russia in Ukraine"])
    tags: list[str] = Field(examples=[["north-korea", "russia", "ukraine", "troops"]])
    parties: list[str] = Field(
        description="affiliation codes (upper-case) or source ids (lower-case) of the accused",
        examples=[["RU", "KP"]],
    )
    beneficiaries: list[str] = Field(
        description="affiliation codes or source ids of those whose cause gains if the claim "
        "is believed",
        examples=[["UA"]],
    )
    alleged_at: Instant | None = Field(
        default=None,
        description="when the alleged thing happened, as registered with the claim; left out "
        "when it was not given",
    )
    version: int = Field(
        description="the claim's version as known at known_at; its ETag", examples=[5]
    )
    as_of: Instant
    known_at: Instant
    credibility: Credibility


class ClaimListed(BaseModel):
    """A claim in a list: its credibility without the contributions (read the claim for them)."""

    id: str = Field(examples=["nk-troops-for-russia"])
    text: str = Field(examples=["North Korea is sending troops to fight for Russia in Ukraine"])
    tags: list[str] = Field(examples=[["north-korea", "russia", "ukraine", "troops"]])
    parties: list[str] = Field(examples=[["RU", "KP"]])
    beneficiaries: list[str] = Field(examples=[["UA"]])
    version: int = Field(description="the claim's version as known at known_at", examples=[5])
    as_of: Instant
    known_at: Instant
    credibility: CredibilityGraded
    last_change: Instant | None = Field(
        description="the valid time the claim's answer (probability, band, status, grade) "
        "last changed by as_of, as known at known_at; null while nothing said has moved it")
    moved: float | None = Field(
        default=None, description="with since: the probability at as_of minus the "
        "probability at since (as known at known_at)", examples=[0.12])


class Damage(BaseModel):
    """Where a claim's stored history stops matching the hash-chained log."""

    position: int = Field(
        description="the position in the global log where GET /verify finds the damage",
        examples=[14],
    )
    reason: str = Field(description="what is wrong there, in verify's words",
                        examples=["the stored event is missing"])


class ClaimDamaged(BaseModel):
    """A claim in a list whose stored events no longer match the hash-chained log (changed
    behind the service's back): listed with its id, version and where the damage is, but
    without the text and credibility that rest on that history. Reading the claim answers
    a 500 problem of type /problems/damaged-history naming the same position."""

    id: str = Field(examples=["nk-troops-for-russia"])
    version: int | None = Field(
        description="the claim's version as the log knows it at known_at", examples=[5]
    )
    as_of: Instant
    known_at: Instant
    damaged: Damage


class Behind(BaseModel):
    """Where a list was answered from, when its projection was behind the log."""

    position: int = Field(description="the last event the projection had projected; the "
                          "page is the ledger as known when it was recorded", examples=[4120])
    head: int = Field(description="the log's last position when the list was asked for",
                      examples=[4180])


class ClaimsPublic(BaseModel):
    as_of: Instant
    known_at: Instant
    since: Instant | None = Field(
        default=None, description="the valid time each item's moved counts from (with since)")
    data: list[ClaimListed | ClaimDamaged] = Field(
        description="the claims in registration order, or in the order sort names; a claim "
        "whose stored history is damaged is listed as a ClaimDamaged (it has 'damaged' and "
        "no credibility)"
    )
    next_cursor: Cursor
    behind: Behind | None = Field(
        default=None, description="present only when the credibility projection had not "
        "reached the events known_at asked for within two seconds (or, by its pace, would "
        "not): the page is then the "
        "ledger as it knew it at the projection's position, and known_at says when that was"
    )


class EventPublic(BaseModel):
    """One immutable event of a claim, as recorded."""

    event_id: str = EVENT_ID
    claim_id: str = Field(examples=["nk-troops-for-russia"])
    type: str = Field(examples=["asserted"])
    source: str = Field(examples=["zelensky"])
    occurred_at: Instant
    recorded_at: Instant
    position: int = Field(description="place in the global log", examples=[5])
    actor: str = Field(description="the API key's principal that recorded it", examples=["desk"])
    quote: str | None = Field(default=None, examples=["another hoax"])
    summary: str | None = None
    reference: str | None = None
    note: str | None = None
    likelihood: float | None = Field(default=None, examples=[0.875])
    likelihood_phrase: str | None = Field(default=None, examples=["highly likely"])
    confidence: str | None = None
    supersedes: str | None = None
    corrected_type: str | None = None
    outcome: str | None = None
    basis: str | None = None
    relays: str | None = Field(
        default=None, description="the earlier statement on the claim that this one repeats"
    )
    evidence: str | None = Field(
        default=None, description="what backs the statement, one of the evidence kinds",
        examples=["official-inquiry"],
    )


class ClaimEventsPublic(BaseModel):
    claim_id: str
    as_of: Instant
    known_at: Instant
    version: int
    events: list[EventPublic]
    next_cursor: Cursor


class AppendResult(BaseModel):
    """Where the event went, and the claim's credibility right after it."""

    event_id: str = EVENT_ID
    claim_id: str = CLAIM_ID
    position: int = POSITION
    recorded_at: Instant
    version: int = Field(description="the claim's version after the event; its new ETag",
                         examples=[6])
    as_of: Instant
    known_at: Instant
    credibility: Credibility


class AppendedEvent(BaseModel):
    """Where the event went, and nothing more: the answer to ``Prefer: return=minimal``."""

    event_id: str = EVENT_ID
    claim_id: str = CLAIM_ID
    position: int = POSITION
    recorded_at: Instant
    version: int = Field(description="the claim's version after the event; its new ETag",
                         examples=[6])


class PreviewEvent(EventPublic):
    """The proposed statement as an append would record it (``recorded_at``: as if now);
    it has no position, being written nowhere."""

    event_id: str = Field(description="always 'proposed'", examples=["proposed"])
    position: int | None = Field(  # type: ignore[assignment]
        default=None, description="none: the event is not written")


class PreviewResult(BaseModel):
    """How the claim's number would move if the body were appended now; nothing is written."""

    claim_id: str = CLAIM_ID
    as_of: Instant
    known_at: Instant
    version: int = Field(description="the claim's version now (a preview does not change it)",
                         examples=[5])
    before: CredibilityGraded = Field(description="the claim's credibility now")
    after: CredibilityGraded = Field(description="its credibility with the statement added")
    change: float = Field(description="after minus before, in probability", examples=[0.13])
    event: PreviewEvent
    credibility: Credibility = Field(
        description="the credibility after, with every contribution (the proposed "
        "statement's event_id is 'proposed')")


class AppendAnswer(RootModel[AppendResult | AppendedEvent]):
    """An append's answer: the full one, or with ``Prefer: return=minimal`` the minimal one."""


class BatchEventResult(BaseModel):
    event_id: str = EVENT_ID
    claim_id: str = Field(examples=["nk-arms-for-russia"])
    position: int = POSITION
    recorded_at: Instant
    version: int = Field(description="the claim's version after this event", examples=[3])


class BatchClaimResult(BaseModel):
    claim_id: str = Field(examples=["nk-arms-for-russia"])
    version: int = Field(description="the claim's version after the batch", examples=[3])
    credibility: Credibility


class BatchResult(BaseModel):
    """Every event of the batch, stored in one transaction, and each claim after it."""

    count: int = Field(description="how many events were stored", examples=[2])
    known_at: Instant
    events: list[BatchEventResult]
    claims: list[BatchClaimResult]


class AuditEntry(BaseModel):
    position: int
    event_id: str
    recorded_at: Instant
    occurred_at: Instant
    type: str = Field(description="the event's type, or 'rerated' for a source's new rating")
    source: str
    actor: str
    before: CredibilitySummary
    after: CredibilitySummary
    reason: str = Field(
        description="why the event moved the result (its contribution's reason), or why not"
    )


class AuditPublic(BaseModel):
    """One page of the audit trail: its entries in recording (position) order."""

    claim_id: str
    as_of: Instant
    known_at: Instant
    model: str
    entries: list[AuditEntry]
    next_cursor: Cursor


class TimelinePoint(CredibilitySummary):
    valid_from: Instant
    event_id: str


class TimelinePublic(BaseModel):
    claim_id: str
    known_at: Instant
    model: str
    points: list[TimelinePoint]


class RatingPublic(BaseModel):
    event_id: str = Field(examples=["e22b7098-f465-48cc-9301-0e4511a61a0f"])
    reliability: str = Field(examples=["C"])
    occurred_at: Instant | None = Field(description="null: the rating given at registration")
    recorded_at: Instant
    position: int = POSITION
    actor: str = ACTOR
    note: str | None = Field(examples=["re-rated by the desk after review of its record"])


class SourcePublic(BaseModel):
    id: str = Field(examples=["zelensky"])
    name: str = Field(examples=["Volodymyr Zelensky"])
    role: str | None = Field(examples=["President of Ukraine"])
    affiliation: str | None = Field(
        description="the first of affiliations, or null (for clients of one affiliation)",
        examples=["UA"],
    )
    affiliations: list[str] = Field(
        description="the source's affiliation codes, in the order registered",
        examples=[["UA", "UA-GOV"]],
    )
    reliability: str = Field(
        description="the rating in force at as_of, as known at known_at", examples=["C"]
    )
    version: int = Field(description="1 + the source's re-ratings known at known_at",
                         examples=[1])
    as_of: Instant
    known_at: Instant
    ratings: list[RatingPublic]


class SourcesPublic(BaseModel):
    as_of: Instant
    known_at: Instant
    data: list[SourcePublic]
    next_cursor: Cursor


class LogEvent(EventPublic):
    """An event of the global log: a statement, or a claim's or source's registration or
    re-rating (``claim_registered``, ``source_registered``, ``source_rerated``)."""

    claim_id: str | None = None  # type: ignore[assignment]
    source: str | None = None  # type: ignore[assignment]
    occurred_at: Instant | None = None  # type: ignore[assignment]
    text: str | None = None
    tags: list[str] | None = None
    parties: list[str] | None = None
    beneficiaries: list[str] | None = None
    alleged_at: Instant | None = None
    name: str | None = None
    role: str | None = None
    affiliation: str | None = None
    affiliations: list[str] | None = None
    reliability: str | None = None


class LogPage(BaseModel):
    """One page of the global log, in position order."""

    data: list[LogEvent]
    next_cursor: Cursor


class VerifyResult(BaseModel):
    ok: bool
    checked: int = Field(description="events whose hash link was recomputed")
    head: str | None = Field(description="hash of the last event, when the chain is intact")
    first_bad_position: int | None
    reason: str | None


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    store: str = Field(description="memory, sqlite or postgres", examples=["sqlite"])


class SignedCheckpoint(BaseModel):
    """A checkpoint: the log's length and chain hash at one time, signed (docs/trust.md)."""

    format: str = Field(examples=["claims-ledger-checkpoint/1"])
    position: int = Field(
        description="how far the log reached: the position of its last event", examples=[19]
    )
    head: str = Field(
        description="the chain hash at that position (64 hex digits; all zeros: empty log)",
        examples=["61291ad4c424e38dd9fc495827cbe3d9a209752f3cf8d7eec5a9e42d920da5a0"],
    )
    signed_at: Instant
    algorithm: str = Field(examples=["Ed25519"])
    key_id: str = Field(
        description="the public key's fingerprint: SHA256: and the base64 (unpadded) of the "
        "SHA-256 of its 32 bytes",
        examples=["SHA256:Vkdap1RjR0wChd9dvyvKtz2mUTWIOem3dIGy6rEHcIw"],
    )
    public_key: str = Field(description="the Ed25519 public key's 32 bytes, base64",
                            examples=["A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="])
    signature: str = Field(
        description="Ed25519 signature (base64) of the four lines 'claims-ledger-checkpoint/1', "
        "'position: P', 'head: H', 'signed_at: T', each ending in a newline",
        examples=["7dmHJKL6b5LjGn3nzFFzX4vPNpNIoNm8ADky5PFQQbXCDDVQbTxEG8yE3eOt7/t+TeLKmMshzik3"
                  "WsoczuleCA=="],
    )


class ModelPublic(BaseModel):
    name: str = Field(examples=["credibility-v2"])
    description: str
    default: bool = Field(description="whether answers use this version when ?model= is not given")
    projected: bool = Field(
        description="whether claim lists in this version are an indexed query of the store's "
        "projection (the others replay every claim)"
    )


class ModelsPublic(BaseModel):
    """The credibility model versions the ledger answers with."""

    default: str = Field(examples=["credibility-v2"])
    projected: str | None = Field(
        examples=["credibility-v2"],
        description="the version the store serves claim lists of from its projection "
        "(`claims-ledger rebuild --model NAME` switches it); null in memory, where every "
        "list replays",
    )
    data: list[ModelPublic]
    next_cursor: Cursor


class ModelAnswer(CredibilityGraded):
    """One version's answer for a claim, without contributions."""


class ContributionAnswer(BaseModel):
    delta: float = Field(description="the move the event made on arrival, in probability")
    log_odds: float = Field(description="its weight in the current pool, in log-odds")
    reason: str


class ContributionDiff(BaseModel):
    event_id: str
    source: str
    type: str
    from_: ContributionAnswer = Field(alias="from", serialization_alias="from")
    to: ContributionAnswer


class ClaimDiff(BaseModel):
    id: str = Field(examples=["mh17-russian-buk"])
    text: str
    changed: list[str] = Field(
        description="what differs: band, status, and probability when it differs by at least"
        " min_difference", examples=[["band"]],
    )
    difference: float = Field(description="the probability of `to` minus that of `from`")
    from_: ModelAnswer = Field(alias="from", serialization_alias="from")
    to: ModelAnswer
    contributions: list[ContributionDiff] = Field(
        description="the events whose log-odds or reason differ between the two versions"
    )


class ModelDiffPublic(BaseModel):
    """The claims two model versions judge differently at (as_of, known_at)."""

    from_: str = Field(alias="from", serialization_alias="from", examples=["credibility-v1"])
    to: str = Field(examples=["credibility-v2"])
    as_of: Instant
    known_at: Instant
    min_difference: float
    data: list[ClaimDiff]
    next_cursor: Cursor
