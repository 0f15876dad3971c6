"""The credibility engine: how far the evidence in scope supports one claim.

One evaluator, model versions as strategies over it, one registry::

    values       the evidence vocabulary: SourceStanding, Position, Contribution,
                 Credibility, ResolvedStance, TrackRecord, RecordEntry
    selection    the one rule: valid-time order, retractions, each source's latest
                 position, the resolution in force
    pooling      witness groups, the 1/2^rank discount, the bounded pool, the verdict,
                 and ``conclude`` (contributions and their reasons)
    strategy     ``Strategy``: what a version decides (weigh, record, interest, relay,
                 caution, extremizing), with v1's weights as the base
    v1, v2       the versions, one module each
    records      track records as rows per source (``RecordBook``)
    sources      a source's ratings over both times; the ``SourceBook``
    explain      ``assess``: one claim at one point, explained
    evaluator    ``ClaimEvaluator``: a claim fed statement by statement, answering at any
                 valid time and as a step function of it
    registry     ``VERSIONS``, ``DEFAULT``, ``PROJECTED``, ``register``

Nothing here touches a store, a clock or a framework: every answer is a pure function of
the events in scope. A new version is one module and one ``register`` call.
"""

from ledger.credibility.explain import assess
from ledger.credibility.registry import (
    DEFAULT,
    PROJECTED,
    VERSIONS,
    ModelVersion,
    listing,
    register,
    version,
)
from ledger.credibility.strategy import Strategy
from ledger.credibility.values import (
    Contribution,
    Credibility,
    InvalidEvidence,
    SourceStanding,
    unweighable,
)

__all__ = [
    "DEFAULT",
    "PROJECTED",
    "VERSIONS",
    "Contribution",
    "Credibility",
    "InvalidEvidence",
    "ModelVersion",
    "SourceStanding",
    "Strategy",
    "assess",
    "listing",
    "register",
    "unweighable",
    "version",
]
