"""Fixtures of the ledger's tests beyond the suite's (``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings


@pytest.fixture
def opened(sql_store: str) -> Iterator[list[ClaimsLedger]]:
    """Three processes' ledgers on one store (SQLite or PostgreSQL): one that writes, two
    more that write or read."""
    settings = Settings(store=sql_store, _env_file=None)  # type: ignore[call-arg]
    ledgers = [open_ledger(settings) for _ in range(3)]
    try:
        yield ledgers
    finally:
        for ledger in ledgers:
            ledger.close()
