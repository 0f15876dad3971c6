"""Writes take turns: at most ``size`` requests of a process write at once, the others
wait for a turn in the order they came (``CLAIMS_LEDGER_WRITE_CONCURRENCY``).

A write holds the interpreter most of its time, so more writes at once than a few only
share it more finely: under 64 connections each append waited on up to 40 threads for
the interpreter and for a database connection, and a few waited seconds where the median
was 0.3 s. In turns, a write that starts runs with few others, and the wait is a queue
that keeps the order of arrival: the same throughput, a p99 under half as long
(docs/performance.md). Reads do not take turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


class Turns:
    """Runs a blocking write in the thread pool when one of ``size`` turns is free."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"turns must be at least 1, not {size}")
        self.size = size
        # One queue per event loop serving the app (a test may serve it from several).
        self._free: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    async def run(self, write: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        free = self._free.get(loop)
        if free is None:
            free = self._free[loop] = asyncio.Semaphore(self.size)  # first come, first served
        async with free:
            return await run_in_threadpool(partial(write, *args, **kwargs))
