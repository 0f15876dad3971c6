"""A read's wait for the projection: it ends as soon as the projection's pace says it cannot
reach the position asked for in time, not only at the deadline (``views.waited_for``).

The clock and the sleep are the test's own, so each case is exact whatever the machine does.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.projection import views


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(views.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(views.time, "sleep", fake.sleep)
    return fake


def moving(clock: Clock, start: int, per_second: float) -> Callable[[], int]:
    """A projection at ``start`` that projects ``per_second`` events a second."""
    return lambda: start + int(clock.now * per_second)


def test_a_projection_already_there_is_not_waited_for(clock: Clock) -> None:
    assert views.waited_for(lambda: 10, 10, timeout=2.0)
    assert clock.now == 0.0


def test_a_projection_that_gets_there_in_time_is_waited_for(clock: Clock) -> None:
    # 100 events behind at 1,000 a second: there within 0.1 s, before any judging of pace.
    assert views.waited_for(moving(clock, 0, 1000), 100, timeout=2.0)
    assert clock.now < 0.2
    # 1,500 behind at 1,000 a second: its pace at 0.5 s says it makes it, so the wait goes on.
    assert views.waited_for(moving(clock, 0, 1000), 1500 + int(clock.now * 1000), timeout=2.0)


def test_a_projection_that_does_not_move_is_given_up_on_after_the_pace_check(
    clock: Clock,
) -> None:
    assert not views.waited_for(lambda: 5, 6, timeout=2.0)
    assert views.PACE_AFTER <= clock.now < views.PACE_AFTER + 0.1


def test_a_projection_too_slow_to_get_there_is_given_up_on_early(clock: Clock) -> None:
    # 100,000 events behind at 1,000 a second: 100 s at its pace, against 2 s of patience.
    assert not views.waited_for(moving(clock, 0, 1000), 100_000, timeout=2.0)
    assert clock.now < views.PACE_AFTER + 0.1


def test_without_a_pace_check_the_wait_ends_at_the_deadline(clock: Clock) -> None:
    assert not views.waited_for(lambda: 5, 6, timeout=2.0, pace_after=10.0)
    assert clock.now == pytest.approx(2.0)
