"""A model version is one strategy and one registry entry: a toy version registered in a
test is answered by every reader (claim, audit, timeline, lists, ``evaluate``, ``models
diff``) with no other change, and keeps the laws the evaluator guarantees."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger import evaluation, models
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.credibility import SourceStanding, Strategy
from ledger.credibility.pooling import num
from ledger.examples import load_article
from ledger.statements import Statement, StatementType
from ledger.times import now
from ledger_cli.main import app

CLAIM = "nk-troops-for-russia"


class EqualWeights(Strategy):
    """Every statement counts one log-odds for or against, whoever says it."""

    name = "toy-equal-weights"
    description = "Every position counts 1 log-odds for or against (a test's toy)."

    def stated(self, item: Statement, standing: SourceStanding) -> tuple[float, str, str]:
        if item.type == StatementType.ASSESSED:
            sign = 1.0 if float(item.likelihood or 0.5) > 0.5 else -1.0
        else:
            sign = 1.0 if item.type == StatementType.ASSERTED else -1.0
        kind = "assertion" if sign > 0 else "denial"
        return sign, kind, f"{standing.name} counts {num(sign)} log-odds, as everyone does"

    def with_interest(self, standing, weight, kind, account, parties, beneficiaries):  # type: ignore[no-untyped-def]
        return weight, account  # the toy hears everyone alike


@pytest.fixture
def toy() -> Iterator[models.ModelVersion]:
    version = models.register(EqualWeights())
    try:
        yield version
    finally:
        models.unregister(version.name)


def test_a_registered_version_is_listed_and_answers_every_read(
    ledger: ClaimsLedger, toy: models.ModelVersion
) -> None:
    load_article(ledger)
    assert toy.name in {m["name"] for m in ledger.models()["data"]}
    answer = ledger.claim(CLAIM, model=toy.name)["credibility"]
    assert answer["model"] == toy.name
    counted = [c for c in answer["contributions"] if c["log_odds"] != 0]
    assert counted and all("as everyone does" in c["reason"] for c in counted)
    assert {abs(c["log_odds"]) for c in counted} <= {1.0, 0.5, 0.25, 0.125}

    trail = ledger.audit(CLAIM, model=toy.name)["entries"]
    assert trail[-1]["after"]["probability"] == answer["probability"]
    for earlier, later in itertools.pairwise(trail):
        assert later["before"] == earlier["after"]
    points = ledger.timeline(CLAIM, model=toy.name)["points"]
    assert points[-1]["probability"] == answer["probability"]

    listed = {c["id"]: c["credibility"] for c in ledger.list_claims(model=toy.name)["data"]}
    assert listed[CLAIM]["model"] == toy.name
    assert listed[CLAIM]["probability"] == answer["probability"]

    diff = ledger.models_diff(models.DEFAULT, toy.name, min_difference=0.0)
    assert diff["data"], "the toy weighs the article otherwise than the default"
    assert {item["to"]["model"] for item in diff["data"]} == {toy.name}


def test_evaluate_scores_a_registered_version(
    ledger: ClaimsLedger, toy: models.ModelVersion
) -> None:
    ledger.import_batch(evaluation.calibration_records(), "evaluate")
    report = evaluation.evaluate(evaluation.cases(ledger, now()), toy.name)
    assert report["model"] == toy.name
    assert toy.name in report["versions"]
    assert 0.0 < report["scores"]["all"]["model"]["brier"] < 1.0


def test_the_registry_refuses_a_second_version_of_one_name(toy: models.ModelVersion) -> None:
    with pytest.raises(ValueError, match="registered already"):
        models.register(EqualWeights())


def test_rebuild_model_projects_a_registered_version(
    toy: models.ModelVersion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``claims-ledger rebuild --model`` builds the toy's projection and serves it: its
    lists are read from its tables (never replayed) and give each claim's own answer."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    store = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    settings = Settings(store=store, _env_file=None)  # type: ignore[call-arg]
    ledger = open_ledger(settings)
    try:
        load_article(ledger)
    finally:
        ledger.close()
    built = CliRunner().invoke(app, ["--store", store, "rebuild", "--model", toy.name])
    assert built.exit_code == 0, built.output
    assert f"serving {toy.name} from its projection now" in built.output
    ledger = open_ledger(settings)
    try:
        assert ledger.projector is not None and ledger.projector.model == toy
        assert ledger.models()["projected"] == toy.name

        def refused(*args: Any) -> Any:
            raise AssertionError(f"a list of {args[5].name} replayed")

        monkeypatch.setattr(ledger.reads, "_replayed", refused)
        at = now()
        listed = ledger.list_claims(model=toy.name, as_of=at, known_at=at)["data"]
        assert listed
        for item in listed:
            answer = ledger.claim(item["id"], model=toy.name, as_of=at, known_at=at)
            assert item["credibility"]["model"] == toy.name
            assert item["credibility"]["probability"] == answer["credibility"]["probability"]
            assert item["credibility"]["status"] == answer["credibility"]["status"]
    finally:
        ledger.close()
