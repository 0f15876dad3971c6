"""The audit trail and the timeline in one pass: the same answers as the quadratic replay.

``old_audit`` and ``old_timeline`` are the functions as they were (each entry or moment
replayed the claim from scratch through the full model), kept here as the reference: on
random claims with retractions, corrections, resolutions, re-ratings, same-day ties,
batches recorded at one time and records the model cannot weigh, the one-pass functions
answer the same bytes, page by page. A claim of thousands of events gets its answers.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger import evaluation, replay
from ledger.application import ClaimsLedger
from ledger.bootstrap import open_ledger
from ledger.config import Settings
from ledger.credibility import VERSIONS, Credibility, ModelVersion
from ledger.replay import (
    ClaimData,
    Recorded,
    RecordedStatement,
    Records,
    SourceData,
    corrected_statements,
    credibility,
    summary,
)
from ledger.statements import Statement
from ledger.times import format_instant, from_micros, parse_instant, to_micros

V1, V2 = "credibility-v1", "credibility-v2"
MODEL_V1 = VERSIONS[V1]


def audit(claim: ClaimData, sources: dict[str, SourceData], as_of: datetime, **kw: Any) -> list:
    return replay.audit(claim, sources, as_of, model=MODEL_V1, **kw)


def timeline(claim: ClaimData, sources: dict[str, SourceData], known_at: int) -> list[JSON]:
    return replay.timeline(claim, sources, known_at, MODEL_V1)

JSON = dict[str, Any]

# -- the reference: the quadratic functions as they were ----------------------------------


def old_audit(
    claim: ClaimData,
    sources: dict[str, SourceData],
    as_of: datetime,
    *,
    since: int | None = None,
    until: int | None = None,
    source: str | None = None,
    model: ModelVersion = MODEL_V1,
    records: Records | None = None,
) -> list[JSON]:
    """The audit asked of the model at every recording time (quadratic)."""
    changes: list[tuple[int, int, JSON, str, str | None]] = [
        (
            rec.position,
            rec.recorded_at,
            rec.statement.payload(),
            rec.statement.type,
            rec.statement.source,
        )
        for rec in claim.records
    ]
    cited = {rec.statement.speaker for rec in claim.records}
    for sid in sorted(cited & sources.keys()):
        changes += [
            (rated.position, rated.recorded_at, rated.record, "rerated", sid)
            for rated in sources[sid].ratings
            if rated.record["occurred_at"]
        ]
    entries = []
    for position, recorded_at, r, kind, who in sorted(changes, key=lambda c: c[0]):
        if (since is not None and recorded_at < since) or (
            until is not None and recorded_at > until
        ):
            continue
        if source is not None and who != source:
            continue
        before = summary(credibility(claim, sources, as_of, recorded_at - 1, model, records))
        result = credibility(claim, sources, as_of, recorded_at, model, records)
        after = summary(result)
        if kind == "rerated" and before == after:
            continue
        entries.append(
            {
                "position": position,
                "event_id": r["event_id"],
                "recorded_at": format_instant(from_micros(recorded_at)),
                "occurred_at": format_instant(r["occurred_at"]),
                "type": kind,
                "source": who,
                "actor": r["actor"],
                "before": before,
                "after": after,
                "reason": _old_why(r, kind, who, result, as_of),
            }
        )
    return entries


def _old_why(
    record: JSON, kind: str, source: str | None, result: Credibility, as_of: datetime
) -> str:
    if kind == "rerated":
        note = f" ({record['note']})" if record.get("note") else ""
        return (
            f"{source} re-rated {record['reliability']} from "
            f"{format_instant(record['occurred_at'])[:10]}{note}"
        )
    if record["occurred_at"] > as_of:
        return (
            f"occurred on {format_instant(record['occurred_at'])[:10]}, after as_of: "
            "it does not count at this as_of"
        )
    target = record["supersedes"] if kind == "corrected" else record["event_id"]
    for contribution in result.contributions:
        if contribution.event_id == target:
            prefix = f"corrects event {target}: " if kind == "corrected" else ""
            return prefix + contribution.reason
    return f"{kind} event outside the model's evidence"


def old_timeline(
    claim: ClaimData,
    sources: dict[str, SourceData],
    known_at: int,
    model: ModelVersion = MODEL_V1,
    records: Records | None = None,
) -> list[JSON]:
    """The timeline asked of the model at every moment (quadratic)."""
    moments: dict[datetime, str] = {}
    for statement in sorted(
        corrected_statements(claim, known_at), key=lambda s: (s.at, s.position)
    ):
        moments[statement.at] = statement.event_id
    cited = {r.statement.speaker for r in claim.records}
    for sid in sorted(cited & sources.keys()):
        for rated in sources[sid].ratings:
            t = rated.record["occurred_at"]
            if t is not None and rated.recorded_at <= known_at:
                moments.setdefault(t, rated.record["event_id"])
    points: list[JSON] = []
    previous: JSON = {"probability": 0.5, "band": "roughly even chance", "status": "unverified"}
    for moment in sorted(moments):
        now = summary(credibility(claim, sources, moment, known_at, model, records))
        if now != previous:
            points.append(
                {"valid_from": format_instant(moment), **now, "event_id": moments[moment]}
            )
            previous = now
    return points


# -- random claims --------------------------------------------------------------------------

DAY0 = datetime(2024, 10, 1, tzinfo=UTC)
T0 = to_micros(datetime(2025, 1, 1, tzinfo=UTC))
AFFILIATIONS = ("UA", "RU", "KP", None)
STANCES = ("asserted", "denied", "assessed")


def random_claim(rng: random.Random, size: int) -> tuple[ClaimData, dict[str, SourceData]]:
    """A claim of ``size`` records and its sources, with every case the model explains.

    Most records are what the ledger accepts; some are not (a retraction by another source
    or of a retraction, a correction moving an event or changing its type or source, a
    record the model cannot weigh), as an old import might hold: a replay must answer them
    as it always did.
    """
    speakers = [f"s{i}" for i in range(rng.choice((1, 2, 3, 4, 6, 12)))]
    sources = {
        sid: SourceData(sid, sid.upper(), None, rng.choice(AFFILIATIONS))
        for sid in speakers
        if rng.random() < 0.85  # the others speak unregistered
    }
    days = [DAY0 + timedelta(days=d, hours=rng.choice((0, 0, 6))) for d in range(8)]
    position, recorded = 0, T0
    records: list[RecordedStatement] = []
    said: list[Statement] = []

    def tick() -> int:
        nonlocal position, recorded
        position += rng.randint(1, 3)
        if rng.random() < 0.7:  # else recorded at the same time as the last (a batch)
            recorded += rng.randint(1, 5)
        return position

    for sid, data in sources.items():  # registered before the claim's records, mostly
        data.ratings.append(
            Recorded(_rating(sid, "1", None, rng, 1), tick(), recorded - rng.randint(0, 1))
        )
    for n in range(size):
        if sources and rng.random() < 0.12:
            sid = rng.choice(list(sources))
            data = sources[sid]
            version = len(data.ratings) + 1
            at = recorded + rng.choice((0, 0, 0, rng.randint(-20, 20)))  # some out of order
            data.ratings.append(
                Recorded(_rating(sid, str(n), rng.choice(days), rng, version), tick(), at)
            )
            continue
        statement = _statement(rng, f"e{n}", speakers, days, said)
        said.append(statement)
        records.append(
            RecordedStatement(
                Statement.from_payload(statement.payload(), position=tick()), recorded
            )
        )
    claim = ClaimData(
        claim_id="c",
        text="a claim",
        tags=[],
        parties=rng.choice((["RU"], ["RU", "KP"], [])),
        beneficiaries=rng.choice((["UA"], [])),
        version=len(records) + 1,
        records=records,
    )
    return claim, sources


def _rating(sid: str, n: str, at: datetime | None, rng: random.Random, version: int) -> JSON:
    return {
        "reliability": rng.choice("ABCDEF"),
        "occurred_at": at,
        "event_id": f"r-{sid}-{n}",
        "actor": "rater",
        "note": rng.choice((None, "why")),
        "version": version,
    }


def _statement(
    rng: random.Random,
    event_id: str,
    speakers: list[str],
    days: list[datetime],
    said: list[Statement],
) -> Statement:
    roll = rng.random()
    speaker = rng.choice(speakers)
    body: JSON = {
        "event_id": event_id,
        "source": speaker,
        "occurred_at": rng.choice(days),
        "actor": rng.choice(("desk", "import")),
    }
    if said and roll < 0.15:
        target = rng.choice(said)
        own = rng.random() < 0.85
        body |= {
            "type": "retracted",
            "supersedes": target.event_id if rng.random() < 0.95 else "nowhere",
            "source": target.source if own else speaker,
            "summary": "withdrawn",
        }
        if rng.random() < 0.7 and target.occurred_at is not None:
            body["occurred_at"] = max(target.occurred_at, body["occurred_at"])
        return Statement(**body)
    if said and roll < 0.3:
        target = rng.choice(said)
        body |= {
            "type": "corrected",
            "supersedes": target.event_id,
            "source": target.source if rng.random() < 0.9 else speaker,
            "occurred_at": target.occurred_at if rng.random() < 0.6 else body["occurred_at"],
        }
        change = rng.random()
        if change < 0.3:
            body["likelihood"] = rng.choice((0.2, 0.5, 0.8))
        elif change < 0.5:
            body["corrected_type"] = rng.choice(STANCES)
            body["summary"] = "now so"
            body["likelihood"] = rng.choice((0.3, 0.9))
        elif change < 0.6:
            body |= {"corrected_type": "resolved", "outcome": "refuted", "basis": "found"}
        else:
            body["summary"] = "said otherwise"
        return Statement(**body)
    if roll < 0.36:
        outcome = rng.choice(("confirmed", "refuted", "confirmed", None))  # None: unweighable
        return Statement(**body, type="resolved", outcome=outcome, basis="ground truth")
    kind = rng.choice(STANCES)
    if kind == "assessed":
        likelihood = rng.choice((0.1, 0.5, 0.7, 0.95, 0.7))
        if rng.random() < 0.03:
            likelihood = 1.5  # the model cannot weigh it
        return Statement(
            **body, type=kind, likelihood=likelihood, confidence=rng.choice((None, "low", "high"))
        )
    return Statement(**body, type=kind, summary=f"{speaker} {kind}")


def _times(claim: ClaimData, sources: dict[str, SourceData]) -> list[int]:
    times = {r.recorded_at for r in claim.records}
    times |= {r.recorded_at for s in sources.values() for r in s.ratings}
    return sorted(times)


def _same(new: object, old: object) -> None:
    assert json.dumps(new, sort_keys=True) == json.dumps(old, sort_keys=True)


@pytest.mark.parametrize("seed", range(200))
def test_audit_and_timeline_answer_as_the_replay_did(seed: int) -> None:
    rng = random.Random(seed)
    claim, sources = random_claim(rng, rng.choice((0, 1, 3, 8, 20, 40)))
    times = _times(claim, sources)
    for as_of in (
        DAY0 - timedelta(days=1),
        rng.choice([DAY0 + timedelta(days=d) for d in range(8)]),
        DAY0 + timedelta(days=30),
    ):
        expected = old_audit(claim, sources, as_of)
        _same(audit(claim, sources, as_of), expected)
        # Pages: after a position, at most so many.
        after = rng.choice([0, *(e["position"] for e in expected)])
        limit = rng.randint(1, 6)
        page = [e for e in expected if e["position"] > after][:limit]
        _same(audit(claim, sources, as_of, after=after, limit=limit), page)
        # Filters.
        if times:
            since, until = sorted(rng.sample(times, 2)) if len(times) > 1 else (times[0],) * 2
            who = rng.choice([None, *sources, "nobody"])
            _same(
                audit(claim, sources, as_of, since=since, until=until, source=who),
                old_audit(claim, sources, as_of, since=since, until=until, source=who),
            )
    for known_at in (*rng.sample(times, min(3, len(times))), T0 - 1, 2**62):
        known = [r for r in claim.records if r.recorded_at <= known_at]
        as_known = ClaimData(**{**claim.__dict__, "records": known})
        _same(timeline(as_known, sources, known_at), old_timeline(as_known, sources, known_at))
        _same(timeline(claim, sources, known_at), old_timeline(claim, sources, known_at))


# -- through the ledger: a claim loaded by import_batch ------------------------------------


def claim_records(events: int, seed: int = 3) -> list[JSON]:
    """Export records of one claim with ``events`` statements (what the ledger accepts)."""
    rng = random.Random(seed)
    sources = [f"src-{i}" for i in range(12)]
    out: list[JSON] = [
        {
            "type": "source_registered",
            "source": sid,
            "name": sid.upper(),
            "reliability": "ABCDEF"[i % 6],
            **({"affiliation": a} if (a := AFFILIATIONS[i % 4]) else {}),
        }
        for i, sid in enumerate(sources)
    ]
    out.append(
        {
            "type": "claim_registered",
            "claim_id": "long",
            "text": "A long claim",
            "parties": ["RU"],
            "beneficiaries": ["UA"],
        }
    )
    open_: dict[str, list[tuple[str, datetime]]] = {sid: [] for sid in sources}
    for i in range(events):
        at = (DAY0 + timedelta(hours=i * 6 - rng.randint(0, 24 * 20))).replace(minute=0)
        sid = rng.choice(sources[: rng.randint(1, len(sources))])
        event_id = f"e{i}"
        base = {
            "claim_id": "long",
            "event_id": event_id,
            "source": sid,
            "occurred_at": at.isoformat(),
        }
        roll = rng.random()
        if i % 97 == 50:
            out.append(
                {
                    "type": "source_rerated",
                    "source": sid,
                    "reliability": rng.choice("ABCDE"),
                    "occurred_at": at.isoformat(),
                    "note": f"rerated {i}",
                }
            )
        if roll < 0.1 and open_[sid]:
            target, when = open_[sid].pop(rng.randrange(len(open_[sid])))
            out.append(
                {
                    **base,
                    "type": "retracted",
                    "supersedes": target,
                    "occurred_at": max(at, when).isoformat(),
                }
            )
        elif roll < 0.2 and open_[sid]:
            target, when = rng.choice(open_[sid])
            out.append(
                {
                    **base,
                    "type": "corrected",
                    "supersedes": target,
                    "occurred_at": when.isoformat(),
                    "summary": f"corrected by {event_id}",
                }
            )
        elif i == events - 1 or (roll < 0.203 and events < 500):
            out.append(
                {
                    **base,
                    "type": "resolved",
                    "outcome": rng.choice(("confirmed", "refuted")),
                    "basis": "found out",
                }
            )
        else:
            kind = rng.choice(("asserted", "denied", "assessed"))
            body = (
                {"likelihood": rng.choice((0.2, 0.6, 0.9))}
                if kind == "assessed"
                else {"summary": f"{sid} {kind}"}
            )
            out.append({**base, "type": kind, **body})
            open_[sid].append((event_id, at))
    return out


def load(ledger: ClaimsLedger, events: int) -> None:
    records = claim_records(events)
    for start in range(0, len(records), 500):
        ledger.import_batch(records[start : start + 500], "loader")


def test_the_ledgers_audit_and_timeline_are_the_replays(ledger: ClaimsLedger) -> None:
    """v1's one-pass walks give what the old replay, asked at every time, gave."""
    load(ledger, 150)
    data = ledger.store.claim_as_known("long", to_micros(datetime.now(UTC)))
    sources = ledger.store.sources_cited(data, to_micros(datetime.now(UTC)))
    for as_of in (DAY0 + timedelta(days=10), DAY0 + timedelta(days=40)):
        trail = ledger.audit("long", as_of=as_of, model=V1)
        known = parse_instant("known_at", trail["known_at"])
        _same(trail["entries"], old_audit(data, sources, as_of))
        paged, cursor = [], None
        while True:
            page = ledger.audit(
                "long", as_of=as_of, known_at=known, limit=7, cursor=cursor, model=V1
            )
            paged += page["entries"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        _same(paged, trail["entries"])
    _same(ledger.timeline("long", model=V1)["points"], old_timeline(data, sources, 2**62))


@pytest.mark.parametrize("events", [40, 150])
def test_v2s_one_pass_audit_and_timeline_are_the_model_asked_at_every_time(
    monkeypatch: pytest.MonkeyPatch, events: int
) -> None:
    """v2's walks (one pass in recording order, one sweep through valid time) give what
    the model itself gives asked at each recording time and each moment, reasons included:
    on a random claim with every kind of event, and on every claim of the calibration set
    (sources with records, relays)."""
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        load(ledger, events)
        ledger.import_batch(evaluation.calibration_records(), "evaluate")
        claims = ["long", *(c["id"] for c in ledger.list_claims(limit=1000)["data"])][:60]
        times = [None, DAY0 + timedelta(days=10), DAY0 + timedelta(days=40)]
        fast = {
            (cid, as_of): (
                ledger.audit(cid, as_of=as_of, model=V2)["entries"],
                ledger.timeline(cid, model=V2)["points"],
            )
            for cid in dict.fromkeys(claims)
            for as_of in (times if cid == "long" else [None])
        }
        # The model asked time by time, as known now (nothing was written since).
        model, moment = VERSIONS[V2], datetime.now(UTC)
        known_us = to_micros(moment)
        records = ledger.reads.record_book(model, moment)
        for (cid, as_of), (entries, points) in fast.items():
            data = ledger.store.claim_as_known(cid, known_us)
            sources = ledger.store.sources_cited(data, known_us)
            asked = old_audit(data, sources, as_of or moment, model=model, records=records)
            _same(entries, asked)
            _same(points, old_timeline(data, sources, known_us, model, records))
    finally:
        ledger.close()


def test_a_claim_of_thousands_of_events_gets_its_audit_and_timeline() -> None:
    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    load(ledger, 3000)
    started = time.perf_counter()
    trail = ledger.audit("long")["entries"]
    points = ledger.timeline("long")["points"]
    took = time.perf_counter() - started
    assert len(trail) >= 3000 and len(points) > 100
    # The quadratic replay took minutes here; one pass takes a second or two.
    assert took < 60, took
    first = ledger.audit("long", limit=100)
    assert first["entries"] == trail[:100] and first["next_cursor"] == str(trail[99]["position"])
    last = ledger.audit("long", limit=1000, cursor=str(trail[-2]["position"]))
    assert last["entries"] == trail[-1:] and last["next_cursor"] is None


def test_a_sources_record_from_its_own_entries_is_its_record_among_every_source() -> None:
    """``LedgerRecords`` works a record out from the asked source's entries alone: the same
    record ``track_records`` gives that source over every stance, at every moment a
    statement was made and at several known_at, and the mapping lists the same sources."""
    from ledger.credibility.records import track_records

    ledger = open_ledger(Settings(store="memory", _env_file=None))  # type: ignore[call-arg]
    try:
        load(ledger, 150)
        ledger.import_batch(evaluation.calibration_records(), "evaluate")
        model, moment = VERSIONS[V2], datetime.now(UTC)
        book = ledger.reads.record_book(model, moment)
        assert book is not None and book.claims
        known_ats = sorted({r.recorded_at for c in book.claims for r in c.records})
        moments = sorted({r.statement.at for c in book.claims for r in c.records})
        rng = random.Random(7)
        sources = sorted({r.statement.speaker for c in book.claims for r in c.records}
                         | {"nobody"})
        checked = 0
        for known in [*rng.sample(known_ats, 4), to_micros(moment)]:
            for at in rng.sample(moments, 25):
                every = track_records(book.stances(at, known), at, book.weight)
                found = book(at, known)
                assert dict(found) == every
                for source in sources:
                    assert found.get(source) == every.get(source)
                    checked += every.get(source) is not None
        assert checked > 100  # records were there to compare, not only absences
    finally:
        ledger.close()
