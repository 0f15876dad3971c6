"""When a watch fires (ledger.watches.fires), and what a condition and a scope accept."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.errors import InvalidInput
from ledger.watches import Condition, delivery_id, fires, in_scope, parse_scope


def change(before: float, after: float, *, kind: str = "assessed", source: str = "nis",
           at: str = "2026-01-01T12:00:00Z", bands: tuple[str, str] | None = None
           ) -> dict[str, Any]:
    b, a = bands or ("likely", "likely")
    return {"type": kind, "source": source, "recorded_at": at,
            "before": {"probability": before, "band": b},
            "after": {"probability": after, "band": a}}


def test_a_band_condition_fires_on_a_change_of_band_or_into_one_band() -> None:
    into = Condition.parse({"kind": "band", "band": "almost certain"})
    anyway = Condition.parse({"kind": "band"})
    up = change(0.84, 0.97, bands=("very likely", "almost certain"))
    down = change(0.97, 0.84, bands=("almost certain", "very likely"))
    same = change(0.81, 0.84, bands=("very likely", "very likely"))
    assert fires(into, up, []) and not fires(into, down, []) and not fires(into, same, [])
    assert fires(anyway, up, []) and fires(anyway, down, []) and not fires(anyway, same, [])


@pytest.mark.parametrize(("direction", "up", "down"),
                         [("up", True, False), ("down", False, True), ("either", True, True)])
def test_a_threshold_fires_when_crossed_in_its_direction(
    direction: str, up: bool, down: bool
) -> None:
    condition = Condition.parse({"kind": "threshold", "threshold": 0.8, "direction": direction})
    assert fires(condition, change(0.7, 0.8), []) is up  # reaching the line crosses it
    assert fires(condition, change(0.8, 0.79), []) is down
    assert not fires(condition, change(0.81, 0.9), [])
    assert not fires(condition, change(0.5, 0.6), [])


def test_a_move_counts_from_the_start_of_its_window() -> None:
    condition = Condition.parse({"kind": "move", "points": 20, "window_seconds": 3600})
    earlier = [change(0.50, 0.55, at="2026-01-01T10:00:00Z"),  # before the window
               change(0.55, 0.62, at="2026-01-01T11:30:00Z")]  # in it: the start is 0.55
    assert fires(condition, change(0.62, 0.76, at="2026-01-01T12:00:00Z"), earlier)
    assert not fires(condition, change(0.62, 0.70, at="2026-01-01T12:00:00Z"), earlier)
    # Already moved 20 points before this change: it fired then, not again.
    assert not fires(condition, change(0.76, 0.80, at="2026-01-01T12:00:00Z"),
                     [*earlier, change(0.62, 0.76, at="2026-01-01T11:50:00Z")])
    assert fires(condition, change(0.55, 0.30, at="2026-01-01T12:00:00Z"), earlier[:1])


def test_new_source_and_resolution() -> None:
    new = Condition.parse({"kind": "new_source"})
    said = [change(0.5, 0.6, kind="asserted", source="zelensky")]
    assert fires(new, change(0.6, 0.4, kind="denied", source="peskov"), said)
    assert not fires(new, change(0.6, 0.7, kind="asserted", source="zelensky"), said)
    resolved = Condition.parse({"kind": "resolved"})
    assert fires(resolved, change(0.6, 0.99, kind="resolved"), said)
    assert not fires(resolved, change(0.6, 0.7), said)


@pytest.mark.parametrize(("data", "field"), [
    (None, "condition"),
    ({"kind": "sudden"}, "condition.kind"),
    ({"kind": "band", "band": "sure"}, "condition.band"),
    ({"kind": "band", "threshold": 0.5}, "condition.threshold"),
    ({"kind": "threshold"}, "condition.threshold"),
    ({"kind": "threshold", "threshold": 1.5}, "condition.threshold"),
    ({"kind": "threshold", "threshold": True}, "condition.threshold"),
    ({"kind": "threshold", "threshold": 0.5, "direction": "sideways"}, "condition.direction"),
    ({"kind": "move", "points": 10}, "condition.window_seconds"),
    ({"kind": "move", "points": 0, "window_seconds": 60}, "condition.points"),
])
def test_a_bad_condition_names_its_field(data: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Condition.parse(data)
    assert refused.value.field == field


def test_scopes() -> None:
    claim = {"id": "troops", "text": "North Korea sends troops to Russia", "tags": ["nk"],
             "parties": ["RU", "KP"]}
    assert in_scope(parse_scope({"claim": "troops"}), claim)
    assert not in_scope(parse_scope({"claim": "arms"}), claim)
    assert in_scope(parse_scope({"tag": "nk", "party": "kp", "text": "TROOPS"}), claim)
    assert not in_scope(parse_scope({"tag": "nk", "party": "UA"}), claim)
    for bad, field in (({}, "scope"), ({"colour": "red"}, "scope.colour"),
                       ({"claim": "troops", "tag": "nk"}, "scope"), ({"tag": ""}, "scope.tag")):
        with pytest.raises(InvalidInput) as refused:
            parse_scope(bad)
        assert refused.value.field == field


def test_a_delivery_id_is_the_same_for_the_same_watch_and_position() -> None:
    assert delivery_id("w1", 7) == delivery_id("w1", 7)
    assert len({delivery_id("w1", 7), delivery_id("w1", 8), delivery_id("w2", 7)}) == 3
