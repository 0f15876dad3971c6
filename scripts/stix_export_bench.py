"""How fast `claims-ledger export --format stix` streams a large ledger, in how much memory.

    python scripts/stix_export_bench.py [EVENTS] [--store sqlite:///PATH]

Builds an SQLite ledger of EVENTS events (default 100,000: 50 sources, claims of 100
statements each, a tenth of them assessments), unless the store already holds them, then
runs the export in a child process and reports events/s (wall clock and CPU time: on a
shared machine the first understates) and the child's peak RSS. The
figures of a run are in docs/interop.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ledger.bootstrap import open_ledger
from ledger.config import Settings

SOURCES = 50
PER_CLAIM = 100


def records(events: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = [
        {"type": "source_registered", "source": f"s{i}", "name": f"Source {i}",
         "affiliation": f"X{i % 7}", "reliability": "ABCDEF"[i % 6]} for i in range(SOURCES)]
    claim = 0
    while len(out) < events:
        cid = f"c{claim}"
        out.append({"type": "claim_registered", "claim_id": cid, "text": f"Claim {claim}",
                    "parties": [f"X{claim % 7}"]})
        for j in range(min(PER_CLAIM, events - len(out))):
            day = f"2024-{1 + j % 12:02d}-{1 + j % 28:02d}"
            base = {"claim_id": cid, "source": f"s{(claim + j) % SOURCES}", "occurred_at": day}
            if j % 10 == 9:
                out.append({**base, "type": "assessed", "likelihood": "likely",
                            "summary": "an assessment"})
            else:
                out.append({**base, "type": "asserted" if j % 3 else "denied",
                            "quote": f"statement {j} on claim {claim}"})
        claim += 1
    return out


def build(store: str, events: int) -> None:
    ledger = open_ledger(Settings(store=store, _env_file=None))  # type: ignore[call-arg]
    try:
        if ledger.global_log(0, 1)["events"]:
            return
        batch = records(events)
        for start in range(0, len(batch), 2000):
            ledger.import_batch(batch[start:start + 2000], "bench")
        ledger.importer.finish()
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("events", type=int, nargs="?", default=100_000)
    parser.add_argument("--store", default=None)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="stix-bench-"))
    store = args.store or f"sqlite:///{directory / 'ledger.sqlite3'}"
    started = time.perf_counter()
    build(store, args.events)
    print(f"built {args.events} events in {time.perf_counter() - started:.1f} s", flush=True)
    target = directory / "bundle.json"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ledger_cli", "--store", store, "export",
                    "--format", "stix", str(target)], check=True)
    seconds = time.perf_counter() - started
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb, cpu = child.ru_maxrss / 1024, child.ru_utime + child.ru_stime
    with target.open(encoding="utf-8") as bundle:
        objects = len(json.load(bundle)["objects"])
    print(json.dumps({"events": args.events, "objects": objects, "seconds": round(seconds, 1),
                      "events_per_second": round(args.events / seconds),
                      "cpu_seconds": round(cpu, 1),
                      "events_per_cpu_second": round(args.events / cpu),
                      "peak_rss_mb": round(peak_mb), "bundle_mb":
                      round(target.stat().st_size / 2**20, 1)}))


if __name__ == "__main__":
    main()
