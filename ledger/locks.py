"""One process per store for a job: a named lock that dies with the process holding it.

On SQLite, a file lock (``flock``) on a file beside the store's file; on PostgreSQL, a
session advisory lock on a connection of its own, keyed by the store's schema and the
job's name (each backend's ``try_lock``, ``ledger.persistence.backends``). Either is
released when the holder releases it, closes it, or dies (the file is closed, the session
ends): another process that tries again then takes over. The in-memory store lives in one
process: its lock is always had.

The projector holds ``credibility`` (``ledger.projection.projector``); the webhook
dispatcher ``webhooks`` and the checkpoint schedule ``checkpoints``, so that under
``serve --workers N`` each runs in one process at a time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ledger.persistence.backends import backend_of
from ledger.store import LedgerApplication


class StoreLock:
    """The lock of one job (``name``) on one store; ``file`` names the SQLite lock file's
    suffix (default ``.<name>.lock``)."""

    def __init__(self, store: LedgerApplication, name: str, file: str | None = None) -> None:
        self.store = store
        self.name = name
        self.file = file or f".{name}.lock"
        self._held: Any = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._held is not None

    def acquire(self) -> bool:
        """Take the lock if it is free (never waits); whether this process holds it."""
        with self._mutex:
            if self._held is not None:
                return True
            recorder = self.store.recorder
            held = backend_of(recorder).try_lock(
                getattr(recorder, "datastore", None), self.name, self.file
            )
            if held is False:
                return False
            self._held = held
            return True

    def still_held(self) -> bool:
        """Whether the lock is still this process's: on PostgreSQL, the session that holds
        it may have been cut (the server restarted); then it is let go, to be taken again."""
        with self._mutex:
            held = self._held
        if held is None:
            return False
        if hasattr(held, "execute"):
            try:
                held.execute("SELECT 1")
            except Exception:
                self.release()
                return False
        return True

    def release(self) -> None:
        with self._mutex:
            held, self._held = self._held, None
        if held is not None and held is not True:
            with contextlib.suppress(Exception):
                held.close()  # closing the file or the session releases the lock

    @contextlib.contextmanager
    def holding(self) -> Iterator[bool]:
        """Hold the lock for a block if it is free (and let it go after, unless it was
        held before)."""
        had = self._held is not None
        got = self.acquire()
        try:
            yield got
        finally:
            if got and not had:
                self.release()
