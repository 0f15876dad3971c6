"""``evaluate``: the calibration set scored, every figure printed, the diagram written."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .helpers import ARTICLE, Invoke

CALIBRATION = ARTICLE.parent / "resolved" / "calibration.ndjson"


def report(invoke: Invoke, *args: str) -> dict[str, Any]:
    result = invoke("evaluate", "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def f(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def test_the_calibration_set_is_scored_and_every_figure_printed(invoke: Invoke) -> None:
    data = report(invoke)
    result = invoke("evaluate")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert data["model"] == "credibility-v2" and data["split"] is None
    scores = data["scores"]["all"]
    assert scores["claims"] >= 80 and scores["claims"] - scores["confirmed"] >= 0.4 * 80
    assert f"{scores['claims']} claims, {scores['confirmed']} confirmed" in text
    for name, key in (
        ("model", "model"),
        ("coin flip (0.5)", "coin_flip"),
        ("naive mean of stances", "naive_mean"),
    ):
        line = next(line for line in text.splitlines() if line.startswith(f"  {name} "))
        assert f(scores[key]["brier"]) in line and f(scores[key]["log_loss"]) in line
    assert scores["coin_flip"] == {"brier": 0.25, "log_loss": 0.693147}
    for row in data["reliability"]:
        assert (
            f"{row['low']:.1f}-{row['high']:.1f}   {row['claims']:>6} "
            f"{f(row['mean_probability']):>8} {f(row['observed']):>9}"
        ) in text
    assert sum(row["claims"] for row in data["reliability"]) == scores["claims"]
    assert len(data["sources"]) > 20
    for row in data["sources"]:
        assert (
            f"{row['source']:28} {row['stances']:>7} {row['matched']:>7} {row['rate']:>6.2f}"
        ) in text
    assert len(data["predictions"]) == scores["claims"]


def test_a_split_reports_in_and_out_of_sample(invoke: Invoke) -> None:
    data = report(invoke, "--split", "2010-01-01")
    scores = data["scores"]
    assert data["split"] == "2010-01-01T00:00:00.000000Z"
    assert (
        scores["in_sample"]["claims"] + scores["out_of_sample"]["claims"]
        == (scores["all"]["claims"])
    )
    assert scores["in_sample"]["claims"] > 20 and scores["out_of_sample"]["claims"] > 20
    text = invoke("evaluate", "--split", "2010-01-01").stdout
    assert "in sample (resolved before the split)" in text
    assert "out of sample (resolved on or after the split)" in text
    assert f(scores["out_of_sample"]["model"]["log_loss"]) in text


def test_the_diagram_is_written_as_svg(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "reliability.svg"
    result = invoke("evaluate", "--diagram", str(target))
    assert result.exit_code == 0, result.output
    assert f"diagram written to {target}" in result.stdout
    root = ET.parse(target).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findall(".//{http://www.w3.org/2000/svg}circle")


def test_each_version_is_selectable_and_v2_the_default(invoke: Invoke) -> None:
    v1 = report(invoke, "--model", "credibility-v1")
    v2 = report(invoke)
    assert v1["model"] == "credibility-v1" and v2["model"] == "credibility-v2"
    assert v2["scores"]["all"]["claims"] == v1["scores"]["all"]["claims"]
    assert v2["scores"]["all"]["coin_flip"] == v1["scores"]["all"]["coin_flip"]
    assert v2["scores"]["all"]["model"] != v1["scores"]["all"]["model"]


def test_bad_options_are_refused(invoke: Invoke, tmp_path: Path) -> None:
    unknown = invoke("evaluate", "--model", "credibility-v9")
    assert unknown.exit_code == 2 and "credibility-v1" in unknown.stderr
    bad_date = invoke("evaluate", "--split", "soon")
    assert bad_date.exit_code == 2 and "--split" in bad_date.stderr
    missing = invoke("evaluate", "--data", str(tmp_path / "nothing.ndjson"))
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
    both = invoke("evaluate", "--data", str(ARTICLE), "--from-store")
    assert both.exit_code == 2


def test_a_store_or_a_file_can_be_scored(
    invoke: Invoke, sqlite_store: str, loaded_store: str
) -> None:
    # The article's claims are not resolved: nothing to score.
    none = invoke("--store", loaded_store, "evaluate", "--from-store")
    assert none.exit_code == 2 and "no resolved claims" in none.stderr
    empty = invoke("evaluate", "--data", str(ARTICLE))
    assert empty.exit_code == 2
    # A store holding the calibration set answers what the default answers.
    other = sqlite_store.replace("ledger.sqlite3", "calibration.sqlite3")
    assert invoke("--store", other, "load", str(CALIBRATION)).exit_code == 0
    result = invoke("--store", other, "evaluate", "--from-store", "--json")
    assert result.exit_code == 0, result.output
    stored = json.loads(result.stdout)
    assert stored == report(invoke) == report(invoke, "--data", str(CALIBRATION))


def test_every_version_is_scored_side_by_side(invoke: Invoke) -> None:
    """The report puts every model version's scores on the same claims and periods beside
    each other; the scored version's are its own scores."""
    data = report(invoke, "--split", "2010-01-01")
    versions = data["versions"]
    assert list(versions) == ["credibility-v1", "credibility-v2", "credibility-v3"]
    for period in ("all", "in_sample", "out_of_sample"):
        assert versions[data["model"]][period] == data["scores"][period]["model"]
    other = report(invoke, "--split", "2010-01-01", "--model", "credibility-v1")
    assert other["versions"] == versions  # the same figures, whichever version is scored
    assert versions["credibility-v1"]["all"] == other["scores"]["all"]["model"]
    text = invoke("evaluate", "--split", "2010-01-01").stdout
    for name, figures in versions.items():
        line = next(line for line in text.splitlines() if line.startswith(f"  {name} "))
        for period in ("all", "in_sample", "out_of_sample"):
            assert f"{f(figures[period]['brier'])} / {f(figures[period]['log_loss'])}" in line
