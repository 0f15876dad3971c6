"""Model versions in the ledger: every read answers in the version asked for, v2's track
records are bitemporal (no look-ahead in valid or recording time), and v2 in the ledger is
exactly what ``claims-ledger evaluate`` scores."""

from __future__ import annotations

from typing import Any

import pytest

from ledger import evaluation, models, replay
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.errors import ClaimNotFound, InvalidInput
from ledger.examples import load_article
from ledger.times import format_instant, now, parse_instant, to_micros
from tests.ledger.helpers import claim, say, source

V1, V2 = "credibility-v1", "credibility-v2"


def day(text: str) -> Any:
    return parse_instant("as_of", text, bare_date="end")


def _bad_record(ledger: ClaimsLedger) -> None:
    """`liar` asserted a claim later refuted; `honest` denied it."""
    source(ledger, "liar", "XX", "D")
    source(ledger, "honest", "YY", "C")
    source(ledger, "court", None, "A")
    claim(ledger, "old")
    say(ledger, "old", "asserted", "liar", "2020-01-01")
    say(ledger, "old", "denied", "honest", "2020-01-01")


def test_every_read_answers_in_the_version_asked_for(ledger: ClaimsLedger) -> None:
    load_article(ledger)
    cid = "nk-troops-for-russia"
    assert ledger.claim(cid)["credibility"]["model"] == models.DEFAULT
    for name in models.VERSIONS:
        assert ledger.claim(cid, model=name)["credibility"]["model"] == name
        assert ledger.audit(cid, model=name)["model"] == name
        assert ledger.timeline(cid, model=name)["model"] == name
        listed = ledger.list_claims(model=name)["data"]
        assert {item["credibility"]["model"] for item in listed} == {name}
        # The list (replayed in any version but the projected one) agrees with the claim.
        for item in listed:
            one = ledger.claim(item["id"], model=name)["credibility"]
            assert item["credibility"]["probability"] == one["probability"]


@pytest.mark.parametrize("read", ["claim", "audit", "timeline", "list_claims"])
def test_an_unknown_version_is_refused_naming_the_accepted_ones(
    ledger: ClaimsLedger, read: str
) -> None:
    load_article(ledger)
    args = () if read == "list_claims" else ("nk-troops-for-russia",)
    with pytest.raises(InvalidInput) as refused:
        getattr(ledger, read)(*args, model="credibility-v9")
    assert refused.value.field == "model"
    assert V1 in refused.value.reason and V2 in refused.value.reason


def test_v2s_track_record_never_looks_ahead_in_valid_or_recording_time(
    ledger: ClaimsLedger,
) -> None:
    """A statement is weighed with its source's record as it stood when it was made, as
    known at the answer's known_at: no resolution dated after the statement, nor recorded
    after known_at, moves it."""
    _bad_record(ledger)
    claim(ledger, "new")
    say(ledger, "new", "denied", "honest", "2021-01-01")
    say(ledger, "new", "asserted", "liar", "2021-03-01")
    as_of = day("2021-06-01")
    before = ledger.claim("new", as_of=as_of, model=V2)
    known = parse_instant("known_at", before["known_at"])
    assert "record" not in " ".join(c["reason"] for c in before["credibility"]["contributions"])

    # A resolution recorded later, dated before the liar spoke: it counts as known now,
    # never as known at the earlier known_at.
    say(ledger, "old", "resolved", "court", "2021-02-01", outcome="refuted", basis="ruling")
    again = ledger.claim("new", as_of=as_of, known_at=known, model=V2)
    assert again == before
    assert ledger.audit("new", as_of=as_of, known_at=known, model=V2)["entries"] == (
        ledger.audit("new", as_of=as_of, model=V2, until=known)["entries"]
    )
    after = ledger.claim("new", as_of=as_of, model=V2)["credibility"]
    liar = next(c for c in after["contributions"] if c["source"] == "liar")
    # 28 days between the resolution and the statement: 0.5 ** (28 / 365) = 0.948.
    assert "0 matched and 0.948 missed" in liar["reason"] and liar["log_odds"] == 0.0
    assert "when it said so (2021-03-01)" in liar["reason"]
    assert after["probability"] < before["credibility"]["probability"]
    # The honest denial came before the resolution: its record then was empty.
    honest = next(c for c in after["contributions"] if c["source"] == "honest")
    assert "record" not in honest["reason"]
    # The answer's as_of does not age the record: a year later the liar is still unheard.
    later = ledger.claim("new", as_of=day("2022-06-01"), model=V2)["credibility"]
    assert next(c for c in later["contributions"] if c["source"] == "liar") == liar

    # A resolution dated after the statement changes nothing, even one dated before as_of
    # (what the honest source got right in April does not reach back to its January
    # denial), and one dated after as_of changes nothing either.
    claim(ledger, "april")
    say(ledger, "april", "denied", "honest", "2021-01-01")
    say(ledger, "april", "resolved", "court", "2021-04-01", outcome="refuted", basis="ruling")
    claim(ledger, "later")
    say(ledger, "later", "asserted", "honest", "2021-01-01")
    say(ledger, "later", "resolved", "court", "2022-01-01", outcome="refuted", basis="ruling")
    assert ledger.claim("new", as_of=as_of, model=V2)["credibility"] == after
    # v1 never reads a record.
    assert ledger.claim("new", as_of=as_of, known_at=known, model=V1)["credibility"] == (
        ledger.claim("new", as_of=as_of, model=V1)["credibility"]
    )
    # ... while a statement made after them is weighed with them.
    say(ledger, "new", "denied", "honest", "2021-05-01")
    honest = next(
        c
        for c in ledger.claim("new", as_of=as_of, model=V2)["credibility"]["contributions"]
        if c["source"] == "honest" and c["delta"] != 0
    )
    # Both its denials before then were right: 0.5 ** (89 / 365) + 0.5 ** (30 / 365).
    assert "1.79 matched and 0 missed" in honest["reason"]


