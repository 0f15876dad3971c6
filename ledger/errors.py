"""The ledger's exceptions.

Every error the ledger raises on purpose is a ``LedgerError``; the HTTP layer maps each
branch of this tree to one status code in one place, and the CLI to one exit code::

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
    └── StoreUnavailable              the event store cannot be reached
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
    title = "Event store unavailable"
