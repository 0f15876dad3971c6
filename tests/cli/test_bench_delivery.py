"""The live bench's delivery figures (``ledger_cli.bench.subscribers.figures``): a
subscriber is complete if it got every event the log read returned, once and in order; an
append still in flight when the log was read may reach it afterwards, and is not held
against it (that race made the live bench's test fail now and then)."""

from __future__ import annotations

from ledger_cli.bench.subscribers import Subscriber, figures


def _subscriber(claim: str | None, *chunks: list[int]) -> Subscriber:
    subscriber = Subscriber(claim, b"", lambda: None)
    for i, ids in enumerate(chunks):
        subscriber.arrivals.append(100.0 + i)
        subscriber.ids.append(list(ids))
    return subscriber


RECORDED = {5: (99.0, "a"), 6: (99.5, "b"), 7: (99.8, "a")}


def test_every_event_of_the_log_read_once_in_order_is_complete() -> None:
    found = figures([_subscriber(None, [5, 6], [7]), _subscriber("a", [5, 7])], RECORDED)
    assert found["complete"] == 2 and found["events"] == 3


def test_an_event_recorded_after_the_log_was_read_is_not_held_against_a_subscriber() -> None:
    found = figures([_subscriber(None, [5, 6], [7, 8]), _subscriber("a", [5], [7, 8])],
                    RECORDED)
    assert found["complete"] == 2


def test_a_missing_repeated_or_reordered_event_is_not_complete() -> None:
    found = figures([
        _subscriber(None, [5, 7]),          # 6 missing
        _subscriber(None, [5, 6], [6, 7]),  # 6 twice
        _subscriber(None, [6, 5], [7]),     # out of order
        _subscriber("a", [5]),              # 7 missing
    ], RECORDED)
    assert found["complete"] == 0
