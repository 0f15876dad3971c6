"""A history check of the kind Jepsen's Elle makes for list-append histories.

Each claim's events form a list that appends extend. Clients record every append the
server acknowledged (with when the acknowledgement arrived) and every read of a claim's
events (with when the read was sent, and the event ids it saw, in order). Given the final
order of each claim, ``anomalies`` names every breach of:

- **prefix**: every read is a prefix of the claim's final order (nothing read out of
  order, nothing read that is later lost, nothing read that was never stored);
- **acknowledged appends are read afterwards**: a read sent after an append's
  acknowledgement arrived contains that append;
- **acknowledged appends are kept**: each is in the final order, once.

Times come from ``time.monotonic`` on the client: they order a read after an
acknowledgement, they are never compared with a duration.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class History:
    acks: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    reads: dict[str, list[tuple[float, list[str]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, claim: str, event_id: str) -> None:
        """An append to ``claim`` answered 201 with ``event_id``, just now."""
        with self._lock:
            self.acks.setdefault(claim, []).append((time.monotonic(), event_id))

    def read_sent(self) -> float:
        return time.monotonic()

    def read(self, claim: str, sent: float, event_ids: list[str]) -> None:
        """A read of ``claim``'s events sent at ``sent`` saw ``event_ids`` (in order)."""
        with self._lock:
            self.reads.setdefault(claim, []).append((sent, list(event_ids)))

    def anomalies(self, final: dict[str, list[str]]) -> list[str]:
        found = []
        for claim, reads in self.reads.items():
            order = final.get(claim, [])
            for sent, seen in reads:
                if seen != order[: len(seen)]:
                    found.append(f"{claim}: a read saw {seen[-3:]}... ({len(seen)} events), "
                                 "not a prefix of the final order")
                missing = [eid for at, eid in self.acks.get(claim, [])
                           if at < sent and eid not in seen]
                if missing:
                    found.append(f"{claim}: a read sent after {len(missing)} acknowledged "
                                 f"append(s) did not see them: {missing[:3]}")
        for claim, acks in self.acks.items():
            order = final.get(claim, [])
            for _, eid in acks:
                if order.count(eid) != 1:
                    found.append(f"{claim}: acknowledged append {eid} is stored "
                                 f"{order.count(eid)} times")
        return found

    def counts(self) -> tuple[int, int]:
        return (sum(len(a) for a in self.acks.values()),
                sum(len(r) for r in self.reads.values()))
