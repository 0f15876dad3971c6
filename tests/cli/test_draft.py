"""``claims-ledger draft``: proposals from an article file, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import Invoke

TEXT = (
    "Kremlin spokesman Dmitry Peskov on Thursday dismissed the reports as fake.\n"
    "General Maria Ortiz said the claim was very likely true.\n"
)


def _article(tmp_path: Path) -> Path:
    path = tmp_path / "article.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_draft_prints_proposals_as_json_and_writes_nothing(
    invoke: Invoke, loaded_store: str, tmp_path: Path
) -> None:
    before = invoke("--store", loaded_store, "export").stdout
    result = invoke("--store", loaded_store, "draft", str(_article(tmp_path)),
                    "--date", "2024-10-14", "--claim", "nk-troops-for-russia", "--json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert [(p["source"], p["type"], p["occurred_at"], p["dated"])
            for p in answer["proposals"]] == [
        ("peskov", "denied", "2024-10-10", True),
        ("maria-ortiz", "assessed", "2024-10-14", False)]
    assert answer["proposals"][1]["likelihood"] == "very likely"
    assert answer["proposals"][0]["event"]["claim_id"] == "nk-troops-for-russia"
    assert answer["new_sources"][0]["id"] == "maria-ortiz"
    assert invoke("--store", loaded_store, "export").stdout == before


def test_draft_table(invoke: Invoke, loaded_store: str, tmp_path: Path) -> None:
    result = invoke("--store", loaded_store, "draft", str(_article(tmp_path)),
                    "--date", "2024-10-14")
    assert result.exit_code == 0, result.stderr
    assert "2 proposed statements, article of 2024-10-14" in result.stdout
    assert "peskov" in result.stdout and "maria-ortiz (new)" in result.stdout
    assert "(article date)" in result.stdout
    assert "new source to register first: maria-ortiz (Maria Ortiz)" in result.stderr


def test_draft_refuses_bad_input(invoke: Invoke, loaded_store: str, tmp_path: Path) -> None:
    article = str(_article(tmp_path))
    bad_date = invoke("--store", loaded_store, "draft", article, "--date", "14/10/2024")
    assert bad_date.exit_code == 2 and "date" in bad_date.stderr
    unknown = invoke("--store", loaded_store, "draft", article, "--date", "2024-10-14",
                     "--claim", "no-such-claim")
    assert unknown.exit_code == 3 and "no-such-claim" in unknown.stderr
    missing = invoke("--store", loaded_store, "draft", str(tmp_path / "none.txt"),
                     "--date", "2024-10-14")
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