def test_v2_in_the_ledger_is_what_evaluate_scores() -> None:
    """Each calibration claim asked of the ledger in v2 the day before its resolution gives
    the probability ``claims-ledger evaluate --model credibility-v2`` scores."""
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        ledger.import_batch(evaluation.calibration_records(), "test")
        cases = evaluation.cases(ledger)
        scored = {
            p["claim_id"]: p["probability"]
            for p in evaluation.evaluate(cases, V2)["predictions"]
        }
        asked = {
            case.claim_id: ledger.claim(case.claim_id, as_of=case.as_of, model=V2)[
                "credibility"
            ]["probability"]
            for case in cases
        }
        assert asked == scored
    finally:
        ledger.close()


def test_a_model_diff_lists_the_claims_judged_differently_with_the_reasons(
    ledger: ClaimsLedger,
) -> None:
    _bad_record(ledger)
    say(ledger, "old", "resolved", "court", "2021-02-01", outcome="refuted", basis="ruling")
    for cid in ("new-1", "new-2", "new-3"):
        claim(ledger, cid)
        say(ledger, cid, "asserted", "liar", "2021-01-01")
        say(ledger, cid, "asserted", "liar", "2021-03-01")
    claim(ledger, "same")  # nothing said: v1 and v2 agree
    as_of = day("2021-06-01")
    diff = ledger.models_diff(V1, V2, as_of=as_of, limit=2)
    assert (diff["from"], diff["to"]) == (V1, V2)
    assert [item["id"] for item in diff["data"]] == ["new-1", "new-2"]
    assert diff["next_cursor"] is not None
    rest = ledger.models_diff(
        V1, V2, as_of=as_of, known_at=parse_instant("k", diff["known_at"]),
        cursor=diff["next_cursor"],
    )
    assert [item["id"] for item in rest["data"]] == ["new-3"] and rest["next_cursor"] is None
    item = diff["data"][0]
    one = ledger.claim("new-1", as_of=as_of, model=V1)["credibility"]
    other = ledger.claim("new-1", as_of=as_of, model=V2)["credibility"]
    assert item["from"] == {k: one[k] for k in ("probability", "band", "status", "grade", "model")}
    assert item["to"]["probability"] == other["probability"] == 0.5
    assert "band" in item["changed"] and item["difference"] == round(0.5 - one["probability"], 6)
    (row,) = item["contributions"]  # the liar's latest assertion; the earlier one is superseded
    assert row["source"] == "liar" and row["to"]["log_odds"] == 0.0
    assert row["from"]["log_odds"] > 0 and "missed" in row["to"]["reason"]
    # Both directions, and a version against itself, list consistently.
    back = ledger.models_diff(V2, V1, as_of=as_of)
    assert [i["id"] for i in back["data"]] == ["new-1", "new-2", "new-3"]
    assert ledger.models_diff(V2, V2, as_of=as_of)["data"] == []
    with pytest.raises(InvalidInput) as refused:
        ledger.models_diff(V1, "v3")
    assert refused.value.field == "to"
    with pytest.raises(InvalidInput) as refused:
        ledger.models_diff(V1, V2, min_difference=2)
    assert refused.value.field == "min_difference"


def test_the_versions_are_listed_with_one_default() -> None:
    listed = models.listing()
    assert [m["name"] for m in listed["data"]] == [V1, V2]
    assert [m["name"] for m in listed["data"] if m["default"]] == [listed["default"]]
    assert all(m["description"] for m in listed["data"])


