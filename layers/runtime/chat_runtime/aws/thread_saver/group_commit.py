"""Concurrent writes of one event loop stored together: one `BatchWriteItem` where LangGraph makes several
calls at once (a checkpoint and the writes of the tasks that follow it, parallel tasks' writes)."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from chat_runtime.aws.thread_saver.items import Item


@dataclass
class _Loop:
    """One event loop's calls waiting for a batch, and its flush."""

    waiting: list[tuple[list[Item], asyncio.Future[None]]] = field(default_factory=list)
    flushing: asyncio.Task[None] | None = None


class GroupCommit:
    """Gathers the items of calls made while a batch is being stored, and stores them as the next batch.

    Each caller returns once its own items are stored, or raises what storing them raised; a failed batch
    fails every call in it. Items are stored in the order the calls came, each call's in its own order.
    Batches are per event loop: the emulator runs Lambda invocations in threads, each with its own loop,
    over one saver.
    """

    def __init__(self, store: Callable[[list[Item]], None]) -> None:
        self._store = store
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Loop] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self.batches = 0

    async def write(self, items: list[Item]) -> None:
        """Store `items` with whatever else is written meanwhile on this event loop."""
        loop = asyncio.get_running_loop()
        with self._lock:
            state = self._loops.setdefault(loop, _Loop())
        done: asyncio.Future[None] = loop.create_future()
        state.waiting.append((items, done))
        if state.flushing is None or state.flushing.done():
            state.flushing = loop.create_task(self._flush(state))
        await done

    async def _flush(self, state: _Loop) -> None:
        await asyncio.sleep(0)  # let the calls made in the same step join this batch
        while state.waiting:
            batch, state.waiting = state.waiting, []
            items = [item for call_items, _ in batch for item in call_items]
            try:
                await asyncio.to_thread(self._store, items)
            except Exception as error:  # handed to every caller of the batch
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
            except BaseException:  # the loop is going (a cancellation): so is every call waiting on it
                for _, done in [*batch, *state.waiting]:
                    done.cancel()
                state.waiting = []
                raise
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
            self.batches += 1
