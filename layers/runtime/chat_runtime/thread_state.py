"""A thread's state as the owner may read it: messages, values, pending interrupts, checkpoint, history."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import RunnableConfig

from chat_runtime.interrupts import pending_interrupts
from chat_runtime.jsonable import jsonable, message_dict
from chat_runtime.protocol import CheckpointInfo, StateFrame
from chat_runtime.sessions import SessionRecord

MESSAGES_KEY = "messages"


async def read_state(
    graph: Any, config: RunnableConfig, record: SessionRecord | None, thread_id: str, history: int = 0
) -> StateFrame:
    """The `state` frame for a thread (LangGraph's `get_state`, and `get_state_history` when asked).

    Args:
        graph: The compiled graph (its checkpointer holds the thread).
        config: The thread's run config (the client's `thread_id` and the owner-scoped storage key).
        record: The thread's session, for where it stands (None: the runtime never saw it).
        thread_id: The client's id of the thread.
        history: How many checkpoints of its history to list, newest first (0: none).
    """
    snapshot = await graph.aget_state(config)
    if record is None and not snapshot.values:
        return StateFrame(thread_id=thread_id, state="new")
    values = snapshot.values if isinstance(snapshot.values, dict) else {"value": snapshot.values}
    messages = values.get(MESSAGES_KEY)
    shown_messages = (
        [message_dict(m) for m in messages if isinstance(m, BaseMessage)]
        if isinstance(messages, list)
        else []
    )
    others = {key: jsonable(value) for key, value in values.items() if key != MESSAGES_KEY}
    pending = record.pending_interrupts if record is not None else pending_interrupts(snapshot)
    status = record.status.value if record is not None else ("awaiting_approval" if pending else "idle")
    checkpoint = snapshot.config.get("configurable", {}) if snapshot.config else {}
    frame = StateFrame(
        thread_id=thread_id,
        state=status,
        checkpoint_id=checkpoint.get("checkpoint_id"),
        created_at=snapshot.created_at,
        next=list(snapshot.next),
        messages=shown_messages,
        values=others,
        interrupts=[p.to_frame(thread_id) for p in pending],
        history=await _history(graph, config, history) if history else None,
    )
    return frame


async def _history(graph: Any, config: RunnableConfig, limit: int) -> list[CheckpointInfo]:
    """The thread's latest `limit` checkpoints, newest first."""
    listed: list[CheckpointInfo] = []
    async for snapshot in graph.aget_state_history(config, limit=limit):
        metadata = snapshot.metadata or {}
        step = metadata.get("step")
        listed.append(
            CheckpointInfo(
                checkpoint_id=str(snapshot.config["configurable"]["checkpoint_id"]),
                created_at=snapshot.created_at,
                step=step if isinstance(step, int) else None,
                source=str(metadata["source"]) if "source" in metadata else None,
                next=list(snapshot.next),
            )
        )
    return listed
