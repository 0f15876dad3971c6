"""Fixtures for the CLI tests: a runner, stores that outlive one command, a loaded store.

The CLI opens the store afresh on every command, so these tests use stores that persist
between commands (SQLite files, PostgreSQL schemas), never ``memory``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ledger.application import ClaimsLedger
from ledger.config import Settings
from ledger_cli.main import app

from .helpers import ARTICLE, Invoke


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CLAIMS_LEDGER_* variable or .env of the developer's may leak into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("CLAIMS_LEDGER_") and not name.startswith("CLAIMS_LEDGER_TEST"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)  # Settings reads ./.env


@pytest.fixture
def sqlite_store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def persistent_store(request: pytest.FixtureRequest, sqlite_store: str) -> str:
    """A store URL on each persistent backend: the same CLI test runs against both."""
    if request.param == "sqlite":
        return sqlite_store
    return str(request.getfixturevalue("postgres_store"))


@pytest.fixture
def invoke() -> Invoke:
    """Run ``claims-ledger ARGS`` in-process; stdout and stderr are kept apart."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def loaded_store(invoke: Invoke, sqlite_store: str) -> str:
    """An SQLite store holding the article's example data."""
    result = invoke("--store", sqlite_store, "load", str(ARTICLE))
    assert result.exit_code == 0, result.output
    return sqlite_store


@pytest.fixture
def open_ledger() -> Iterator[Callable[[str], ClaimsLedger]]:
    """Open a store directly, to compare the CLI with the ledger's own answers."""
    opened: list[ClaimsLedger] = []

    def open_store(store: str) -> ClaimsLedger:
        settings = Settings(store=store, _env_file=None)  # type: ignore[call-arg]
        ledger = ClaimsLedger(
            settings.eventsourcing_env(), snapshot_interval=settings.snapshot_interval
        )
        opened.append(ledger)
        return ledger

    yield open_store
    for ledger in opened:
        ledger.close()
