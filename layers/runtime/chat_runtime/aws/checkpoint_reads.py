"""A checkpoint read from `DynamoDBSaver`'s table by id, without the query for its pending writes.

`DynamoDBSaver.get_tuple` makes three requests one after the other: the latest checkpoint's item (a query,
or by id a `GetItem`), its payload (a `GetItem`, or S3) and its pending writes (a query). A checkpoint the
thread's session names has none (`chat_runtime.checkpoint_cache`), so two requests suffice. The saver's
repository (`DynamoDBSaver.repo`, langgraph-checkpoint-aws 1.2.6, pinned) reads the item and its payload, and
the tuple is built as `get_tuple` builds it; `tests/integration/test_checkpoint_reads.py` holds the two equal.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple


def reader_without_writes(saver: Any) -> Any:
    """`LatestCheckpoints`'s `read_without_writes` for `saver` (a `DynamoDBSaver`)."""

    def read(thread_id: str, checkpoint_id: str) -> CheckpointTuple | None:
        found = saver.repo.get_checkpoint(thread_id=thread_id, checkpoint_ns="", checkpoint_id=checkpoint_id)
        if not found:
            return None
        config: RunnableConfig = {
            "configurable": {
                "thread_id": thread_id,
                "checkpoint_ns": found["checkpoint_ns"],
                "checkpoint_id": found["checkpoint_id"],
            }
        }
        parent_id = found["parent_checkpoint_id"]
        parent: RunnableConfig | None = (
            {
                "configurable": {
                    "thread_id": thread_id,
                    "checkpoint_ns": found["checkpoint_ns"],
                    "checkpoint_id": parent_id,
                }
            }
            if parent_id
            else None
        )
        return CheckpointTuple(
            config=config,
            checkpoint=found["checkpoint"],
            metadata=found["metadata"],
            parent_config=parent,
            pending_writes=[],
        )

    return read
