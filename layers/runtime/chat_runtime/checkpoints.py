"""Checkpoints scoped to their owner, while the graph sees the client's own `thread_id`.

Two customers may both name a thread `t1`; their checkpoints must never meet. The runtime runs a turn with
`configurable.thread_id` = the client's id (what a graph author expects to see) and
`configurable.checkpoint_thread_id` = the owner-scoped storage key (`alice#t1`); `OwnerScopedSaver` wraps
any LangGraph checkpointer and stores under the storage key, handing configs back with the client's id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, overload

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

STORAGE_KEY = "checkpoint_thread_id"


@overload
def _stored(config: RunnableConfig) -> RunnableConfig: ...
@overload
def _stored(config: None) -> None: ...
def _stored(config: RunnableConfig | None) -> RunnableConfig | None:
    """`config` naming the thread by its storage key."""
    if config is None:
        return None
    configurable = config.get("configurable", {})
    key = configurable.get(STORAGE_KEY)
    if not key:
        return config
    return {**config, "configurable": {**configurable, "thread_id": key}}


def _shown(config: RunnableConfig | None, asked: RunnableConfig | None) -> RunnableConfig | None:
    """`config` as the caller named the thread (the client's id instead of the storage key)."""
    if config is None or asked is None:
        return config
    wanted = asked.get("configurable", {})
    if not wanted.get(STORAGE_KEY):
        return config
    configurable = config.get("configurable", {})
    if configurable.get("thread_id") != wanted[STORAGE_KEY]:
        return config
    return {
        **config,
        "configurable": {**configurable, "thread_id": wanted["thread_id"], STORAGE_KEY: wanted[STORAGE_KEY]},
    }


def _shown_tuple(found: CheckpointTuple | None, asked: RunnableConfig | None) -> CheckpointTuple | None:
    if found is None:
        return None
    return found._replace(
        config=_shown(found.config, asked) or found.config, parent_config=_shown(found.parent_config, asked)
    )


class OwnerScopedSaver(BaseCheckpointSaver[Any]):
    """Any checkpointer, storing each thread under `configurable.checkpoint_thread_id` when it is set."""

    def __init__(self, inner: BaseCheckpointSaver[Any]) -> None:
        super().__init__(serde=inner.serde)
        self.inner = inner

    # ----------------------------------------------------------------- sync

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return _shown_tuple(self.inner.get_tuple(_stored(config)), config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        for found in self.inner.list(_stored(config), filter=filter, before=_stored(before), limit=limit):
            yield _shown_tuple(found, config) or found

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        saved = self.inner.put(_stored(config), checkpoint, metadata, new_versions)
        return _shown(saved, config) or saved

    def put_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.inner.put_writes(_stored(config), writes, task_id, task_path)

    def get_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return self.inner.get_delta_channel_history(config=_stored(config), channels=channels)

    def delete_thread(self, thread_id: str) -> None:
        self.inner.delete_thread(thread_id)

    def get_next_version(self, current: Any, channel: None) -> Any:
        return self.inner.get_next_version(current, channel)

    # ----------------------------------------------------------------- async

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return _shown_tuple(await self.inner.aget_tuple(_stored(config)), config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        async for found in self.inner.alist(
            _stored(config), filter=filter, before=_stored(before), limit=limit
        ):
            yield _shown_tuple(found, config) or found

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        saved = await self.inner.aput(_stored(config), checkpoint, metadata, new_versions)
        return _shown(saved, config) or saved

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        await self.inner.aput_writes(_stored(config), writes, task_id, task_path)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return await self.inner.aget_delta_channel_history(config=_stored(config), channels=channels)

    async def adelete_thread(self, thread_id: str) -> None:
        await self.inner.adelete_thread(thread_id)


def scope_checkpoints(graph: Any) -> Any:
    """Make `graph` store its checkpoints under the owner-scoped key (once; graphs without one unchanged)."""
    saver = getattr(graph, "checkpointer", None)
    if isinstance(saver, BaseCheckpointSaver) and not isinstance(saver, OwnerScopedSaver):
        graph.checkpointer = OwnerScopedSaver(saver)
    return graph
