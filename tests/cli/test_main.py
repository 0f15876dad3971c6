"""The command line as a whole: help, configuration errors, an unreachable store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from ledger_cli.main import app

from .helpers import Invoke


def test_help_lists_every_command(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in (
        "serve",
        "load",
        "export",
        "show",
        "audit",
        "timeline",
        "claims",
        "sources",
        "replay",
        "verify",
    ):
        assert command in result.stdout
    assert "Exit codes" in result.stdout


def test_version_prints_the_installed_version(invoke: Invoke) -> None:
    from importlib.metadata import version

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"claims-ledger {version('claims-ledger-server')}\n"


def test_no_arguments_shows_help(invoke: Invoke) -> None:
    result = invoke()
    assert "Usage" in result.output
    assert "serve" in result.output


def test_every_command_has_help(invoke: Invoke) -> None:
    for command in (
        "serve",
        "load",
        "export",
        "show",
        "audit",
        "timeline",
        "claims",
        "sources",
        "replay",
        "verify",
    ):
        result = invoke(command, "--help")
        assert result.exit_code == 0, command
        assert "Usage" in result.stdout


def test_every_option_and_argument_says_what_it_is(invoke: Invoke) -> None:
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, command in commands.items():
        for param in command.params:
            if param.name != "help":
                assert getattr(param, "help", None), (name, param.name)
        usage = invoke(name, "--help").stdout
        assert "[[" not in usage and "]]" not in usage, name


def test_unreachable_postgres_is_a_clear_message_and_exit_4(invoke: Invoke) -> None:
    result = invoke("--store", "postgresql://ledger:s3cret@127.0.0.1:1/ledger", "verify")
    assert result.exit_code == 4
    assert result.stderr.startswith("error: PostgreSQL cannot be reached: ")
    assert "Connection refused" in result.stderr  # libpq's reason, at once
    assert "postgresql://ledger:***@127.0.0.1:1/ledger" in result.stderr  # where, not how
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_postgres_without_its_driver_is_one_line_naming_the_extra(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    result = invoke("--store", "postgresql://ledger:s3cret@127.0.0.1:1/ledger", "verify")
    assert result.exit_code == 4
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: PostgreSQL support is not installed")
    assert "pip install 'claims-ledger-server[postgres]'" in result.stderr
    assert "s3cret" not in result.output


def test_a_misspelt_variable_is_one_line_on_stderr(tmp_path: Path) -> None:
    """A real process: no logging set up, as a user at a terminal has it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")}
    env["CLAIMS_LEDGER_PROT"] = "9000"
    done = subprocess.run(
        [sys.executable, "-m", "ledger_cli", "--store", "memory", "claims", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "CLAIMS_LEDGER_PROT is not a setting and is ignored (did you mean CLAIMS_LEDGER_PORT?)"
    ]


def test_data_directory_that_cannot_be_created_is_exit_4(invoke: Invoke, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    empty = tmp_path / "empty.ndjson"
    empty.write_text("")
    result = invoke("--store", f"sqlite:///{blocker}/sub/ledger.sqlite3", "load", str(empty))
    assert result.exit_code == 4
    assert "cannot create the data directory" in result.stderr


def test_unknown_store_scheme_names_the_option(invoke: Invoke) -> None:
    result = invoke("--store", "mysql://somewhere/db", "claims")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid configuration: --store:")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CLAIMS_LEDGER_STORE", "ftp://nowhere"),
        ("CLAIMS_LEDGER_PORT", "eighty"),
        ("CLAIMS_LEDGER_MAX_BODY_BYTES", "12"),
        ("CLAIMS_LEDGER_WRITE_CONCURRENCY", "0"),
    ],
)
def test_bad_environment_names_the_variable(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = invoke("claims")
    assert result.exit_code == 2
    assert f"{variable}:" in result.stderr
    assert "Traceback" not in result.output


def test_public_bind_without_keys_names_the_keys_variable(
    invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_HOST", "0.0.0.0")
    result = invoke("claims")
    assert result.exit_code == 2
    assert "CLAIMS_LEDGER_API_KEYS" in result.stderr


def test_secret_values_are_not_echoed(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMS_LEDGER_API_KEYS", "alice:admin:topsecret")
    monkeypatch.setenv("CLAIMS_LEDGER_PORT", "0")
    result = invoke("claims")
    assert result.exit_code == 2
    assert "topsecret" not in result.output


def test_default_store_is_the_xdg_sqlite_file(invoke: Invoke, tmp_path: Path) -> None:
    default = tmp_path / "xdg" / "claims-ledger" / "ledger.sqlite3"
    missing = invoke("claims", "--json")  # reading never creates an empty ledger
    assert missing.exit_code == 4
    assert missing.stderr.startswith(f"error: no ledger at {default}")
    assert not default.exists()
    empty = tmp_path / "empty.ndjson"
    empty.write_text("")
    assert invoke("load", str(empty)).exit_code == 0
    assert default.exists()
    assert invoke("claims", "--json").exit_code == 0
