"""The credibility model versions the ledger answers with, and the one it answers by default.

Every version is kept, so an old answer can be reproduced and two versions compared over
the whole ledger; an answer's ``model`` names the version that computed it. Each version is
a pure function of the evidence in scope, the sources' standing, the claim's parties and
beneficiaries, and (for a version that learns from the sources' records) the track records
at the answer's (as_of, known_at). Nothing here touches a store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from ledger import credibility, credibility_v2
from ledger.answers import JSON
from ledger.credibility import Credibility, SourceStanding
from ledger.credibility_v2 import RecordsAt
from ledger.errors import InvalidInput
from ledger.statements import Statement

#: The version every answer uses unless another is asked for.
DEFAULT = credibility_v2.MODEL_VERSION
#: The version the credibility projection (``ledger.projection``) computes: claim lists in
#: this version are an indexed query of it; in any other, every claim is replayed.
PROJECTED = credibility_v2.MODEL_VERSION
#: The version ``ledger.replay``'s fast audit and timeline walks compute (v1's pool); any
#: other is asked claim by claim, time by time.
INCREMENTAL = credibility.MODEL_VERSION


@dataclass(frozen=True)
class ModelVersion:
    """One credibility model version."""

    name: str
    description: str
    #: Whether it weighs a statement by its source's record on claims resolved by then (as
    #: known at known_at): reading one claim then reads every resolved claim in the ledger.
    learns: bool

    @property
    def default(self) -> bool:
        return self.name == DEFAULT

    def assess(
        self,
        evidence: Iterable[Statement],
        sources: Mapping[str, SourceStanding],
        parties: Collection[str],
        beneficiaries: Collection[str] = (),
        records: RecordsAt | None = None,
    ) -> Credibility:
        """The credibility by this version (``records``: the sources' track records as
        they stood at a moment of valid time); v1 reads neither the records nor what a
        statement ``relays``."""
        if self.learns:
            return credibility_v2.assess(
                evidence, sources, parties, beneficiaries, track_records=records
            )
        return credibility.assess(evidence, sources, parties, beneficiaries)

    def view(self) -> JSON:
        return {"name": self.name, "description": self.description, "default": self.default}


VERSIONS: dict[str, ModelVersion] = {
    version.name: version
    for version in (
        ModelVersion(
            credibility.MODEL_VERSION,
            "Log-odds pooling of each source's latest position, weighed by its Admiralty"
            " reliability, with interest multipliers for parties and beneficiaries and a"
            " 1/2^rank discount of voices of one affiliation (docs/credibility-model.md).",
            learns=False,
        ),
        ModelVersion(
            credibility_v2.MODEL_VERSION,
            "v1 plus each source's track record when it made the statement, on the claims"
            " resolved by then (as known at known_at; a Beta posterior from its rating, a"
            " stance counting 1/2 per year between its claim's resolution and the"
            " statement), caution with the reports of the day a story"
            " broke (x0.5), and no independent weight for a statement that relays another"
            " (x0) (docs/credibility-model.md, docs/evaluation.md).",
            learns=True,
        ),
    )
}


def version(name: str | None, field: str = "model") -> ModelVersion:
    """The version called ``name`` (None: the default); an unknown one is refused."""
    if name is None:
        return VERSIONS[DEFAULT]
    found = VERSIONS.get(name)
    if found is None:
        accepted = ", ".join(VERSIONS)
        raise InvalidInput(field, f"{name!r} is not a model version; use one of {accepted}")
    return found


def listing() -> JSON:
    """The versions as ``GET /models`` lists them (one page: there are few)."""
    return {
        "default": DEFAULT,
        "data": [version.view() for version in VERSIONS.values()],
        "next_cursor": None,
    }
