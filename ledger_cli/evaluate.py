"""``evaluate``: how well a credibility model would have foreseen resolutions.

By default the shipped calibration set (``ledger/data/resolved/calibration.ndjson``) is
loaded into a throwaway in-memory store; ``--data FILE`` loads another export file the same
way, ``--from-store`` scores the resolved claims of the configured store. The scoring is
``ledger.evaluation``'s; this module only gathers the cases and prints the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger import evaluation, models
from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger.errors import LedgerError
from ledger.models import VERSIONS
from ledger.times import parse_time_option
from ledger_cli.records import read_records
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    exit_code,
    fail,
    open_ledger,
    open_ledger_with,
    print_json,
    reported_errors,
)

Report = dict[str, Any]


def evaluate(
    ctx: typer.Context,
    model: Annotated[
        str,
        typer.Option(
            metavar="VERSION",
            help=f"The model to score: {', '.join(VERSIONS)}.",
        ),
    ] = models.DEFAULT,
    split: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Also score claims resolved before DATE (in sample, where a model is fitted)"
            " and from DATE on (out of sample) apart.",
            show_default=False,
        ),
    ] = None,
    diagram: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write the reliability diagram to FILE (SVG).",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Score the claims of this export file (NDJSON), loaded into a throwaway "
            "in-memory store (default: the shipped calibration set).",
            show_default=False,
        ),
    ] = None,
    from_store: Annotated[
        bool,
        typer.Option(
            "--from-store",
            help="Score the resolved claims of the store (--store or CLAIMS_LEDGER_STORE).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Score a credibility model on resolved claims: Brier score, log loss, reliability.

    Each resolved claim is assessed as of the day before its resolution (its own
    resolution never in scope), and compared with what happened; a coin flip and the
    naive mean of the sources' stances are scored beside it. Per source: how often its
    stance matched the outcome.
    """
    if model not in VERSIONS:
        fail(EXIT_BAD_INPUT, f"--model: {model!r} is not one of {', '.join(VERSIONS)}")
    if from_store and data is not None:
        fail(EXIT_BAD_INPUT, "--from-store and --data cannot be used together")
    with reported_errors():
        cut = parse_time_option("--split", split, bare_date="start")
    with _ledger(ctx, from_store, data) as ledger, reported_errors():
        cases = evaluation.cases(ledger)
    if not cases:
        fail(EXIT_BAD_INPUT, "no resolved claims to score")
    report = evaluation.evaluate(cases, model, cut)
    if diagram is not None:
        title = f"{model}: reliability on {len(cases)} resolved claims"
        try:
            diagram.write_text(evaluation.reliability_svg(report["reliability"], title))
        except OSError as error:
            fail(EXIT_BAD_INPUT, f"cannot write {diagram}: {error.strerror or error}")
    if as_json:
        print_json(report)
    else:
        _print(report, diagram)


@contextmanager
def _ledger(ctx: typer.Context, from_store: bool, data: Path | None) -> Iterator[ClaimsLedger]:
    if from_store:
        with open_ledger(ctx, existing=True) as ledger:
            yield ledger
        return
    records = evaluation.calibration_records() if data is None else _read(data)
    ledger = open_ledger_with(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        try:
            ledger.import_batch(records, "evaluate")
        except LedgerError as error:
            source = "the calibration set" if data is None else str(data)
            fail(exit_code(error), f"{source}: {error.detail}")
        yield ledger
    finally:
        ledger.close()


def _read(path: Path) -> list[Any]:
    try:
        with path.open(encoding="utf-8") as stream:
            return [record for _, record in read_records(stream)]
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot read {path}: {error.strerror or error}")
    except (ValueError, LedgerError) as error:
        fail(EXIT_BAD_INPUT, f"{path}: {getattr(error, 'detail', error)}")


_PERIODS = {
    "all": "all resolved claims",
    "in_sample": "in sample (resolved before the split)",
    "out_of_sample": "out of sample (resolved on or after the split)",
}
_SHORT = {"all": "all", "in_sample": "in sample", "out_of_sample": "out of sample"}
_SCORED = {"model": "model", "coin_flip": "coin flip (0.5)", "naive_mean": "naive mean of stances"}


def _print(report: Report, diagram: Path | None) -> None:
    echo = typer.echo
    split = f"; split at {report['split']}" if report["split"] else ""
    echo(
        f"model {report['model']}: each claim assessed {report['lead_days']} day before its"
        f" resolution{split}"
    )
    for period, label in _PERIODS.items():
        figures = report["scores"].get(period)
        if figures is None:
            continue
        echo("")
        echo(
            f"{label}: {figures['claims']} claims, {figures['confirmed']} confirmed, "
            f"{figures['claims'] - figures['confirmed']} refuted"
        )
        echo(f"  {'':24} {'Brier':>8} {'log loss':>9}")
        for key, name in _SCORED.items():
            score = figures[key]
            echo(f"  {name:24} {_f(score['brier']):>8} {_f(score['log_loss']):>9}")
    echo("")
    echo("every model version on the same claims (Brier / log loss):")
    periods = [period for period in _PERIODS if period in report["scores"]]
    echo("  " + f"{'version':24}" + "".join(f" {_SHORT[period]:>17}" for period in periods))
    for name, figures in report["versions"].items():
        cells = "".join(
            f" {_f(figures[p]['brier']) + ' / ' + _f(figures[p]['log_loss']):>17}"
            for p in periods
        )
        echo(f"  {name:24}{cells}")
    echo("")
    echo("reliability (model's probability in tenths):")
    echo(f"  {'bin':9} {'claims':>6} {'mean p':>8} {'observed':>9}")
    for row in report["reliability"]:
        echo(
            f"  {row['low']:.1f}-{row['high']:.1f}   {row['claims']:>6} "
            f"{_f(row['mean_probability']):>8} {_f(row['observed']):>9}"
        )
    if diagram is not None:
        echo(f"  diagram written to {diagram}")
    echo("")
    echo("sources (latest stance before each resolution vs the outcome):")
    echo(f"  {'source':28} {'stances':>7} {'matched':>7} {'rate':>6} {'for':>4} {'against':>7}")
    for row in report["sources"]:
        echo(
            f"  {row['source']:28} {row['stances']:>7} {row['matched']:>7} "
            f"{row['rate']:>6.2f} {row['supported']:>4} {row['disputed']:>7}"
        )


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
