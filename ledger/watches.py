"""Watches: conditions on claims' credibility, stored as events, and when they fire.

A ``Watch`` is an aggregate of its own stream (created, paused, resumed, deleted; each
notification it owes and each attempt to deliver one), stored beside the ledger in the
library's aggregate recorder ``watches`` of the same store: every change says who made it
and when, and nothing is lost on a restart. ``WatchBook`` is one stream naming every watch.

A watch's ``condition`` is one of ``CONDITION_KINDS``; its ``scope`` is one claim, or the
claims with a tag, a party or a word of text. ``fires`` decides, from one credibility change
(an entry of the claim's audit) and the claim's changes before it, whether a watch fires:
it is a pure function, the one rule the dispatcher and the streams share.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from ledger.errors import InvalidInput
from ledger.likelihood import ICD203_TERMS
from ledger.statements import STATEMENT_TYPES
from ledger.times import parse_instant

JSON = dict[str, Any]
CONDITION_KINDS = ("band", "threshold", "move", "new_source", "resolved")
DIRECTIONS = ("up", "down", "either")
SCOPE_FIELDS = ("claim", "tag", "party", "text")
_NAMESPACE = UUID("6a0d3f57-2f4e-5c0b-8f3a-3d1e6b2c9a41")
MAX_URL = 2048


def watch_uuid(watch_id: str) -> UUID:
    return uuid5(_NAMESPACE, f"watch:{watch_id}")


BOOK_ID = uuid5(_NAMESPACE, "watch-book")


@dataclass(frozen=True)
class Condition:
    """What makes a watch fire: ``kind`` and the fields that kind takes."""

    kind: str
    band: str | None = None  # band: into this band (None: any change of band)
    threshold: float | None = None  # threshold: the probability crossing it
    direction: str = "either"  # threshold: up, down or either
    points: float | None = None  # move: by at least this many percentage points
    window: timedelta | None = None  # move: within this time (recording time)

    @classmethod
    def parse(cls, data: Any) -> Condition:
        if not isinstance(data, Mapping):
            raise InvalidInput("condition", "must be an object with a kind")
        kind = data.get("kind")
        if kind not in CONDITION_KINDS:
            raise InvalidInput("condition.kind", f"must be one of {', '.join(CONDITION_KINDS)}")
        allowed = {"kind", *{"band": ["band"], "threshold": ["threshold", "direction"],
                             "move": ["points", "window_seconds"]}.get(kind, [])}
        for name in data:
            if name not in allowed:
                raise InvalidInput(f"condition.{name}", f"is not a field of a {kind} condition")
        if kind == "band":
            band = data.get("band")
            if band is not None and band not in ICD203_TERMS:
                raise InvalidInput("condition.band", f"must be one of {', '.join(ICD203_TERMS)}")
            return cls(kind, band=band)
        if kind == "threshold":
            value = _number(data.get("threshold"), "condition.threshold", 0, 1)
            direction = data.get("direction", "either")
            if direction not in DIRECTIONS:
                raise InvalidInput("condition.direction", f"must be one of {', '.join(DIRECTIONS)}")
            return cls(kind, threshold=value, direction=direction)
        if kind == "move":
            points = _number(data.get("points"), "condition.points", 0, 100)
            seconds = _number(data.get("window_seconds"), "condition.window_seconds", 0, 10**9)
            return cls(kind, points=points, window=timedelta(seconds=seconds))
        return cls(kind)

    def as_json(self) -> JSON:
        shown: JSON = {"kind": self.kind}
        if self.kind == "band" and self.band is not None:
            shown["band"] = self.band
        if self.kind == "threshold":
            shown.update(threshold=self.threshold, direction=self.direction)
        if self.kind == "move" and self.window is not None:
            shown.update(points=self.points, window_seconds=self.window.total_seconds())
        return shown


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low < value < high:
        raise InvalidInput(field, f"must be a number between {low} and {high} (exclusive)")
    return float(value)


def parse_scope(data: Any) -> JSON:
    """One claim (``claim``), or a filter of claims: ``tag``, ``party``, ``text`` (words)."""
    if not isinstance(data, Mapping) or not data:
        raise InvalidInput("scope", "must name a claim, or a tag, party or text to match")
    scope: JSON = {}
    for name, value in data.items():
        if name not in SCOPE_FIELDS:
            raise InvalidInput(f"scope.{name}", f"must be one of {', '.join(SCOPE_FIELDS)}")
        if not isinstance(value, str) or not 0 < len(value) <= 256:
            raise InvalidInput(f"scope.{name}", "must be a string of 1-256 characters")
        scope[name] = value
    if "claim" in scope and len(scope) > 1:
        raise InvalidInput("scope", "a claim, or a filter (tag, party, text): not both")
    return scope


def in_scope(scope: Mapping[str, str], claim: Mapping[str, Any]) -> bool:
    """Whether ``claim`` (its id, text, tags and parties) is one ``scope`` covers."""
    if "claim" in scope:
        return bool(scope["claim"] == claim["id"])
    return (
        ("tag" not in scope or scope["tag"] in claim.get("tags", []))
        and ("party" not in scope or scope["party"].upper()
             in [p.upper() for p in claim.get("parties", [])])
        and ("text" not in scope or scope["text"].casefold() in str(claim["text"]).casefold())
    )


def fires(condition: Condition, change: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]]
          ) -> bool:
    """Whether a credibility ``change`` (an audit entry: type, source, before, after,
    recorded_at) fires ``condition``, given the claim's ``earlier`` entries."""
    before, after = change["before"], change["after"]
    if condition.kind == "band":
        return bool(before["band"] != after["band"]
                    and (condition.band is None or after["band"] == condition.band))
    if condition.kind == "threshold":
        assert condition.threshold is not None
        line = condition.threshold
        was, now = float(before["probability"]), float(after["probability"])
        up, down = was < line <= now, was >= line > now
        return {"up": up, "down": down, "either": up or down}[condition.direction]
    if condition.kind == "move":
        assert condition.window is not None and condition.points is not None
        start = _probability_at(change, earlier, condition.window)
        need = condition.points / 100
        moved = abs(float(after["probability"]) - start)
        return moved >= need > abs(float(before["probability"]) - start)
    if condition.kind == "new_source":
        return change["type"] in STATEMENT_TYPES and all(
            e["source"] != change["source"] for e in earlier if e["type"] in STATEMENT_TYPES)
    return bool(change["type"] == "resolved")


