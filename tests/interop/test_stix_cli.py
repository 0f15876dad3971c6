"""``claims-ledger export --format stix``: the whole log as one valid bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.interop.stix_export import StixExport
from ledger_cli.main import app

from .helpers import assert_valid_stix, load_every_kind

CLAIMS = ("nk-troops-for-russia", "nk-arms-for-russia", "ru-kp-defence-pact")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CLAIMS_LEDGER_") and not name.startswith("CLAIMS_LEDGER_TEST"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_export_writes_the_whole_log_as_one_valid_bundle(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    ledger = open_ledger(Settings(store=store, _env_file=None))  # type: ignore[call-arg]
    try:
        load_every_kind(ledger)
        expected = list(StixExport(ledger).stream())
    finally:
        ledger.close()
    target = tmp_path / "bundle.json"
    result = CliRunner().invoke(app, ["--store", store, "export", "--format", "stix",
                                      str(target)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"exported {len(expected)} STIX objects" in result.output
    bundle = assert_valid_stix(json.loads(target.read_text(encoding="utf-8")))
    assert bundle["objects"][2:] == expected


def test_export_of_a_store_that_is_not_there_fails_and_writes_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    result = CliRunner().invoke(app, ["--store", store, "export", "--format", "stix",
                                      str(tmp_path / "out.json")])
    assert result.exit_code != 0 and "no ledger at" in result.output
    assert not (tmp_path / "out.json").exists()


def test_an_unknown_format_is_refused() -> None:
    result = CliRunner().invoke(app, ["export", "--format", "misp"])
    assert result.exit_code == 2 and "misp" in result.output


def test_load_previews_then_appends_a_bundle(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    ledger = open_ledger(Settings(store=source, _env_file=None))  # type: ignore[call-arg]
    try:
        load_every_kind(ledger)
        expected = {c: ledger.claim(c)["credibility"] for c in CLAIMS}
        size = len(ledger.global_log(0, 1000)["events"])
    finally:
        ledger.close()
    bundle = tmp_path / "bundle.json"
    run = CliRunner().invoke
    assert run(app, ["--store", source, "export", "--format", "stix", str(bundle)]).exit_code == 0
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    preview = run(app, ["--store", target, "load", "--format", "stix", "--preview", str(bundle)])
    assert preview.exit_code == 0, preview.output
    assert f"would append {size} events" in preview.output
    assert "skipped" in preview.output and "own definition" in preview.output
    loaded = run(app, ["--store", target, "load", "--format", "stix", str(bundle)])
    assert loaded.exit_code == 0, loaded.output
    assert f"appended {size} events" in loaded.output
    again = run(app, ["--store", target, "load", "--format", "stix", str(bundle)])
    assert "appended 0 events" in again.output and "already in the ledger" in again.output
    ledger = open_ledger(Settings(store=target, _env_file=None))  # type: ignore[call-arg]
    try:
        assert {c: ledger.claim(c)["credibility"] for c in CLAIMS} == expected
    finally:
        ledger.close()


def test_load_of_a_file_that_is_not_json_fails_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    result = CliRunner().invoke(app, ["--store", store, "load", "--format", "stix", str(bad)])
    assert result.exit_code != 0 and "is not JSON" in result.output
    assert not (tmp_path / "target.sqlite3").exists()