def test_making_v2_the_default_is_one_line_and_every_answer_follows(
    ledger: ClaimsLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``models.DEFAULT = credibility_v2.MODEL_VERSION`` alone makes every answer v2's, the
    claims list included (replayed until the projection computes v2), and appends too."""
    _bad_record(ledger)
    say(ledger, "old", "resolved", "court", "2021-05-01", outcome="refuted", basis="ruling")
    claim(ledger, "new")
    monkeypatch.setattr(models, "DEFAULT", V2)
    appended = say(ledger, "new", "asserted", "liar", "2021-05-20")
    assert appended["credibility"]["model"] == V2
    assert appended["credibility"] == ledger.claim("new", model=V2)["credibility"]
    assert ledger.claim("new")["credibility"] == ledger.claim("new", model=V2)["credibility"]
    assert ledger.audit("new")["model"] == ledger.timeline("new")["model"] == V2
    listed = {item["id"]: item["credibility"] for item in ledger.list_claims()["data"]}
    assert listed["new"]["model"] == V2
    assert listed["new"]["probability"] == appended["credibility"]["probability"]
    assert [m["name"] for m in models.listing()["data"] if m["default"]] == [V2]


def test_v2_hears_a_resolution_made_by_correction_or_by_another_process(tmp_path: Any) -> None:
    """v2 reads the claims with a resolution recorded, found in the log once per process and
    then in what was written since: by this process or another, as a ``resolved``
    statement or as a correction that turns a statement into one."""
    settings = Settings(store=f"sqlite:///{tmp_path / 'l.sqlite3'}", _env_file=None)  # type: ignore[call-arg]
    here, there = open_ledger(settings), open_ledger(settings)
    try:
        _bad_record(here)
        claim(here, "new")
        say(here, "new", "denied", "honest", "2021-01-01")
        say(here, "new", "asserted", "liar", "2021-03-01")
        as_of = day("2021-06-01")
        before = here.claim("new", as_of=as_of, model=V2)["credibility"]
        assert here.store.resolved_claims(to_micros(now())) == []
        # Another process records what the court said, then corrects it into a ruling.
        said = say(there, "old", "asserted", "court", "2021-02-01")
        assert here.claim("new", as_of=as_of, model=V2)["credibility"] == before
        there.append("old", {"type": "corrected", "supersedes": said["event_id"],
                             "corrected_type": "resolved", "outcome": "refuted",
                             "basis": "ruling"}, "tester")
        assert here.store.resolved_claims(to_micros(now())) == ["old"]
        after = here.claim("new", as_of=as_of, model=V2)["credibility"]
        liar = next(c for c in after["contributions"] if c["source"] == "liar")
        assert "0 matched and 0.9" in liar["reason"]
        assert after["probability"] < before["probability"]
        # As a process that read the whole log at once answers.
        fresh = open_ledger(settings)
        try:
            assert fresh.claim("new", as_of=as_of, model=V2)["credibility"] == after
        finally:
            fresh.close()
    finally:
        here.close()
        there.close()


def _asked_at_every_moment(ledger: ClaimsLedger, cid: str, when: Any, name: str) -> list[Any]:
    """The timeline as the model itself answers at every moment a statement or a rating of
    a cited source starts (quadratic: the reference the sweep is held to)."""
    model = models.VERSIONS[name]
    known = when or now()
    known_us = to_micros(known)
    data = ledger.store.claim_as_known(cid, known_us)
    sources = ledger.store.sources_cited(data, known_us)
    records = ledger.reads.record_book(model, known)
    moments: dict[Any, str] = {}
    for statement in sorted(
        replay.corrected_statements(data, known_us), key=lambda s: (s.at, s.position)
    ):
        moments[statement.at] = statement.event_id
    for sid in sorted({r.statement.speaker for r in data.records} & sources.keys()):
        for rated in sources[sid].ratings:
            at = rated.record["occurred_at"]
            if at is not None and rated.recorded_at <= known_us:
                moments.setdefault(at, rated.record["event_id"])
    points: list[Any] = []
    previous = {"probability": 0.5, "band": "roughly even chance", "status": "unverified"}
    for moment in sorted(moments):
        answer = replay.summary(
            replay.credibility(data, sources, moment, known_us, model, records)
        )
        if answer != previous:
            points.append(
                {"valid_from": format_instant(moment), **answer, "event_id": moments[moment]}
            )
            previous = answer
    return points


def test_v2s_timeline_sweep_is_the_model_asked_at_every_moment() -> None:
    """The v2 timeline is one sweep through valid time (the evaluator's); asking the model
    itself at every moment a statement or rating starts gives the same points, on every
    claim of the calibration set (sources with records), now and as known when a third and
    two thirds of it had been recorded."""
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        records = evaluation.calibration_records()
        knowns: list[Any] = []
        for part in range(3):
            ledger.import_batch(records[part * len(records) // 3 : (part + 1) * len(records) // 3],
                                "evaluate")
            knowns.append(now() if part < 2 else None)
        claims = [c["id"] for c in ledger.list_claims(limit=1000, model=V1)["data"]]
        assert len(claims) > 100
        swept = {}
        for cid in claims:
            for when in knowns:
                try:
                    swept[(cid, when)] = ledger.timeline(cid, known_at=when, model=V2)["points"]
                except ClaimNotFound:  # not registered yet at that time
                    continue
        for (cid, when), points in swept.items():
            assert _asked_at_every_moment(ledger, cid, when, V2) == points, cid
        assert sum(len(points) > 2 for points in swept.values()) > 20
    finally:
        ledger.close()
