"""The article's answers are held byte for byte: a refactor or a projection must not move them.

``tests/golden/article.json`` holds the answers of credibility-v1, ``article-v2.json``
those of credibility-v2 (the default); to change them on purpose (a new model version, a
fixed defect), set ``CLAIMS_LEDGER_WRITE_GOLDEN=1`` once and review the diff.
Recording times differ on every load, so fields that carry them are left out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.examples import article_records, load_article
from ledger.times import parse_instant

GOLDEN = Path(__file__).parent.parent / "golden"
FILES = {"credibility-v1": "article.json", "credibility-v2": "article-v2.json"}
DATES = ["2024-06-19", "2024-10-07", "2024-10-08", "2024-10-10", "2024-10-13", "2024-10-15"]
VOLATILE = {"recorded_at", "known_at", "as_of"}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def article_answers(ledger: ClaimsLedger, model: str) -> dict[str, Any]:
    claims = [r["claim_id"] for r in article_records() if r["type"] == "claim_registered"]
    answers: dict[str, Any] = {}
    for cid in claims:
        for date in DATES:
            as_of = parse_instant("as_of", date, bare_date="end")
            answers[f"{cid} claim {date}"] = ledger.claim(cid, as_of=as_of, model=model)
            answers[f"{cid} audit {date}"] = ledger.audit(cid, as_of=as_of, model=model)
        answers[f"{cid} claim now"] = ledger.claim(cid, model=model)
        answers[f"{cid} events"] = ledger.claim_events(cid)
        answers[f"{cid} timeline"] = ledger.timeline(cid, model=model)
    return _strip(answers)


@pytest.mark.parametrize("model", sorted(FILES))
def test_article_answers_are_unchanged(ledger: ClaimsLedger, model: str) -> None:
    load_article(ledger)
    answers = json.dumps(
        article_answers(ledger, model), indent=1, sort_keys=True, ensure_ascii=False
    )
    golden = GOLDEN / FILES[model]
    if os.environ.get("CLAIMS_LEDGER_WRITE_GOLDEN") == "1":
        golden.write_text(answers + "\n", encoding="utf-8")
    assert answers + "\n" == golden.read_text(encoding="utf-8")
