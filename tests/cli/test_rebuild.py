"""``claims-ledger rebuild``: the projection dropped and rebuilt gives the same picture."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from ledger_cli.bench import synthetic

from .helpers import ARTICLE, Invoke


def test_rebuild_gives_the_same_picture(invoke: Invoke, persistent_store: str) -> None:
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    before = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    rebuilt = invoke("--store", persistent_store, "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "rebuilt the credibility projection: 19 events" in rebuilt.stderr
    after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert pictures(after.stdout) == pictures(before.stdout)
    assert len(pictures(after.stdout)) == 3


def pictures(output: str) -> list[dict[str, object]]:
    """The claims of a ``claims --json`` answer, without the moment it was asked."""
    return [{k: v for k, v in c.items() if k != "known_at"} for c in json.loads(output)["data"]]


def test_rebuild_of_the_in_memory_store_says_there_is_nothing_to_rebuild(invoke: Invoke) -> None:
    refused = invoke("--store", "memory", "rebuild")
    assert refused.exit_code == 1
    assert "no projection to rebuild" in refused.stderr


def test_rebuild_takes_how_many_statements_to_hold(invoke: Invoke, persistent_store: str) -> None:
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    before = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert invoke("--store", persistent_store, "rebuild", "--hold", "1000").exit_code == 0
    after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert pictures(after.stdout) == pictures(before.stdout)
    refused = invoke("--store", persistent_store, "rebuild", "--hold", "10")
    assert refused.exit_code == 2 and "--hold" in refused.stderr


def test_rebuild_resume_goes_on_from_the_projected_position(
    invoke: Invoke, persistent_store: str
) -> None:
    """A projection already at the head: --resume keeps it and projects nothing more."""
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    before = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    resumed = invoke("--store", persistent_store, "rebuild", "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "rebuilt the credibility projection: 0 events" in resumed.stderr
    after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12")
    assert pictures(after.stdout) == pictures(before.stdout)


def test_rebuild_model_switches_the_served_version(invoke: Invoke, persistent_store: str) -> None:
    """rebuild --model credibility-v1 builds v1's projection and serves it: lists in v1
    answer as they did replayed, lists in v2 as they did projected; unknown names and the
    in-memory store are refused."""
    assert invoke("--store", persistent_store, "load", str(ARTICLE)).exit_code == 0
    lists = {
        name: invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12",
                     "--model", name).stdout
        for name in ("credibility-v1", "credibility-v2")
    }
    switched = invoke("--store", persistent_store, "rebuild", "--model", "credibility-v1")
    assert switched.exit_code == 0, switched.stderr
    assert "rebuilt the credibility projection: 19 events" in switched.stderr
    assert "serving credibility-v1 from its projection now (was credibility-v2" in switched.stderr
    for name, before in lists.items():
        after = invoke("--store", persistent_store, "claims", "--json", "--as-of", "2024-10-12",
                       "--model", name)
        assert pictures(after.stdout) == pictures(before)
        assert {c["credibility"]["model"] for c in pictures(after.stdout)} == {name}
    again = invoke("--store", persistent_store, "rebuild", "--resume")  # the served one: v1
    assert again.exit_code == 0 and "0 events" in again.stderr
    assert "serving" not in again.stderr
    refused = invoke("--store", persistent_store, "rebuild", "--model", "credibility-v0")
    assert refused.exit_code == 2
    assert "'credibility-v0' is not one of credibility-v1, credibility-v2" in refused.stderr


def test_rebuild_in_several_processes_from_the_command(tmp_path: Path) -> None:
    """``python -m ledger_cli rebuild --jobs 2`` in a process of its own (its workers are
    spawned: fresh interpreters that open the store themselves) on a ledger large enough to
    be shared out: the same tables as in one process."""
    from ledger.projection.projector import PARALLEL_FROM

    ndjson = tmp_path / "synthetic.ndjson"
    synthetic.generate(ndjson, PARALLEL_FROM, seed=4)
    store = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "ledger_cli", "--store", store, *args],
            capture_output=True, text=True, timeout=600, cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if not k.startswith("CLAIMS_LEDGER_")},
        )
        assert done.returncode == 0, done.stderr
        return done.stderr

    cli("load", str(ndjson))
    said = cli("rebuild", "--jobs", "1")
    assert f"{PARALLEL_FROM} events" in said and "processes" not in said
    one = _tables(tmp_path / "ledger.sqlite3")
    said = cli("rebuild", "--jobs", "2")
    assert f"{PARALLEL_FROM} events" in said and "2 processes" in said
    assert _tables(tmp_path / "ledger.sqlite3") == one


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as db:
        names = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'credibility_v%'"
            " AND name NOT LIKE '%\\_node' ESCAPE '\\' AND name NOT LIKE '%\\_rowid' ESCAPE '\\'"
            " AND name NOT LIKE '%\\_parent' ESCAPE '\\'"
        )]
        assert any(name.endswith("_intervals") for name in names)
        return {name: sorted(db.execute(f"SELECT * FROM {name}").fetchall()) for name in names}
