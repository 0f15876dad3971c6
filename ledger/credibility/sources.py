"""Sources as the engine hears them: each one's ratings over both times, and the book of
every source the projection has met.

``SourceData`` holds a source's ratings as recorded (the one given at registration has no
valid time and is in force from before any other); ``standing`` answers the rating in
force at a valid time as known at a recording time. ``SourceBook`` indexes every rating of
every source by valid time, so a sweep finds the re-ratings in a stretch with one bisection.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ledger.answers import JSON
from ledger.credibility.values import Changes, SourceStanding


@dataclass(frozen=True)
class Recorded:
    """One stored source rating with where and when the ledger recorded it."""

    record: JSON
    position: int
    recorded_at: int  # microseconds since the epoch


@dataclass
class SourceData:
    source_id: str
    name: str
    role: str | None
    affiliation: str | None
    ratings: list[Recorded] = field(default_factory=list)
    #: Every affiliation code, the main one (``affiliation``) first; empty: that one alone.
    affiliations: tuple[str, ...] = ()

    def standing(self, as_of: datetime, known_at: int) -> SourceStanding:
        """The rating in force at ``as_of`` among those recorded by ``known_at``."""
        grade = self.grade(as_of, known_at)
        return self.standing_at(grade)

    def standing_at(self, grade: str) -> SourceStanding:
        """The source as heard at reliability ``grade``."""
        return SourceStanding(
            self.source_id, self.name, self.affiliation, grade, self.affiliations
        )

    def grade(self, as_of: datetime, known_at: int) -> str:
        """The reliability grade in force at ``as_of`` among those recorded by ``known_at``."""
        index = self._index()
        if known_at >= index.recorded_to:  # every rating counts: one bisection
            at = bisect.bisect_right(index.keys, (1, as_of, _NO_VERSION))
            return index.grades[at - 1] if at else "F"
        best: tuple[datetime | None, int] | None = None
        grade = "F"
        for rated in self.ratings:
            r = rated.record
            if rated.recorded_at > known_at or (r["occurred_at"] and r["occurred_at"] > as_of):
                continue
            key = (r["occurred_at"], r["version"])
            if best is None or _later(key, best):
                best, grade = key, r["reliability"]
        return str(grade)


    def rated_between(
        self, since: datetime, until: datetime | None, known_at: int
    ) -> list[datetime]:
        """The valid times in [``since``, ``until``) of the ratings recorded by ``known_at``
        (not the registration's, which has none)."""
        index = self._index()
        if known_at >= index.recorded_to:
            first = bisect.bisect_left(index.keys, (1, since, -1))
            last = len(index.keys) if until is None else bisect.bisect_left(
                index.keys, (1, until, -1)
            )
            return [key[1] for key in index.keys[first:last]]
        return [
            at
            for rated in self.ratings
            if (at := rated.record["occurred_at"]) is not None
            and since <= at
            and (until is None or at < until)
            and rated.recorded_at <= known_at
        ]

    def _index(self) -> _RatingIndex:
        """The ratings sorted by when they come into force; remade when one is added."""
        index = self.__dict__.get("_rating_index")
        if index is None or index.count != len(self.ratings):
            index = _RatingIndex(self.ratings)
            self.__dict__["_rating_index"] = index
        return index


#: Sorts after every version (versions are positive integers).
_NO_VERSION = 2**63


class _RatingIndex:
    """A source's ratings in the order ``_later`` puts them: (0, registration, version)
    before (1, occurred_at, version); with their grades, for bisection."""

    def __init__(self, ratings: list[Recorded]) -> None:
        self.count = len(ratings)
        self.recorded_to = max((r.recorded_at for r in ratings), default=0)
        ordered = sorted(
            (
                (0, EPOCH, r.record["version"]) if r.record["occurred_at"] is None
                else (1, r.record["occurred_at"], r.record["version"]),
                str(r.record["reliability"]),
            )
            for r in ratings
        )
        self.keys = [key for key, _ in ordered]
        self.grades = [grade for _, grade in ordered]


EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def _later(a: tuple[datetime | None, int], b: tuple[datetime | None, int]) -> bool:
    # A rating with no occurred_at (the one given at registration) precedes all others.
    if a[0] is None or b[0] is None:
        return (a[0] is not None) or (a[0] is None and b[0] is None and a[1] > b[1])
    return a > b


class SourceBook(dict[str, SourceData]):
    """The sources the projection has met, by id, with the valid time of every rating of
    every source in one sorted list, so the ratings that fall in a stretch of valid time
    are found with one bisection, not one per source a claim cites.

    Sources go in with ``book[source_id] = data`` and ratings with ``add_rating``;
    ``revision`` counts both, so what was weighed against the book can tell it is stale,
    and ``changed_since`` which sources changed.
    """

    def __init__(self) -> None:
        super().__init__()
        self._rated: list[tuple[datetime, str]] = []
        #: The latest recording time of any rating in the book (microseconds).
        self.recorded_to = 0
        self.changes = Changes()

    @property
    def revision(self) -> int:
        return self.changes.revision

    def changed_since(self, revision: int) -> set[str] | None:
        """The sources added or re-rated after ``revision`` (None: not known)."""
        return self.changes.since(revision)

    def __setitem__(self, source_id: str, source: SourceData) -> None:
        if source_id in self:
            self._rated = [entry for entry in self._rated if entry[1] != source_id]
        super().__setitem__(source_id, source)
        for recorded in source.ratings:
            self._index(source_id, recorded)
        self.changes.note(source_id)

    def add_rating(self, source_id: str, recorded: Recorded) -> None:
        """Append a rating to a source in the book."""
        self[source_id].ratings.append(recorded)
        self._index(source_id, recorded)
        self.changes.note(source_id)

    def _index(self, source_id: str, recorded: Recorded) -> None:
        self.recorded_to = max(self.recorded_to, recorded.recorded_at)
        at = recorded.record["occurred_at"]
        if at is not None:  # a registration's rating has no valid time: in force from before
            bisect.insort(self._rated, (at, source_id))

    def clear(self) -> None:
        super().clear()
        self._rated.clear()
        self.recorded_to = 0
        self.changes.note(None)

    def span(self, since: datetime, until: datetime | None) -> tuple[int, int]:
        """Where the ratings in [``since``, ``until``) lie in the book (``rated``)."""
        first = bisect.bisect_left(self._rated, (since,))
        last = len(self._rated) if until is None else bisect.bisect_left(self._rated, (until,))
        return first, last

    def rated(self, first: int, last: int) -> list[tuple[datetime, str]]:
        """(valid time, source id) of the ratings ``span`` found, in valid-time order."""
        return self._rated[first:last]
