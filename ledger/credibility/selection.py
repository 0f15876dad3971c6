"""The one rule every model version shares: which statements count, and when.

Statements are taken in valid-time order (``occurred_at``; ties broken by recording order,
law 3); a source may withdraw its own statements (a retraction, from its ``occurred_at``
on); only each source's latest position not withdrawn counts; the latest resolution not
withdrawn overrides the pool. Every reader (a point answer, the incremental evaluator, the
track records) asks this module, so the rule is written once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from ledger.credibility.values import (
    InvalidEvidence,
    SourceStanding,
    key_of,
    unregistered,
    unweighable,
)
from ledger.statements import STANCE_TYPES, Statement, StatementType

_STANCES = frozenset(STANCE_TYPES)


class Canonical(list[Statement]):
    """Statements already as ``canonical`` makes them (each weighable, in valid-time order,
    no event id twice): ``canonical`` takes them as they are. A reader that keeps a
    claim's statements in this order (``replay.weighable``) makes it once, not per read."""


def canonical(evidence: Iterable[Statement]) -> list[Statement]:
    """The evidence checked and in valid-time order (ties: the later recorded is later)."""
    if isinstance(evidence, Canonical):
        return evidence
    evidence = list(evidence)
    for item in evidence:
        problem = unweighable(item)
        if problem:
            raise InvalidEvidence(f"event {item.event_id!r}: {problem}")
    items = sorted(evidence, key=key_of)
    if len({item.event_id for item in items}) < len(items):  # the order would not be total
        raise InvalidEvidence("an event_id appears more than once in the evidence")
    return items


def standings(
    sources: Mapping[str, SourceStanding], items: Sequence[Statement]
) -> dict[str, SourceStanding]:
    """Each speaker's standing, looked up once per speaker (a long claim repeats a few); a
    source missing from ``sources`` is heard as any unregistered one is."""
    return {
        speaker: sources.get(speaker) or unregistered(speaker)
        for speaker in {i.speaker: 0 for i in items}
    }


def retractions(
    items: Sequence[Statement], standings: Mapping[str, SourceStanding] | None = None,
    reasons: dict[str, str] | None = None,
) -> set[str]:
    """The event ids withdrawn by their own source's retraction in ``items`` (valid-time
    order); with ``standings``, every retraction and withdrawn event explained in
    ``reasons``."""
    by_id = {item.event_id: item for item in items}
    withdrawn: set[str] = set()
    for item in (item for item in items if item.type == StatementType.RETRACTED):
        target = by_id.get(item.supersedes or "")
        if target is None:
            reason = f"withdraws event {item.supersedes}, which is not in scope: ignored"
        elif target.speaker != item.speaker:
            name = "" if standings is None else standings[target.speaker].name
            reason = (
                f"cannot withdraw event {target.event_id}, a statement by"
                f" {name}: a source may withdraw only its own; ignored"
            )
        elif target.type == StatementType.RETRACTED:  # undoing an undo needs other rules
            reason = f"withdraws retraction {target.event_id}, which v1 cannot undo: ignored"
        elif target.event_id in withdrawn:
            reason = f"withdraws event {target.event_id}, already withdrawn earlier"
        else:
            withdrawn.add(target.event_id)
            reason = f"withdraws event {ref(target)}"
            if reasons is not None and standings is not None:
                reasons[target.event_id] = (
                    f"withdrawn by {standings[item.speaker].name} in event {ref(item)},"
                    " so it no longer counts"
                )
        if reasons is not None and standings is not None:
            reasons[item.event_id] = f"{speaker(standings[item.speaker])} {reason}"
    return withdrawn


def select(
    items: Sequence[Statement], withdrawn: Collection[str]
) -> tuple[dict[str, Statement], Statement | None, list[tuple[Statement, Statement]]]:
    """Each source's latest position, the latest resolution, and what they superseded."""
    latest: dict[str, Statement] = {}
    resolution: Statement | None = None
    superseded: list[tuple[Statement, Statement]] = []
    for item in reversed(items):  # latest first, by (occurred_at, position)
        if item.event_id in withdrawn or item.type == StatementType.RETRACTED:
            continue
        if item.type == StatementType.RESOLVED and resolution is None:
            resolution = item
        elif item.type == StatementType.RESOLVED:
            assert resolution is not None
            superseded.append((item, resolution))
        elif item.speaker not in latest:
            latest[item.speaker] = item
        else:
            superseded.append((item, latest[item.speaker]))
    return latest, resolution, superseded


def positions(evidence: Iterable[Statement]) -> dict[str, Statement]:
    """Each source's latest position (asserted, denied, assessed) not retracted by it."""
    items = sorted(evidence, key=key_of)
    latest, _, _ = select(items, retractions(items))
    return {speaker: item for speaker, item in latest.items() if item.type in _STANCES}


def resolution_of(statements: Iterable[Statement]) -> Statement | None:
    """The resolution in force: the latest ``resolved`` its own source has not retracted."""
    items = sorted(statements, key=key_of)
    return select(items, retractions(items))[1]


def first_support(
    items: Sequence[Statement], latest: Mapping[str, Statement], withdrawn: Collection[str]
) -> dict[str, datetime]:
    """When each source that asserts the claim now first said so: its earliest assertion in
    scope that it has not withdrawn (a source whose position now is a denial or an
    assessment has none)."""
    asserting = {
        speaker for speaker, item in latest.items() if item.type == StatementType.ASSERTED
    }
    first: dict[str, datetime] = {}
    for item in items:  # in valid-time order: the first seen is the earliest
        if (
            item.type == StatementType.ASSERTED  # a stance, and a report of the claim
            and item.source in asserting
            and item.source not in first
            and item.event_id not in withdrawn
        ):
            first[item.source] = item.at
    return first


def explain_superseded(
    superseded: Sequence[tuple[Statement, Statement]], reasons: dict[str, str]
) -> None:
    """The reason of every statement a later one superseded (``select``'s pairs)."""
    refs: dict[str, str] = {}  # many statements name the same later one
    for item, by in superseded:
        found = refs.get(by.event_id)
        if found is None:
            found = refs[by.event_id] = ref(by)
        reasons[item.event_id] = (
            f"superseded by later resolution {found}"
            if item.type == StatementType.RESOLVED
            else f"superseded by this source's later statement {found}:"
            " only a source's latest position counts"
        )


def speaker(standing: SourceStanding) -> str:
    affiliation = standing.affiliation or "unaffiliated"
    return f"{standing.name} ({affiliation}, reliability {standing.reliability})"


def ref(item: Statement | None) -> str:
    return f"{item.event_id} of {item.at.astimezone(UTC):%Y-%m-%d}" if item else ""
