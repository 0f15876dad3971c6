"""The log page (``/ui/log``): what an event-store console shows. The latest events of the
global log (each with its detail and its JSON), paged back and forth by position; one
claim's versions (``?claim=``); the hash chain's state, recomputed as ``GET /verify`` does;
and the latest signed checkpoint, as ``GET /checkpoints/latest`` serves it."""

from __future__ import annotations

import json

from fastapi import Request, Response

from api.deps import LedgerDep, SettingsDep
from api.routes.ui.base import page_router
from api.routes.ui.reading import every_event
from api.routes.ui.render import END_OF_TIME, Link, blank, render
from ledger.checkpoints import Checkpoints, signer_for
from ledger.errors import InvalidInput

#: Events of the global log on one page.
LOG_PAGE = 50

pages = page_router()


def _position(value: str | None, head: int) -> int:
    """The position a page of the log ends at: the head unless one is asked for."""
    if value is None:
        return head
    if not value.isdigit():
        raise InvalidInput("before", "must be a position of the log (a whole number)")
    return min(int(value), head)


@pages.get("/ui/log")
def log_page(
    request: Request, ledger: LedgerDep, settings: SettingsDep, before: str | None = None,
    claim: str | None = None,
) -> Response:
    """The global log's latest events, a claim's versions, the chain and the checkpoint."""
    before, claim = blank(before), blank(claim)
    chain = ledger.verify()
    end = _position(before, chain["checked"])
    start = max(0, end - LOG_PAGE)
    events = ledger.log_page(after=start, limit=end - start)["data"] if end > start else []
    versions = None
    if claim is not None:
        recorded = every_event(ledger, claim, END_OF_TIME, None)
        versions = {"claim": ledger.claim(claim), "events": recorded}
    checkpoint = Checkpoints(ledger.store, signer_for(settings)).latest()
    link = Link("/ui/log", {"claim": claim})
    return render(request, "log.html", {
        "title": "Log",
        "chain": chain,
        "events": list(reversed(events)),
        "json": lambda record: json.dumps(record, indent=2, ensure_ascii=False),
        "start": start,
        "end": end,
        "earlier": link(before=start) if start > 0 else None,
        "later": link(before=min(end + LOG_PAGE, chain["checked"])) if end < chain["checked"]
        else None,
        "versions": versions,
        "checkpoint": None if checkpoint is None else checkpoint.to_json(),
        "signing": signer_for(settings) is not None,
        "form": {"claim": claim},
    })
