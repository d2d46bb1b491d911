"""Checkpoints are stored under the owner-scoped key while the graph sees the client's thread id."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.types import interrupt

from chat_runtime.admission import NewMessage, Resume
from chat_runtime.checkpoints import OwnerScopedSaver
from chat_runtime.engine import run_turn
from chat_runtime.protocol import ServerFrame

pytestmark = pytest.mark.anyio


async def test_two_owners_threads_of_the_same_name_never_meet() -> None:
    seen: list[str] = []

    def ask(state: MessagesState, config: RunnableConfig) -> dict[str, Any]:
        seen.append(config["configurable"]["thread_id"])
        answer = interrupt({"action": "confirm", "description": "Sure?"})
        return {"messages": [("ai", f"answer {answer}")]}

    storage = InMemorySaver()
    builder = StateGraph(MessagesState)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    graph = builder.compile(checkpointer=OwnerScopedSaver(storage))

    async def ignore(frame: ServerFrame) -> None:
        return None

    alice = await run_turn(graph, "t1", NewMessage("hi"), ignore, thread_key="alice#t1")
    mallory = await run_turn(graph, "t1", NewMessage("hello"), ignore, thread_key="mallory#t1")
    assert alice.pending_interrupts and mallory.pending_interrupts
    assert {key for key in storage.storage} == {"alice#t1", "mallory#t1"}
    assert set(seen) == {"t1"}  # the graph sees the client's id, never the storage key

    await run_turn(graph, "t1", Resume(True), ignore, thread_key="alice#t1")
    alice_state = await graph.aget_state(
        {"configurable": {"thread_id": "t1", "checkpoint_thread_id": "alice#t1"}}
    )
    mallory_state = await graph.aget_state(
        {"configurable": {"thread_id": "t1", "checkpoint_thread_id": "mallory#t1"}}
    )
    assert [m.text for m in alice_state.values["messages"]] == ["hi", "answer True"]
    assert [m.text for m in mallory_state.values["messages"]] == ["hello"] and mallory_state.interrupts
    assert alice_state.config["configurable"]["thread_id"] == "t1"
