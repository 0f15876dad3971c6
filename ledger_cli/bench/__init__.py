"""``bench``: how the ledger scales, as ratios to baselines measured in the same run.

``claims-ledger bench`` runs the scenarios of ``scenarios`` (HTTP appends, bulk load, time
travel, the server's memory, rebuild, scale-out on PostgreSQL, appends under 1,000
server-sent event subscribers and the in-process figures against the bare library) over a
synthetic ledger made by ``synthetic``, and prints the table of ``report`` or its JSON.
``claims-ledger bench generate`` writes a synthetic ledger in the export format, for
``claims-ledger load`` or any other use.

The machine's speed varies, so every headline figure is a ratio to a baseline measured on
the same machine in the same run; see ``report`` for what each ratio means.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger_cli.bench import report, scenarios, synthetic
from ledger_cli.bench.servers import BenchError, load_generator
from ledger_cli.session import EXIT_BAD_INPUT, EXIT_FAILED, fail, print_json, reported_errors, say

QUICK_EVENTS = 2000
QUICK_SMALL_EVENTS = 1000

app = typer.Typer(
    name="bench",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode="markdown",
)


def _scenario_names(values: list[str] | None) -> frozenset[str]:
    if not values:
        return frozenset(scenarios.SCENARIOS)
    chosen = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - set(scenarios.SCENARIOS))
    if unknown:
        fail(
            EXIT_BAD_INPUT,
            f"--scenario: {', '.join(unknown)} is not one of {', '.join(scenarios.SCENARIOS)}",
        )
    return frozenset(chosen)


@app.callback()
def bench(
    ctx: typer.Context,
    events: Annotated[
        int | None,
        typer.Option(
            min=100,
            help="Events in the large synthetic ledger (load, time travel, memory, rebuild). "
            "[default: 1,000,000; 2,000 with --quick]",
            show_default=False,
        ),
    ] = None,
    small_events: Annotated[
        int | None,
        typer.Option(
            min=100,
            help="Events in the small ledger time travel is compared with. "
            "[default: 10,000; 1,000 with --quick]",
            show_default=False,
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(help="Small sizes and 1-second HTTP runs: every figure, in a minute or so."),
    ] = False,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            "-s",
            help=f"Run only these (repeat or comma-separate): {', '.join(scenarios.SCENARIOS)}. "
            "[default: all]",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="Seconds per HTTP measurement. [default: 10; 1 with --quick]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic ledgers and the reads.")] = 1,
    subscribers: Annotated[
        int,
        typer.Option(min=1, max=20_000,
                     help="Server-sent event subscribers of the live scenario."),
    ] = 1000,
    postgres: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Run on this PostgreSQL database instead of throw-away SQLite files, in "
            "schemas of its own that are dropped afterwards; adds the scale-out scenario.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Also write the JSON report to FILE."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Measure appends over HTTP, bulk load, time travel, memory, rebuild, scale-out and
    appends under 1,000 live subscribers.

    Each figure is set beside a baseline measured on this machine in the same run (a
    trivial POST on the same server settings, raw SQLite or COPY inserts, the same reads
    on a small ledger, raw notification reads): compare the **ratios** between runs, not
    the absolute numbers. Without --quick the large ledger has a million events: loading
    it takes a long time.
    """
    if ctx.invoked_subcommand is not None:
        return
    if postgres is not None and not postgres.startswith(("postgresql://", "postgres://")):
        fail(EXIT_BAD_INPUT, f"--postgres: {postgres!r} is not a postgresql:// URL")
    selected = _scenario_names(scenario)
    with tempfile.TemporaryDirectory(prefix="claims-ledger-bench-") as tmp:
        plan = scenarios.Plan(
            events=events or (QUICK_EVENTS if quick else 1_000_000),
            small_events=small_events or (QUICK_SMALL_EVENTS if quick else 10_000),
            seed=seed,
            quick=quick,
            workdir=Path(tmp),
            postgres=postgres,
            duration=duration or (1.0 if quick else 10.0),
            subscribers=subscribers,
        )
        if quick:
            plan.claim_reads, plan.list_reads, plan.read_budget = 20, 3, 5.0
        # A TERM (a CI timeout) unwinds like ^C, so the servers started are stopped.
        previous = signal.signal(signal.SIGTERM, _terminated)
        started = time.perf_counter()
        try:
            with reported_errors():
                figures = scenarios.run(plan, selected)
        except BenchError as error:
            fail(EXIT_FAILED, f"bench: {error}")
        finally:
            signal.signal(signal.SIGTERM, previous)
    result = {
        "parameters": _parameters(plan, selected, time.perf_counter() - started),
        "headline": report.headline(figures),
        "scenarios": figures,
    }
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        say(f"bench: report written to {out}")
    if as_json:
        print_json(result)
    else:
        report.render(result)
    broken = sorted(name for name, found in figures.items() if found.get("failed"))
    if broken:
        say(f"bench: {', '.join(broken)} failed (see the report's reasons)")
        raise typer.Exit(EXIT_FAILED)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _parameters(plan: scenarios.Plan, selected: frozenset[str], seconds: float) -> dict[str, Any]:
    return {
        "store": plan.backend,
        "events": plan.events,
        "small_events": plan.small_events,
        "seed": plan.seed,
        "quick": plan.quick,
        "scenarios": sorted(selected),
        "http_seconds_per_level": plan.duration,
        "subscribers": plan.subscribers if "live" in selected else None,
        "load_generator": load_generator() if selected & {"http", "scale-out", "live"}
        else None,
        "seconds": round(seconds, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": sys.platform,
        },
    }


@app.command()
def generate(
    events: Annotated[int, typer.Option(min=100, help="Records to write.")] = 10_000,
    seed: Annotated[int, typer.Option(help="The same seed gives the same file.")] = 1,
    out: Annotated[
        str, typer.Option(metavar="FILE", help="Where to write the NDJSON; '-' is stdout.")
    ] = "-",
) -> None:
    """Write a synthetic ledger in the export format (`claims-ledger load` reads it).

    Many claims (events/200) and sources (events/2000, at least 20), every event type,
    claims chosen with a Zipf-like skew, ~256-byte records, dates over three past years.
    """
    made = synthetic.SyntheticLedger(events, seed)
    if out == "-":
        for record in made.records():
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        try:
            made.write(out)
        except OSError as error:
            fail(EXIT_BAD_INPUT, f"cannot write {out}: {error.strerror or error}")
    counts = ", ".join(f"{n} {kind}" for kind, n in made.counts.most_common())
    say(f"wrote {events} events ({counts}) to {'stdout' if out == '-' else out}")
