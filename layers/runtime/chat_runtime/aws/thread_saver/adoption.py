"""Checkpoints of the table's previous layout (`DynamoDBSaver`'s) taken into this one when they are read.

A thread stored by `DynamoDBSaver` goes on in this layout: its checkpoint becomes the parent of the next one,
and the seed of its delta channels' history. Its items expire on `DynamoDBSaver`'s TTL, counted from when
they were written; copied here on first read they live as long as this layout's items must
(`item_ttl_seconds`), and every later read finds them here.
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import WRITES_IDX_MAP, CheckpointTuple
from langgraph.checkpoint.serde.base import SerializerProtocol

from chat_runtime.aws.thread_saver.items import Item, checkpoint_items, write_items


def adopted_items(
    serde: SerializerProtocol, found: CheckpointTuple, ttl: int | None
) -> tuple[list[Item], list[Item]]:
    """The items storing `found` in this layout: its pending writes, and the checkpoint (store them in this
    order: a checkpoint found here is never read again from the previous layout)."""
    configurable = found.config["configurable"]
    thread_id, namespace = str(configurable["thread_id"]), str(configurable.get("checkpoint_ns", ""))
    checkpoint_id = str(configurable["checkpoint_id"])
    parent_id = found.parent_config["configurable"].get("checkpoint_id") if found.parent_config else None
    # Each task's regular writes numbered from 0, special ones by LangGraph's indices, as `put_writes` gave
    # them (one call stores either kind): a write LangGraph stores again lands on the same item.
    by_call: dict[tuple[str, bool], list[tuple[str, Any]]] = {}
    for task_id, channel, value in found.pending_writes or []:
        by_call.setdefault((task_id, channel in WRITES_IDX_MAP), []).append((channel, value))
    writes = [
        item
        for (task_id, _), call in by_call.items()
        for item in write_items(serde, thread_id, namespace, checkpoint_id, call, task_id, "", ttl)
    ]
    head = checkpoint_items(serde, thread_id, namespace, found.checkpoint, found.metadata, parent_id, ttl)
    return writes, head
