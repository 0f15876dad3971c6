"""The model versions the ledger answers with: one registry, one entry per version.

Every version is kept, so an old answer can be reproduced and two versions compared over
the whole ledger; an answer's ``model`` names the version that computed it. A new version
is one module (a ``Strategy``) and one ``register`` call here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from ledger.answers import JSON
from ledger.credibility.explain import assess
from ledger.credibility.records import RecordsAt
from ledger.credibility.strategy import Strategy
from ledger.credibility.v1 import CredibilityV1
from ledger.credibility.v2 import CredibilityV2
from ledger.credibility.v3 import CredibilityV3
from ledger.credibility.values import Credibility, SourceStanding, TrackRecord
from ledger.errors import InvalidInput
from ledger.statements import Statement


@dataclass(frozen=True)
class ModelVersion:
    """One registered credibility model version: its strategy, by name."""

    strategy: Strategy

    @property
    def name(self) -> str:
        return self.strategy.name

    @property
    def description(self) -> str:
        return self.strategy.description

    @property
    def learns(self) -> bool:
        """Whether it weighs a statement by its source's record on claims resolved by then
        (as known at known_at): reading one claim then reads the resolved claims."""
        return self.strategy.learns

    @property
    def default(self) -> bool:
        return self.name == DEFAULT

    def assess(
        self,
        evidence: Iterable[Statement],
        sources: Mapping[str, SourceStanding],
        parties: Collection[str],
        beneficiaries: Collection[str] = (),
        records: RecordsAt | Mapping[str, TrackRecord] | None = None,
    ) -> Credibility:
        """The credibility by this version (``records``: the sources' track records as
        they stood at a moment of valid time; only a version that learns reads them)."""
        return assess(self.strategy, evidence, sources, parties, beneficiaries, records)

    def view(self) -> JSON:
        return {"name": self.name, "description": self.description, "default": self.default}


VERSIONS: dict[str, ModelVersion] = {}


def register(strategy: Strategy) -> ModelVersion:
    """Make ``strategy`` selectable by its name (``?model=``, ``--model``)."""
    if not strategy.name or strategy.name in VERSIONS:
        raise ValueError(f"model version {strategy.name!r} is unnamed or registered already")
    version = VERSIONS[strategy.name] = ModelVersion(strategy)
    return version


def unregister(name: str) -> None:
    """Take a version out of the registry (tests that register a toy version)."""
    if name in (DEFAULT, PROJECTED):
        raise ValueError(f"{name} is the default or the projected version")
    VERSIONS.pop(name, None)


register(CredibilityV1())
register(CredibilityV2())
register(CredibilityV3())  # fitted: ledger/credibility/params/credibility-v3.json

#: The version every answer uses unless another is asked for.
DEFAULT = CredibilityV2.name
#: The version the credibility projection computes in a store that records no other as
#: served (``claims-ledger rebuild --model`` switches it): claim lists in the served
#: version are an indexed query; in any other, every claim is replayed.
PROJECTED = CredibilityV2.name


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
