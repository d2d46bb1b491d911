"""Rolling a thread back to the checkpoint it had before a cancelled turn (LangGraph's `rollback`)."""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.runnables import RunnableConfig

logger = logging.getLogger(__name__)

TURN_ID = "turn_id"
"""Checkpoint metadata key naming the turn that wrote a checkpoint (LangGraph copies config metadata)."""


async def roll_back(graph: Any, config: RunnableConfig, turn_id: str) -> None:
    """Make the thread's latest checkpoint a copy of the last one written before turn `turn_id`.

    The turn's own checkpoints stay in the history (LangGraph forks, it never deletes); a thread whose first
    turn is rolled back is emptied.
    """
    thread = {"configurable": dict(config["configurable"])}
    async for snapshot in graph.aget_state_history(thread):
        if snapshot.metadata is not None and snapshot.metadata.get(TURN_ID) == turn_id:
            continue
        await graph.aupdate_state(snapshot.config, None, as_node="__copy__")
        return
    checkpointer = graph.checkpointer
    key = thread["configurable"].get("checkpoint_thread_id") or thread["configurable"]["thread_id"]
    await checkpointer.adelete_thread(key)
