"""``load`` and ``export``: moving events in and out of a store in the export format.

The format is the global log's (``ClaimsLedger.global_log``): one event per line, in log
order, keeping event ids and actors, so ``export`` then ``load`` into an empty store gives
the same answers. ``load`` writes one ``import_batch`` transaction per batch: a bad record
rejects its whole batch, and the batches before it stay written (the summary says which
lines). Loading resumes: a record whose event id the store already holds with the same
content is skipped and counted, so once the bad record is fixed the same load can simply
be run again; a stored event with that id but other content is a conflict naming the line.
"""

from __future__ import annotations

import dataclasses
import gc
import getpass
import io
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO, cast

import typer

from ledger import inputs
from ledger.application import ClaimsLedger
from ledger.errors import Conflict, InvalidInput, LedgerError, NotFound
from ledger.interop.stix_export import StixExport, bundle_id, write_bundle
from ledger.interop.stix_import import apply_import, plan_import
from ledger_cli.records import Numbered, batches, count_records, read_records
from ledger_cli.render import import_progress
from ledger_cli.session import (
    EXIT_BAD_INPUT,
    exit_code,
    fail,
    load_settings,
    open_ledger,
    reported_errors,
    say,
)

EXPORT_PAGE = 1000


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # a container user without a name
        return "cli"


class Format(StrEnum):
    """What ``load`` reads and ``export`` writes."""

    ndjson = "ndjson"  # the export format: one event per line
    stix = "stix"  # a STIX 2.1 bundle (ledger.interop)


#: Records a load keeps in memory between batches by default (about 1 GB at most).
LOAD_HOLD = 1_000_000


def load(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="NDJSON (one event per line) or a JSON array; '-' reads stdin."
        ),
    ],
    batch_size: Annotated[
        int,
        typer.Option(
            min=1, max=100_000, help="Events per transaction: a bad record rejects its batch."
        ),
    ] = 500,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who recorded the events, for records without an 'actor' (default: cli:$USER)",
            show_default=False,
        ),
    ] = None,
    hold: Annotated[
        int,
        typer.Option(
            min=10,
            help="Most records kept in memory between batches: more is faster on a large "
            "load (a claim dropped from memory is reloaded from the store), about 1 KB each.",
        ),
    ] = LOAD_HOLD,
    format_: Annotated[
        Format,
        typer.Option("--format", help="ndjson: the export format; stix: a STIX 2.1 bundle, "
                     "whose notes, opinions and reports about the ledger's claims become "
                     "statements (docs/interop.md)."),
    ] = Format.ndjson,
    preview: Annotated[
        bool,
        typer.Option("--preview", help="With --format stix: list what would be appended and "
                     "what is skipped and why, writing nothing."),
    ] = False,
) -> None:
    """Import events from an export file, a batch at a time.

    Reads the export format (NDJSON, or a JSON array of the same records), writing each
    batch in one transaction: a bad record rejects its batch and stops the load, naming
    its line. Records keep their event ids and actors. Records already in the store (same
    event id, same content) are skipped, so an interrupted load can be run again.
    """
    who = actor or _default_actor()
    if format_ is Format.stix:
        _load_stix(ctx, file, who, preview)
        return
    settings = load_settings(ctx)
    # An SQLite file this load creates: removed again if the load fails having written
    # nothing, so a failed first load leaves no empty store behind.
    created = (settings.sqlite_path() if settings.backend == "sqlite"
               and not settings.sqlite_path().exists() else None)
    failed: int | None = None
    # The input first: a file that cannot be read must not leave a new, empty store behind.
    with reported_errors(), _input(file) as (stream, total), open_ledger(ctx) as ledger:
        loader = _BatchLoader(ledger, who, hold)
        with import_progress(total, batch_size) as advance, fewer_collections():
            try:
                for batch in batches(read_records(stream), batch_size):
                    loader.write(batch)
                    advance(len(batch))
                loader.finish()
            except LedgerError as error:
                say(f"error: {error.detail}")
                say(loader.partial_summary())
                failed = exit_code(error)
    if failed is not None:
        if created is not None and not loader.count:
            _remove_sqlite(created)
            say(f"{created} was new and holds nothing: removed")
        raise typer.Exit(failed)
    say(loader.summary(file))


