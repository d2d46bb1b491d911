"""The thread's latest checkpoint, kept by the worker that wrote or read it, so that a turn reads it once.

A turn reads its thread's latest checkpoint before the run (LangGraph's `aget_tuple`) and again after it (the
engine's `aget_state`, for pending interrupts); on DynamoDB each read is three requests one after the other.
`LatestCheckpoints` wraps the saver and answers `aget_tuple` for a thread's latest checkpoint (root
namespace, no `checkpoint_id`, or the remembered one) from what it remembers, **only while that is known to be
the latest**:

- During a job, the worker running it is the thread's only writer (a thread's jobs run one at a time: the
  SQS FIFO group, and no attempt outlives its message's visibility timeout). So what this process wrote
  (`aput`) or read (`prefetch`) during the job is the latest until the job ends (`release`).
- Across jobs, another container may have run a turn of the thread since. A remembered checkpoint is
  trusted again (`trust`) only when the thread's session, written at the end of every turn, names it as the
  thread's latest and the session is not `running` (a turn that died may have written a newer one). Every
  other change of the session's status forgets that id (`SessionRecord.transition`).

A job that starts from the session its route handler read (`expect`) needs no read for a new thread (no
session, so no checkpoint: sessions outlive their checkpoints), and for a thread whose session names its
latest checkpoint reads that one by id: such a checkpoint has no pending writes (the session names one only
when this saver remembered it, and a write stored against it is forgotten at once), so a saver that can read a
checkpoint without its writes (`read_without_writes`) spares the query for them.

Pending writes are not mirrored: a write stored against the remembered checkpoint (an interrupt, a failed
task) makes it unknown again, and the next read goes to the saver. What is handed out is deserialized
afresh each time (LangGraph updates a checkpoint it was given in place), as a read from the saver would be.
Everything else is passed through.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
)

MAX_THREADS_REMEMBERED = 256


@dataclass
class _Remembered:
    """One thread's latest checkpoint (None: the thread has none), serialized as the saver stores it."""

    checkpoint_id: str | None
    config: RunnableConfig | None = None
    parent_config: RunnableConfig | None = None
    payload: tuple[str, bytes] | None = None
    trusted: bool = True


