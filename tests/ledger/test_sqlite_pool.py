"""A SQLite store's connections keep their prepared statements (``StatementCachingPool``):
the library's own pool connects with ``cached_statements=True``, a cache of one statement."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.examples import load_article
from ledger.persistence import sqlite as ledger_sqlite
from ledger.persistence.sqlite import STATEMENT_CACHE, StatementCachingPool


def test_a_sqlite_store_connects_with_a_statement_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, Any]] = []
    connect = sqlite3.connect

    def spy(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if kwargs.get("database", "").startswith(str(tmp_path)):  # the store's, not others'
            made.append(kwargs)
        return connect(*args, **kwargs)

    monkeypatch.setattr(ledger_sqlite.sqlite3, "connect", spy)
    ledger = open_ledger(Settings(store=f"sqlite:///{tmp_path}/s.sqlite", _env_file=None))  # type: ignore[call-arg]
    try:
        pool = ledger.store.recorder.datastore.pool
        assert isinstance(pool, StatementCachingPool)
        load_article(ledger)
        assert ledger.claim("nk-troops-for-russia")["credibility"]["band"] == "very likely"
        with ledger.store.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"  # as the library's pool makes them
            cursor.execute("SELECT 1 AS one")
            assert cursor.fetchone()["one"] == 1  # rows by name, as the library's
    finally:
        ledger.close()
    assert made and all(kw["cached_statements"] == STATEMENT_CACHE > 1 for kw in made)
    assert all(kw["isolation_level"] is None and kw["check_same_thread"] is False for kw in made)
