"""A small server-sent events client for the tests: follows a stream in a thread,
reconnecting with ``Last-Event-ID`` (as a browser's EventSource does) until told to stop."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Received:
    """One event of a stream: its id, event name and decoded data."""

    id: str | None
    event: str | None
    data: Any


@dataclass
class Follower:
    """Reads ``url`` in a thread; ``events`` grows as events arrive, ``comments`` counts
    comment lines (heartbeats), ``connections`` the connections made."""

    url: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    events: list[Received] = field(default_factory=list)
    comments: int = 0
    connections: int = 0
    statuses: list[int] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> Follower:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=30)

    def wait_for(self, done: Any, timeout: float = 30) -> bool:
        """Wait (at most ``timeout`` seconds) until ``done(self)`` is true."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.2))
        return True

    def _last_id(self) -> str | None:
        for received in reversed(self.events):
            if received.id is not None:
                return received.id
        return None

    def _run(self) -> None:
        while not self.stop.is_set():
            headers = dict(self.headers)
            last = self._last_id()
            if last is not None:
                headers["Last-Event-ID"] = last
            try:
                with httpx.Client(timeout=httpx.Timeout(5, read=2)) as client, client.stream(
                    "GET", self.url, headers=headers, params=self.params
                ) as response:
                    self.statuses.append(response.status_code)
                    if response.status_code != 200:
                        response.read()
                        self.stop.wait(0.2)
                        continue
                    self.connections += 1
                    self._read(response)
            except httpx.HTTPError:  # the server went away (or is idle): connect again
                self.stop.wait(0.1)

    def _read(self, response: httpx.Response) -> None:
        event_id = name = None
        data: list[str] = []
        for line in response.iter_lines():
            if self.stop.is_set():
                return
            if line.startswith(":"):
                with self.changed:
                    self.comments += 1
                    self.changed.notify_all()
            elif line.startswith("id:"):
                event_id = line[3:].strip()
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
            elif line == "" and data:
                with self.changed:
                    self.events.append(Received(event_id, name, json.loads("\n".join(data))))
                    self.changed.notify_all()
                event_id = name = None
                data = []
