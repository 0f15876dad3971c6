"""Each store's ``Backend`` (``ledger.persistence.backends``): what differs between the
stores beyond the library's recorders, asked of the store rather than sniffed from it.
Every backend's lock is held by one holder at a time and let go when closed; the SQL
backends name the tables the library made and pass stream ids as those tables hold them."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.domain import claim_uuid
from ledger.locks import StoreLock
from ledger.persistence.backends import MEMORY, backend_of

from .helpers import claim


def test_each_store_has_its_backend(ledger: ClaimsLedger, store: str) -> None:
    backend = backend_of(ledger.store.recorder)
    expected = store.split(":")[0].replace("postgresql", "postgres")
    assert backend.name == expected
    assert backend_of(getattr(ledger.store.recorder, "datastore", None)) is backend \
        or backend is MEMORY
    assert backend.notifies is (backend.name == "postgres")
    assert backend.sql is (backend.name != "memory")
    snapshots = ledger.store.snapshots
    assert snapshots is not None
    assert backend_of(snapshots.recorder) is backend  # the library's recorder too


def test_the_sql_names_and_parameters_reach_the_librarys_tables(sql_store: str) -> None:
    ledger = open_ledger(Settings(store=sql_store, _env_file=None))  # type: ignore[call-arg]
    try:
        _count_the_claims_registration(ledger)
    finally:
        ledger.close()


def _count_the_claims_registration(ledger: ClaimsLedger) -> None:
    claim(ledger, "troops")
    recorder: Any = ledger.store.recorder
    backend = backend_of(recorder)
    table = backend.qualified(recorder.datastore, recorder.events_table_name)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT COUNT(*) AS n FROM {table} WHERE originator_id = {backend.placeholder}",
            (backend.uuid(claim_uuid("troops")),),
        )
        assert cursor.fetchone()["n"] == 1  # the claim's registration


@pytest.mark.parametrize("name", ["credibility", "webhooks"])
def test_a_lock_is_one_holders_until_let_go(store: str, name: str) -> None:
    settings = Settings(store=store, _env_file=None)  # type: ignore[call-arg]
    first, second = open_ledger(settings), None
    try:
        mine = StoreLock(first.store, f"test-{name}")
        assert mine.acquire() and mine.held
        if store == "memory":  # one process: the lock is always this one's
            return
        second = open_ledger(settings)
        theirs = StoreLock(second.store, f"test-{name}")
        assert not theirs.acquire()  # held by the first
        mine.release()
        assert theirs.acquire()  # let go: the other takes it
        assert not mine.acquire()
        theirs.release()
    finally:
        first.close()
        if second is not None:
            second.close()