#: Allocations between the garbage collector's youngest collections during a load.
LOAD_GC_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect garbage less often while a load runs: its claims are held across batches
    (``Importer``), long-lived objects that every older-generation collection walks again;
    raising CPython's default thresholds (700, 10, 10) to these cut a 100,000-event
    load's CPU by about 6%. Cyclic garbage is still collected, only later; the
    thresholds are set back when the load ends."""
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, LOAD_GC_THRESHOLD), max(second, 50), max(third, 1000))
    try:
        yield
    finally:
        gc.set_threshold(first, second, third)


def _remove_sqlite(path: Path) -> None:
    """An SQLite database file and what SQLite keeps beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _load_stix(ctx: typer.Context, file: str, actor: str, preview: bool) -> None:
    """A STIX bundle's statements, planned (and, but for a preview, appended at once)."""
    with _input(file) as (stream, _):
        try:
            bundle = json.load(stream)
        except ValueError as error:
            fail(EXIT_BAD_INPUT, f"{file} is not JSON: {error}")
    with open_ledger(ctx) as ledger:
        plan = plan_import(ledger, bundle)
        for skipped in plan.skipped:
            say(f"skipped {skipped.stix_id}: {skipped.reason}")
        for planned in plan.appended:
            record = planned.record
            what = record.get("claim_id") or record.get("source")
            say(f"{'would append' if preview else 'appends'} {planned.stix_id}: "
                f"{record.get('type')} {what}")
        written = {"count": 0} if preview else apply_import(ledger, plan, actor)
    verb = "would append" if preview else "appended"
    count = len(plan.appended) if preview else written["count"]
    say(f"{verb} {count} events from {file}; skipped {len(plan.skipped)} objects")


class _BatchLoader:
    """Writes batches, less what the store already holds, and remembers it for the summary."""

    def __init__(self, ledger: ClaimsLedger, actor: str, hold: int = LOAD_HOLD) -> None:
        self.ledger, self.actor = ledger, actor
        ledger.importer.keep(hold)
        self.stored = _StoredEvents(ledger)
        self.count = self.skipped = self.batches = self.last_line = self.restored = 0
        self.first_position: int | None = None
        self.last_position: int | None = None

    def write(self, batch: list[Numbered]) -> None:
        fresh = [item for item in batch if not self._already_stored(*item)]
        self.skipped += len(batch) - len(fresh)
        if fresh:
            self._import(fresh)
        self.last_line = batch[-1][0]

    def finish(self) -> None:
        """The end of the load: the snapshots it owes (``Importer.finish``)."""
        self.ledger.importer.finish()

    def _already_stored(self, line: int, record: object) -> bool:
        """True if the store holds this very record; a conflict if it holds another."""
        if not isinstance(record, Mapping):
            return False  # the import names the problem
        stored = self.stored.find(record)
        if stored is None:
            return False
        same = _same_event(record, stored)
        if same is None:
            return False  # a bad record: the import names the problem
        if not same:
            raise Conflict(
                f"line {line}: event {record['event_id']!r} is already in the store "
                f"(position {stored.get('position')}) with other content"
            )
        return True

    def _import(self, batch: list[Numbered]) -> None:
        lines = [line for line, _ in batch]
        # Blank lines and multi-line array elements make file lines non-consecutive, so
        # each record's own line goes with it.
        records = cast(list[Mapping[str, Any]], [r for _, r in batch])  # checked there
        result = self.ledger.import_batch(records, self.actor, lines=lines)
        self.count += int(result["count"])
        if result.get("restored"):
            self.restored += int(result["count"])
        self.batches += 1
        self.first_position = self.first_position or result.get("first_position")
        self.last_position = result.get("last_position", self.last_position)

    def _skipped(self) -> str:
        plural = "record" if self.skipped == 1 else "records"
        return f"{self.skipped} {plural} already in the store skipped"

    def partial_summary(self) -> str:
        if not self.count and not self.skipped:
            return "nothing was written"
        done = (
            f"{self.count} events up to line {self.last_line} were written (positions "
            f"{self.first_position}-{self.last_position})"
            if self.count
            else f"nothing up to line {self.last_line} was written"
        )
        if self.skipped:
            done += f", {self._skipped()}"
        return (
            f"{done}; nothing after line {self.last_line} was: fix the record, then run the "
            "same load again (what is already in the store is skipped)"
        )

    def summary(self, file: str) -> str:
        name = "stdin" if file == "-" else file
        if not self.count and not self.skipped:
            return f"nothing to load: {name} holds no records"
        if not self.count:
            return f"nothing new in {name}: {self._skipped()}"
        plural = "batch" if self.batches == 1 else "batches"
        loaded = (
            f"loaded {self.count} events from {name} in {self.batches} {plural} "
            f"(positions {self.first_position}-{self.last_position})"
        )
        if self.restored and self.restored == self.count:
            loaded += ": restored as backed up (positions, recording times, hash chain)"
        elif self.restored:
            loaded += f": {self.restored} restored as backed up, the rest recorded now"
        return f"{loaded}; {self._skipped()}" if self.skipped else loaded


