"""Terminal rendering: the ledger's answers as rich tables, and the import progress bar.

Renderers take the dicts the ledger returns (the same the HTTP API sends) and only lay
them out; ``--json`` bypasses them. Text from the ledger is never read as rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledger.answers import JSON
from ledger.statements import EVIDENCE_LABELS


def _console() -> Console:
    return Console(highlight=False)  # built per call: tests swap sys.stdout


def _text(value: object) -> str:
    return "" if value is None else escape(str(value))


def _probability(summary: JSON) -> str:
    return f"{summary['probability']:.3f}"


def _keep_whole(table: Table, column: int, values: list[str]) -> None:
    """Ids are for copying: widen their column rather than break them (up to a point)."""
    table.columns[column].min_width = min(max(map(len, values), default=0), 40)
    table.columns[column].overflow = "fold"


def _when(instant: str) -> str:
    """An RFC 3339 instant, shortened for a table: a date alone at midnight UTC."""
    day, _, clock = instant.partition("T")
    if clock in ("00:00:00.000000Z", ""):
        return day
    return f"{day} {clock[:8]}Z"


def claim(view: JSON, evidence: Mapping[str, str] | None = None) -> None:
    """One claim: what it says, its credibility, and each event's contribution (with what
    backs it: ``evidence``, an evidence kind by event id)."""
    credibility = view["credibility"]
    console = _console()
    console.print(f"[bold]{_text(view['id'])}[/bold]: {_text(view['text'])}")
    console.print(
        f"parties {_text(', '.join(view['parties']) or '-')}   "
        f"tags {_text(', '.join(view['tags']) or '-')}   version {view['version']}"
    )
    console.print(f"as of {_when(view['as_of'])}, as known at {_when(view['known_at'])}")
    console.print(
        f"[bold]probability {_probability(credibility)}[/bold] ({_text(credibility['band'])}), "
        f"status {_text(credibility['status'])}, Admiralty grade {credibility['grade']}, "
        f"model {_text(credibility['model'])}"
    )
    if not credibility["contributions"]:
        console.print("no events in scope")
        return
    table = Table(
        "source",
        "type",
        "moved on\narrival",
        "log-odds\nnow",
        "reason (of the log-odds now)",
        title="contributions",
        expand=True,
    )
    for item in credibility["contributions"]:
        kind = (evidence or {}).get(item["event_id"])
        table.add_row(
            _text(item["source"]),
            _text(item["type"] + (f"\n{EVIDENCE_LABELS[kind]}" if kind else "")),
            f"{item['delta']:+.3f}",
            f"{item['log_odds']:+.4g}",
            _text(item["reason"]),
        )
    console.print(table)


def audit(view: JSON) -> None:
    """Every change of credibility in recording order, and what caused it."""
    table = Table(
        "pos",
        "recorded\noccurred",
        "event\nsource",
        "actor",
        "probability",
        "after",
        title=f"audit of {_text(view['claim_id'])} as of {_when(view['as_of'])}",
    )
    table.columns[4].no_wrap = True
    _keep_whole(table, 2, [entry["source"] or "" for entry in view["entries"]])
    for entry in view["entries"]:
        before, after = entry["before"], entry["after"]
        table.add_row(
            str(entry["position"]),
            f"{_when(entry['recorded_at'])}\n{_when(entry['occurred_at'])}",
            f"{_text(entry['type'])}\n{_text(entry['source'])}",
            _text(entry["actor"]),
            f"{_probability(before)} -> {_probability(after)}",
            _text(f"{after['band']}, {after['status']}"),
        )
    _console().print(table)


def timeline(view: JSON) -> None:
    """Credibility as a step function of valid time."""
    table = Table(
        "valid from",
        "probability",
        "band",
        "status",
        "event",
        title=f"timeline of {_text(view['claim_id'])} as known at {_when(view['known_at'])}",
    )
    table.columns[-1].overflow = "fold"
    table.add_row("(before)", "0.500", "roughly even chance", "unverified", "")
    for point in view["points"]:
        table.add_row(
            _when(point["valid_from"]),
            _probability(point),
            _text(point["band"]),
            _text(point["status"]),
            _text(point["event_id"]),
        )
    _console().print(table)


def claims(view: JSON) -> None:
    """The picture of all claims."""
    table = Table(
        "claim",
        "probability",
        "band",
        "status",
        "text",
        title=f"claims as of {_when(view['as_of'])}, as known at {_when(view['known_at'])}",
    )
    _keep_whole(table, 0, [item["id"] for item in view["data"]])
    for item in view["data"]:
        credibility = item["credibility"]
        table.add_row(
            _text(item["id"]),
            _probability(credibility),
            _text(credibility["band"]),
            _text(credibility["status"]),
            _text(item["text"]),
        )
    _console().print(table)


def replay(view: JSON) -> None:
    """Every claim's credibility at one (as_of, known_at): the numbers, side by side."""
    models = sorted({item["credibility"]["model"] for item in view["data"]})
    table = Table(
        "claim",
        "probability",
        "band",
        "status",
        "grade",
        "events",
        title=f"replay as of {_when(view['as_of'])}, as known at {_when(view['known_at'])}",
        caption=f"model {', '.join(models)}" if models else None,
    )
    _keep_whole(table, 0, [item["id"] for item in view["data"]])
    for item in view["data"]:
        credibility = item["credibility"]
        table.add_row(
            _text(item["id"]),
            _probability(credibility),
            _text(credibility["band"]),
            _text(credibility["status"]),
            str(credibility["grade"]),
            str(item["version"] - 1),
        )
    _console().print(table)


