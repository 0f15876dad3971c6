"""``credibility-v1``: log-odds pooling of each source's latest position.

Weighed in log-odds by its Admiralty reliability (``Strategy``'s weights); a party to the
claim counts x0.25 speaking in its own favour and x2 against its interest; a beneficiary
accusing counts x0.5; voices of one affiliation are not independent (the pool counts the
strongest in full, the next at 1/2, then 1/4 ...); p = 0.01 + 0.98 * sigmoid(sum), and a
resolution overrides it. It is the base strategy as it stands.
"""

from __future__ import annotations

from ledger.credibility.strategy import Strategy


class CredibilityV1(Strategy):
    name = "credibility-v1"
    description = (
        "Log-odds pooling of each source's latest position, weighed by its Admiralty"
        " reliability, with interest multipliers for parties and beneficiaries and a"
        " 1/2^rank discount of voices of one affiliation (docs/credibility-model.md)."
    )