def _probability_at(
    change: Mapping[str, Any], earlier: Sequence[Mapping[str, Any]], window: timedelta
) -> float:
    """The probability at the start of the window that ends with ``change``."""
    start = parse_instant("recorded_at", change["recorded_at"]) - window
    probability = float(change["before"]["probability"])
    for entry in reversed(earlier):
        if parse_instant("recorded_at", entry["recorded_at"]) <= start:
            break
        probability = float(entry["before"]["probability"])
    return probability


def delivery_id(watch_id: str, position: int, claim_id: str | None = None) -> str:
    """The same notification always has the same id: receivers de-duplicate on it. An event
    of one claim is named by its position; a source's re-rating, which may move several
    claims in the watch's scope, by its position and the claim."""
    key = f"{watch_id}:{position}" if claim_id is None else f"{watch_id}:{position}:{claim_id}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class WatchBook(Aggregate):
    """Every watch's id, in the order they were set."""

    @staticmethod
    def create_id() -> UUID:
        return BOOK_ID

    @event("Opened")
    def __init__(self) -> None:
        self.watch_ids: list[str] = []

    @event("Added")
    def add(self, watch_id: str) -> None:
        self.watch_ids.append(watch_id)


class Watch(Aggregate):
    """A condition on claims, who set it, its state, and the notifications it owes."""

    @staticmethod
    def create_id(watch_id: str, **_: Any) -> UUID:
        return watch_uuid(watch_id)

    @event("Created")
    def __init__(self, watch_id: str, condition: JSON, scope: JSON, url: str | None,
                 secret: str, actor: str, after: int, created_at: str) -> None:
        self.watch_id, self.condition, self.scope = watch_id, condition, scope
        self.url, self.secret, self.actor = url, secret, actor
        self.after, self.created_at = after, created_at  # fires on events after this position
        self.status = "active"
        self.history: list[JSON] = [{"action": "created", "actor": actor, "at": created_at}]
        self.deliveries: dict[str, JSON] = {}
        self.scanned = after

    @event("StatusChanged")
    def set_status(self, status: str, actor: str, at: str) -> None:
        self.status = status
        self.history.append({"action": status, "actor": actor, "at": at})

    @event("Notified")
    def notify(self, delivery: JSON) -> None:
        self.deliveries[delivery["delivery_id"]] = {
            **delivery, "status": "pending" if self.url else "stream-only", "attempts": 0,
            "last_error": None, "last_status": None, "next_attempt_at": delivery["created_at"],
        }
        self.scanned = max(self.scanned, int(delivery["position"]))

    @event("Scanned")
    def scan(self, position: int) -> None:
        self.scanned = max(self.scanned, position)

    @event("Attempted")
    def attempted(self, delivery_id: str, at: str, status: str, http_status: int | None,
                  error: str | None, next_attempt_at: str | None) -> None:
        delivery = self.deliveries[delivery_id]
        delivery.update(status=status, attempts=delivery["attempts"] + 1, last_attempt_at=at,
                        last_status=http_status, last_error=error,
                        next_attempt_at=next_attempt_at)

    def view(self) -> JSON:
        return {
            "id": self.watch_id, "condition": self.condition, "scope": self.scope,
            "url": self.url, "status": self.status, "actor": self.actor,
            "created_at": self.created_at, "after": self.after, "history": self.history,
        }
