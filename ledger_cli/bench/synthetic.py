"""A synthetic ledger in the export format: many claims and sources, every event type.

``SyntheticLedger(events, seed)`` is deterministic: the same size and seed give the same
file, byte for byte, on any day (the dates are in a fixed window, 2021-07-01 to 2024-06-30,
spread in log order with some reports recorded late). Its shape:

- ``sources = max(20, events // 2000)`` sources, all registered first, some of them
  re-rated later (``source_rerated``, about one event in 500);
- ``claims = max(5, events // 200)`` claims, each registered at its first statement;
  statements fall on claims with a Zipf-like skew (weight 1/rank, at most
  ``MAX_CLAIM_EVENTS`` events a claim), so a few claims are hot and long and most are short;
  sources speak with a milder skew (weight 1/rank^0.8);
- statements: asserted, denied, assessed (an ICD 203 term, a synonym or a number, sometimes
  with a confidence), retracted (a source withdrawing its own earlier statement on the same
  claim, on or after the day it was made), corrected (the same source's earlier statement,
  with new words or a new likelihood, sometimes flipping asserted and denied), and one
  ``resolved`` as the last event of about one claim in thirty;
- about 256 bytes a line: quotes and summaries are padded with words to that length.

Every record is one the ledger accepts (``claims-ledger load`` reads the file); the test
suite loads a small one to prove it.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.statements import CONFIDENCE_LEVELS, OUTCOMES, StatementType

#: Most events one claim receives: hot claims are long, but their load stays bounded.
MAX_CLAIM_EVENTS = 5000
#: Bytes a line is padded to (quotes, summaries and notes carry the padding).
LINE_BYTES = 256
START = datetime(2021, 7, 1, tzinfo=UTC)
END = datetime(2024, 6, 30, 23, 59, tzinfo=UTC)
#: Words in claim texts; ``list_claims(q=...)`` benchmarks look for one of them.
TOPICS = (
    "troops", "artillery", "pipeline", "sanctions", "drones", "refinery", "election",
    "ceasefire", "shipments", "grain", "cyberattack", "mercenaries", "satellite", "bridge",
    "airbase", "minefield", "convoy", "tanker", "radar", "power-plant",
)
#: A topic word that appears in about one claim text in twenty.
QUERY_WORD = "pipeline"
PLACES = ("the north", "the south", "the coast", "the border", "the capital", "the east")
TAGS = ("military", "economy", "energy", "diplomacy", "cyber", "logistics", "civilian")
AFFILIATIONS = ("UA", "RU", "KP", "KR", "US", "CN", "BY", "IR", "EU", "UN")
ROLES = ("news agency", "ministry", "spokesperson", "analyst", "intelligence service", "NGO")
LIKELIHOOD_WORDS = (
    "almost no chance", "very unlikely", "unlikely", "roughly even chance", "likely",
    "very likely", "almost certain", "highly likely", "probably", "improbable", "even odds",
)
_WORDS = (
    "officials", "said", "reports", "indicate", "the", "movement", "of", "units", "near",
    "several", "crossings", "while", "independent", "observers", "could", "not", "confirm",
    "the", "figures", "given", "by", "either", "side", "and", "local", "media", "described",
    "heavy", "traffic", "on", "roads", "leading", "to", "the", "area", "over", "the", "weekend",
    "according", "to", "people", "familiar", "with", "the", "matter", "who", "spoke", "on",
    "condition", "of", "anonymity", "satellite", "images", "reviewed", "by", "analysts",
    "appear", "to", "show", "new", "construction", "and", "vehicles", "parked", "in", "rows",
)


@dataclass
class _Said:
    event_id: str
    source: str
    type: str
    at: datetime
    retracted: bool = False


@dataclass
class _ClaimState:
    claim_id: str
    remaining: int
    resolve: bool
    registered: bool = False
    said: list[_Said] = field(default_factory=list)


def shape(events: int) -> tuple[int, int, int]:
    """How many (sources, claims, re-ratings) a ledger of ``events`` events has."""
    return max(20, events // 2000), max(5, events // 200), max(1, events // 500)


def allocate(total: int, weights: list[float], cap: int) -> list[int]:
    """Split ``total`` in proportion to ``weights``, no share above ``cap`` (raised if needed)."""
    cap = max(cap, -(-total // len(weights)))
    counts = [0] * len(weights)
    active = list(range(len(weights)))
    remaining = total
    while True:
        wsum = sum(weights[i] for i in active)
        over = [i for i in active if remaining * weights[i] / wsum > cap]
        if not over:
            break
        for i in over:
            counts[i] = cap
            remaining -= cap
        active = [i for i in active if i not in set(over)]
    ideal = {i: remaining * weights[i] / wsum for i in active}
    for i in active:
        counts[i] = int(ideal[i])
    short = total - sum(counts)
    for i in sorted(active, key=lambda i: ideal[i] - int(ideal[i]), reverse=True)[:short]:
        counts[i] += 1
    return counts


class SyntheticLedger:
    """The records of one synthetic ledger; ``records()`` yields them in log order.

    While the records are generated it notes, for the benchmarks, the line (1-based) on
    which each claim is registered (``claim_lines``), how many statements each claim
    gets (``claim_statements``) and how many records of each type were made (``counts``).
    """

    def __init__(self, events: int, seed: int = 1) -> None:
        if events < 100:
            raise ValueError("a synthetic ledger has at least 100 events")
        self.events, self.seed = events, seed
        self.sources_n, self.claims_n, self.reratings = shape(events)
        self.statements = events - self.sources_n - self.claims_n - self.reratings
        self.claim_lines: dict[str, int] = {}
        self.claim_statements: dict[str, int] = {}  # statements planned for each claim
        self.counts: Counter[str] = Counter()
        self.source_ids = [f"src-{i:05d}" for i in range(self.sources_n)]
        self.claim_ids = [f"claim-{i:06d}" for i in range(self.claims_n)]

    # -- the plan: which claim each statement is about -------------------------------

    def _plan(self, rng: random.Random) -> tuple[list[int], dict[int, _ClaimState]]:
        ranks = list(range(self.claims_n))
        rng.shuffle(ranks)  # the hottest claim is not claim-000000
        weights = [1.0 / (rank + 1) for rank in ranks]
        counts = allocate(self.statements, weights, MAX_CLAIM_EVENTS)
        self.claim_statements = dict(zip(self.claim_ids, counts, strict=True))
        slots = [c for c, n in enumerate(counts) for _ in range(n)]
        slots += [-1] * self.reratings  # -1: a source re-rating
        rng.shuffle(slots)
        resolvable = [c for c, n in enumerate(counts) if n >= 3]
        resolved = set(rng.sample(resolvable, min(len(resolvable), max(1, self.claims_n // 30))))
        states = {
            c: _ClaimState(self.claim_ids[c], counts[c], c in resolved)
            for c in range(self.claims_n)
        }
        return slots, states

    # -- records ---------------------------------------------------------------------

    def records(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed)
        self.claim_lines.clear()
        self.counts.clear()
        self._rng = rng
        self._text = " ".join(rng.choice(_WORDS) for _ in range(20_000))
        slots, states = self._plan(rng)
        source_ranks = rng.sample(range(self.sources_n), self.sources_n)
        self._source_cum = list(accumulate(1.0 / (r + 1) ** 0.8 for r in source_ranks))
        line = 0
        for sid in self.source_ids:
            line += 1
            yield self._count(self._source(sid))
        span = (END - START).total_seconds()
        total = len(slots)
        # Claims never spoken about are registered at evenly spaced places.
        silent = [s for s in states.values() if s.remaining == 0]
        every = max(1, total // (len(silent) + 1))
        for i, slot in enumerate(slots):
            # The statement's day: moving through the window with the log, some recorded late.
            elapsed = span * i / total
            late = rng.random() * min(45 * 86400, elapsed)
            moment = (START + timedelta(seconds=elapsed - late)).replace(second=0, microsecond=0)
            if silent and i % every == 0:
                state = silent.pop()
                state.registered = True
                line += 1
                self.claim_lines[state.claim_id] = line
                yield self._count(self._claim(state.claim_id))
            if slot < 0:
                sid = self._speaker()
                line += 1
                yield self._count(self._rerating(sid, moment))
                continue
            state = states[slot]
            if not state.registered:
                state.registered = True
                line += 1
                self.claim_lines[state.claim_id] = line
                yield self._count(self._claim(state.claim_id))
            state.remaining -= 1
            sid = self._speaker()
            line += 1
            yield self._count(self._statement(state, sid, moment))
        for state in silent:
            line += 1
            self.claim_lines[state.claim_id] = line
            yield self._count(self._claim(state.claim_id))

    def write(self, path: Path | str) -> int:
        """Write the records as NDJSON to ``path``; returns how many lines were written."""
        count = 0
        with open(path, "w", encoding="utf-8") as out:
            for record in self.records():
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        return count

    def _speaker(self) -> str:
        return self._rng.choices(self.source_ids, cum_weights=self._source_cum)[0]

    def _count(self, record: dict[str, Any]) -> dict[str, Any]:
        self.counts[record["type"]] += 1
        return record

    # -- one record of each kind -----------------------------------------------------

    def _uuid(self) -> str:
        return str(UUID(int=self._rng.getrandbits(128), version=4))

    def _words(self, length: int) -> str:
        start = self._text.index(" ", self._rng.randrange(0, len(self._text) - length - 64)) + 1
        words = self._text[start : start + max(length, 8)]
        return words.strip().capitalize() or "Reported."

    def _padded(self, record: dict[str, Any], text_field: str) -> dict[str, Any]:
        """``record`` with ``text_field`` words filling the line to about ``LINE_BYTES``."""
        base = len(json.dumps(record)) + len(text_field) + 6
        record[text_field] = self._words(max(16, LINE_BYTES - base))
        return record

    def _source(self, sid: str) -> dict[str, Any]:
        rng = self._rng
        return {
            "event_id": self._uuid(),
            "type": "source_registered",
            "source": sid,
            "name": f"Source {sid[4:]} ({rng.choice(ROLES)})",
            "role": rng.choice(ROLES),
            "affiliation": rng.choice(AFFILIATIONS),
            "reliability": rng.choice("ABCDEF"),
        }

    def _claim(self, cid: str) -> dict[str, Any]:
        rng = self._rng
        parties = rng.sample(AFFILIATIONS, 2)
        beneficiary = rng.choice([a for a in AFFILIATIONS if a not in parties])
        topic = rng.choice(TOPICS)
        record = {
            "event_id": self._uuid(),
            "type": "claim_registered",
            "claim_id": cid,
            "tags": sorted(rng.sample(TAGS, rng.randint(1, 3))),
            "parties": parties,
            "beneficiaries": [beneficiary],
            "text": "",
        }
        base = len(json.dumps(record))
        head = f"Reports of {topic} near {rng.choice(PLACES)} ({cid}): "
        record["text"] = head + self._words(max(16, LINE_BYTES - base - len(head)))
        return record

    def _rerating(self, sid: str, at: datetime) -> dict[str, Any]:
        record = {
            "event_id": self._uuid(),
            "type": "source_rerated",
            "source": sid,
            "reliability": self._rng.choice("ABCDEF"),
            "occurred_at": _stamp(at),
        }
        return self._padded(record, "note")

    def _statement(self, state: _ClaimState, sid: str, at: datetime) -> dict[str, Any]:
        rng = self._rng
        common = {"event_id": self._uuid(), "claim_id": state.claim_id}
        record: dict[str, Any]
        if state.resolve and state.remaining == 0:
            record = {
                **common,
                "type": "resolved",
                "source": sid,
                "occurred_at": _stamp(at),
                "outcome": rng.choice(OUTCOMES),
            }
            return self._padded(record, "basis")
        kind: str = rng.choices(
            (
                StatementType.ASSERTED,
                StatementType.DENIED,
                StatementType.ASSESSED,
                StatementType.RETRACTED,
                StatementType.CORRECTED,
            ),
            (40, 22, 24, 7, 7),
        )[0]
        if kind == "retracted":
            target = _pick(rng, state.said, lambda s: not s.retracted)
            if target is not None:
                target.retracted = True
                when = min(END, target.at + timedelta(days=rng.randint(0, 60)))
                record = {
                    **common,
                    "type": "retracted",
                    "source": target.source,
                    "occurred_at": _stamp(max(when, target.at)),
                    "supersedes": target.event_id,
                }
                return self._padded(record, "quote")
            kind = "asserted"
        if kind == "corrected":
            target = _pick(rng, state.said, lambda s: True)
            if target is not None:
                record = {
                    **common,
                    "type": "corrected",
                    "source": target.source,
                    "occurred_at": _stamp(target.at),
                    "supersedes": target.event_id,
                }
                if target.type == "assessed":
                    record["likelihood"] = round(rng.uniform(0.02, 0.98), 2)
                    return self._padded(record, "note")
                if rng.random() < 0.2:
                    target.type = "denied" if target.type == "asserted" else "asserted"
                    record["corrected_type"] = target.type
                return self._padded(record, "summary")
            kind = "asserted"
        record = {**common, "type": kind, "source": sid, "occurred_at": _stamp(at)}
        if rng.random() < 0.3:
            record["reference"] = f"https://example.org/reports/{rng.randrange(10**6)}"
        if kind == "assessed":
            record["likelihood"] = (
                rng.choice(LIKELIHOOD_WORDS)
                if rng.random() < 0.5
                else round(rng.uniform(0.02, 0.98), 2)
            )
            if rng.random() < 0.5:
                record["confidence"] = rng.choice(CONFIDENCE_LEVELS)
        state.said.append(_Said(common["event_id"], sid, kind, at))
        return self._padded(record, "quote" if rng.random() < 0.5 else "summary")


def _pick(rng: random.Random, said: list[_Said], ok: Callable[[_Said], bool]) -> _Said | None:
    """A random earlier statement on the claim that ``ok`` accepts (a few tries)."""
    for _ in range(4):
        if not said:
            return None
        candidate = said[rng.randrange(len(said))]
        if ok(candidate):
            return candidate
    return None


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(path: Path | str, events: int, seed: int = 1) -> SyntheticLedger:
    """Write a synthetic ledger of ``events`` records to ``path``; returns its description."""
    ledger = SyntheticLedger(events, seed)
    ledger.write(path)
    return ledger
