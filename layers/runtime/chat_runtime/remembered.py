"""What `LatestCheckpoints` keeps of one thread's latest checkpoint, and the configs it reads them from."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, get_checkpoint_id
from langgraph.checkpoint.serde.base import SerializerProtocol

from chat_runtime.delta_lineage import Lineage


@dataclass
class Remembered:
    """One thread's latest checkpoint (None: the thread has none), serialized as the saver stores it."""

    checkpoint_id: str | None
    config: RunnableConfig | None = None
    parent_config: RunnableConfig | None = None
    payload: tuple[str, bytes] | None = None
    trusted: bool = True
    has_writes: bool = False
    """Writes were stored against it: it is not served (its pending writes are not handed out)."""
    lineage: Lineage | None = None
    """Its delta channels' history and writes (None: not known, or the graph has no `DeltaChannel`)."""

    @property
    def served(self) -> bool:
        """Whether `aget_tuple` may answer with it."""
        return self.trusted and not self.has_writes

    def handed_out(self, serde: SerializerProtocol) -> CheckpointTuple | None:
        """The checkpoint as a read from the saver would give it, deserialized afresh (no pending writes)."""
        if self.payload is None or self.config is None:
            return None
        value = serde.loads_typed(self.payload)
        return CheckpointTuple(
            config=copy.deepcopy(self.config),
            checkpoint=value["checkpoint"],
            metadata=value["metadata"],
            parent_config=copy.deepcopy(self.parent_config),
            pending_writes=[],
        )


def root_config(thread_id: str, checkpoint_id: str) -> RunnableConfig:
    """The config of a root-namespace checkpoint."""
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}


def latest_of(config: RunnableConfig) -> tuple[str | None, str | None]:
    """The thread whose root-namespace checkpoint `config` asks for, and the id it names (None: latest)."""
    configurable = config.get("configurable", {})
    if configurable.get("checkpoint_ns", "") != "" or "thread_id" not in configurable:
        return None, None
    return str(configurable["thread_id"]), get_checkpoint_id(config)
