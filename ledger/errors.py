"""The ledger's exceptions.

Every error the ledger raises on purpose is a ``LedgerError``; the HTTP layer maps each
branch of this tree to one status code in one place (``api.errors``), and the CLI to one
exit code (``ledger_cli.session``)::

    LedgerError
    ├── NotFound                      the thing named does not exist (at known_at)
    │   ├── ClaimNotFound
    │   ├── SourceNotFound
    │   └── EventNotFound
    ├── InvalidInput                  the request is well-formed but breaks a rule;
    │   │                             names the field and the reason
    │   ├── InvalidTime               no zone, unparseable, or future occurred_at
    │   └── InvalidStatement          supersedes the wrong event, bad likelihood, ...
    ├── Conflict                      the ledger's state forbids the write
    │   ├── AlreadyExists             a claim or source id is taken
    │   └── VersionMismatch           If-Match did not match the claim's version
    ├── IdempotencyKeyReused          same Idempotency-Key, different request
    ├── StoreUnavailable              the event store cannot do the work now; retry
    ├── StoreFailed                   the event store refused the work; a retry will not help
    └── DamagedHistory                a claim's or source's stored events no longer match the
                                      hash-chained log (changed behind the service's back):
                                      not served; names the position ``verify`` reports

No exception of the ``eventsourcing`` library passes the ledger's boundary: every use case
(``ledger.reads``, ``ledger.writes``, ``ledger.export``, ``ledger.integrity``, the store's
``ping``) runs under ``ledger.store.store_errors``, which turns the library's persistence
errors (``eventsourcing.persistence``, named after PEP 249's) into these::

    OperationalError, InterfaceError   StoreUnavailable  the connection failed or the store
                                                         could not run the statement now
                                                         (down, locked, timed out)
    InternalError                      StoreUnavailable  the store lost track of a
                                                         transaction or cursor: transient
    IntegrityError                     Conflict          another writer stored the same
                                                         records first and the write's own
                                                         retries (``ledger.idempotency``)
                                                         gave up, or an import raced one
    DataError                          StoreFailed       the store cannot hold a value the
                                                         ledger's checks let through: a gap
                                                         in those checks, not the caller's
    ProgrammingError                   StoreFailed       a table missing, SQL the store
                                                         does not take, no privilege: the
                                                         deployment or the ledger is at fault
    NotSupportedError                  StoreFailed       the store lacks a feature the
                                                         ledger needs
    DatabaseError, PersistenceError    StoreFailed       any other failure of the store
    (any other subclass)

A ``StoreFailed`` kind is ``StoreUnavailable`` instead when the store then answers no query
at all (a connection cut mid-statement can surface as a ``ProgrammingError``).

So the faces never import the library: a ``StoreUnavailable`` is HTTP 503 with
``Retry-After`` (exit code 4), a ``StoreFailed`` HTTP 500 whose detail is logged, not sent
(exit code 1), a ``DamagedHistory`` HTTP 500 that says which claim or source and where
(exit code 1).
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error the ledger raises on purpose."""

    title = "Ledger error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(LedgerError):
    title = "Not found"


class ClaimNotFound(NotFound):
    title = "Claim not found"


class SourceNotFound(NotFound):
    title = "Source not found"


class EventNotFound(NotFound):
    title = "Event not found"


class InvalidInput(LedgerError):
    """A value breaks a rule. ``field`` is its dotted location in the input."""

    title = "Invalid input"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidTime(InvalidInput):
    title = "Invalid time"


class InvalidStatement(InvalidInput):
    title = "Invalid statement"


class Conflict(LedgerError):
    title = "Conflict"


class AlreadyExists(Conflict):
    title = "Already exists"


class VersionMismatch(Conflict):
    title = "Version mismatch"

    def __init__(self, claim_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"claim {claim_id!r} is at version {actual}, not {expected}: "
            "re-read it and retry with the current version"
        )
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(LedgerError):
    title = "Idempotency key reused"


class StoreUnavailable(LedgerError):
    """The event store cannot do the work now (unreachable, locked, timed out): retry."""

    title = "Event store unavailable"


class ClockBehind(StoreUnavailable):
    """The log's last recording time is further ahead of this server's clock than a write
    may be stamped (``ledger.persistence.chain.stamp``): nothing is written until the
    clock catches up, or the log's time is put right (``verify`` names a moved one)."""

    title = "Clock behind the log"


class ProjectionBehind(StoreUnavailable):
    """A list of a large ledger was asked for while its credibility projection has projected
    nothing yet (a store loaded but never rebuilt, or a projection being built): answering
    it would replay every claim. One claim's routes answer; lists do once the projection
    has projected the first page of the log."""

    title = "Projection being built"


class StoreFailed(LedgerError):
    """The event store refused the work for a reason a retry will not mend (a missing
    table, a value it cannot hold, a feature it lacks): the deployment's fault or the
    ledger's, never the caller's. ``detail`` names the library's error, for the operator."""

    title = "Event store failed"


class DamagedHistory(LedgerError):
    """The stored events of one claim or source no longer match the hash-chained log: an
    event row was deleted, moved or made unreadable behind the service's back. What they
    would say cannot be trusted, so it is not served; the rest of the ledger still is.

    ``subject`` names the claim or source (``claim 'x'``), ``position`` is the position in
    the global log where ``verify`` finds the damage, ``reason`` what is wrong there (in
    ``verify``'s words)."""

    title = "Damaged history"

    def __init__(self, subject: str, position: int, reason: str) -> None:
        super().__init__(
            f"{subject} cannot be served: its stored history is damaged at position "
            f"{position} ({reason}); GET /verify (or claims-ledger verify) checks the whole "
            "log; restore the store from a backup"
        )
        self.subject = subject
        self.position = position
        self.reason = reason
