"""Measure drafted statements (``ledger.drafts``) against the statements a person recorded.

    .venv/bin/python scripts/measure_drafts.py ARTICLE.txt --date 2024-10-14 \\
        --expected ledger/data/article-nk-russia.ndjson [--claim ID] [--show]

EXPECTED is an export-format NDJSON file: its ``source_registered`` records are the sources
the ledger knows (drafting matches against them), its ``asserted``, ``denied`` and
``assessed`` records are the expected statements (``--claim``: only that claim's). An
expected statement is *proposed* when a proposal has its source and type and a date whose
period holds the expected date ("last week" names the seven days of that week, "in June"
the month; a weekday or a day names that day). Printed:

- recall: the share of expected statements proposed;
- spurious: the share of proposals that match no expected statement.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.drafts import Proposal, draft, known_sources
from ledger.statements import STANCE_TYPES as STATEMENTS


def read_expected(path: Path, claim: str | None) -> tuple[list[dict[str, Any]], list[Any]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    sources = known_sources(
        {**r, "id": r["source"]} for r in records if r.get("type") == "source_registered"
    )
    expected = [r for r in records if r.get("type") in STATEMENTS
                and (claim is None or r.get("claim_id") == claim)]
    return expected, sources


def matches(proposal: Proposal, statement: dict[str, Any]) -> bool:
    first, last = proposal.window()
    said = date.fromisoformat(str(statement["occurred_at"])[:10])
    return (proposal.source == statement["source"] and proposal.type == statement["type"]
            and first <= said <= last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("article", type=Path, help="the article's text (UTF-8)")
    parser.add_argument("--date", required=True, type=date.fromisoformat,
                        help="the article's publication date (YYYY-MM-DD)")
    parser.add_argument("--expected", required=True, type=Path,
                        help="export-format NDJSON: known sources and expected statements")
    parser.add_argument("--claim", help="only this claim's expected statements")
    parser.add_argument("--show", action="store_true", help="print each proposal and match")
    args = parser.parse_args(argv)

    expected, sources = read_expected(args.expected, args.claim)
    proposals = draft(args.article.read_text(encoding="utf-8"), args.date, sources)
    found = [s for s in expected if any(matches(p, s) for p in proposals)]
    spurious = [p for p in proposals if not any(matches(p, s) for s in expected)]
    if args.show:
        for p in proposals:
            mark = "spurious" if p in spurious else "matches"
            first, last = p.window()
            print(f"{mark:9} {p.source:24} {p.type:9} {first}..{last}  {p.reason}")
        for s in expected:
            if s not in found:
                print(f"missed    {s['source']:24} {s['type']:9} {s['occurred_at']}")
    recall = len(found) / len(expected) if expected else 0.0
    share = len(spurious) / len(proposals) if proposals else 0.0
    print(f"expected statements: {len(expected)}; proposals: {len(proposals)}")
    print(f"recall:   {recall:.0%} ({len(found)} of {len(expected)} proposed with the right "
          "source, type and date)")
    print(f"spurious: {share:.0%} ({len(spurious)} of {len(proposals)} proposals match no "
          "expected statement)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
