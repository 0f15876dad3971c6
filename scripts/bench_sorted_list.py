"""Time one page of the claims list sorted, against registration order: medians and ratios.

    .venv/bin/python scripts/bench_sorted_list.py 100000 [--work DIR] [--runs 9]

A synthetic ledger of N events (``ledger_cli.bench.synthetic``, about N / 200 claims) is
loaded into SQLite under ``--work`` (kept there: a second run reuses it), then
``list_claims`` (what ``GET /claims`` calls) is timed for one page of 50 at a fixed
(as_of, known_at): in registration order (the baseline: an indexed range of claims), in
registration order with ``since``, and sorted by ``-probability``, ``-moved`` (with
``since``) and ``text`` (each a sort of every claim's answer in the projection's SQL).
Each figure is the median of ``--runs``; the ratio is against the baseline of the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.times import parse_instant
from ledger_cli.bench.synthetic import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("events", type=int)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "sortbench")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = args.work / f"l{args.events}.sqlite3"
    if not db.exists():
        data = args.work / f"s{args.events}.ndjson"
        generate(data, args.events)
        subprocess.run([sys.executable, "-m", "ledger_cli", "--store", f"sqlite:///{db}",
                        "load", str(data)], check=True, capture_output=True)
    ledger = open_ledger(Settings(store=f"sqlite:///{db}", _env_file=None))  # type: ignore[call-arg]
    try:
        assert ledger.projector is not None
        ledger.projector.catch_up()
        known = parse_instant("known_at", ledger.list_claims(limit=1)["known_at"])
        as_of = parse_instant("as_of", "2024-06-30T00:00:00Z")
        since = as_of - timedelta(days=7)
        cases: dict[str, dict[str, Any]] = {
            "registered": {},
            "registered, since": {"since": since},
            "-probability": {"sort": "-probability"},
            "-moved, since": {"sort": "-moved", "since": since},
            "text": {"sort": "text"},
        }
        claims, cursor = 0, None
        while True:
            page = ledger.list_claims(as_of=as_of, known_at=known, limit=1000, cursor=cursor)
            claims += len(page["data"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        print(f"events={args.events} claims={claims} runs={args.runs} (page of 50)")
        base = None
        for name, extra in cases.items():
            runs = []
            for _ in range(args.runs):
                start = time.perf_counter()
                ledger.list_claims(as_of=as_of, known_at=known, limit=50, **extra)
                runs.append(time.perf_counter() - start)
            median = statistics.median(runs)
            base = base or median
            print(f"{name:18s} median {median * 1000:8.2f} ms  ratio {median / base:6.2f}")
    finally:
        ledger.close()


if __name__ == "__main__":
    main()
