"""`DynamoDBThreadSaver`: LangGraph checkpoints in one DynamoDB partition per thread (see `layout`)."""

from __future__ import annotations

import asyncio
import builtins
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DeltaChannelHistory,
    get_checkpoint_id,
    get_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from chat_runtime.aws.dynamodb_sessions import TOMBSTONE_GRACE_SECONDS
from chat_runtime.aws.thread_saver.adoption import adopted_items
from chat_runtime.aws.thread_saver.group_commit import GroupCommit
from chat_runtime.aws.thread_saver.history import Walk
from chat_runtime.aws.thread_saver.items import (
    Item,
    StoredCheckpoint,
    checkpoint_items,
    groups,
    write_items,
)
from chat_runtime.aws.thread_saver.layout import checkpoint_prefix, namespace_prefix, partition
from chat_runtime.aws.thread_saver.table import ThreadTable

logger = logging.getLogger(__name__)
LATEST_PAGE_ITEMS = 16
"""Page size of the read for a namespace's latest checkpoint: its writes and parts come before it."""
Histories = Mapping[str, DeltaChannelHistory]


def item_ttl_seconds(session_ttl_seconds: int, history_turns: int, max_turn_seconds: float) -> int:
    """How long a checkpoint's items must live so that no item a living thread needs expires.

    A thread lives while no two of its turns are more than `session_ttl_seconds` apart. Its latest
    checkpoint needs the writes back to its delta channels' last snapshot, at most `history_turns` turns
    earlier (0: only the latest checkpoint, as with plain channels), so written at most that many turns of
    the session's TTL and the turn's own length ago. Capped at the session record's own lifetime after its
    expiry (`TOMBSTONE_GRACE_SECONDS`): a thread's checkpoints never outlive its session record, which
    keeps an expired thread from being started afresh over them.
    """
    needed = (session_ttl_seconds + max_turn_seconds) * (history_turns + 1)
    return int(min(needed, session_ttl_seconds + TOMBSTONE_GRACE_SECONDS))


