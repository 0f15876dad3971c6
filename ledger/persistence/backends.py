"""What differs between the stores beyond the library's recorders, in one place per backend.

The ledger asks a store's ``Backend`` (``backend_of``) rather than sniffing its datastore:

- ``placeholder`` and ``qualified``: how SQL names a table and marks a parameter (the
  snapshot pruning of ``ledger.store``, the snapshot listing of ``ledger.integrity``);
- ``uuid``: how a stream id is passed as a parameter;
- ``notifies``: whether the library can subscribe to the log (PostgreSQL's LISTEN/NOTIFY),
  so the projector and the log hub wake on other processes' writes instead of polling;
- ``try_lock``: a lock per store and name held by one process at a time and let go when it
  dies (``ledger.locks.StoreLock``): a file lock beside the SQLite file, an advisory lock on
  a PostgreSQL session of its own, nothing to take in memory.

``ledger.persistence.sqlite`` and ``ledger.persistence.postgres`` each define theirs
(``BACKEND``), so a new backend is its recorder module with its ``Backend``; the in-memory
store's is here. ``backend_of`` imports only the backend of the store it is given.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID


class Lock(Protocol):
    """A held lock: closing it lets it go (a file, a database session)."""

    def close(self) -> None: ...


class Backend(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def sql(self) -> bool:
        """Whether it holds SQL tables (``placeholder`` and ``qualified`` mean something)."""
        ...

    @property
    def placeholder(self) -> str: ...

    @property
    def notifies(self) -> bool: ...

    def qualified(self, datastore: Any, table: str) -> str:
        """``table`` as SQL names it in ``datastore`` (with its schema, where it has one)."""
        ...

    def uuid(self, value: UUID) -> Any:
        """A stream id as a parameter of a statement."""
        ...

    def try_lock(self, datastore: Any, name: str, file: str) -> Lock | bool:
        """Take the store's lock ``name`` if no process holds it (never waits): the held
        lock, or False. ``file``: the lock file's suffix, where locks are files."""
        ...


@dataclass(frozen=True)
class _Memory:
    """The in-memory store: one process, nothing in SQL, nothing to subscribe to."""

    name: str = "memory"
    sql: bool = False
    placeholder: str = ""
    notifies: bool = False

    def qualified(self, datastore: Any, table: str) -> str:
        raise TypeError("the in-memory store holds no SQL tables")

    def uuid(self, value: UUID) -> Any:
        return value

    def try_lock(self, datastore: Any, name: str, file: str) -> Lock | bool:
        return True  # one process: the lock is always this one's


MEMORY: Backend = _Memory()

#: The module defining ``BACKEND`` for each library datastore module.
_MODULES = {
    "eventsourcing.sqlite": "ledger.persistence.sqlite",
    "eventsourcing.postgres": "ledger.persistence.postgres",
}


def backend_of(recorder: Any) -> Backend:
    """The backend of a recorder (ours or the library's) or of a datastore."""
    datastore = getattr(recorder, "datastore", recorder)
    if getattr(datastore, "pool", None) is None:
        return MEMORY
    for module in type(datastore).__mro__:
        found = _MODULES.get(module.__module__)
        if found is not None:
            backend: Backend = importlib.import_module(found).BACKEND
            return backend
    raise TypeError(f"no ledger backend for the datastore {type(datastore).__qualname__}")
