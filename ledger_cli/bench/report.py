"""Figures of a benchmark run: latency summaries, the JSON report and its table.

Every scenario reports a throughput and latency percentiles (p50, p95, p99, p99.9, in
milliseconds) for the ledger and for its baseline, measured in the same run, and one
``ratio``. A ratio below 1 in a throughput row is the share of the baseline's rate the
ledger reaches; in a latency or memory row (marked "x slower" / "x larger") it is how many
times the large ledger costs what the small one does. ``None`` means the figure could not be
measured, with the ``reason`` beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

JSON = dict[str, Any]
PERCENTILES = (("p50_ms", 50.0), ("p95_ms", 95.0), ("p99_ms", 99.0), ("p99.9_ms", 99.9))


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile of an ordered, non-empty sequence."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(latencies: Sequence[float], elapsed: float, **extra: Any) -> JSON:
    """Throughput (operations per second of ``elapsed``) and percentiles of ``latencies`` (s).

    ``extra`` figures are added (and may replace ``count`` and ``throughput``).
    """
    ordered = sorted(latencies)
    figures: JSON = {
        "count": len(ordered),
        "seconds": round(elapsed, 3),
        "throughput": round(len(ordered) / elapsed, 1) if elapsed > 0 else None,
    }
    for name, pct in PERCENTILES:
        figures[name] = round(percentile(ordered, pct) * 1000, 3) if ordered else None
    figures.update(extra)
    return figures


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)


#: The concurrency levels of HTTP appends, and the time-travel queries, in report order.
CONCURRENCY = (1, 4, 16, 64)
TIME_TRAVEL_QUERIES = ("claim", "hot_claim", "list_first_page", "list_status", "list_q")


def failed(error: BaseException) -> JSON:
    """The figures of a scenario that could not finish: None, and why."""
    lines = str(error).strip().splitlines() or [""]
    return {
        "failed": True,
        "ratio": None,
        "reason": f"failed: {type(error).__name__}: {lines[0]}".rstrip(": "),
        "detail": "\n".join(lines[1:])[-4000:] or None,
    }


def headline(scenarios: JSON) -> JSON:
    """The figures to compare between runs: one ratio per scenario (and per concurrency).

    Every scenario that ran has its keys here, None where it failed or cannot measure.
    """
    figures: JSON = {}
    if "http_append" in scenarios:
        levels = scenarios["http_append"].get("levels", {})
        for level in CONCURRENCY:
            figures[f"http_append_c{level}"] = levels.get(str(level), {}).get("ratio")
        for level in CONCURRENCY:
            figures[f"http_append_minimal_c{level}"] = levels.get(str(level), {}).get(
                "minimal_ratio"
            )
    if "load" in scenarios:
        figures["load"] = scenarios["load"]["ratio"]
    if "time_travel" in scenarios:
        queries = scenarios["time_travel"].get("queries", {})
        for name in TIME_TRAVEL_QUERIES:
            figures[f"time_travel_{name}"] = queries.get(name, {}).get("ratio")
    for name in ("memory", "rebuild", "scale_out", "live"):
        if name in scenarios:
            figures[name] = scenarios[name]["ratio"]
    if "live" in scenarios:
        figures["live_whole_log"] = scenarios["live"].get("whole_log", {}).get("ratio")
    if "library" in scenarios:
        for name in ("append", "batch"):
            figures[f"library_{name}"] = scenarios["library"].get(name, {}).get("ratio")
    return figures


# -- the table ---------------------------------------------------------------------------


def _n(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


_TABLE_PERCENTILES = ("p50_ms", "p99_ms", "p99.9_ms")


def _latency(figures: JSON | None) -> list[str]:
    if not figures:
        return ["-"] * len(_TABLE_PERCENTILES)
    return [_n(figures.get(name), 1) for name in _TABLE_PERCENTILES]


def _ratio_or_reason(figures: JSON, digits: int = 3) -> str:
    if figures.get("ratio") is not None:
        return _n(figures["ratio"], digits)
    return str(figures.get("reason") or "-")


_LABELS = {
    "http_append": "HTTP append", "load": "bulk load", "time_travel": "time travel",
    "memory": "server peak RSS", "rebuild": "rebuild", "scale_out": "scale-out",
    "library": "in-process", "live": "live subscribers",
}


def _rows(scenarios: JSON) -> list[list[str]]:
    rows: list[list[str]] = []
    for name, figures in scenarios.items():
        if figures.get("failed"):
            rows.append([_LABELS.get(name, name), "-", "-", figures["reason"], *_latency(None)])
    scenarios = {k: v for k, v in scenarios.items() if not v.get("failed")}
    http = scenarios.get("http_append")
    if http is not None:
        for level, pair in http["levels"].items():
            led, base = pair["ledger"], pair["baseline"]
            rows.append([f"append, {level} conn. (req/s)", _n(led["throughput"]),
                         _n(base["throughput"]), _ratio_or_reason(pair), *_latency(led)])
            lean = pair.get("minimal")
            if lean is not None:
                rows.append([f"append, return=minimal, {level} conn. (req/s)",
                             _n(lean["throughput"]), _n(base["throughput"]),
                             _n(pair.get("minimal_ratio"), 3), *_latency(lean)])
    load = scenarios.get("load")
    if load is not None:
        rows.append(["bulk load (events/s)", _n(load["ledger"]["throughput"]),
                     _n(load["baseline"]["throughput"]), _ratio_or_reason(load, 4),
                     *_latency(load["ledger"])])
    travel = scenarios.get("time_travel")
    if travel is not None:
        for name, pair in travel["queries"].items():
            label = f"{name.replace('_', ' ')} (p50 ms"
            held = [pair[side].get("claims_p50") for side in ("large", "small")]
            if None not in held:  # a list page: how many claims it held on each ledger
                large, small = (_n(h, 0 if float(h).is_integer() else 1) for h in held)
                label += f"; {large} vs {small} claims a page"
            rows.append([f"{label})", _n(pair["large"]["p50_ms"], 1),
                         _n(pair["small"]["p50_ms"], 1), _ratio_or_reason(pair, 2),
                         *_latency(pair["large"])])
    memory = scenarios.get("memory")
    if memory is not None:
        rows.append(["server peak RSS (MiB)", _n(memory["large"]["vmhwm_mib"], 1),
                     _n(memory["small"]["vmhwm_mib"], 1), _ratio_or_reason(memory, 2),
                     *_latency(None)])
    rebuild = scenarios.get("rebuild")
    if rebuild is not None:
        rows.append(["rebuild (events/s)", _n((rebuild.get("ledger") or {}).get("throughput")),
                     _n(rebuild["baseline"]["throughput"]), _ratio_or_reason(rebuild),
                     *_latency(None)])
    scale = scenarios.get("scale_out")
    if scale is not None:
        two = scale.get("two")
        rows.append(["2 processes / 1 (req/s)", _n((two or {}).get("throughput")),
                     _n((scale.get("one") or {}).get("throughput")), _ratio_or_reason(scale),
                     *_latency(two)])
    live = scenarios.get("live")
    if live is not None:
        count = f"{live['subscribers']:,}"
        alone = _n(live["without"]["throughput"])
        for name, what in (("claims", "one claim each"), ("whole_log", "the whole log")):
            run = live[name]
            rows.append([f"append, {count} SSE subscribers ({what}) / none (req/s)",
                         _n(run["appends"]["throughput"]), alone, _ratio_or_reason(run),
                         *_latency(run["appends"])])
            delivery = run["delivery"]
            delays = {name: delivery.get(f"delay_{name}") for name in _TABLE_PERCENTILES}
            rows.append([f"  delivery delay, recorded_at to arrival ({delivery['complete']:,} "
                         f"of {count} got every event once, in order)",
                         "-", "-", "-", *_latency(delays)])
    library = scenarios.get("library")
    if library is not None:
        for name in ("append", "batch", "read"):
            pair = library[name]
            rows.append([f"in-process {name} (ops/s)", _n(pair["ledger"]),
                         _n(pair["baseline"]), _ratio_or_reason(pair), *_latency(None)])
    return rows


def render(report: JSON, console: Console | None = None) -> None:
    """The report as a table: ledger and baseline side by side, the ratio, the latencies."""
    parameters = report["parameters"]
    table = Table(
        "scenario", "ledger", "baseline", "ratio",
        *(name.removesuffix("_ms") + " ms" for name in _TABLE_PERCENTILES),
        title=f"claims-ledger benchmark on {parameters['store']}",
        caption=f"{parameters['events']:,} events (small ledger {parameters['small_events']:,}),"
        f" seed {parameters['seed']}, load generator {parameters.get('load_generator') or '-'}"
        f"{', quick' if parameters['quick'] else ''}. Ratios: ledger/baseline; time travel "
        "and memory: large ledger/small ledger (its 'baseline' column). Latencies: the "
        "ledger's (a load batch's; the large ledger's reads).",
    )
    for row in _rows(report["scenarios"]):
        table.add_row(*row)
    (console or Console()).print(table)