def sources(view: JSON) -> None:
    table = Table(
        "source",
        "name",
        "role",
        "affiliation",
        "reliability",
        title=f"sources rated as of {_when(view['as_of'])}, as known at {_when(view['known_at'])}",
    )
    _keep_whole(table, 0, [item["id"] for item in view["data"]])
    for item in view["data"]:
        table.add_row(
            _text(item["id"]),
            _text(item["name"]),
            _text(item["role"]),
            _text(item["affiliation"]),
            _text(item["reliability"]),
        )
    _console().print(table)


def bench(report: JSON) -> None:
    """Operations per second, the ledger beside the bare library."""
    parameters = report["parameters"]
    table = Table(
        "operation",
        "ledger ops/s",
        "library ops/s",
        "ratio",
        title=f"benchmark on {_text(parameters['store'])}",
        caption=f"{parameters['events']} events, batches of {parameters['batch']}, "
        f"median of {parameters['repeats']} runs",
    )
    for name, figures in report.items():
        if name != "parameters":
            table.add_row(
                name,
                f"{figures['ledger']:,.0f}",
                f"{figures['baseline']:,.0f}",
                f"{figures['ratio']:.3f}",
            )
    _console().print(table)


@contextmanager
def import_progress(total: int | None, batch_size: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for imports longer than one batch, at a terminal only."""
    console = Console(stderr=True)
    short = total is not None and total <= batch_size
    with Progress(
        TextColumn("loading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("events"),
        TimeElapsedColumn(),
        console=console,
        disable=short or not console.is_terminal,
    ) as progress:
        task = progress.add_task("load", total=total)
        yield lambda count: progress.advance(task, count)


def models(view: JSON) -> None:
    """The credibility model versions."""
    table = Table("version", "default", "description", title="credibility model versions")
    for item in view["data"]:
        default = "yes" if item["default"] else ""
        table.add_row(_text(item["name"]), default, _text(item["description"]))
    _console().print(table)


def models_diff(view: JSON) -> None:
    """The claims two model versions judge differently, and the contributions why."""
    console = _console()
    console.print(
        f"{_text(view['from'])} -> {_text(view['to'])}, as of {_when(view['as_of'])}, as known"
        f" at {_when(view['known_at'])}: {len(view['data'])} claims differ (band, status, or"
        f" probability by {view['min_difference']:g} or more)"
    )
    for item in view["data"]:
        one, other = item["from"], item["to"]
        console.print(
            f"\n[bold]{_text(item['id'])}[/bold]: {_text(item['text'])}\n"
            f"  {_probability(one)} {_text(one['band'])}, {_text(one['status'])} -> "
            f"{_probability(other)} {_text(other['band'])}, {_text(other['status'])} "
            f"({item['difference']:+.3f}; {', '.join(item['changed'])})"
        )
        if not item["contributions"]:
            continue
        table = Table("source", "type", "log-odds\nfrom", "log-odds\nto", "reason (to)",
                      expand=True)
        for row in item["contributions"]:
            table.add_row(
                _text(row["source"]),
                _text(row["type"]),
                f"{row['from']['log_odds']:+.4g}",
                f"{row['to']['log_odds']:+.4g}",
                _text(row["to"]["reason"]),
            )
        console.print(table)