class _StoredEvents:
    """Finds the stored event with a record's event id, through the ledger's public reads.

    A source's ratings (``get_source``) and a claim's statements (``claim_events``) carry
    their event ids; a claim's registration is looked up in the global log, read once and
    only if a record registers a claim that exists. Nothing is read for a store that was
    empty when the load began. Answers are cached for the load: the events it writes
    itself are new, and a record repeated in the file is the import's to refuse.
    """

    def __init__(self, ledger: ClaimsLedger) -> None:
        self.ledger = ledger
        self.empty = not ledger.global_log(0, limit=1)["events"]
        self._ratings: dict[str, dict[str, int]] = {}  # source: event id -> position
        self._statements: dict[str, dict[str, Mapping[str, Any]] | None] = {}  # None: no claim
        self._registrations: dict[str, Mapping[str, Any]] | None = None  # claim -> record

    def find(self, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
        event_id, kind = record.get("event_id"), record.get("type")
        if self.empty or not isinstance(event_id, str):
            return None
        if kind in ("source_registered", "source_rerated"):
            position = self._source_ratings(record.get("source")).get(event_id)
            if position is None:
                return None
            events: list[Mapping[str, Any]] = self.ledger.global_log(position - 1, limit=1)[
                "events"
            ]
            return events[0] if events else None
        claim = record.get("claim_id")
        statements = self._claim_statements(claim)
        if statements is None:  # no such claim
            return None
        if kind == "claim_registered":
            registration = self._claim_registrations().get(cast(str, claim))
            return registration if registration and registration["event_id"] == event_id else None
        return statements.get(event_id)

    def _source_ratings(self, source: object) -> dict[str, int]:
        if not isinstance(source, str):
            return {}
        if source not in self._ratings:
            try:
                ratings = self.ledger.get_source(source)["ratings"]
            except (NotFound, InvalidInput):
                ratings = []
            self._ratings[source] = {r["event_id"]: int(r["position"]) for r in ratings}
        return self._ratings[source]

    def _claim_statements(self, claim: object) -> dict[str, Mapping[str, Any]] | None:
        if not isinstance(claim, str):
            return None
        if claim not in self._statements:
            self._statements[claim] = self._read_statements(claim)
        return self._statements[claim]

    def _read_statements(self, claim: str) -> dict[str, Mapping[str, Any]] | None:
        found: dict[str, Mapping[str, Any]] = {}
        later = datetime.now(UTC) + timedelta(days=1)  # every statement, whenever it occurred
        cursor = None
        while True:
            try:
                page = self.ledger.claim_events(
                    claim, as_of=later, limit=EXPORT_PAGE, cursor=cursor
                )
            except (NotFound, InvalidInput):
                return None
            found.update((event["event_id"], event) for event in page["events"])
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    def _claim_registrations(self) -> dict[str, Mapping[str, Any]]:
        if self._registrations is None:
            self._registrations = {
                event["claim_id"]: event
                for event in _log(self.ledger)
                if event["type"] == "claim_registered"
            }
        return self._registrations


#: What the ledger assigns or keeps beside the content of an event.
_NOT_CONTENT = ("event_id", "actor", "position", "recorded_at", "stored")


def _same_event(given: Mapping[str, Any], stored: Mapping[str, Any]) -> bool | None:
    """Whether a record says what the stored event says; None if the record is not valid.

    Both go through the import's own validation, so a bare date and its RFC 3339 instant,
    or an omitted empty list and ``[]``, are the same content. The actor counts only if
    the record names one.
    """
    if given.get("actor") is not None and given.get("actor") != stored.get("actor"):
        return False
    try:
        mine = _content(given)
    except InvalidInput:
        return None
    try:
        theirs = _content(stored)
    except InvalidInput:
        return False
    if isinstance(mine, tuple) and mine[0] == "statement" and isinstance(theirs, tuple):
        said = mine[2]
        kept = theirs[2]
        # A correction may leave its source and time to the corrected event; stored, they
        # are filled in.
        if said.source is None:
            kept = dataclasses.replace(kept, source=None)
        if said.occurred_at is None:
            kept = dataclasses.replace(kept, occurred_at=None)
        theirs = (theirs[0], theirs[1], kept)
    return bool(mine == theirs)


def _content(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """A record's content, validated and normalised as the import does it."""
    body = {k: v for k, v in record.items() if k not in _NOT_CONTENT}
    kind = body.pop("type", None)
    if kind == "source_registered":
        body["id"] = body.pop("source", None)
        return (kind, inputs.source_fields(body))
    if kind == "source_rerated":
        source = body.pop("source", None)
        return (kind, source, inputs.rating_fields(body))
    if kind == "claim_registered":
        body["id"] = body.pop("claim_id", None)
        return (kind, inputs.claim_fields(body))
    claim = body.pop("claim_id", None)
    said = inputs.statement({"type": kind, **body}, event_id=str(record["event_id"]), actor="")
    return ("statement", claim, said)


@contextmanager
def _input(file: str) -> Iterator[tuple[TextIO, int | None]]:
    if file == "-":
        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        try:
            yield stdin, None
        finally:
            stdin.detach()  # leave sys.stdin open
        return
    try:
        with open(file, encoding="utf-8") as counting:
            total = count_records(counting)
        stream = open(file, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot read {file}: {error.strerror or error}")
    with stream:
        yield stream, total


def export(
    ctx: typer.Context,
    file: Annotated[
        str | None,
        typer.Argument(metavar="FILE", help="Where to write; '-' or nothing writes to stdout."),
    ] = None,
    format_: Annotated[
        Format,
        typer.Option("--format", help="ndjson: a backup in the export format; stix: a STIX "
                     "2.1 bundle, for intelligence platforms (docs/interop.md)."),
    ] = Format.ndjson,
) -> None:
    """Write every event as NDJSON, in log order: a backup.

    Each record carries the event as stored, so `load` into an empty store restores the
    ledger as it was: the same positions, recording times and hash chain (old checkpoints
    and `known_at` questions still hold). Into a store that already holds events, `load`
    records them anew. A FILE is replaced only once the export is complete.
    """
    if format_ is Format.stix:
        _export_stix(ctx, file)
        return
    with open_ledger(ctx, existing=True) as ledger, _output(file) as out:
        count = 0
        for event in _log(ledger, stored=True):
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
            count += 1
    say(f"exported {count} events to {file if file not in (None, '-') else 'stdout'}")


def _export_stix(ctx: typer.Context, file: str | None) -> None:
    """The whole log as one STIX bundle, written as it is read (bounded memory)."""
    with open_ledger(ctx, existing=True) as ledger, _output(file) as out:
        objects = StixExport(ledger).stream()
        count = 0

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal count
            for obj in objects:
                count += 1
                yield obj

        for piece in write_bundle(counted(), bundle_id("export", uuid.uuid4())):
            out.write(piece)
    say(f"exported {count} STIX objects to {file if file not in (None, '-') else 'stdout'}")


def _log(ledger: ClaimsLedger, *, stored: bool = False) -> Iterator[dict[str, Any]]:
    after = 0
    while True:
        page = ledger.global_log(after, limit=EXPORT_PAGE, stored=stored)
        yield from page["events"]
        # Only an empty page ends the log: a short one may stop before a damaged event,
        # and the next page names it (an error) rather than the export skipping it.
        if not page["events"]:
            return
        after = page["next"]


@contextmanager
def _output(file: str | None) -> Iterator[TextIO]:
    """stdout, or a file replaced only once the export is complete."""
    if file in (None, "-"):
        yield sys.stdout
        return
    target = Path(file)
    if target.is_dir():  # found now, not after the whole export was written
        fail(EXIT_BAD_INPUT, f"cannot write {file}: it is a directory; name a file in it")
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as error:
        fail(EXIT_BAD_INPUT, f"cannot write {file}: {error.strerror or error}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            yield out
        os.replace(temporary, target)
    except OSError as error:  # a full disk, or the target turned into a directory meanwhile
        fail(EXIT_BAD_INPUT, f"cannot write {file}: {error.strerror or error}")
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
