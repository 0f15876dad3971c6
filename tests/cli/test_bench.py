"""``claims-ledger bench``: the synthetic ledger is valid and every figure is reported.

Timings are never asserted (the machine is shared and noisy): only that each scenario
reports its figures, or a reason where it cannot.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger_cli.bench.synthetic import SyntheticLedger

from .helpers import Invoke

EVENT_TYPES = {
    "source_registered", "claim_registered", "source_rerated", "asserted", "denied",
    "assessed", "retracted", "corrected", "resolved",
}
LATENCY = ("throughput", "p50_ms", "p95_ms", "p99_ms", "p99.9_ms")


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_synthetic_ledger_is_deterministic_and_every_record_loads(
    invoke: Invoke, sqlite_store: str, tmp_path: Path
) -> None:
    first, again, other = tmp_path / "a.ndjson", tmp_path / "b.ndjson", tmp_path / "c.ndjson"
    result = invoke("bench", "generate", "--events", "3000", "--seed", "7", "--out", str(first))
    assert result.exit_code == 0, result.output
    SyntheticLedger(3000, 7).write(again)
    SyntheticLedger(3000, 8).write(other)
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()

    records = _records(first)
    assert len(records) == 3000
    assert set(Counter(r["type"] for r in records)) == EVENT_TYPES
    assert 200 < len(first.read_bytes()) / len(records) < 320  # about 256 bytes a record
    # What supersedes names an earlier statement of the same source on the same claim.
    seen: dict[str, dict[str, Any]] = {}
    retracted: set[str] = set()
    resolved: Counter[str] = Counter()
    for record in records:
        if "supersedes" in record:
            target = seen[record["supersedes"]]
            assert (target["claim_id"], target["source"]) == (record["claim_id"], record["source"])
            if record["type"] == "retracted":
                assert record["supersedes"] not in retracted
                retracted.add(record["supersedes"])
                assert _at(record) >= _at(target)
        if record["type"] == "resolved":
            resolved[record["claim_id"]] += 1
        seen[record["event_id"]] = record
    assert resolved and max(resolved.values()) == 1
    # Some claims are hot: the busiest has many times the statements of the median one.
    per_claim = sorted(Counter(r["claim_id"] for r in records if "claim_id" in r).values())
    assert per_claim[-1] > 4 * per_claim[len(per_claim) // 2]

    loaded = invoke("--store", sqlite_store, "load", str(first))
    assert loaded.exit_code == 0, loaded.output
    assert "loaded 3000 events" in loaded.stderr


def _at(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["occurred_at"].replace("Z", "+00:00"))


def test_bench_refuses_a_store_that_is_not_postgres(invoke: Invoke) -> None:
    result = invoke("bench", "--postgres", "sqlite:///x.sqlite3")
    assert result.exit_code == 2
    assert "--postgres" in result.stderr


def test_bench_refuses_an_unknown_scenario(invoke: Invoke) -> None:
    result = invoke("bench", "--quick", "-s", "load,warp-speed")
    assert result.exit_code == 2
    assert "warp-speed" in result.stderr


def test_in_process_scenarios_report_ratios(invoke: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = invoke("bench", "--quick", "-s", "load,library", "--json", "--out", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert json.loads(out.read_text()) == report
    assert set(report["headline"]) == {"load", "library_append", "library_batch"}
    assert all(value > 0 for value in report["headline"].values())
    load = report["scenarios"]["load"]
    assert load["ledger"]["count"] == 2000
    assert all(load["ledger"][name] is not None for name in LATENCY)
    assert set(load["events_by_type"]) == EVENT_TYPES
    assert set(report["scenarios"]["library"]) == {"append", "batch", "read", "parameters"}
    table = invoke("bench", "--quick", "-s", "library")
    assert table.exit_code == 0, table.output
    assert "in-process append" in table.stdout


@pytest.mark.slow
def test_the_live_scenario_reports_appends_with_and_without_subscribers(invoke: Invoke) -> None:
    """A small crowd (20 subscribers), each run on one server: every figure, and every
    subscriber got every event it follows exactly once, in order."""
    result = invoke("bench", "--quick", "-s", "live", "--subscribers", "20", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["parameters"]["subscribers"] == 20
    assert set(report["headline"]) == {"live", "live_whole_log"}
    assert all(value > 0 for value in report["headline"].values())
    live = report["scenarios"]["live"]
    assert live["subscribers"] == 20
    assert live["without"]["throughput"] > 0
    for name in ("claims", "whole_log"):
        run = live[name]
        assert run["ratio"] == pytest.approx(
            run["appends"]["throughput"] / live["without"]["throughput"], rel=1e-3)
        assert all(run["appends"][field] is not None for field in LATENCY)
        delivery = run["delivery"]
        assert delivery["subscribers"] == delivery["complete"] == 20
        assert delivery["errors"] == []
        assert delivery["events"] >= run["appends"]["count"]
        assert all(delivery[f"delay_{p}"] > 0 for p in ("p50_ms", "p99_ms", "p99.9_ms"))
    # Each subscriber of the whole log got every event; of one claim, that claim's.
    assert live["whole_log"]["delivery"]["deliveries"] == 20 * live["whole_log"]["delivery"][
        "events"]
    assert live["claims"]["delivery"]["deliveries"] < live["claims"]["delivery"]["events"] * 20


@pytest.mark.slow
def test_quick_mode_reports_every_figure(invoke: Invoke) -> None:
    """The CI run: every scenario on SQLite, servers included, at its smallest."""
    result = invoke("bench", "--quick", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    headline = report["headline"]
    expected = {
        *(f"http_append_c{c}" for c in (1, 4, 16, 64)),
        *(f"http_append_minimal_c{c}" for c in (1, 4, 16, 64)),
        "load",
        *(f"time_travel_{q}" for q in (
            "claim", "hot_claim", "list_first_page", "list_status", "list_q",
        )),
        "memory", "rebuild", "scale_out", "live", "live_whole_log", "library_append",
        "library_batch",
    }
    assert set(headline) == expected
    scenarios = report["scenarios"]
    for name, value in headline.items():
        if name == "scale_out":  # PostgreSQL only
            assert value is None and "--postgres" in scenarios["scale_out"]["reason"]
        elif name == "rebuild" and value is None:  # until `claims-ledger rebuild` exists
            assert scenarios["rebuild"]["reason"]
        else:
            assert value is not None and value > 0, name
    for level in scenarios["http_append"]["levels"].values():
        for side in ("ledger", "baseline", "minimal"):
            assert all(level[side][name] is not None for name in LATENCY)
    # The quick small ledger (1,000 events) has 5 claims: both ledgers are listed 5 a page.
    assert scenarios["time_travel"]["list_page_size"] == 5
    for name, query in scenarios["time_travel"]["queries"].items():
        assert query["large"]["errors"] == query["small"]["errors"] == 0
        assert all(query["large"][name] is not None for name in LATENCY)
        if name.startswith("list_"):  # how many claims a page held, on each ledger
            for side in ("large", "small"):
                assert 0 <= query[side]["claims_p50"] <= 5
    assert scenarios["time_travel"]["queries"]["list_first_page"]["small"]["claims_p50"] > 0
    assert scenarios["memory"]["large"]["vmhwm_mib"] > 0
    assert scenarios["rebuild"]["baseline"]["count"] == 2000
    assert report["parameters"]["load_generator"] in ("wrk", "python-asyncio")


@pytest.mark.slow
@pytest.mark.postgres
def test_quick_mode_on_postgres_reports_scale_out(invoke: Invoke, postgres_store: str) -> None:
    # The bench makes (and drops) schemas of its own in the fixture's database.
    result = invoke("bench", "--quick", "--postgres", postgres_store, "-s", "load,scale-out",
                    "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["parameters"]["store"] == "postgresql"
    assert report["headline"]["load"] > 0
    assert report["headline"]["scale_out"] > 0
    assert report["scenarios"]["load"]["baseline"]["method"].startswith("psycopg COPY")
