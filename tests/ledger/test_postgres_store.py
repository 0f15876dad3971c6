"""The PostgreSQL store URL and settings reach the driver; tables are made once, whoever races.

(PostgreSQL going away under a server: ``tests/e2e/test_postgres_outage.py``.)
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

from ledger.bootstrap import open_ledger
from ledger.config import KEEPALIVES, Settings
from ledger.errors import StoreUnavailable
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.postgres


def settings(store: str, **values: object) -> Settings:
    return Settings(_env_file=None, store=store, **values)  # type: ignore[arg-type]


def query(sql: str, *args: object) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        return conn.execute(sql, args).fetchall()


def test_libpq_parameters_in_the_url_reach_the_driver(postgres_store: str) -> None:
    name = f"ledger-{uuid.uuid4().hex[:8]}"
    ledger = open_ledger(settings(f"{postgres_store}&application_name={name}"))
    try:
        ledger.ping()
        connections = query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", name
        )
        assert connections[0][0] >= 1
    finally:
        ledger.close()


def test_sslmode_require_is_honoured_not_dropped(postgres_store: str) -> None:
    try:
        ledger = open_ledger(settings(f"{postgres_store}&sslmode=require"))
    except StoreUnavailable as refused:  # this server has no TLS: libpq refuses, and says so
        assert "SSL was required" in refused.detail
        assert refused.detail.startswith("PostgreSQL cannot be reached: ")
        return
    try:  # this server has TLS: every connection of the ledger uses it
        ledger.ping()
        with ledger.store.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            assert row.fetchone()["ssl"] is True
    finally:
        ledger.close()


def test_a_parameter_libpq_does_not_know_is_refused_by_name() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ValidationError) as caught:
        settings("postgresql://postgres@127.0.0.1/test?schema=s&sslmod=require")
    assert "store parameter 'sslmod' is neither the ledger's (schema) nor libpq's" in str(
        caught.value
    )


def test_the_statement_timeout_setting_reaches_each_connection(postgres_store: str) -> None:
    ledger = open_ledger(settings(postgres_store, postgres_statement_timeout=7))
    try:
        with ledger.store.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            assert conn.execute("SHOW statement_timeout").fetchone()["statement_timeout"] == "7s"
    finally:
        ledger.close()
    assert settings(postgres_store).libpq_params() == {"connect_timeout": "5", **KEEPALIVES}
    given = settings(f"{postgres_store}&connect_timeout=2&options=-c%20work_mem%3D8MB"
                     "&keepalives_idle=60", postgres_statement_timeout=3)
    assert given.libpq_params() == {
        **KEEPALIVES, "connect_timeout": "2", "keepalives_idle": "60",
        "options": "-c work_mem=8MB -c statement_timeout=3s",
    }


def test_connections_send_tcp_keepalives(postgres_store: str) -> None:
    """A connection cut by the network (no reset) is found dead in about a minute."""
    ledger = open_ledger(settings(postgres_store))
    try:
        with ledger.store.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            used = conn.info.get_parameters()
        assert {k: used.get(k) for k in KEEPALIVES} == KEEPALIVES
    finally:
        ledger.close()


def test_processes_opening_a_new_schema_at_once_all_start(postgres_store: str) -> None:
    # Every opener runs the library's CREATE OR REPLACE FUNCTION; run together, PostgreSQL
    # fails all but one with "tuple concurrently updated" unless they take turns.
    openers = 6
    barrier = threading.Barrier(openers)

    def open_one(_: int) -> None:
        barrier.wait()
        open_ledger(settings(postgres_store)).close()

    with ThreadPoolExecutor(openers) as pool:
        list(pool.map(open_one, range(openers)))
