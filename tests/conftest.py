"""Fixtures shared by every test layer: one ledger per test, on each backend.

``backend`` runs a test on the in-memory store, an SQLite file and PostgreSQL. PostgreSQL
tests use a fresh schema per test. Without a reachable PostgreSQL they skip with the
reason; with ``CLAIMS_LEDGER_REQUIRE_POSTGRES=1`` (as ``.ci/run`` sets) they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings

POSTGRES_URL = os.environ.get(
    "CLAIMS_LEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CLAIMS_LEDGER_REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable ({str(error).strip()[:120]})"


_PG_PROBLEM: list[str | None] = []


def postgres_or_skip() -> None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    problem = _PG_PROBLEM[0]
    if problem is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required here (CLAIMS_LEDGER_REQUIRE_POSTGRES=1): {problem}")
    pytest.skip(f"{problem}; set CLAIMS_LEDGER_TEST_POSTGRES to a DSN to run these tests")


@pytest.fixture
def postgres_store() -> Iterator[str]:
    """A PostgreSQL store URL with a schema of its own, dropped afterwards."""
    postgres_or_skip()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL for each backend; the same test code runs against all three."""
    if request.param == "memory":
        return "memory"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("postgres_store"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each SQL backend, for tests that change rows behind the service's back."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    return str(request.getfixturevalue("postgres_store"))


@pytest.fixture
def settings(store: str) -> Settings:
    return Settings(store=store, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def ledger(settings: Settings) -> Iterator[ClaimsLedger]:
    app = open_ledger(settings)
    try:
        yield app
    finally:
        app.close()
