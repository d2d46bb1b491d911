"""Concurrent writes of one event loop stored together: one `BatchWriteItem` where LangGraph makes several
calls at once (a checkpoint and the writes of the tasks that follow it, parallel tasks' writes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chat_runtime.aws.thread_saver.items import Item


class GroupCommit:
    """Gathers the items of calls made while a batch is being stored, and stores them as the next batch.

    Each caller returns once its own items are stored, or raises what storing them raised; a failed batch
    fails every call in it. Items are stored in the order the calls came, each call's in its own order.
    """

    def __init__(self, store: Callable[[list[Item]], None]) -> None:
        self._store = store
        self._waiting: list[tuple[list[Item], asyncio.Future[None]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0

    async def write(self, items: list[Item]) -> None:
        """Store `items` with whatever else is written meanwhile."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a Lambda invocation's loop is gone with it
            self._loop, self._waiting, self._flushing = loop, [], None
        done: asyncio.Future[None] = loop.create_future()
        self._waiting.append((items, done))
        if self._flushing is None or self._flushing.done():
            self._flushing = loop.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the calls made in the same step join this batch
        while self._waiting:
            batch, self._waiting = self._waiting, []
            items = [item for call_items, _ in batch for item in call_items]
            try:
                await asyncio.to_thread(self._store, items)
            except Exception as error:  # handed to every caller of the batch
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
            self.batches += 1
