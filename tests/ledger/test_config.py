"""Settings: one object from CLAIMS_LEDGER_* variables, refusing unsafe or malformed values."""

from __future__ import annotations

import logging
import sys

import pytest
from pydantic import ValidationError

from ledger import config
from ledger.bootstrap import open_ledger
from ledger.config import Settings, unknown_variables
from ledger.errors import StoreUnavailable


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_a_malformed_key_list_is_refused_without_echoing_its_tokens() -> None:
    with pytest.raises(ValidationError) as caught:
        settings(api_keys="alice:boss:supersecrettoken123")
    assert "role 'boss' is not reader, writer or admin" in str(caught.value)
    assert "supersecrettoken123" not in str(caught.value)


def test_a_public_bind_needs_api_keys() -> None:
    with pytest.raises(ValidationError, match="CLAIMS_LEDGER_API_KEYS"):
        settings(host="0.0.0.0")
    assert settings(host="0.0.0.0", api_keys="ops:admin:" + "x" * 24).host == "0.0.0.0"


def test_store_urls_become_the_librarys_environment(tmp_path: object) -> None:
    assert (
        settings(store="memory")
        .eventsourcing_env()["PERSISTENCE_MODULE"]
        .endswith("POPOLedgerFactory")
    )
    env = settings(store=f"sqlite:///{tmp_path}/x.sqlite3").eventsourcing_env()
    assert env["SQLITE_DBNAME"] == f"{tmp_path}/x.sqlite3"
    pg = settings(store="postgresql://u:p%40ss@db.example:6543/ledger?schema=s1")
    env = pg.eventsourcing_env()
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.example",
        "6543",
        "ledger",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == (
        "u",
        "p@ss",
        "s1",
    )
    assert "p%40ss" not in pg.redacted_store()


def test_unknown_stores_and_levels_are_refused() -> None:
    with pytest.raises(ValidationError, match="store"):
        settings(store="mysql://x")
    with pytest.raises(ValidationError, match="log_level"):
        settings(log_level="chatty")
    assert settings(log_level="DEBUG").log_level == "debug"


@pytest.mark.parametrize("module", ["psycopg", "psycopg_pool"])
def test_a_postgres_store_without_its_driver_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(StoreUnavailable) as caught:
        open_ledger(settings(store="postgresql://ledger@127.0.0.1:1/ledger"))
    assert caught.value.detail == (
        f"PostgreSQL support is not installed (no module {module!r}): "
        "pip install 'claims-ledger-server[postgres]'"
    )


def test_a_misspelt_variable_is_named_with_the_closest_setting() -> None:
    assert unknown_variables({"CLAIMS_LEDGER_PROT": "9000", "CLAIMS_LEDGER_PORT": "1"}) == [
        "CLAIMS_LEDGER_PROT is not a setting and is ignored (did you mean CLAIMS_LEDGER_PORT?)"
    ]
    assert unknown_variables({"claims_ledger_loglevel": "debug"}) == [
        "claims_ledger_loglevel is not a setting and is ignored "
        "(did you mean CLAIMS_LEDGER_LOG_LEVEL?)"
    ]
    (far,) = unknown_variables({"CLAIMS_LEDGER_XYZZY": "1"})
    assert far.startswith("CLAIMS_LEDGER_XYZZY is not a setting and is ignored (the settings are ")
    assert "CLAIMS_LEDGER_STORE" in far


def test_settings_and_the_test_suites_own_variables_are_not_reported() -> None:
    environ = {f"CLAIMS_LEDGER_{name.upper()}": "x" for name in Settings.model_fields}
    environ |= {
        "CLAIMS_LEDGER_TEST_POSTGRES": "postgresql://",
        "CLAIMS_LEDGER_REQUIRE_POSTGRES": "1",
        "CLAIMS_LEDGER_REQUIRE_BROWSER": "1",
        "CLAIMS_LEDGER_WRITE_GOLDEN": "1",
        "claims_ledger_store": "memory",  # read case-insensitively
        "OTHER_PORT": "1",
    }
    assert unknown_variables(environ) == []


def test_reading_settings_warns_once_of_an_unknown_variable(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(config, "_warned", set())
    monkeypatch.setenv("CLAIMS_LEDGER_PROT", "9000")
    with caplog.at_level(logging.WARNING, logger="claims_ledger.config"):
        assert settings().port == 8000  # ignored, but no longer silently
        settings()
    assert [r.getMessage() for r in caplog.records] == [
        "CLAIMS_LEDGER_PROT is not a setting and is ignored (did you mean CLAIMS_LEDGER_PORT?)"
    ]
