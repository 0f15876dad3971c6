"""The pages' form handlers write through the ledger (retries, group commit, a store's
timeouts): each is a plain function, which FastAPI runs in a worker thread, so a slow or
unreachable store never holds the event loop that serves every other request (streams,
health checks). Their form is read on the loop by the ``posted_form`` dependency."""

from __future__ import annotations

import inspect

from fastapi.routing import APIRoute

from api.routes.ui import PARTS


def test_every_form_handler_of_the_pages_runs_off_the_event_loop() -> None:
    posts = [r for part in PARTS for r in part.routes
             if isinstance(r, APIRoute) and "POST" in r.methods]
    assert len(posts) >= 8  # sign-in, sign-out, record, register, drafts x2, views x2
    on_the_loop = [r.path for r in posts if inspect.iscoroutinefunction(r.endpoint)]
    assert on_the_loop == []
