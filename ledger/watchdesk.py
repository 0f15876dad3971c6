"""The watch desk: the use cases of watches, and the outbox that turns the log into the
notifications they owe.

Watches are stored as events (``ledger.watches``) in the library's aggregate recorder
``watches`` of the ledger's own store. ``scan`` reads the global log after each watch's
scanned position and records a ``Notified`` event per firing, its id derived from the watch
and the log position (for a source's re-rating, which moves every claim the source spoke
on, and the claim): a restart scans again from the recorded positions and finds what is
already owed, so nothing is lost and nothing is owed twice. ``ledger.webhooks`` delivers.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from eventsourcing.application import AggregateNotFoundError, Repository
from eventsourcing.persistence import EventStore, IntegrityError

from ledger.application import ClaimsLedger
from ledger.egress import url_refusal
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.live import PAGE, Message, Page
from ledger.statements import STATEMENT_TYPES
from ledger.store import store_errors
from ledger.times import format_instant, now
from ledger.watches import (
    MAX_URL,
    Condition,
    Watch,
    WatchBook,
    delivery_id,
    fires,
    in_scope,
    parse_scope,
    watch_uuid,
)

JSON = dict[str, Any]
T = TypeVar("T")
SCAN_PAGE = 500
#: A watch that fires on none of them records its progress every so many positions.
SCANNED_EVERY = 1000


class WatchNotFound(NotFound):
    """No watch has this id (or it was deleted)."""

    title = "Not found"


class Watches:
    """Set, list, pause, resume and delete watches; owe and record their notifications."""

    def __init__(self, ledger: ClaimsLedger, *, allow_private: bool = False) -> None:
        self.ledger = ledger
        #: May webhooks go to non-public addresses (``Settings.webhook_allow_private``)?
        self.allow_private = allow_private
        recorder = ledger.store.factory.aggregate_recorder("watches")
        self.repository: Repository[Any] = Repository(EventStore(ledger.store.mapper, recorder))
        self._lock = threading.Lock()  # one writer of watch streams at a time here
        # How far this process has scanned for each watch; recorded in the watch's stream
        # with each notification and every SCANNED_EVERY positions (a restart scans again
        # from there: what it finds again is already owed, by its id).
        self._scanned: dict[str, int] = {}
        # Which claims each source has spoken on, read from the log up to _speakers_head:
        # a re-rating of the source is weighed on those claims.
        self._speakers: dict[str, set[str]] = {}
        self._speakers_head = 0
        self._speakers_lock = threading.Lock()

    # -- the use cases -----------------------------------------------------------------

    @store_errors
    def create(self, data: Mapping[str, Any], actor: str) -> JSON:
        """Set a watch: ``condition``, ``scope``, optional ``url`` (a webhook) and
        ``secret`` (made here if not given; answered only now). Fires on later events."""
        unknown = sorted(set(data) - {"condition", "scope", "url", "secret"})
        if unknown:
            raise InvalidInput(unknown[0], "is not a field of a watch")
        condition = Condition.parse(data.get("condition"))
        scope = parse_scope(data.get("scope"))
        if "claim" in scope:
            self.ledger.claim_version(scope["claim"])  # ClaimNotFound: a 404
        url = data.get("url")
        if url is not None and (not isinstance(url, str) or len(url) > MAX_URL
                                or not url.startswith(("http://", "https://"))):
            raise InvalidInput("url", "must be an http:// or https:// URL")
        refused = None if url is None or self.allow_private else url_refusal(url)
        if refused is not None:
            raise InvalidInput("url", f"{refused}: webhooks go to public addresses only "
                               "(CLAIMS_LEDGER_WEBHOOK_ALLOW_PRIVATE=true allows others)")
        secret = data.get("secret")
        if secret is None:
            secret = secrets.token_urlsafe(32)
        elif not isinstance(secret, str) or not 16 <= len(secret) <= 256:
            raise InvalidInput("secret", "must be a string of 16-256 characters")
        head = int(self.ledger.store.recorder.max_notification_id() or 0)
        watch_id = str(uuid.uuid4())
        watch = Watch(watch_id=watch_id, condition=condition.as_json(), scope=scope, url=url,
                      secret=secret, actor=actor, after=head,
                      created_at=format_instant(now()))
        with self._lock:
            book = self._book()
            book.add(watch_id)
            self._save(watch, book)
        return {**watch.view(), "secret": secret}

    @store_errors
    def list_watches(self) -> JSON:
        """Every watch not deleted, in the order they were set."""
        return {"data": [w.view() for w in self.watches() if w.status != "deleted"]}

    @store_errors
    def get(self, watch_id: str) -> JSON:
        return self._watch(watch_id).view()

    @store_errors
    def set_status(self, watch_id: str, status: str, actor: str) -> JSON:
        """Pause, resume (``active``) or delete a watch; the change is an event."""
        if status not in ("active", "paused", "deleted"):
            raise InvalidInput("status", "must be active, paused or deleted")

        head = int(self.ledger.store.recorder.max_notification_id() or 0)

        def change(watch: Watch) -> None:
            if watch.status == status:
                return
            if status == "active":  # what was stored while it was paused, it does not owe
                watch.scan(head)
            watch.set_status(status, actor, format_instant(now()))

        return self._change(watch_id, change).view()

    @store_errors
    def deliveries(self, watch_id: str) -> JSON:
        """The notifications the watch owes or made: status, attempts, last error."""
        watch = self._watch(watch_id)
        data = sorted(watch.deliveries.values(), key=lambda d: d["position"])
        return {"watch_id": watch_id, "data": [_delivery_view(d) for d in data]}

    # -- the outbox ----------------------------------------------------------------------

    def watches(self) -> list[Watch]:
        return [self._load(watch_id) for watch_id in self._book().watch_ids]

    @store_errors
    def scan(self, listed: list[Watch] | None = None) -> int:
        """Record the notifications the log owes to active watches; how many were new.
        ``listed``: the watches as just read (else they are read here)."""
        owed = 0
        for watch in self.watches() if listed is None else listed:
            if watch.status == "active":
                owed += self._scan_one(watch)
        return owed

    def _scan_one(self, watch: Watch) -> int:
        condition = Condition.parse(watch.condition)
        start = max(watch.scanned, self._scanned.get(watch.watch_id, 0))
        position, owed, claims = start, 0, {}
        while True:
            page = self.ledger.global_log(position, SCAN_PAGE)["events"]
            for record in page:
                position = record["position"]
                for claim_id in self._moved(record):
                    if claim_id not in claims:
                        claims[claim_id] = self.ledger.claim(claim_id)
                    if not in_scope(watch.scope, claims[claim_id]):
                        continue
                    found = self._firing(watch, condition, claims[claim_id], record)
                    if found is not None:
                        owed += self._owe(watch.watch_id, found)
            if len(page) < SCAN_PAGE:
                break
        self._scanned[watch.watch_id] = position
        if position - watch.scanned >= SCANNED_EVERY:
            self._change(watch.watch_id, lambda w: w.scan(position))
        return owed

    def _moved(self, record: JSON) -> list[str]:
        """The claims whose credibility an event of the log may move: a statement's claim;
        for a source's re-rating, every claim the source has spoken on (the claim's audit
        then has an entry for the re-rating if it moved the claim's credibility)."""
        if record["type"] in STATEMENT_TYPES:
            return [record["claim_id"]]
        if record["type"] == "source_rerated":
            return self._citing(record["source"])
        return []

    def _citing(self, source_id: str) -> list[str]:
        """The claims ``source_id`` has made statements on, from an index of the log kept
        up to date in this process (read from the start once, then only what is new)."""
        with self._speakers_lock:
            while True:
                page = self.ledger.global_log(self._speakers_head, SCAN_PAGE)["events"]
                for record in page:
                    if record["type"] in STATEMENT_TYPES and record.get("source"):
                        self._speakers.setdefault(record["source"], set()).add(
                            record["claim_id"])
                if page:
                    self._speakers_head = page[-1]["position"]
                if len(page) < SCAN_PAGE:
                    return sorted(self._speakers.get(source_id, ()))

    def _firing(self, watch: Watch, condition: Condition, claim: JSON, record: JSON
                ) -> JSON | None:
        entries: list[JSON] = self.ledger.audit(claim["id"])["entries"]
        index = next((i for i, e in enumerate(entries) if e["position"] == record["position"]),
                     None)
        if index is None or not fires(condition, entries[index], entries[:index]):
            return None
        return notification(watch.watch_id, condition, claim, record, entries[index])

    @store_errors
    def claim_feed(self, claim_id: str, after: int, limit: int = PAGE) -> Page:
        """A claim's feed: its credibility changes after position ``after`` (the audit's
        entries: the event, before, after and the reason), each followed by what the active
        watches on the claim say of it (``watch``). The last message of a position carries
        its id, so a subscriber that resumes after it has had them all."""
        entries: list[JSON] = self.ledger.audit(claim_id)["entries"]
        start = next((i for i, e in enumerate(entries) if e["position"] > after), len(entries))
        page = entries[start:start + limit]
        if not page:
            return Page([], after, False)
        claim: JSON = self.ledger.claim(claim_id)
        watching = [(w, Condition.parse(w.condition)) for w in self.watches()
                    if w.status == "active" and in_scope(w.scope, claim)]
        messages: list[Message] = []
        for index, entry in enumerate(page, start=start):
            said = [
                notification(watch.watch_id, condition, claim, self._record(entry), entry)
                for watch, condition in watching
                if entry["position"] > watch.after
                and fires(condition, entry, entries[:index])
            ]
            ids = [None] * len(said) + [entry["position"]]
            data = [{"claim_id": claim_id, **entry}, *said]
            names = ["credibility"] + ["watch"] * len(said)
            messages += [Message(n, d, i) for n, d, i in zip(names, data, ids, strict=True)]
        return Page(messages, page[-1]["position"], len(page) >= limit)

    def _record(self, entry: JSON) -> JSON:
        """The log's record of the event an audit entry names."""
        found: list[JSON] = self.ledger.global_log(entry["position"] - 1, 1)["events"]
        return found[0]

    def _owe(self, watch_id: str, delivery: JSON) -> int:
        def change(watch: Watch) -> None:
            if delivery["delivery_id"] not in watch.deliveries and watch.status == "active":
                watch.notify(delivery)

        try:
            before = len(self._watch(watch_id).deliveries)
            return len(self._change(watch_id, change).deliveries) - before
        except WatchNotFound:  # deleted meanwhile: it owes nothing
            return 0

    def record_attempt(self, watch_id: str, delivery: str, **outcome: Any) -> None:
        self._change(watch_id, lambda w: w.attempted(delivery, **outcome))

    # -- storage -------------------------------------------------------------------------

    def _book(self) -> WatchBook:
        try:
            book: WatchBook = self.repository.get(WatchBook.create_id())
        except AggregateNotFoundError:
            return WatchBook()
        return book

    def _load(self, watch_id: str) -> Watch:
        watch: Watch = self.repository.get(watch_uuid(watch_id))
        return watch

    def _watch(self, watch_id: str) -> Watch:
        """The watch, unless it is unknown or deleted (``WatchNotFound``)."""
        try:
            watch = self._load(watch_id)
        except (AggregateNotFoundError, ValueError):
            raise WatchNotFound(f"no watch {watch_id!r}") from None
        if watch.status == "deleted":
            raise WatchNotFound(f"watch {watch_id!r} was deleted")
        return watch

    def _change(self, watch_id: str, change: Callable[[Watch], None]) -> Watch:
        """Load, change and save one watch; another process's write in between: again."""
        for _ in range(5):
            with self._lock:
                watch = self._watch(watch_id)
                change(watch)
                try:
                    self._save(watch)
                except IntegrityError:
                    continue
                return watch
        raise Conflict(f"watch {watch_id!r} kept changing under this write; retry")

    def _save(self, *aggregates: Any) -> None:
        events = [e for aggregate in aggregates for e in aggregate.collect_events()]
        self.repository.event_store.put(events)


