"""Webhook delivery of the notifications watches owe (``ledger.watchdesk``).

Each delivery is a POST of the notification as JSON, with the headers receivers of GitHub's
and Stripe's webhooks know how to check:

- ``Ledger-Delivery``: the delivery's id, the same on every attempt (de-duplicate on it);
- ``Ledger-Signature: t=<unix seconds>,v1=<hex>``: HMAC-SHA256 with the watch's secret over
  ``"<t>.<body>"`` (Stripe's scheme: the timestamp is signed, so a replay can be refused);
- ``X-Hub-Signature-256: sha256=<hex>``: HMAC-SHA256 over the body alone (GitHub's).

A delivery that fails (no answer, or a status other than 2xx) is tried again after a pause
that doubles each time (``retry_seconds``, 2x, 4x ...), at most ``max_attempts`` times; each
attempt is an event of the watch, so ``GET /watches/{id}/deliveries`` shows its status, its
attempts and the last error. ``Dispatcher`` runs the outbox in a thread of the server.
Receivers must be at public addresses, checked again at each attempt, unless the settings
allow private ones (``ledger.egress``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from ledger.egress import RefusedAddress, opener
from ledger.errors import LedgerError
from ledger.live import Changes
from ledger.locks import StoreLock
from ledger.times import format_instant, now, parse_instant
from ledger.watchdesk import JSON, Watches, pending
from ledger.watches import Watch

log = logging.getLogger(__name__)
#: The dispatcher runs at most this often (seconds): a burst of writes wakes it once.
GATHER = 0.05
USER_AGENT = "claims-ledger-webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signature headers of ``body`` sent at ``timestamp`` (unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    stamped = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    plain = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Ledger-Signature": f"t={timestamp},v1={stamped}",
            "X-Hub-Signature-256": f"sha256={plain}"}


@dataclass(frozen=True)
class Policy:
    """How deliveries are tried: the first pause, how many attempts, the time allowed."""

    retry_seconds: float = 5.0
    max_attempts: int = 8
    timeout: float = 10.0
    allow_private: bool = False  # may receivers be at non-public addresses (ledger.egress)


def post(url: str, secret: str, delivery: JSON, timeout: float, allow_private: bool = False
         ) -> tuple[int | None, str | None]:
    """POST one notification; the status (None: no answer) and the error, if it failed.
    Unless ``allow_private``, only to a public address (checked on the address connected
    to, so a name that now resolves to a private one is refused: ``ledger.egress``)."""
    body = json.dumps(notification_body(delivery), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "Ledger-Delivery": delivery["delivery_id"],
               **sign(secret, int(time.time()), body)}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener(allow_private).open(request, timeout=timeout) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code, f"the receiver answered {error.code}"
    except RefusedAddress as error:
        return None, f"refused: {error}"
    except urllib.error.URLError as error:
        if isinstance(error.reason, RefusedAddress):
            return None, f"refused: {error.reason}"
        return None, f"no answer: {error.reason}"
    except OSError as error:
        return None, f"no answer: {error}"
    return status, None if 200 <= status < 300 else f"the receiver answered {status}"


def notification_body(delivery: JSON) -> JSON:
    return {name: delivery[name] for name in (
        "delivery_id", "watch_id", "position", "condition", "claim", "before", "after",
        "event", "reason")}


def deliver_due(watches: Watches, policy: Policy, listed: list[Watch] | None = None) -> int:
    """Try every delivery that is due; how many were tried. ``listed``: the watches as
    just read (else they are read here)."""
    tried = 0
    moment = now()
    for watch, delivery in list(pending(watches, listed)):
        if parse_instant("next_attempt_at", delivery["next_attempt_at"]) > moment:
            continue
        assert watch.url is not None
        status, error = post(watch.url, watch.secret, delivery, policy.timeout,
                             policy.allow_private)
        attempts = delivery["attempts"] + 1
        if error is None:
            state, next_at = "delivered", None
        elif attempts >= policy.max_attempts:
            state, next_at = "failed", None
        else:
            pause = timedelta(seconds=policy.retry_seconds * 2 ** (attempts - 1))
            state, next_at = "retrying", format_instant(now() + pause)
        watches.record_attempt(watch.watch_id, delivery["delivery_id"], at=format_instant(now()),
                               status=state, http_status=status, error=error,
                               next_attempt_at=next_at)
        tried += 1
    return tried


class Dispatcher:
    """Scans the log for what watches owe and delivers it, in a thread, until ``stop``:
    woken by this process's writes, else every ``poll`` seconds. The writes of a burst
    wake it once: it runs at most once every ``gather`` seconds (each run reads the
    watches once, then scans the log from where each left off), so appends under load do
    not each pay for a scan.

    With a ``lock`` (``ledger.locks.StoreLock``), only while this process holds it: one
    dispatcher per store however many server processes share it; the others try to take
    the lock at every poll, so one of them takes over when the holder dies."""

    def __init__(self, watches: Watches, changes: Changes, policy: Policy, poll: float = 1.0,
                 lock: StoreLock | None = None, gather: float = GATHER) -> None:
        self.watches, self.changes, self.policy, self.poll = watches, changes, policy, poll
        self.lock, self.gather = lock, gather
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.changes.listen(self.wake.set)
        self._thread = threading.Thread(target=self._run, name="watch-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.changes.forget(self.wake.set)
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.lock is not None:
            self.lock.release()

    def mine(self) -> bool:
        """Whether this process dispatches (it holds the lock, or there is none)."""
        if self.lock is None:
            return True
        had = self.lock.held
        if not (self.lock.acquire() and self.lock.still_held()):
            return False
        if not had:
            log.info("this process delivers the watches' webhooks (it holds the store's "
                     "%s lock)", self.lock.name)
        return True

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            started = time.monotonic()
            try:
                if self.mine():
                    listed = self.watches.watches()
                    owed = self.watches.scan(listed)
                    # What the scan owed is in the watches as read again, not as listed.
                    deliver_due(self.watches, self.policy, None if owed else listed)
            except LedgerError as error:  # the store may be down: try again after a poll
                log.warning("watches: %s; trying again", error.detail)
            except Exception as error:  # taking the lock failed (PostgreSQL is down)
                log.warning("watches: %s; trying again", error)
            # The writes made while it ran (or in the rest of ``gather``) wake it once.
            self.stopping.wait(max(0.0, self.gather - (time.monotonic() - started)))
            self.wake.wait(self.poll)
