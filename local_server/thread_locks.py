"""Per-thread FIFO locks: turns of one thread run one at a time, in arrival order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ThreadLocks:
    """One `asyncio.Lock` per busy thread, dropped when nobody holds or waits for it.

    `asyncio.Lock` wakes its waiters first-come first-served, so holders enter in the order they asked.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    def busy(self, thread_id: str) -> bool:
        """Whether a turn of the thread runs or waits to run."""
        return self._users.get(thread_id, 0) > 0

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        """Wait for the thread's earlier turns, then hold its lock for the block."""
        lock = self._locks.setdefault(thread_id, asyncio.Lock())
        self._users[thread_id] = self._users.get(thread_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[thread_id] -= 1
            if not self._users[thread_id]:
                del self._users[thread_id]
                del self._locks[thread_id]
