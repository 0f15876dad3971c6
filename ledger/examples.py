"""The example data that ships with the project: the October 2024 article on North Korea.

``ledger/data/article-nk-russia.ndjson`` is in the export format, so the same loader reads
it as reads any export; each record's ``note`` says how its date was read from the article.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from ledger.application import ClaimsLedger
from ledger.store import END_OF_TIME

ARTICLE = "article-nk-russia.ndjson"


def article_records() -> list[dict[str, Any]]:
    text = resources.files("ledger.data").joinpath(ARTICLE).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_article(ledger: ClaimsLedger, actor: str = "example-data") -> int:
    """Load the article's events; returns how many were written (0 if already there)."""
    if ledger.store.index.stream_ids("claim", END_OF_TIME, 0, 1):
        return 0
    count = int(ledger.import_batch(article_records(), actor)["count"])
    ledger.importer.finish()  # a whole load: the snapshots it owes
    return count
