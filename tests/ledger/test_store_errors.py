"""No persistence error of the ``eventsourcing`` library passes the ledger's boundary.

Every use case runs under ``ledger.store.store_errors``, which turns each of the library's
persistence errors into the ledger's error for it (the table is in ``ledger.errors``); the
faces handle ledger errors only, and import nothing of the library (``tests/api``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
)

from ledger import idempotency
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.errors import Conflict, LedgerError, StoreFailed, StoreUnavailable
from ledger.store import store_errors

ACTOR = "tester"

#: Each of the library's persistence errors and the ledger error it becomes.
MAPPING: list[tuple[type[PersistenceError], type[LedgerError]]] = [
    (OperationalError, StoreUnavailable),
    (InterfaceError, StoreUnavailable),
    (InternalError, StoreUnavailable),
    (IntegrityError, Conflict),
    (DataError, StoreFailed),
    (ProgrammingError, StoreFailed),
    (NotSupportedError, StoreFailed),
    (DatabaseError, StoreFailed),
    (PersistenceError, StoreFailed),
]


@pytest.mark.parametrize(("library", "ours"), MAPPING, ids=[m[0].__name__ for m in MAPPING])
def test_each_library_error_becomes_one_ledger_error(
    library: type[PersistenceError], ours: type[LedgerError]
) -> None:
    @store_errors
    def use_case() -> None:
        raise library("the store's own words")

    with pytest.raises(LedgerError) as raised:
        use_case()
    assert type(raised.value) is ours
    assert not isinstance(raised.value, PersistenceError)


def test_ledger_errors_pass_through_unchanged() -> None:
    error = StoreUnavailable("already the ledger's")

    @store_errors
    def use_case() -> None:
        raise error

    with pytest.raises(StoreUnavailable) as raised:
        use_case()
    assert raised.value is error


def test_a_failed_store_names_the_library_error_for_the_operator() -> None:
    @store_errors
    def use_case() -> None:
        raise ProgrammingError('relation "claimsledger_events" does not exist')

    with pytest.raises(StoreFailed) as raised:
        use_case()
    assert "ProgrammingError" in raised.value.detail
    assert "does not exist" in raised.value.detail


RECORD = {"type": "claim_registered", "claim_id": "c", "text": "A claim"}
EVENT = {"type": "asserted", "source": "s", "occurred_at": "2024-10-13", "summary": "said"}

#: Every use case the faces call, with arguments that reach the store.
USE_CASES: dict[str, Callable[[ClaimsLedger], Any]] = {
    "claim": lambda ledger: ledger.claim("c"),
    "claim_version": lambda ledger: ledger.claim_version("c"),
    "claim_events": lambda ledger: ledger.claim_events("c"),
    "audit": lambda ledger: ledger.audit("c"),
    "timeline": lambda ledger: ledger.timeline("c"),
    "list_claims": lambda ledger: ledger.list_claims(),
    "get_source": lambda ledger: ledger.get_source("s"),
    "list_sources": lambda ledger: ledger.list_sources(),
    "global_log": lambda ledger: ledger.global_log(),
    "verify": lambda ledger: ledger.verify(),
    "ping": lambda ledger: ledger.ping(),
    "import_batch": lambda ledger: ledger.import_batch([RECORD], ACTOR),
    "register_source": lambda ledger: ledger.register_source({"id": "s", "name": "S"}, ACTOR),
    "rerate_source": lambda ledger: ledger.rerate_source(
        "s", {"reliability": "B", "occurred_at": "2024-10-13"}, ACTOR
    ),
    "register_claim": lambda ledger: ledger.register_claim({"id": "c", "text": "A"}, ACTOR),
    "append": lambda ledger: ledger.append("c", EVENT, ACTOR),
    "append_batch": lambda ledger: ledger.append_batch([{**EVENT, "claim_id": "c"}], ACTOR),
    "append with a key": lambda ledger: ledger.append("c", EVENT, ACTOR, key="k"),
}


@pytest.fixture
def ledger() -> Iterator[ClaimsLedger]:
    opened = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    yield opened
    opened.close()


def break_store(
    ledger: ClaimsLedger, error: type[PersistenceError], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make every method of the store's recorder raise ``error``."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise error("the store's own words")

    recorder = ledger.store.recorder
    for name in dir(recorder):
        if not name.startswith("_") and callable(getattr(recorder, name)):
            monkeypatch.setattr(recorder, name, broken)


@pytest.mark.parametrize("use_case", USE_CASES)
@pytest.mark.parametrize(
    ("library", "ours"),
    [(OperationalError, StoreUnavailable), (IntegrityError, Conflict),
     (ProgrammingError, StoreFailed)],
    ids=["operational", "integrity", "programming"],
)
def test_no_use_case_lets_a_library_error_out(
    ledger: ClaimsLedger,
    monkeypatch: pytest.MonkeyPatch,
    use_case: str,
    library: type[PersistenceError],
    ours: type[LedgerError],
) -> None:
    monkeypatch.setattr(idempotency, "RETRY_BUDGET", 0.01)  # a write retries IntegrityError
    break_store(ledger, library, monkeypatch)
    with pytest.raises(LedgerError) as raised:
        USE_CASES[use_case](ledger)
    assert isinstance(raised.value, ours)


def test_a_refusal_from_a_store_that_no_longer_answers_is_an_outage(
    ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL stopped under a statement can surface as a ProgrammingError (psycopg:
    "the last operation didn't produce records (command status: LOCK TABLE)"): when the
    store then answers no query, the append is a 503 to retry, not a 500."""

    def cut(*_args: object, **_kwargs: object) -> None:
        raise ProgrammingError("the last operation didn't produce records")

    def down(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(ledger.store.recorder, "insert_events", cut)
    monkeypatch.setattr(idempotency, "RETRY_BUDGET", 0.01)
    with pytest.raises(StoreFailed):  # the store still answers: a real refusal
        ledger.register_claim({"id": "c", "text": "A"}, ACTOR)
    monkeypatch.setattr(ledger.store.recorder, "log_entries", down)
    with pytest.raises(StoreUnavailable) as raised:  # it answers nothing: an outage
        ledger.register_claim({"id": "c", "text": "A"}, ACTOR)
    assert "ProgrammingError" in raised.value.detail


def test_a_refusal_costs_one_probe_not_a_probe_per_probe(
    ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that refuses every read (a table missing, no privilege): ``ping`` is a use
    case too, and its own refusal must not ask the store again and again."""
    calls: list[int] = []

    def refused(*_args: object, **_kwargs: object) -> None:
        calls.append(1)
        raise ProgrammingError("permission denied for table stored_events_log")

    monkeypatch.setattr(ledger.store.recorder, "log_entries", refused)
    with pytest.raises(StoreFailed):
        ledger.ping()
    assert len(calls) == 2  # the read, then one probe


def test_use_cases_of_other_owners_tell_an_outage_too(
    ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The saved views, the watches and the preview reach the store through an attribute
    of their own: their refusals during an outage are 503s as well."""
    from ledger.saved_views import SavedViews
    from ledger.store import _store_of
    from ledger.watchdesk import Watches

    assert _store_of(SavedViews(ledger.store)) is ledger.store
    assert _store_of(Watches(ledger)) is ledger.store
    assert _store_of(ledger.preview) is ledger.store
    assert _store_of(ledger.reads) is ledger.store
    assert _store_of(object()) is None

    def down(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("connection refused")

    views = SavedViews(ledger.store)
    monkeypatch.setattr(ledger.store.recorder, "log_entries", down)
    monkeypatch.setattr(views.repository, "get", lambda *a, **k: (_ for _ in ()).throw(
        ProgrammingError("the last operation didn't produce records")))
    with pytest.raises(StoreUnavailable):
        views.list_views("ann")
