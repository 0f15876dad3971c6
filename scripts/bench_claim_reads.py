"""Median time of one claim's read, at random claims and random as_of, in one process.

Opens a store (``claims-ledger bench generate`` then ``claims-ledger load``; no
projection is needed: a claim is read from its events), reads 20 claims to warm the
process's caches, then times ``reads`` more and prints the median and the slowest, in
milliseconds. The claim ids come from the NDJSON file the store was loaded from.

    .venv/bin/python scripts/bench_claim_reads.py --store sqlite:////tmp/s1m.sqlite \\
        --ids s1m.ndjson

Run it with ``PYTHONPATH=<another checkout>`` to time that checkout's code on the same
store (an A/B in one sitting).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.bootstrap import open_ledger
from ledger.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--ids", required=True, help="the NDJSON the store was loaded from")
    parser.add_argument("--reads", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    ledger = open_ledger(Settings(store=args.store, _env_file=None))  # type: ignore[call-arg]
    with open(args.ids) as lines:
        ids = [json.loads(line)["claim_id"] for line in lines if '"claim_registered"' in line]
    rng = random.Random(args.seed)

    def one() -> float:
        claim_id = rng.choice(ids)
        as_of = datetime.fromtimestamp(1_640_995_200 + rng.randrange(0, 3 * 365) * 86400, UTC)
        start = time.perf_counter()
        ledger.claim(claim_id, as_of=as_of)
        return time.perf_counter() - start

    try:
        for _ in range(20):
            one()
        took = [one() for _ in range(args.reads)]
    finally:
        ledger.close()
    print(json.dumps({"store": args.store, "reads": args.reads,
                      "median_ms": round(1000 * statistics.median(took), 1),
                      "max_ms": round(1000 * max(took), 1)}))


if __name__ == "__main__":
    main()
