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
latest checkpoint reads that one by id, with its delta channels' history when the saver reads both at once
(`aread_with_history`, `DynamoDBThreadSaver`): one request.

Writes stored against a remembered checkpoint are kept (serialized) but not handed out as its pending
writes: such a checkpoint is no longer served (`aget_tuple` goes to the saver) nor named for the session.
They serve its child: the history of `DeltaChannel`s is carried from a remembered checkpoint to the child
this worker writes (`chat_runtime.delta_lineage`), so `aget_delta_channel_history` of the latest checkpoint
is answered from memory too. What is handed out is deserialized afresh each time (LangGraph updates a
checkpoint it was given in place), as a read from the saver would be.
Everything else is passed through.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    get_checkpoint_metadata,
)

from chat_runtime.delta_lineage import (
    CapturedWrite,
    Lineage,
    captured,
    handed_out,
    known_histories,
    root_histories,
    stored_values,
)
from chat_runtime.remembered import Remembered, latest_of, root_config

MAX_THREADS_REMEMBERED = 256
_Read = tuple[CheckpointTuple | None, Mapping[str, DeltaChannelHistory] | None]


class LatestCheckpoints(BaseCheckpointSaver[Any]):
    """A saver that remembers each thread's latest checkpoint (see the module's docstring)."""

    def __init__(self, inner: BaseCheckpointSaver[Any], delta_channels: Sequence[str] = ()) -> None:
        """Wrap `inner`.

        Args:
            inner: The saver that stores the checkpoints.
            delta_channels: The graph's `DeltaChannel`s (`chat_runtime.delta_lineage.delta_channels_of`),
                whose histories are remembered too.
        """
        super().__init__(serde=inner.serde)
        self.inner = inner
        self.delta_channels = tuple(delta_channels)
        self._threads: OrderedDict[str, Remembered] = OrderedDict()
        self._reads: dict[str, asyncio.Task[_Read]] = {}
        # Writes stored against a checkpoint before it was (LangGraph may store them first).
        self._early: OrderedDict[tuple[str, str], list[CapturedWrite]] = OrderedDict()
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
            self._remember(thread_id, Remembered(checkpoint_id=None))
        elif latest_id is None:
            self._threads.pop(thread_id, None)
            self.prefetch(thread_id)
        elif not self.trust(thread_id, latest_id):
            self._reads[thread_id] = asyncio.ensure_future(self._read_known(thread_id, latest_id))

    async def _read_known(self, thread_id: str, checkpoint_id: str) -> _Read:
        found = await self._read(root_config(thread_id, checkpoint_id))
        if found[0] is None:  # not where the session said (expired meanwhile?): whatever is the latest, then
            found = await self._read({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        return found

    async def _read(self, config: RunnableConfig) -> _Read:
        """A checkpoint, with its delta histories when the saver reads them in the same request."""
        read_with_history = getattr(self.inner, "aread_with_history", None)
        if self.delta_channels and read_with_history is not None:
            found, histories = await read_with_history(config, self.delta_channels)
            return found, histories
        return await self.inner.aget_tuple(config), None

    def prefetch(self, thread_id: str) -> None:
        """Start reading the thread's latest checkpoint now, for the run to find when it asks."""
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        self._reads[thread_id] = asyncio.ensure_future(self._read(config))

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
        return found.checkpoint_id if found is not None and found.served else None

    # ------------------------------------------------------------ reads

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id, asked = latest_of(config)
        if thread_id is not None and thread_id in self._reads:
            fetched, histories = await self._reads.pop(thread_id)
            self._remember_read(thread_id, fetched, histories)
            if asked is None:
                return fetched  # the first to ask gets the read itself
        known = self._threads.get(thread_id) if thread_id is not None else None
        if known is not None and known.served and asked in (None, known.checkpoint_id):
            self.hits += 1
            return known.handed_out(self.serde)
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
    ) -> Mapping[str, DeltaChannelHistory]:
        thread_id, asked = latest_of(config)
        known = self._threads.get(thread_id) if thread_id is not None else None
        # A checkpoint's history never changes: any remembered checkpoint's will do, trusted or not.
        if (
            known is not None
            and known.lineage is not None
            and asked == known.checkpoint_id
            and all(channel in known.lineage.histories for channel in channels)
        ):
            self.hits += 1
            return handed_out(self.serde, known.lineage.histories, channels)
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
        self._capture(config, writes, task_id, task_path)
        self.inner.put_writes(config, writes, task_id, task_path)

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self._capture(config, writes, task_id, task_path)
        await self.inner.aput_writes(config, writes, task_id, task_path)

    def delete_thread(self, thread_id: str) -> None:
        self._forget_thread(thread_id)
        self.inner.delete_thread(thread_id)

    async def adelete_thread(self, thread_id: str) -> None:
        self._forget_thread(thread_id)
        await self.inner.adelete_thread(thread_id)

    def _forget_thread(self, thread_id: str) -> None:
        self._threads.pop(thread_id, None)
        read = self._reads.pop(thread_id, None)
        if read is not None and not read.done():
            read.cancel()
        with self._lock:
            for key in [key for key in self._early if key[0] == thread_id]:
                del self._early[key]

    # ------------------------------------------------------------ what is remembered

    def _remember(self, thread_id: str, remembered: Remembered) -> None:
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
        thread_id, parent_id = latest_of(config)  # a put's config names its parent
        if thread_id is None:
            return
        checkpoint_id = str(saved["configurable"]["checkpoint_id"])
        with self._lock:
            early = self._early.pop((thread_id, checkpoint_id), None)
        lineage = None
        if self.delta_channels:
            parent = self._threads.get(thread_id)
            if parent_id is None:
                histories = root_histories(self.delta_channels)
            elif parent is not None and parent.checkpoint_id == parent_id and parent.lineage is not None:
                histories = parent.lineage.child()
            else:
                histories = None
            if histories is not None:
                values = stored_values(self.serde, checkpoint["channel_values"], self.delta_channels)
                lineage = Lineage(histories=histories, values=values, writes=list(early or []))
        self._remember(
            thread_id,
            Remembered(
                checkpoint_id=checkpoint_id,
                config=copy.deepcopy(saved),
                parent_config=root_config(thread_id, parent_id) if parent_id else None,
                payload=self.serde.dumps_typed(
                    {"checkpoint": checkpoint, "metadata": get_checkpoint_metadata(config, metadata)}
                ),
                has_writes=early is not None,  # even none kept: a graph without delta channels keeps none
                lineage=lineage,
            ),
        )

    def _remember_read(
        self,
        thread_id: str,
        found: CheckpointTuple | None,
        histories: Mapping[str, DeltaChannelHistory] | None,
    ) -> None:
        if found is None:
            self._remember(thread_id, Remembered(checkpoint_id=None))
            return
        if found.pending_writes:
            return  # not mirrored: the run's read goes to the saver
        lineage = None
        if histories is not None and all(channel in histories for channel in self.delta_channels):
            lineage = Lineage(
                histories=known_histories(self.serde, histories),
                values=stored_values(self.serde, found.checkpoint["channel_values"], self.delta_channels),
            )
        self._remember(
            thread_id,
            Remembered(
                checkpoint_id=str(found.config["configurable"]["checkpoint_id"]),
                config=copy.deepcopy(found.config),
                parent_config=copy.deepcopy(found.parent_config),
                payload=self.serde.dumps_typed({"checkpoint": found.checkpoint, "metadata": found.metadata}),
                lineage=lineage,
            ),
        )

    def _forget(self, config: RunnableConfig) -> None:
        self._threads.pop(str(config.get("configurable", {}).get("thread_id")), None)

    def _capture(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
    ) -> None:
        """Keep writes stored against a root-namespace checkpoint: the remembered one is no longer served,
        and its child's delta history takes them in."""
        thread_id, checkpoint_id = latest_of(config)
        if thread_id is None or checkpoint_id is None:  # writes always name their checkpoint
            return
        kept = captured(self.serde, writes, task_id, task_path) if self.delta_channels else []
        with self._lock:
            found = self._threads.get(thread_id)
            if found is not None and found.checkpoint_id == checkpoint_id:
                found.has_writes = True
                if found.lineage is not None:
                    found.lineage.writes.extend(kept)
                return
            self._early.setdefault((thread_id, checkpoint_id), []).extend(kept)
            self._early.move_to_end((thread_id, checkpoint_id))
            while len(self._early) > MAX_THREADS_REMEMBERED:
                self._early.popitem(last=False)
