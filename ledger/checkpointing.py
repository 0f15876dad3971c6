"""Checkpoints signed without anyone asking: every so often, and when the server stops.

A checkpoint proves something only when it is kept outside the store, and only if it is
signed at all; most operators never POST /checkpoints. So with a signing key configured
a server signs the log's head every ``Settings.checkpoint_every`` seconds (if the log
moved since the last one) and once more as it shuts down, and writes each checkpoint as
a file in ``Settings.checkpoint_dir``, where the operator's shipping (rsync, a bucket
sync, a mail) picks it up. A refusal (the log no longer extends what the key signed) is
logged as an error each time: it is the alarm.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from ledger.checkpoints import Checkpoint, CheckpointRefused, Checkpoints, Signer
from ledger.errors import StoreUnavailable
from ledger.locks import StoreLock
from ledger.store import LedgerApplication

log = logging.getLogger("claims_ledger.checkpoints")


def checkpoint_file(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` as JSON in ``directory`` (named by its time and position; written
    whole, then renamed, so a shipper never picks up half a file)."""
    stamp = checkpoint.signed_at.replace("-", "").replace(":", "").replace(".", "")
    target = directory / f"checkpoint-{stamp}-{checkpoint.position}.json"
    partial = directory / f".{target.name}.partial"
    partial.write_text(json.dumps(checkpoint.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)
    return target


class CheckpointSchedule:
    """Signs a store's head every ``every`` seconds (when it moved) and on ``stop``.

    With a ``lock`` (``ledger.locks.StoreLock``), only while this process holds it: one
    schedule per store however many server processes share it. The others try to take
    the lock at each tick, so one of them goes on when the holder dies; the shutdown
    checkpoint is signed by the holder (or by a process that finds the lock free)."""

    def __init__(
        self,
        store: LedgerApplication,
        signer: Signer,
        every: float,
        directory: Path | None = None,
        lock: StoreLock | None = None,
    ) -> None:
        self.checkpoints = Checkpoints(store, signer)
        self.store = store
        self.every = every
        self.directory = directory
        self.lock = lock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._signed_head: int | None = None

    def start(self) -> None:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(
            target=self._run, name="claims-ledger-checkpoints", daemon=True
        )
        self._thread.start()

    def stop(self) -> Checkpoint | None:
        """Stop the schedule and sign the head once more (the shutdown checkpoint), if
        this process holds the lock."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        try:
            return self.sign_if_moved() if self._mine() else None
        finally:
            if self.lock is not None:
                self.lock.release()

    def _run(self) -> None:
        while not self._stopping.wait(self.every):
            if self._mine():
                self.sign_if_moved()

    def _mine(self) -> bool:
        """Whether this process signs (it holds the lock, or there is none)."""
        if self.lock is None:
            return True
        had = self.lock.held
        try:
            mine = self.lock.acquire() and self.lock.still_held()
        except Exception as error:  # PostgreSQL is down: try at the next tick
            log.warning("checkpoint schedule cannot take its lock now: %s", error)
            return False
        if mine and not had:
            log.info("this process signs the scheduled checkpoints (it holds the store's "
                     "%s lock)", self.lock.name)
            self._signed_head = self._latest_signed()
        return mine

    def _latest_signed(self) -> int | None:
        """The position of the newest checkpoint kept (by the process that held the lock
        before, say), so a head it signed is not signed again on taking over."""
        try:
            latest = self.checkpoints.latest()
        except StoreUnavailable:
            return None
        return None if latest is None else latest.position

    def sign_if_moved(self) -> Checkpoint | None:
        """Sign the head unless this schedule signed it already; None if nothing was signed.
        Failures are logged, never raised: the server goes on serving."""
        head = int(self.store.recorder.max_notification_id() or 0)
        if head == self._signed_head:
            return None
        try:
            checkpoint = self.checkpoints.sign()
        except CheckpointRefused as error:
            log.error("checkpoint refused: %s", error.detail)
            return None
        except StoreUnavailable as error:
            log.warning("checkpoint not signed now: %s", error.detail)
            return None
        self._signed_head = checkpoint.position
        where = ""
        if self.directory is not None:
            try:
                where = f", written to {checkpoint_file(self.directory, checkpoint)}"
            except OSError as error:
                log.error("checkpoint at position %d signed but not written to %s: %s",
                          checkpoint.position, self.directory, error)
        log.info("checkpoint signed at position %d%s", checkpoint.position, where)
        return checkpoint
