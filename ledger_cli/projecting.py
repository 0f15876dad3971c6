"""The credibility projector in a process of its own, started and supervised by ``serve``.

A server that also followed the log into the projection would share one interpreter lock
between requests and the projection; here the projection has a process (and a core) of
its own. ``ProjectorProcess`` starts it beside the server processes and starts it again
if it dies (not if it stopped cleanly, when told to); it stops it when the server stops.
The child holds the projector lock (``ledger.projection.projector.ProjectorLock``) as the
one projector of the store, and ends itself if ``serve`` dies without stopping it, so an
orphan never keeps the lock from the next server.

Read-your-writes is unchanged: a list in a server waits, bounded, for the projection to
reach the head of the log (``Projector.caught_up``), and projects itself if no projector
holds the lock (while this process is starting, or being started again).

The child is ``python -m ledger_cli.projecting PARENT_PID``, not a ``multiprocessing``
spawn: a spawned child first imports its parent's ``__main__`` (the ``claims-ledger``
script, so the whole CLI), which cost the projector about 18 MiB it never used.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType

from ledger import caching
from ledger.bootstrap import open_ledger
from ledger.config import Settings

#: On SQLite nothing wakes the projector when another process writes: it looks this often.
#: (On PostgreSQL the library's LISTEN/NOTIFY subscription wakes it.)
SQLITE_POLL = 0.01
#: Pauses before starting a projector that died again, growing to the last.
RESTART_PAUSES = (0.5, 1.0, 2.0, 5.0)
#: How often the child checks that ``serve`` is still its parent.
ORPHAN_CHECK = 0.2

#: The projector's process serves no reads: its caches get this part of each process's
#: budget (``CLAIMS_LEDGER_CACHE_MB``), shared as below, most of it for the claims it keeps
#: between events (the reads' caches would only hold a second copy of what it reloads).
PROJECTOR_BUDGET = 0.5
PROJECTOR_SHARES = {
    "projector": 0.60, "claims": 0.10, "streams": 0.10, "trusted": 0.10, "sources": 0.05,
    "records": 0.02, "written": 0.02, "aggregates": 0.01,
}

log = logging.getLogger("claims_ledger.projector")


def projector_settings(settings: Settings) -> Settings:
    """The settings the projector's process opens the store with, its caches shared as a
    projector needs them (``PROJECTOR_SHARES`` of ``PROJECTOR_BUDGET`` of the budget).
    Sets this process's ``caching.SHARES``: call it only in the projector's process."""
    caching.SHARES.update(PROJECTOR_SHARES)
    budget = max(1, round(settings.cache_mb * PROJECTOR_BUDGET))
    return settings.model_copy(update={"cache_mb": budget})


def project(env: Mapping[str, str], parent: int) -> None:
    """The child: follow the log into the projection until SIGTERM, or ``parent`` dies."""
    os.environ.update(env)
    settings = Settings()
    from api.logs import configure_logging  # the server's log format, in this process too

    configure_logging(settings, "ledger")
    configure_logging(settings, log.name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C reaches serve, which stops us
    ledger = open_ledger(projector_settings(settings))
    try:
        projector = ledger.projector
        if projector is None:
            return
        if settings.backend == "sqlite":
            projector.poll = SQLITE_POLL
        projector.start()
        log.info("credibility projector following the log", extra={"fields": {"pid": os.getpid()}})
        while not stop.wait(ORPHAN_CHECK):
            if os.getppid() != parent:
                log.warning("serve is gone: the credibility projector stops")
                break
    finally:
        ledger.close()  # stops the projector, releasing its lock


class ProjectorProcess:
    """``project`` in a child process while the context lasts, started again if it dies."""

    def __init__(
        self,
        env: Mapping[str, str],
        tell: Callable[[str], None],
        # -P: the working directory is not put first on the child's import path (an
        # ``api/`` or ``json.py`` where serve was started would shadow the installed ones).
        command: Sequence[str] = (sys.executable, "-P", "-m", "ledger_cli.projecting"),
    ) -> None:
        self.env = dict(env)
        self.tell = tell
        self.command = list(command)  # the parent's pid is added as the last argument
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._mutex = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def __enter__(self) -> ProjectorProcess:
        self._supervisor = threading.Thread(
            target=self._supervise, name="projector-supervisor", daemon=True
        )
        self._supervisor.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stopping.set()
        with self._mutex:
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover - only if its shutdown hangs
                process.kill()
                process.wait()
        if self._supervisor is not None:
            self._supervisor.join(10)

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._mutex:
                if self._stopping.is_set():
                    return
                try:
                    process = subprocess.Popen(  # its output goes where serve's goes
                        [*self.command, str(os.getpid())], env={**os.environ, **self.env},
                        stdin=subprocess.DEVNULL,
                    )
                except OSError as error:  # no process could be started (out of them?)
                    process, why = None, f"could not start ({error})"
                else:
                    self.process = process
                    self.starts += 1
            if process is not None:
                process.wait()
                if self._stopping.is_set() or process.returncode == 0:
                    return  # stopped by us, or cleanly by a signal of its own
                why = f"exited ({process.returncode})"
            pause = RESTART_PAUSES[min(failures, len(RESTART_PAUSES) - 1)]
            failures += 1
            self.tell(
                f"error: the credibility projector {why}; starting it again in {pause:g} s"
            )
            self._stopping.wait(pause)


if __name__ == "__main__":  # the child ``ProjectorProcess`` starts: PARENT_PID
    project(os.environ, int(sys.argv[1]))