class LatestCheckpoints(BaseCheckpointSaver[Any]):
    """A saver that remembers each thread's latest checkpoint (see the module's docstring)."""

    def __init__(
        self,
        inner: BaseCheckpointSaver[Any],
        read_without_writes: Callable[[str, str], CheckpointTuple | None] | None = None,
    ) -> None:
        """Wrap `inner`.

        Args:
            inner: The saver that stores the checkpoints.
            read_without_writes: Reads a root-namespace checkpoint of a thread by id without its pending
                writes (None: `inner.get_tuple` reads it, writes included).
        """
        super().__init__(serde=inner.serde)
        self.inner = inner
        self.read_without_writes = read_without_writes
        self._threads: OrderedDict[str, _Remembered] = OrderedDict()
        self._reads: dict[str, asyncio.Task[CheckpointTuple | None]] = {}
        # Checkpoints that writes were stored against (LangGraph may store them before the checkpoint).
        self._written: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    # ------------------------------------------------------------ what the worker calls

    def knows(self, thread_id: str) -> bool:
        """Whether a checkpoint of the thread is remembered (trusted or not)."""
        return thread_id in self._threads

    def trust(self, thread_id: str, latest_id: str | None) -> bool:
        """At a job's start: trust the remembered checkpoint if it is `latest_id` (from the session)."""
        found = self._threads.get(thread_id)
        if found is None or latest_id is None or found.checkpoint_id != latest_id:
            self._threads.pop(thread_id, None)
            return False
        found.trusted = True
        return True

    def expect(self, thread_id: str, exists: bool, latest_id: str | None) -> None:
        """At a job's start, from a session read that is not `running`: the thread has no checkpoint (no
        session: `exists` False), or its latest is `latest_id` (if the session names one). What is remembered
        is trusted, or the checkpoint read, accordingly."""
        if not exists:
            self._remember(thread_id, _Remembered(checkpoint_id=None))
        elif latest_id is None:
            self._threads.pop(thread_id, None)
            self.prefetch(thread_id)
        elif not self.trust(thread_id, latest_id):
            self._reads[thread_id] = asyncio.ensure_future(self._read_known(thread_id, latest_id))

    async def _read_known(self, thread_id: str, checkpoint_id: str) -> CheckpointTuple | None:
        found: CheckpointTuple | None
        if self.read_without_writes is not None:
            found = await asyncio.to_thread(self.read_without_writes, thread_id, checkpoint_id)
        else:
            config: RunnableConfig = {
                "configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}
            }
            found = await self.inner.aget_tuple(config)
        if found is None:  # not where the session said (expired meanwhile?): whatever is the latest, then
            found = await self.inner.aget_tuple(
                {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
            )
        return found

    def prefetch(self, thread_id: str) -> None:
        """Start reading the thread's latest checkpoint now, for the run to find when it asks."""
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        self._reads[thread_id] = asyncio.ensure_future(self.inner.aget_tuple(config))

    def release(self, thread_id: str) -> None:
        """At a job's end: what is remembered of the thread is trusted again only through `trust`."""
        read = self._reads.pop(thread_id, None)
        if read is not None and not read.done():
            read.cancel()
        found = self._threads.get(thread_id)
        if found is not None:
            found.trusted = False

    def remembered_id(self, thread_id: str) -> str | None:
        """The id of the thread's latest checkpoint, when it is known without reading (for the session)."""
        found = self._threads.get(thread_id)
        return found.checkpoint_id if found is not None and found.trusted else None

    # ------------------------------------------------------------ reads

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id, asked = _latest_of(config)
        if thread_id is not None and thread_id in self._reads:
            fetched = await self._reads.pop(thread_id)
            self._remember_read(thread_id, fetched)
            if asked is None:
                return fetched  # the first to ask gets the read itself
        known = self._threads.get(thread_id) if thread_id is not None else None
        if known is not None and known.trusted and asked in (None, known.checkpoint_id):
            self.hits += 1
            return self._tuple(known)
        return await self.inner.aget_tuple(config)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.inner.get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        return self.inner.list(config, filter=filter, before=before, limit=limit)

    def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        return self.inner.alist(config, filter=filter, before=before, limit=limit)

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return self.inner.get_delta_channel_history(config=config, channels=channels)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return await self.inner.aget_delta_channel_history(config=config, channels=channels)

    def get_next_version(self, current: Any, channel: None) -> Any:
        return self.inner.get_next_version(current, channel)

    # ------------------------------------------------------------ writes

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        try:
            saved = self.inner.put(config, checkpoint, metadata, new_versions)
        except BaseException:
            self._forget(config)  # it may have been written all the same
            raise
        self._remember_put(config, saved, checkpoint, metadata)
        return saved

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        try:
            saved = await self.inner.aput(config, checkpoint, metadata, new_versions)
        except BaseException:
            self._forget(config)  # it may have been written all the same
            raise
        self._remember_put(config, saved, checkpoint, metadata)
        return saved

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self._forget_written(config)
        self.inner.put_writes(config, writes, task_id, task_path)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self._forget_written(config)
        await self.inner.aput_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        self._threads.pop(thread_id, None)
        self.inner.delete_thread(thread_id)

    async def adelete_thread(self, thread_id: str) -> None:
        self._threads.pop(thread_id, None)
        await self.inner.adelete_thread(thread_id)

    # ------------------------------------------------------------ what is remembered

    def _remember(self, thread_id: str, remembered: _Remembered) -> None:
        with self._lock:  # the emulator runs jobs of different threads at once
            self._threads[thread_id] = remembered
            self._threads.move_to_end(thread_id)
            while len(self._threads) > MAX_THREADS_REMEMBERED:
                self._threads.popitem(last=False)

    def _remember_put(
        self,
        config: RunnableConfig,
        saved: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
    ) -> None:
        configurable = config.get("configurable", {})
        if configurable.get("checkpoint_ns", "") != "":
            return
        if (str(configurable["thread_id"]), str(saved["configurable"]["checkpoint_id"])) in self._written:
            self._threads.pop(str(configurable["thread_id"]), None)
            return
        # As DynamoDBSaver stores it: the run config's metadata merged in, checkpoint and metadata together.
        stored_metadata = {**metadata, **(config.get("metadata") or {})}
        parent_id = configurable.get("checkpoint_id")
        parent = (
            {
                "configurable": {
                    "thread_id": configurable["thread_id"],
                    "checkpoint_ns": "",
                    "checkpoint_id": parent_id,
                }
            }
            if parent_id
            else None
        )
        self._remember(
            str(configurable["thread_id"]),
            _Remembered(
                checkpoint_id=str(saved["configurable"]["checkpoint_id"]),
                config=copy.deepcopy(saved),
                parent_config=parent,  # type: ignore[arg-type]
                payload=self.serde.dumps_typed({"checkpoint": checkpoint, "metadata": stored_metadata}),
            ),
        )

    def _remember_read(self, thread_id: str, found: CheckpointTuple | None) -> None:
        if found is None:
            self._remember(thread_id, _Remembered(checkpoint_id=None))
            return
        if found.pending_writes:
            return  # not mirrored: the run's read goes to the saver
        self._remember(
            thread_id,
            _Remembered(
                checkpoint_id=str(found.config["configurable"]["checkpoint_id"]),
                config=copy.deepcopy(found.config),
                parent_config=copy.deepcopy(found.parent_config),
                payload=self.serde.dumps_typed({"checkpoint": found.checkpoint, "metadata": found.metadata}),
            ),
        )

    def _forget(self, config: RunnableConfig) -> None:
        self._threads.pop(str(config.get("configurable", {}).get("thread_id")), None)

    def _forget_written(self, config: RunnableConfig) -> None:
        configurable = config.get("configurable", {})
        with self._lock:
            self._written[(str(configurable.get("thread_id")), str(configurable.get("checkpoint_id")))] = None
            while len(self._written) > MAX_THREADS_REMEMBERED:
                self._written.popitem(last=False)
        found = self._threads.get(str(configurable.get("thread_id")))
        if found is not None and configurable.get("checkpoint_id") == found.checkpoint_id:
            self._threads.pop(str(configurable["thread_id"]), None)

    def _tuple(self, known: _Remembered) -> CheckpointTuple | None:
        if known.payload is None or known.config is None:
            return None
        value = self.serde.loads_typed(known.payload)
        return CheckpointTuple(
            config=copy.deepcopy(known.config),
            checkpoint=value["checkpoint"],
            metadata=value["metadata"],
            parent_config=copy.deepcopy(known.parent_config),
            pending_writes=[],
        )


def _latest_of(config: RunnableConfig) -> tuple[str | None, str | None]:
    """The thread whose root-namespace checkpoint `config` asks for, and the id it names (None: latest)."""
    configurable = config.get("configurable", {})
    if configurable.get("checkpoint_ns", "") != "" or "thread_id" not in configurable:
        return None, None
    return str(configurable["thread_id"]), get_checkpoint_id(config)