class DynamoDBThreadSaver(BaseCheckpointSaver[int]):
    """LangGraph's checkpoints and writes, each thread in one partition, for `DeltaChannel` state.

    - A checkpoint by id with its pending writes is one `Query`; the latest is one more (a one-page read of
      the newest key first); a checkpoint with the delta history of its channels is one `Query` of the
      namespace, newest first, back to the snapshot (`read_with_history`), where `DynamoDBSaver` reads each
      ancestor in three requests.
    - Values over 300 KB are stored in parts in the table itself (compressed from 1 KB), never over the item
      limit; S3 is not needed.
    - Concurrent `aput`/`aput_writes` of one event loop share one `BatchWriteItem` (`GroupCommit`).
    - Reads are strongly consistent.
    - Threads stored by `DynamoDBSaver` (the previous layout, same table) are read, continued, listed and
      deleted through `legacy`; a checkpoint read from there is copied here (`adoption`), and a thread's new
      checkpoints go here.

    Differences from LangGraph's SQL savers: a write stored again under the same task and index replaces the
    first (they keep the first: the same write of a retried task, so the values agree); `list` needs a thread
    (checkpoints are not indexed across threads).
    """

    def __init__(
        self,
        table: ThreadTable,
        *,
        ttl_seconds: int | None = None,
        serde: SerializerProtocol | None = None,
        legacy: Callable[[], BaseCheckpointSaver[Any]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Store checkpoints in `table`.

        Args:
            table: The checkpoints table.
            ttl_seconds: Items expire this long after they are written (DynamoDB TTL, attribute `ttl`; see
                `item_ttl_seconds`).
            serde: The serializer (LangGraph's default when None).
            legacy: Builds the saver of the table's previous layout, on first use.
            clock: The time items' expiry is counted from.
        """
        super().__init__(serde=serde)
        self.table = table
        self.ttl_seconds = ttl_seconds
        self._legacy_factory = legacy
        self.clock = clock
        self._legacy: BaseCheckpointSaver[Any] | None = None
        self.group_commit = GroupCommit(table.put)

    @property
    def legacy(self) -> BaseCheckpointSaver[Any] | None:
        """The saver of threads stored in the previous layout (None: there is none)."""
        if self._legacy is None and self._legacy_factory is not None:
            self._legacy = self._legacy_factory()
        return self._legacy

    # ------------------------------------------------------------ reads

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id, namespace, checkpoint_id = _address(config)
        stored = self._read(thread_id, namespace, checkpoint_id)
        if stored is not None and stored.checkpoint is not None:
            return _tuple(thread_id, stored)
        found = self._adopted(config)
        if found is not None and stored is not None:  # writes stored here against a checkpoint stored there
            found.pending_writes.extend(write.pending for write in stored.writes)  # type: ignore[union-attr]
        return found

    def _read(self, thread_id: str, namespace: str, checkpoint_id: str | None) -> StoredCheckpoint | None:
        if checkpoint_id is not None:
            low = checkpoint_prefix(namespace, checkpoint_id)
            return next(groups(self.serde, self.table.query(partition(thread_id), low, low + "~")), None)
        low = namespace_prefix(namespace)
        items = self.table.query(partition(thread_id), low, low + "~", page_items=LATEST_PAGE_ITEMS)
        return next((found for found in groups(self.serde, items) if found.checkpoint is not None), None)

    def read_with_history(
        self, config: RunnableConfig, channels: Sequence[str]
    ) -> tuple[CheckpointTuple | None, Histories]:
        """A checkpoint (the latest, without an id) and its channels' delta histories, in one `Query`."""
        thread_id, namespace, checkpoint_id = _address(config)
        low = namespace_prefix(namespace)
        high = checkpoint_prefix(namespace, checkpoint_id) + "~" if checkpoint_id else low + "~"
        target: StoredCheckpoint | None = None
        walk: Walk | None = None
        for stored in groups(self.serde, self.table.query(partition(thread_id), low, high)):
            if walk is None:
                if stored.checkpoint is None:
                    continue
                if checkpoint_id is not None and stored.checkpoint_id != checkpoint_id:
                    break  # not in this layout
                target, walk = stored, Walk(stored.parent_id, channels)
            else:
                walk.visit(stored)
            if walk.done:
                break
        if target is None or walk is None:
            return self._legacy_with_history(config, channels)
        if not walk.done:  # an ancestor below the range (ids out of clock order) or in the previous layout
            walk.continue_with(lambda ancestor: self.get_tuple(_config(thread_id, namespace, ancestor)))
        if walk.broken:
            logger.warning(
                "a checkpoint's ancestor is missing: its delta history starts without it",
                extra={"thread_id": thread_id, "checkpoint_id": target.checkpoint_id, "missing": walk.broken},
            )
        return _tuple(thread_id, target), walk.history()

    def _adopted(self, config: RunnableConfig) -> CheckpointTuple | None:
        """A checkpoint of the previous layout, copied into this one (`adoption`)."""
        found = self.legacy.get_tuple(config) if self.legacy is not None else None
        if found is not None:
            writes, head = adopted_items(self.serde, found, self._expiry())
            if writes:
                self.table.put(writes)
            self.table.put(head)
        return found

    def _legacy_with_history(
        self, config: RunnableConfig, channels: Sequence[str]
    ) -> tuple[CheckpointTuple | None, Histories]:
        if self.legacy is None:
            return None, {}
        found = self._adopted(config)
        if found is None or not channels:
            return found, {}
        return found, self.legacy.get_delta_channel_history(config=found.config, channels=channels)

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        if not channels:
            return {}
        return self.read_with_history(config, channels)[1]

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        if config is None or "thread_id" not in config.get("configurable", {}):
            raise ValueError("DynamoDBThreadSaver.list needs a thread_id: checkpoints are stored per thread")
        seen: set[tuple[str, str]] = set()
        both = itertools.chain(
            self._listed(config, filter, before, seen), self._listed_legacy(config, filter, before, seen)
        )
        yield from itertools.islice(both, limit)

    def _listed(
        self,
        config: RunnableConfig,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        seen: set[tuple[str, str]],
    ) -> Iterator[CheckpointTuple]:
        """`list` in this layout (each one's namespace and id added to `seen`)."""
        configurable = config["configurable"]
        thread_id = str(configurable["thread_id"])
        namespace = configurable.get("checkpoint_ns")
        low = namespace_prefix(namespace) if namespace is not None else "0"  # every namespace
        wanted_id, before_id = get_checkpoint_id(config), get_checkpoint_id(before) if before else None
        for stored in groups(self.serde, self.table.query(partition(thread_id), low, low + "~")):
            if stored.checkpoint is None or (wanted_id is not None and stored.checkpoint_id != wanted_id):
                continue
            if before_id is not None and stored.checkpoint_id >= before_id:
                continue
            metadata = stored.metadata or {}
            if filter and not all(metadata.get(key) == value for key, value in filter.items()):
                continue
            seen.add((stored.namespace, stored.checkpoint_id))
            yield _tuple(thread_id, stored)

    def _listed_legacy(
        self,
        config: RunnableConfig,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        seen: set[tuple[str, str]],
    ) -> Iterator[CheckpointTuple]:
        """`list` in the previous layout, less what was adopted into this one (in `seen`)."""
        if self.legacy is None:
            return
        for found in self.legacy.list(config, filter=filter, before=before):
            address = found.config["configurable"]
            if (address.get("checkpoint_ns", ""), address["checkpoint_id"]) not in seen:
                yield found

    # ------------------------------------------------------------ writes

    def _checkpoint_items(
        self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata
    ) -> tuple[builtins.list[Item], RunnableConfig]:
        thread_id, namespace, parent_id = _address(config)
        items = checkpoint_items(
            self.serde,
            thread_id,
            namespace,
            checkpoint,
            get_checkpoint_metadata(config, metadata),
            parent_id,
            self._expiry(),
        )
        return items, _config(thread_id, namespace, checkpoint["id"])

    def _write_items(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str
    ) -> builtins.list[Item]:
        thread_id, namespace, checkpoint_id = _address(config)
        if checkpoint_id is None:
            raise ValueError("put_writes needs the config of a checkpoint (checkpoint_id)")
        return write_items(
            self.serde, thread_id, namespace, checkpoint_id, writes, task_id, task_path, self._expiry()
        )

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        items, saved = self._checkpoint_items(config, checkpoint, metadata)
        self.table.put(items)
        return saved

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        items = self._write_items(config, writes, task_id, task_path)
        if items:
            self.table.put(items)

    def delete_thread(self, thread_id: str) -> None:
        self.table.delete(list(self.table.keys(partition(str(thread_id)))))
        if self.legacy is not None:
            self.legacy.delete_thread(thread_id)

    # ------------------------------------------------------------ async

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await asyncio.to_thread(self.get_tuple, config)

    async def aread_with_history(
        self, config: RunnableConfig, channels: Sequence[str]
    ) -> tuple[CheckpointTuple | None, Histories]:
        """`read_with_history`, off the event loop."""
        return await asyncio.to_thread(self.read_with_history, config, channels)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, DeltaChannelHistory]:
        if not channels:
            return {}
        return (await self.aread_with_history(config, channels))[1]

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        found = await asyncio.to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for item in found:
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        items, saved = self._checkpoint_items(config, checkpoint, metadata)
        await self.group_commit.write(items)
        return saved

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        items = self._write_items(config, writes, task_id, task_path)
        if items:
            await self.group_commit.write(items)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    def _expiry(self) -> int | None:
        return int(self.clock()) + self.ttl_seconds if self.ttl_seconds else None


def _address(config: RunnableConfig) -> tuple[str, str, str | None]:
    configurable = config.get("configurable", {})
    return (
        str(configurable["thread_id"]),
        str(configurable.get("checkpoint_ns", "")),
        get_checkpoint_id(config),
    )


def _config(thread_id: str, namespace: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {"thread_id": thread_id, "checkpoint_ns": namespace, "checkpoint_id": checkpoint_id}
    }


def _tuple(thread_id: str, stored: StoredCheckpoint) -> CheckpointTuple:
    assert stored.checkpoint is not None and stored.metadata is not None
    parent = _config(thread_id, stored.namespace, stored.parent_id) if stored.parent_id else None
    return CheckpointTuple(
        config=_config(thread_id, stored.namespace, stored.checkpoint_id),
        checkpoint=stored.checkpoint,
        metadata=stored.metadata,
        parent_config=parent,
        pending_writes=[write.pending for write in stored.writes],
    )
