"""Peak memory of a served ledger under a mixed workload.

Serves an existing store (``claims-ledger --store STORE serve``, the projector in its own
process as ``serve`` runs it) and sends, for ``--seconds``, a random mix of the requests
people make: one claim at a random (as_of, known_at), the hottest claim, list pages (first
page, a status filter, a text filter), a claim's audit, and appends (with ``Prefer:
return=minimal``). Then prints the peak resident set (VmHWM) of the server and of every
process under it (the projector, workers), and their sum: the memory the service took;
each kind of request's median and slowest time, and how many list pages were answered
from a projection behind the log (``behind``).

    .venv/bin/python scripts/memory_mixed.py --store sqlite:////tmp/ledger.sqlite3 \\
        --seconds 120 --cache-mb 64

The store is one made by ``claims-ledger bench generate`` and ``claims-ledger load`` (and
``claims-ledger rebuild``, so the lists read projections, not a projector catching up);
the appends add a few hundred events to it.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.models import PROJECTED
from ledger.projection.tables import table_prefix
from ledger_cli.bench.servers import Client, ledger_server


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                frontier.append(child)
    return found


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _claims(store: str) -> tuple[list[str], str]:
    """The claims of an SQLite store and the one with the most events (from the
    projection's tables)."""
    path = store.removeprefix("sqlite://").removeprefix("/")
    with sqlite3.connect(f"file:/{path.lstrip('/')}?mode=ro", uri=True) as db:
        served = db.execute("SELECT value FROM credibility_format WHERE name = 'served'")
        row = served.fetchone()
        claims = f"{table_prefix(row[0] if row else PROJECTED)}_claims"  # the served version's
        ids = [row[0] for row in db.execute(f"SELECT claim_id FROM {claims}")]
        hottest = db.execute(
            f"SELECT c.claim_id FROM {claims} c JOIN stored_events e "
            "ON e.originator_id = c.originator_id GROUP BY c.claim_id "
            "ORDER BY max(e.originator_version) DESC LIMIT 1"
        ).fetchone()
    return ids, hottest[0] if hottest else ids[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="an SQLite store URL")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--cache-mb", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    env = {} if args.cache_mb is None else {"CLAIMS_LEDGER_CACHE_MB": str(args.cache_mb)}
    rng = random.Random(args.seed)
    ids, hottest = _claims(args.store)
    body = json.dumps({
        "type": "asserted", "source": "src-00000", "occurred_at": "2024-06-01T12:00:00Z",
        "quote": "reported movement of units near the crossing " * 4,
    }).encode()
    counts: dict[str, int] = {}
    latencies: dict[str, list[float]] = {}
    errors = 0
    behind = 0  # list pages answered from a projection behind the log
    with tempfile.TemporaryDirectory() as workdir, ledger_server(
        args.store, Path(workdir), **env
    ) as server:
        client = Client(server.port, timeout=300)

        def moment() -> dict[str, str]:
            day = rng.randrange(0, 3 * 365)
            return {"as_of": time.strftime("%Y-%m-%d", time.gmtime(1_640_995_200 + day * 86400))}

        kinds = {
            "claim": lambda: f"/claims/{rng.choice(ids)}?{urlencode(moment())}",
            "hot_claim": lambda: f"/claims/{hottest}?{urlencode(moment())}",
            "list": lambda: f"/claims?{urlencode({**moment(), 'limit': '100'})}",
            "list_status": lambda: f"/claims?{urlencode({'status': 'contested', 'limit': '100'})}",
            "list_q": lambda: f"/claims?{urlencode({'q': 'troops', 'limit': '100'})}",
            "audit": lambda: f"/claims/{rng.choice(ids)}/audit",
        }
        weights = {"claim": 35, "hot_claim": 5, "list": 15, "list_status": 5, "list_q": 5,
                   "audit": 15, "append": 20}
        names = list(weights)
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            kind = rng.choices(names, [weights[n] for n in names])[0]
            try:
                if kind == "append":
                    client.connection.request(
                        "POST", f"/claims/{rng.choice(ids)}/events", body=body,
                        headers={"Content-Type": "application/json",
                                 "Prefer": "return=minimal"},
                    )
                    response = client.connection.getresponse()
                    response.read()
                    status = response.status
                else:
                    status, took, answer = client.timed_get(kinds[kind]())
                    latencies.setdefault(kind, []).append(took)
                    if kind.startswith("list") and status == 200 and b'"behind"' in answer:
                        behind += 1
            except OSError:
                errors += 1
                client.reconnect()
                continue
            counts[kind] = counts.get(kind, 0) + 1
            if status >= 400:
                errors += 1
        client.close()
        pids = [server.process.pid, *_descendants(server.process.pid)]
        peaks = {pid: _hwm_kib(pid) for pid in pids}
    print(json.dumps({
        "store": args.store,
        "seconds": args.seconds,
        "cache_mb": args.cache_mb,
        "requests": counts,
        "errors": errors,
        "lists_behind": behind,
        "median_ms": {kind: round(1000 * statistics.median(took), 1)
                      for kind, took in sorted(latencies.items())},
        "max_ms": {kind: round(1000 * max(took), 1) for kind, took in sorted(latencies.items())},
        "peak_rss_mib": {str(pid): round(kib / 1024, 1) for pid, kib in peaks.items()},
        "peak_rss_mib_sum": round(sum(peaks.values()) / 1024, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
