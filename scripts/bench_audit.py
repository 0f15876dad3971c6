"""Time a long claim's audit trail and timeline (in memory): the median of a few runs.

    .venv/bin/python scripts/bench_audit.py 1000 10000 [--runs 3] [--pages]

One claim gets N statements (asserted, denied, assessed, retracted, corrected, one
resolution at the end) from 20 sources (``--sources``) of five affiliations, dated over
two years with some back-filled, plus a re-rating every 250 events; they are loaded with
``import_batch`` in batches of 1,000 (so the claim's records are recorded one microsecond
apart, as any import's are). Timed: ``audit`` (every entry in one answer), ``timeline``, and with
``--pages`` the audit read page by page (limit 100, as the HTTP route pages by default) and
its first page alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings

CLAIM = "long-claim"
START = datetime(2022, 1, 1, tzinfo=UTC)
AFFILIATIONS = ("UA", "RU", "KP", "KR", None)


def records(events: int, seed: int = 7, speakers: int = 20) -> Iterator[dict[str, Any]]:
    """The export records of one claim with ``events`` statements and its sources."""
    rng = random.Random(seed)
    sources = [f"src-{i:02d}" for i in range(speakers)]
    for i, sid in enumerate(sources):
        record = {
            "type": "source_registered",
            "source": sid,
            "name": sid.upper(),
            "reliability": "ABCDEF"[i % 6],
        }
        affiliation = AFFILIATIONS[i % len(AFFILIATIONS)]
        if affiliation:
            record["affiliation"] = affiliation
        yield record
    yield {
        "type": "claim_registered",
        "claim_id": CLAIM,
        "text": "A long claim",
        "parties": ["RU", "KP"],
        "beneficiaries": ["UA"],
    }
    said: dict[str, list[tuple[str, datetime, str]]] = {sid: [] for sid in sources}
    retracted: set[str] = set()
    span = 730 * 86400
    for i in range(events):
        moment = START + timedelta(seconds=span * i / events - rng.random() * 30 * 86400)
        moment = max(START, moment).replace(microsecond=0)
        when = moment.isoformat()
        if speakers > 20:  # many voices, each heard about as often
            sid = rng.choice(sources)
        else:  # a few speak most
            sid = sources[min(int(rng.paretovariate(1.2)) - 1, len(sources) - 1)]
        if i and i % 250 == 0:
            yield {
                "type": "source_rerated",
                "source": sid,
                "reliability": rng.choice("ABCDE"),
                "occurred_at": when,
                "note": f"re-rated {i}",
            }
        open_ = [s for s in said[sid] if s[0] not in retracted]
        roll = rng.random()
        event_id = f"e-{i:06d}"
        base = {"claim_id": CLAIM, "event_id": event_id, "source": sid}
        if i == events - 1:
            yield {
                **base,
                "type": "resolved",
                "occurred_at": when,
                "outcome": "confirmed",
                "basis": "the end of the benchmark",
            }
        elif roll < 0.08 and open_:
            target, at, _ = rng.choice(open_)
            retracted.add(target)
            yield {
                **base,
                "type": "retracted",
                "supersedes": target,
                "occurred_at": max(at, moment).isoformat(),
                "summary": "withdrawn",
            }
        elif roll < 0.16 and open_:
            target, at, kind = rng.choice(open_)
            fix: dict[str, Any] = {"summary": f"corrected in {event_id}"}
            if kind == "assessed":
                fix = {"likelihood": rng.choice((0.2, 0.4, 0.6, 0.8))}
            yield {
                **base,
                "type": "corrected",
                "supersedes": target,
                "occurred_at": at.isoformat(),
                **fix,
            }
        else:
            kind = rng.choice(("asserted", "asserted", "denied", "assessed"))
            body: dict[str, Any] = {"summary": f"{sid} {kind} {i}"}
            if kind == "assessed":
                body["likelihood"] = rng.choice((0.1, 0.3, 0.5, 0.7, 0.9))
            said[sid].append((event_id, moment, kind))
            yield {**base, "type": kind, "occurred_at": when, **body}


def load(events: int, speakers: int = 20) -> ClaimsLedger:
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    batch: list[dict[str, Any]] = []
    for record in records(events, speakers=speakers):
        batch.append(record)
        if len(batch) == 1000:
            ledger.import_batch(batch, "bench")
            batch = []
    if batch:
        ledger.import_batch(batch, "bench")
    return ledger


class Took(float):
    """A median wall-clock time, with the median CPU time of the same runs beside it."""

    cpu: float

    def __format__(self, spec: str) -> str:
        return f"{float(self):{spec}} s (cpu {self.cpu:.3f} s)"


def median(runs: int, work: Callable[[], Any]) -> tuple[Took, Any]:
    """The median time of ``runs`` calls of ``work``, and what the last call answered.

    CPU time is given too: on a busy machine it moves less than the time on the clock.
    """
    walls, cpus, answer = [], [], None
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        answer = work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    took = Took(statistics.median(walls))
    took.cpu = statistics.median(cpus)
    return took, answer


def all_pages(ledger: ClaimsLedger) -> int:
    page = ledger.audit(CLAIM, limit=100)
    entries = len(page["entries"])
    while page["next_cursor"] is not None:
        page = ledger.audit(CLAIM, limit=100, cursor=page["next_cursor"])
        entries += len(page["entries"])
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", action="store_true", help="also time the paged audit")
    parser.add_argument("--skip-audit", action="store_true")
    parser.add_argument("--sources", type=int, default=20, help="sources speaking (20)")
    args = parser.parse_args()
    for events in args.events:
        line = bench(
            events, args.runs, audit=not args.skip_audit, pages=args.pages, speakers=args.sources
        )
        print(line, flush=True)


def bench(events: int, runs: int, *, audit: bool, pages: bool, speakers: int = 20) -> str:
    """One line of figures for a claim of ``events`` statements."""
    ledger = load(events, speakers)
    try:
        line = f"{events:>6} events:"
        if audit:
            took, trail = median(runs, lambda: ledger.audit(CLAIM))
            line += f" audit {took:8.3f} ({len(trail['entries'])} entries)"
        took, steps = median(runs, lambda: ledger.timeline(CLAIM))
        line += f"  timeline {took:8.3f} ({len(steps['points'])} points)"
        if pages:
            took, _ = median(runs, lambda: all_pages(ledger))
            line += f"  audit by pages of 100 {took:8.3f}"
            took, _ = median(runs, lambda: ledger.audit(CLAIM, limit=100))
            line += f"  first page {took:8.3f}"
        return line
    finally:
        ledger.close()


if __name__ == "__main__":
    main()
