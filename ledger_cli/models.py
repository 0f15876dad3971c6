"""``models``: the credibility model versions, and the claims two of them judge differently.

``claims-ledger models`` (or ``models list``) lists the versions; ``models diff FROM TO``
lists the claims whose band, status or probability differ between two versions at one
(--as-of, --known-at), with the contributions that explain it. Each calls the ledger
method the HTTP route calls (``GET /models``, ``GET /models/diff``), so ``--json`` prints
the same answer (the diff: every page, at the times of the first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.models import VERSIONS, listing
from ledger.reads import DIFFERENCE
from ledger_cli import render
from ledger_cli.session import EXIT_BAD_INPUT, fail, instant, open_ledger
from ledger_cli.usage import Command
from ledger_cli.views import AsJson, AsOf, KnownAt, _show

app = typer.Typer(
    help="The credibility model versions (list), and the claims two judge differently (diff).",
    invoke_without_command=True,
    no_args_is_help=False,
)

_PAGE = 1000
Version = Annotated[
    str, typer.Argument(metavar="VERSION", help=f"A model version: {', '.join(VERSIONS)}.")
]


@app.callback()
def models(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The credibility model versions: name, description, and which is the default."""
    if ctx.invoked_subcommand is None:
        _list(as_json)


@app.command("list", cls=Command)
def list_models(as_json: AsJson = False) -> None:
    """The credibility model versions: name, description, and which is the default."""
    _list(as_json)


def _list(as_json: bool) -> None:
    _show(listing(), as_json, render.models)


@app.command(cls=Command)
def diff(
    ctx: typer.Context,
    from_model: Version,
    to_model: Version,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    min_difference: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Also list a claim whose band and status agree when its probabilities"
            " differ by at least this much.",
        ),
    ] = DIFFERENCE,
    as_json: AsJson = False,
) -> None:
    """The claims two model versions judge differently, and the contributions why.

    A claim is listed when its band or status differs, or its probability by at least
    --min-difference; each with both answers and every event whose weight in the pool or
    reason differs.
    """
    with open_ledger(ctx, existing=True) as ledger:
        view = ledger.models_diff(
            from_model,
            to_model,
            as_of=instant("--as-of", as_of),
            known_at=instant("--known-at", known_at),
            min_difference=min_difference,
            limit=_PAGE,
        )
        fixed = {
            "as_of": instant("as_of", view["as_of"]),
            "known_at": instant("known_at", view["known_at"]),
        }
        while view["next_cursor"] is not None:
            page = ledger.models_diff(
                from_model,
                to_model,
                min_difference=min_difference,
                limit=_PAGE,
                cursor=view["next_cursor"],
                **fixed,
            )
            view["data"] += page["data"]
            view["next_cursor"] = page["next_cursor"]
    _show(view, as_json, render.models_diff)


@app.command(cls=Command)
def fit(
    ctx: typer.Context,
    calibration_set: Annotated[
        str,
        typer.Option("--set", metavar="NAME", help="The shipped calibration set to fit on."),
    ] = "calibration-v3",
    output: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Write the parameters to FILE (default: print).",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 unless the fit is the shipped file, byte for byte."),
    ] = False,
) -> None:
    """Fit credibility-v3's parameters on the earliest 70% of a calibration set.

    Reproduces ledger/credibility/params/credibility-v3.json byte for byte (the latest 30%
    by resolution date is held out: nothing reads it here). Needs scikit-learn.
    """
    fitting = _fitting()
    from ledger.credibility.v3 import PARAMS_FILE
    from ledger_cli.evaluate import calibration_cases

    cases = calibration_cases(ctx, calibration_set)
    name = calibration_set if calibration_set.endswith(".ndjson") else f"{calibration_set}.ndjson"
    text = fitting.dumps(fitting.fit_calibration_set(cases, name))
    if check:
        from importlib import resources

        shipped = resources.files("ledger.credibility").joinpath("params", PARAMS_FILE)
        if shipped.read_text(encoding="utf-8") != text:
            typer.echo(f"the fit differs from the shipped {PARAMS_FILE}", err=True)
            raise typer.Exit(1)
        typer.echo(f"the fit is the shipped {PARAMS_FILE}, byte for byte")
        return
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@app.command("learning-curve", cls=Command)
def learning_curve(
    ctx: typer.Context,
    calibration_set: Annotated[
        str,
        typer.Option("--set", metavar="NAME", help="The shipped calibration set."),
    ] = "calibration-v3",
    as_json: AsJson = False,
) -> None:
    """credibility-v3 fitted on the earliest 25%, 50%, 75% and 100% of the fitting part,
    each scored on the held-out part (a report: nothing is chosen with it)."""
    fitting = _fitting()
    from ledger_cli.evaluate import calibration_cases
    from ledger_cli.session import print_json

    rows = fitting.learning_curve(calibration_cases(ctx, calibration_set))
    if as_json:
        print_json(rows)
        return
    typer.echo(f"{'fit part':>8} {'claims':>6} {'C':>6} {'Brier':>8} {'log loss':>9} {'ECE':>8}")
    for row in rows:
        typer.echo(
            f"{row['fraction']:>8.0%} {row['fitting_claims']:>6} {row['C']:>6g}"
            f" {row['brier']:>8.4f} {row['log_loss']:>9.4f} {row['ece']:>8.4f}"
            f"  (held out: {row['held_out_claims']} claims)"
        )

def _fitting() -> Any:
    """``ledger.fitting``, which needs scikit-learn (the ``fit`` extra)."""
    try:
        from ledger import fitting
    except ImportError as error:
        fail(
            EXIT_BAD_INPUT,
            f"fitting needs scikit-learn (no module {error.name!r}): install the project's"
            " 'fit' extra, e.g. pip install -e '.[fit]'",
        )
    return fitting