def notification(watch_id: str, condition: Condition, claim: JSON, record: JSON, change: JSON
                 ) -> JSON:
    """What a watch says when it fires: the webhook's body and the stream's event."""
    # A re-rating may move several claims a filter watches: one notification for each.
    moved = claim["id"] if record["type"] == "source_rerated" else None
    return {
        "delivery_id": delivery_id(watch_id, record["position"], moved),
        "watch_id": watch_id,
        "position": record["position"],
        "created_at": format_instant(now()),
        "condition": condition.as_json(),
        "claim": {"id": claim["id"], "text": claim["text"]},
        "before": change["before"],
        "after": change["after"],
        "event": record,
        "reason": change["reason"],
    }


def _delivery_view(delivery: JSON) -> JSON:
    return {name: delivery.get(name) for name in (
        "delivery_id", "position", "status", "attempts", "last_status", "last_error",
        "last_attempt_at", "next_attempt_at", "created_at")}


def pending(watches: Watches, listed: list[Watch] | None = None
            ) -> Iterator[tuple[Watch, JSON]]:
    """The deliveries still owed by webhook, of the watches that are active (``listed``:
    the watches as just read, else they are read here)."""
    for watch in watches.watches() if listed is None else listed:
        if watch.status != "active" or not watch.url:
            continue
        for delivery in sorted(watch.deliveries.values(), key=lambda d: d["position"]):
            if delivery["status"] in ("pending", "retrying"):
                yield watch, delivery
